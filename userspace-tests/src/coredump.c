/*
 * Core dumps (core(5)): a signal whose default action is "core" writes an
 * ELF core file when RLIMIT_CORE allows one and the process is dumpable,
 * and the wait status carries WCOREDUMP only when the file was written.
 *
 * The tests set /proc/sys/kernel/core_pattern and core_uses_pid (root
 * only) and put the old values back at the end. Each child chdirs into a
 * directory of its own so a relative pattern lands there.
 */
#include "test.h"

#include <elf.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#if defined(__x86_64__)
#define CORE_MACHINE EM_X86_64
#else
#define CORE_MACHINE EM_RISCV
#endif

/* Bytes the core must hold: a recognisable pattern in the data segment. */
static unsigned char marker[3 * 4096];

/* An unmapped address; through a volatile pointer so it is not folded. */
static volatile int *volatile bad_ptr = (volatile int *)16;

static char saved_pattern[256];
static char saved_uses_pid[32];

static void read_sysctl(const char *path, char *buf, size_t len)
{
	int fd = CHECK_OK(open(path, O_RDONLY));
	ssize_t n = CHECK_OK(read(fd, buf, len - 1));
	buf[n] = '\0';
	close(fd);
}

static void write_sysctl(const char *path, const char *val)
{
	int fd = CHECK_OK(open(path, O_WRONLY));
	CHECK_RET(write(fd, val, strlen(val)), (ssize_t)strlen(val));
	close(fd);
}

/* Sets core_pattern and core_uses_pid, saving the first values seen. */
static void set_core(const char *pattern, int uses_pid)
{
	if (!saved_pattern[0]) {
		read_sysctl("/proc/sys/kernel/core_pattern", saved_pattern,
			    sizeof(saved_pattern));
		read_sysctl("/proc/sys/kernel/core_uses_pid", saved_uses_pid,
			    sizeof(saved_uses_pid));
	}
	write_sysctl("/proc/sys/kernel/core_pattern", pattern);
	write_sysctl("/proc/sys/kernel/core_uses_pid", uses_pid ? "1" : "0");
}

static void restore_core(void)
{
	if (saved_pattern[0]) {
		write_sysctl("/proc/sys/kernel/core_pattern", saved_pattern);
		write_sysctl("/proc/sys/kernel/core_uses_pid", saved_uses_pid);
	}
}

/* A fresh directory for one child's core. */
static const char *core_dir(const char *name)
{
	const char *d = t_path(name);
	CHECK_OK(mkdir(d, 0755));
	return d;
}

static void set_core_limit(rlim_t cur)
{
	struct rlimit r = { cur, RLIM_INFINITY };
	CHECK_OK(setrlimit(RLIMIT_CORE, &r));
}

/* Child side: chdir to `dir`, set the limit, die of SIGSEGV by a fault. */
static pid_t crash_child(const char *dir, rlim_t limit)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(dir));
		set_core_limit(limit);
		*bad_ptr = 1;
		_exit(99);
	}
	return pid;
}

/* No file named "core" was made in `dir`. */
static void check_no_core(const char *dir)
{
	char core[320];
	snprintf(core, sizeof(core), "%s/core", dir);
	CHECK_ERR(access(core, F_OK), ENOENT);
}

static int wait_status(pid_t pid)
{
	int st;
	CHECK_RET(waitpid(pid, &st, 0), pid);
	return st;
}

/* Reads all of `path` into a malloc'd buffer; its size in *len. */
static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		t_fail("cannot open core %s: %s", path, t_errname(errno));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	unsigned char *b = malloc((size_t)st.st_size + 1);
	CHECK(b != NULL);
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = CHECK_OK(read(fd, b + done, (size_t)st.st_size - done));
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	*len = done;
	return b;
}

/* Finds note `type` in the core's PT_NOTE; returns its descriptor. */
static const unsigned char *find_note(const unsigned char *b, size_t len,
				      unsigned type, size_t *desc_len)
{
	const Elf64_Ehdr *eh = (const void *)b;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(b + eh->e_phoff + i * sizeof(Elf64_Phdr));
		if (ph->p_type != PT_NOTE)
			continue;
		CHECK(ph->p_offset + ph->p_filesz <= len);
		size_t off = ph->p_offset, end = off + ph->p_filesz;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *nh = (const void *)(b + off);
			size_t name = off + sizeof(*nh);
			size_t desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == type) {
				*desc_len = nh->n_descsz;
				return b + desc;
			}
			off = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return NULL;
}

/* Checks that `path` is a core of process `pid` killed by `sig` in its
 * thread `tid` (the dumping thread's NT_PRSTATUS comes first), and that
 * its memory holds `marker`. */
static void check_core_tid(const char *path, pid_t pid, pid_t tid, int sig)
{
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_RET(st.st_nlink, 1);
	CHECK_RET(st.st_uid, getuid());
	/* Created with mode 0600 less the umask (022 here). */
	CHECK_RET(st.st_mode & 07777, 0600);

	size_t len;
	unsigned char *b = slurp(path, &len);
	const Elf64_Ehdr *eh = (const void *)b;
	CHECK(len >= sizeof(*eh));
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
	CHECK_RET(eh->e_ident[EI_CLASS], ELFCLASS64);
	CHECK_RET(eh->e_type, ET_CORE);
	CHECK_RET(eh->e_machine, CORE_MACHINE);
	CHECK_RET(eh->e_phentsize, sizeof(Elf64_Phdr));
	CHECK(eh->e_phoff + eh->e_phnum * sizeof(Elf64_Phdr) <= len);

	/* NT_PRSTATUS: pr_cursig at 12, pr_pid at 32. */
	size_t dl;
	const unsigned char *pr = find_note(b, len, NT_PRSTATUS, &dl);
	CHECK(pr != NULL);
	CHECK(dl >= 112);
	short cursig;
	int prpid;
	memcpy(&cursig, pr + 12, sizeof(cursig));
	memcpy(&prpid, pr + 32, sizeof(prpid));
	CHECK_RET(cursig, sig);
	CHECK_RET(prpid, tid);
	/* NT_PRPSINFO: pr_pid at 24, pr_fname at 40. */
	const unsigned char *ps = find_note(b, len, NT_PRPSINFO, &dl);
	CHECK(ps != NULL);
	CHECK_RET(dl, 136);
	memcpy(&prpid, ps + 24, sizeof(prpid));
	CHECK_RET(prpid, pid);
	CHECK(strncmp((const char *)ps + 40, "coredump", 16) == 0);
	/* NT_SIGINFO: the siginfo of the signal. */
	const unsigned char *si = find_note(b, len, NT_SIGINFO, &dl);
	CHECK(si != NULL);
	CHECK_RET(dl, 128);
	int signo;
	memcpy(&signo, si, sizeof(signo));
	CHECK_RET(signo, sig);

	/* The PT_LOADs covering `marker` (the bss may span the data
	 * segment's last page and an anonymous mapping) hold its bytes. */
	uintptr_t lo = (uintptr_t)marker, hi = lo + sizeof(marker);
	size_t covered = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(b + eh->e_phoff + i * sizeof(Elf64_Phdr));
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t s = ph->p_vaddr > lo ? ph->p_vaddr : lo;
		uintptr_t e = ph->p_vaddr + ph->p_filesz < hi ? ph->p_vaddr + ph->p_filesz : hi;
		if (s >= e)
			continue;
		CHECK(ph->p_flags & PF_W);
		CHECK(ph->p_offset + ph->p_filesz <= len);
		CHECK(memcmp(b + ph->p_offset + (s - ph->p_vaddr), marker + (s - lo),
			     e - s) == 0);
		covered += e - s;
	}
	CHECK_MSG(covered == sizeof(marker), "PT_LOADs hold %zu of the %zu marker bytes at %#lx",
		  covered, sizeof(marker), (unsigned long)lo);
	free(b);
}

static void check_core(const char *path, pid_t pid, int sig)
{
	check_core_tid(path, pid, pid, sig);
}

static void fill_marker(void)
{
	for (size_t i = 0; i < sizeof(marker); i++)
		marker[i] = (unsigned char)(i * 7 + 3);
}

TEST(segv_writes_core)
{
	fill_marker();
	set_core("core", 0);
	const char *dir = core_dir("segv");
	pid_t pid = crash_child(dir, RLIM_INFINITY);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT));
	CHECK_RET(si.si_code, CLD_DUMPED);
	CHECK_RET(si.si_status, SIGSEGV);
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	CHECK(WCOREDUMP(st));
	char core[320];
	snprintf(core, sizeof(core), "%s/core", dir);
	check_core(core, pid, SIGSEGV);
	restore_core();
}

TEST(kill_sigquit_writes_core)
{
	/* A "core" signal sent by another process dumps as well. */
	fill_marker();
	set_core("core", 0);
	const char *dir = core_dir("quit");
	int ready[2];
	CHECK_OK(pipe(ready));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(dir));
		set_core_limit(RLIM_INFINITY);
		CHECK_RET(write(ready[1], "x", 1), 1);
		for (;;)
			pause();
	}
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	CHECK_OK(kill(pid, SIGQUIT));
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT && WCOREDUMP(st));
	char core[320];
	snprintf(core, sizeof(core), "%s/core", dir);
	check_core(core, pid, SIGQUIT);
	close(ready[0]);
	close(ready[1]);
	restore_core();
}

TEST(no_core_below_one_page)
{
	/* RLIMIT_CORE 0 (and anything under a page): no file, no bit. */
	set_core("core", 0);
	rlim_t limits[] = { 0, 4095 };
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "small%d", i);
		const char *dir = core_dir(name);
		int st = wait_status(crash_child(dir, limits[i]));
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
		CHECK(!WCOREDUMP(st));
		check_no_core(dir);
	}
	restore_core();
}

TEST(truncated_core_still_has_bit)
{
	/* binfmt_elf sets has_dumped once the file exists and the notes are
	 * gathered: a limit that cuts the data short leaves a partial core
	 * and the bit set. */
	fill_marker();
	set_core("core", 0);
	const char *dir = core_dir("cut");
	int st = wait_status(crash_child(dir, 4096));
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	CHECK(WCOREDUMP(st));
	char core[320];
	snprintf(core, sizeof(core), "%s/core", dir);
	size_t len;
	unsigned char *b = slurp(core, &len);
	CHECK(len >= 4 && memcmp(b, ELFMAG, SELFMAG) == 0);
	free(b);
	restore_core();
}

TEST(not_dumpable_no_core)
{
	set_core("core", 0);
	const char *dir = core_dir("nodump");
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(dir));
		set_core_limit(RLIM_INFINITY);
		CHECK_OK(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
		*bad_ptr = 1;
		_exit(99);
	}
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && !WCOREDUMP(st));
	check_no_core(dir);
	restore_core();
}

TEST(core_uses_pid_appends_pid)
{
	fill_marker();
	set_core("core", 1);
	const char *dir = core_dir("usespid");
	pid_t pid = crash_child(dir, RLIM_INFINITY);
	int st = wait_status(pid);
	CHECK(WCOREDUMP(st));
	char core[320];
	snprintf(core, sizeof(core), "%s/core.%d", dir, pid);
	check_core(core, pid, SIGSEGV);
	snprintf(core, sizeof(core), "%s/core", dir);
	CHECK_ERR(access(core, F_OK), ENOENT);
	restore_core();
}

TEST(pattern_specifiers)
{
	/* An absolute pattern with %e (comm), %p (pid, so no ".PID" even
	 * with core_uses_pid), %s (signal) and %%. */
	fill_marker();
	const char *dir = core_dir("spec");
	char pattern[300];
	snprintf(pattern, sizeof(pattern), "%s/%%e-%%p-%%s-%%%%.core", dir);
	set_core(pattern, 1);
	pid_t pid = crash_child("/", RLIM_INFINITY);
	int st = wait_status(pid);
	CHECK(WCOREDUMP(st));
	char core[320];
	snprintf(core, sizeof(core), "%s/coredump-%d-%d-%%.core", dir, pid, SIGSEGV);
	check_core(core, pid, SIGSEGV);
	restore_core();
}

TEST(existing_name_is_replaced)
{
	/* fs/coredump.c unlinks the name first: a symlink there is removed,
	 * not followed, and its target keeps its contents. */
	fill_marker();
	set_core("core", 0);
	const char *dir = core_dir("replace");
	const char *target = t_make_file("precious", "keep me\n", 0644);
	char core[320];
	snprintf(core, sizeof(core), "%s/core", dir);
	CHECK_OK(symlink(target, core));
	pid_t pid = crash_child(dir, RLIM_INFINITY);
	CHECK(WCOREDUMP(wait_status(pid)));
	struct stat st;
	CHECK_OK(lstat(core, &st));
	CHECK(S_ISREG(st.st_mode));
	check_core(core, pid, SIGSEGV);
	char buf[16] = { 0 };
	int fd = CHECK_OK(open(target, O_RDONLY));
	CHECK_RET(read(fd, buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, "keep me\n", 8) == 0);
	close(fd);
	restore_core();
}

TEST(unwritable_directory_no_bit)
{
	/* The dump cannot be created (no write permission): no bit. */
	set_core("core", 0);
	const char *dir = core_dir("ro");
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(dir));
		set_core_limit(RLIM_INFINITY);
		CHECK_OK(setgid(65534));
		CHECK_OK(setuid(65534));
		/* Changing the ids cleared the dumpable flag (commit_creds
		 * sets it to suid_dumpable, 0); set it again. */
		CHECK_RET(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
		CHECK_OK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
		*bad_ptr = 1;
		_exit(99);
	}
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && !WCOREDUMP(st));
	check_no_core(dir);
	restore_core();
}

static void *fault_later(void *arg)
{
	int fd = *(int *)arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	if (write(fd, &tid, sizeof(tid)) != sizeof(tid))
		_exit(98);
	t_sleep_ms(20);
	*bad_ptr = 1;
	return NULL;
}

TEST(thread_fault_dumps_whole_process)
{
	/* A fault in one thread dumps the process and ends every thread. */
	fill_marker();
	set_core("core", 0);
	const char *dir = core_dir("thread");
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(dir));
		set_core_limit(RLIM_INFINITY);
		pthread_t th;
		pthread_create(&th, NULL, fault_later, &p[1]);
		for (;;)
			pause();
	}
	pid_t tid;
	CHECK_RET(read(p[0], &tid, sizeof(tid)), (ssize_t)sizeof(tid));
	CHECK(tid != pid);
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && WCOREDUMP(st));
	char core[320];
	snprintf(core, sizeof(core), "%s/core", dir);
	check_core_tid(core, pid, tid, SIGSEGV);
	close(p[0]);
	close(p[1]);
	restore_core();
}

TEST(terminate_signal_no_core)
{
	/* SIGTERM's default action terminates without a dump. */
	set_core("core", 0);
	const char *dir = core_dir("term");
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(dir));
		set_core_limit(RLIM_INFINITY);
		raise(SIGTERM);
		_exit(99);
	}
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && !WCOREDUMP(st));
	check_no_core(dir);
	restore_core();
}
