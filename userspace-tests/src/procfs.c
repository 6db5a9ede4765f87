/*
 * /proc/PID in Linux's formats (proc(5), fs/proc/ in Linux): status, stat,
 * maps, fdinfo and task/, each checked against what the kernel reports
 * through system calls. The system-wide files are in procfs_sys.c.
 *
 * Everything here holds on Linux.
 */
#include "test.h"
#include "proc_text.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>

/* /proc/PID/stat split into its fields (1-based; comm without parens). */
struct statf {
	char buf[1024];
	char *f[64];
	int n;
};

static void read_stat(const char *path, struct statf *s)
{
	read_file(path, s->buf, sizeof(s->buf));
	char *open_paren = strchr(s->buf, '(');
	char *close_paren = strrchr(s->buf, ')');
	CHECK(open_paren && close_paren && close_paren > open_paren);
	*open_paren = '\0';
	*close_paren = '\0';
	s->f[1] = s->buf;
	s->f[2] = open_paren + 1;
	s->n = 2;
	char *save = NULL;
	for (char *t = strtok_r(close_paren + 1, " \n", &save); t && s->n < 63;
	     t = strtok_r(NULL, " \n", &save))
		s->f[++s->n] = t;
}

static long sf(const struct statf *s, int i)
{
	return strtol(s->f[i], NULL, 10);
}

/* ---- status ----------------------------------------------------------- */

TEST(status_fields_in_linux_order)
{
	static const char *const keys[] = {
		"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid",
		"TracerPid", "Uid", "Gid", "FDSize", "Groups", "VmPeak",
		"VmSize", "VmRSS", "Threads", "SigQ", "SigPnd", "ShdPnd",
		"SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff",
		"CapBnd", "CapAmb", "Cpus_allowed_list",
	};
	static char buf[8192];
	read_file("/proc/self/status", buf, sizeof(buf));
	check_order(buf, keys, (int)(sizeof(keys) / sizeof(keys[0])));
	CHECK_EQ(field_long(buf, "Tgid"), getpid());
	CHECK_EQ(field_long(buf, "Pid"), getpid());
	CHECK_EQ(field_long(buf, "PPid"), getppid());
	CHECK_EQ(field_long(buf, "Threads"), 1);
	CHECK(strncmp(field(buf, "State"), "R (running)\n", 12) == 0);
	uid_t r, e, s;
	CHECK_RET(getresuid(&r, &e, &s), 0);
	char want[128];
	snprintf(want, sizeof(want), "%u\t%u\t%u\t", r, e, s);
	CHECK_MSG(strncmp(field(buf, "Uid"), want, strlen(want)) == 0, "Uid: %.20s", field(buf, "Uid"));
	char comm[17] = "";
	CHECK_RET(prctl(PR_GET_NAME, comm), 0);
	snprintf(want, sizeof(want), "%s\n", comm);
	CHECK(strncmp(field(buf, "Name"), want, strlen(want)) == 0);
	/* Signal sets and capabilities: 16 hex digits each. */
	const char *sets[] = { "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
			       "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	for (unsigned i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		const char *v = field(buf, sets[i]);
		for (int j = 0; j < 16; j++)
			CHECK_MSG(isxdigit((unsigned char)v[j]), "%s: %.20s", sets[i], v);
		CHECK_MSG(v[16] == '\n', "%s is not 16 digits", sets[i]);
	}
	/* Cpus_allowed_list covers the online CPUs. */
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n == 1)
		snprintf(want, sizeof(want), "0\n");
	else
		snprintf(want, sizeof(want), "0-%ld\n", n - 1);
	CHECK_MSG(strncmp(field(buf, "Cpus_allowed_list"), want, strlen(want)) == 0,
		  "Cpus_allowed_list: %.10s", field(buf, "Cpus_allowed_list"));
}

TEST(status_umask_groups_sigq)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		static char buf[8192];
		umask(027);
		read_file("/proc/self/status", buf, sizeof(buf));
		CHECK(strncmp(field(buf, "Umask"), "0027\n", 5) == 0);
		/* SigQ: queued/limit, the limit being RLIMIT_SIGPENDING. */
		struct rlimit rl;
		CHECK_RET(getrlimit(RLIMIT_SIGPENDING, &rl), 0);
		unsigned long q0, lim;
		CHECK(sscanf(field(buf, "SigQ"), "%lu/%lu", &q0, &lim) == 2);
		CHECK_EQ(lim, rl.rlim_cur);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + 1);
		CHECK_RET(sigprocmask(SIG_BLOCK, &set, NULL), 0);
		union sigval v = { .sival_int = 0 };
		for (int i = 0; i < 3; i++)
			CHECK_RET(sigqueue(getpid(), SIGRTMIN + 1, v), 0);
		read_file("/proc/self/status", buf, sizeof(buf));
		unsigned long q1;
		CHECK(sscanf(field(buf, "SigQ"), "%lu/", &q1) == 1);
		CHECK_MSG(q1 >= q0 + 3, "SigQ %lu then %lu", q0, q1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static void on_hup(int sig)
{
	(void)sig;
}

TEST(status_signal_sets_follow_the_mask)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		static char buf[8192];
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGRTMIN + 2);
		CHECK_RET(sigprocmask(SIG_SETMASK, &set, NULL), 0);
		signal(SIGUSR2, SIG_IGN);
		signal(SIGHUP, on_hup);
		/* One pending for the thread, one for the process. */
		CHECK_RET(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1), 0);
		CHECK_RET(kill(getpid(), SIGTERM), 0);
		read_file("/proc/self/status", buf, sizeof(buf));
		unsigned long long blk = strtoull(field(buf, "SigBlk"), NULL, 16);
		unsigned long long want = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGTERM - 1)) |
					  (1ULL << (SIGRTMIN + 2 - 1));
		CHECK_EQ(blk, want);
		CHECK(strtoull(field(buf, "SigIgn"), NULL, 16) & (1ULL << (SIGUSR2 - 1)));
		CHECK(strtoull(field(buf, "SigCgt"), NULL, 16) & (1ULL << (SIGHUP - 1)));
		CHECK(!(strtoull(field(buf, "SigCgt"), NULL, 16) & (1ULL << (SIGUSR2 - 1))));
		CHECK_EQ(strtoull(field(buf, "SigPnd"), NULL, 16), 1ULL << (SIGUSR1 - 1));
		CHECK_EQ(strtoull(field(buf, "ShdPnd"), NULL, 16), 1ULL << (SIGTERM - 1));
		/* stat has the same sets in decimal (fields 31-34). */
		struct statf s;
		read_stat("/proc/self/stat", &s);
		CHECK_EQ(sf(&s, 32), (long)(want & 0x7fffffff));
		CHECK(sf(&s, 33) & (1L << (SIGUSR2 - 1)));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(status_vm_sizes_follow_mappings)
{
	static char buf[8192];
	read_file("/proc/self/status", buf, sizeof(buf));
	long size0 = field_long(buf, "VmSize"), rss0 = field_long(buf, "VmRSS");
	size_t len = 8 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 1, 2 << 20);
	read_file("/proc/self/status", buf, sizeof(buf));
	long size1 = field_long(buf, "VmSize"), rss1 = field_long(buf, "VmRSS");
	long peak1 = field_long(buf, "VmPeak");
	CHECK_MSG(size1 - size0 >= 8192 && size1 - size0 < 8192 + 1024, "VmSize %ld -> %ld", size0, size1);
	CHECK_MSG(rss1 - rss0 >= 2048 - 64, "VmRSS %ld -> %ld", rss0, rss1);
	CHECK(peak1 >= size1);
	CHECK_RET(munmap(p, len), 0);
	read_file("/proc/self/status", buf, sizeof(buf));
	CHECK(field_long(buf, "VmSize") <= size1 - 8192);
	CHECK(field_long(buf, "VmPeak") >= size1);
}

/* ---- threads: status, task/ ------------------------------------------ */

static int thread_pipe[2];
static pid_t thread_tids[2];

static void *parked_thread(void *arg)
{
	thread_tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	char c;
	while (read(thread_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

TEST(task_directory_lists_threads)
{
	CHECK_RET(pipe(thread_pipe), 0);
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		CHECK_RET(pthread_create(&t[i], NULL, parked_thread, (void *)i), 0);
	while (!thread_tids[0] || !thread_tids[1])
		t_sleep_ms(1);
	static char buf[8192];
	read_file("/proc/self/status", buf, sizeof(buf));
	CHECK_EQ(field_long(buf, "Threads"), 3);

	pid_t seen[8];
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	CHECK(d != NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		CHECK(n < 8);
		seen[n++] = atoi(e->d_name);
	}
	closedir(d);
	CHECK_EQ(n, 3);
	pid_t want[3] = { getpid(), thread_tids[0], thread_tids[1] };
	for (int i = 0; i < 3; i++) {
		int found = 0;
		for (int j = 0; j < n; j++)
			found |= seen[j] == want[i];
		CHECK_MSG(found, "tid %d not in /proc/self/task", (int)want[i]);
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)want[i]);
		read_file(path, buf, sizeof(buf));
		CHECK_EQ(field_long(buf, "Pid"), want[i]);
		CHECK_EQ(field_long(buf, "Tgid"), getpid());
		CHECK_EQ(field_long(buf, "Threads"), 3);
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)want[i]);
		struct statf s;
		read_stat(path, &s);
		CHECK_EQ(sf(&s, 1), want[i]);
		CHECK_EQ(s.n, 52);
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)want[i]);
		read_file(path, buf, sizeof(buf));
		CHECK(strlen(buf) > 1 && buf[strlen(buf) - 1] == '\n');
	}
	/* A parked thread sleeps. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)thread_tids[0]);
	struct statf s;
	for (int tries = 0; tries < 100; tries++) {
		read_stat(path, &s);
		if (s.f[3][0] == 'S')
			break;
		t_sleep_ms(5);
	}
	CHECK_MSG(s.f[3][0] == 'S', "state %s", s.f[3]);
	CHECK_RET(write(thread_pipe[1], "xx", 2), 2);
	for (int i = 0; i < 2; i++)
		CHECK_RET(pthread_join(t[i], NULL), 0);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
}

/* ---- stat --------------------------------------------------------------- */

TEST(stat_has_52_fields_matching_ids)
{
	struct statf s;
	read_stat("/proc/self/stat", &s);
	/* Threads joined by an earlier test may still be leaving the thread
	 * group: pthread_join returns at the CLONE_CHILD_CLEARTID wake, which
	 * precedes the release (on Linux too). */
	for (int i = 0; i < 200 && sf(&s, 20) != 1; i++) {
		t_sleep_ms(5);
		read_stat("/proc/self/stat", &s);
	}
	CHECK_EQ(s.n, 52);
	CHECK_EQ(sf(&s, 1), getpid());
	CHECK_EQ(s.f[3][0], 'R');
	CHECK_EQ(sf(&s, 4), getppid());
	CHECK_EQ(sf(&s, 5), getpgrp());
	CHECK_EQ(sf(&s, 6), getsid(0));
	CHECK_EQ(sf(&s, 20), 1);
	/* The start time lies in the past: at most the uptime (ticks). */
	char up[128];
	read_file("/proc/uptime", up, sizeof(up));
	double uptime = strtod(up, NULL);
	CHECK(strtoull(s.f[22], NULL, 10) <= (unsigned long long)(uptime * 100) + 1);
	CHECK(strtoull(s.f[23], NULL, 10) > 0); /* vsize */
	CHECK(sf(&s, 24) > 0);                   /* rss */
	CHECK_EQ(sf(&s, 38), SIGCHLD);           /* exit_signal of a forked child */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(sf(&s, 39) >= 0 && sf(&s, 39) < cpus);
	/* The argument strings lie between arg_start and arg_end. */
	CHECK(strtoull(s.f[48], NULL, 10) <= strtoull(s.f[49], NULL, 10));
	CHECK(strtoull(s.f[50], NULL, 10) <= strtoull(s.f[51], NULL, 10));
}

TEST(stat_comm_with_spaces_and_parens)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(prctl(PR_SET_NAME, "a b) (c"), 0);
		struct statf s;
		read_stat("/proc/self/stat", &s);
		CHECK_STREQ(s.f[2], "a b) (c");
		CHECK_EQ(s.n, 52);
		static char buf[64];
		read_file("/proc/self/comm", buf, sizeof(buf));
		CHECK_STREQ(buf, "a b) (c\n");
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(stat_of_sleeping_child)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	struct statf s;
	for (int tries = 0; tries < 200; tries++) {
		read_stat(path, &s);
		if (s.f[3][0] == 'S')
			break;
		t_sleep_ms(5);
	}
	CHECK_MSG(s.f[3][0] == 'S', "state %s", s.f[3]);
	CHECK_EQ(sf(&s, 4), getpid());
	static char buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	read_file(path, buf, sizeof(buf));
	CHECK(strncmp(field(buf, "State"), "S (sleeping)\n", 13) == 0);
	CHECK_EQ(field_long(buf, "PPid"), getpid());
	close(p[1]);
	t_wait_exit(pid, 0);
}

TEST(zombie_stat_and_status)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(3);
	siginfo_t si;
	CHECK_RET(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	struct statf s;
	read_stat(path, &s);
	CHECK_EQ(s.n, 52);
	CHECK_EQ(s.f[3][0], 'Z');
	CHECK_EQ(sf(&s, 52), 3 << 8); /* exit_code: the wait status */
	CHECK_EQ(sf(&s, 23), 0);      /* no address space left */
	static char buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	read_file(path, buf, sizeof(buf));
	CHECK(strncmp(field(buf, "State"), "Z (zombie)\n", 11) == 0);
	CHECK(field(buf, "VmSize") == NULL);
	CHECK_EQ(field_long(buf, "PPid"), getpid());
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	read_file(path, buf, sizeof(buf));
	CHECK_STREQ(buf, "");
	t_wait_exit(pid, 3);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	CHECK_ERR(open(path, O_RDONLY), ENOENT);
}

/* ---- maps ---------------------------------------------------------------- */

/* Finds the maps line starting at `start`; copies it to `line`. */
static int maps_line(unsigned long start, char *line, size_t size)
{
	static char buf[BIG];
	read_file("/proc/self/maps", buf, sizeof(buf));
	for (char *l = buf; *l; ) {
		char *nl = strchr(l, '\n');
		CHECK_MSG(nl != NULL, "maps does not end in a newline");
		if (strtoul(l, NULL, 16) == start) {
			size_t n = (size_t)(nl - l);
			CHECK(n < size);
			memcpy(line, l, n);
			line[n] = '\0';
			return 1;
		}
		l = nl + 1;
	}
	return 0;
}

struct mapline {
	unsigned long start, end, off, ino;
	char perms[8];
	unsigned maj, min;
	const char *name;
};

static void parse_maps_line(char *line, struct mapline *m)
{
	int pos = 0;
	CHECK_MSG(sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &m->start, &m->end, m->perms,
			 &m->off, &m->maj, &m->min, &m->ino, &pos) == 7,
		  "bad maps line \"%s\"", line);
	m->name = line[pos] ? line + pos : NULL;
	/* The name starts at column 73 (after padding), as show_map_vma pads. */
	if (m->name)
		CHECK_MSG(pos == 73 || (line[pos - 1] == ' ' && pos > 73), "name at column %d in \"%s\"", pos, line);
}

TEST(maps_shows_fresh_mapping_and_split)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	char line[512];
	struct mapline m;
	/* The new mapping may have merged with a neighbour: find its VMA. */
	CHECK_RET(mprotect(p + pg, pg, PROT_READ), 0);
	CHECK_MSG(maps_line((unsigned long)p + pg, line, sizeof(line)), "no VMA starts at %p", p + pg);
	parse_maps_line(line, &m);
	CHECK_EQ(m.end, (unsigned long)p + 2 * pg);
	CHECK_STREQ(m.perms, "r--p");
	CHECK_EQ(m.ino, 0);
	CHECK(m.name == NULL);
	CHECK_MSG(maps_line((unsigned long)p + 2 * pg, line, sizeof(line)), "no VMA after the split");
	parse_maps_line(line, &m);
	CHECK_STREQ(m.perms, "rw-p");
	CHECK_RET(munmap(p, 3 * pg), 0);
	CHECK(!maps_line((unsigned long)p + pg, line, sizeof(line)));

	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	CHECK(maps_line((unsigned long)s, line, sizeof(line)));
	parse_maps_line(line, &m);
	CHECK_STREQ(m.perms, "rwxs");
	CHECK_RET(munmap(s, pg), 0);
}

TEST(maps_names_files_stack_and_heap)
{
	long pg = sysconf(_SC_PAGESIZE);
	static char data[3 * 4096];
	memset(data, 'x', sizeof(data));
	const char *path = t_path("mapped");
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_RET(write(fd, data, sizeof(data)), (long)sizeof(data));
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	char *p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, pg);
	CHECK(p != MAP_FAILED);
	char line[512];
	struct mapline m;
	CHECK(maps_line((unsigned long)p, line, sizeof(line)));
	parse_maps_line(line, &m);
	CHECK_STREQ(m.perms, "r--p");
	CHECK_EQ(m.off, (unsigned long)pg);
	CHECK_EQ(m.maj, major(st.st_dev));
	CHECK_EQ(m.min, minor(st.st_dev));
	CHECK_EQ(m.ino, st.st_ino);
	char real[PATH_MAX];
	CHECK(realpath(path, real) != NULL);
	CHECK_STREQ(m.name, real);
	CHECK_RET(munmap(p, pg), 0);
	close(fd);

	/* The stack VMA holds a local variable and is called [stack]; the
	 * heap reaches the program break. */
	void *heap = malloc(100);
	unsigned long brk_now = (unsigned long)sbrk(0);
	static char buf[BIG];
	read_file("/proc/self/maps", buf, sizeof(buf));
	free(heap);
	unsigned long here = (unsigned long)&line;
	int stack_ok = 0, heap_ok = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		parse_maps_line(l, &m);
		if (m.name && strcmp(m.name, "[stack]") == 0 && m.start <= here && here < m.end)
			stack_ok = 1;
		if (m.name && strcmp(m.name, "[heap]") == 0 && m.end >= brk_now - 1)
			heap_ok = 1;
	}
	CHECK_MSG(stack_ok, "no [stack] line around %#lx", here);
	CHECK_MSG(heap_ok, "no [heap] line up to the break %#lx", brk_now);
}

/* ---- fdinfo, fd ------------------------------------------------------- */

static void read_fdinfo(int fd, long long *pos, unsigned *flags, long *mnt, unsigned long *ino)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	read_file(path, buf, sizeof(buf));
	static const char *const keys[] = { "pos", "flags", "mnt_id", "ino" };
	check_order(buf, keys, 4);
	*pos = strtoll(field(buf, "pos"), NULL, 10);
	const char *f = field(buf, "flags");
	CHECK_MSG(f[0] == '0', "flags not in octal with a leading 0: %.12s", f);
	*flags = (unsigned)strtoul(f, NULL, 8);
	*mnt = strtol(field(buf, "mnt_id"), NULL, 10);
	*ino = strtoul(field(buf, "ino"), NULL, 10);
}

TEST(fdinfo_position_flags_inode)
{
	const char *path = t_path("fdinfo");
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	char data[100];
	memset(data, 'y', sizeof(data));
	CHECK_RET(write(fd, data, sizeof(data)), 100);
	CHECK_RET(lseek(fd, 37, SEEK_SET), 37);
	long long pos;
	unsigned flags;
	long mnt;
	unsigned long ino;
	read_fdinfo(fd, &pos, &flags, &mnt, &ino);
	CHECK_EQ(pos, 37);
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(ino, st.st_ino);
	CHECK(mnt >= 0);
	/* The status flags as F_GETFL reports them; open-only flags are gone. */
	int fl = (int)CHECK_OK(fcntl(fd, F_GETFL));
	CHECK_EQ(flags, (unsigned)fl);
	CHECK_EQ(flags & ~K_O_LARGEFILE, O_RDWR);
	/* O_CLOEXEC shows while the descriptor has FD_CLOEXEC. */
	CHECK_RET(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	read_fdinfo(fd, &pos, &flags, &mnt, &ino);
	CHECK_EQ(flags & ~K_O_LARGEFILE, O_RDWR | O_CLOEXEC);
	CHECK_RET(fcntl(fd, F_SETFD, 0), 0);
	CHECK_RET(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK), 0);
	CHECK_RET(lseek(fd, 0, SEEK_END), 100);
	read_fdinfo(fd, &pos, &flags, &mnt, &ino);
	CHECK_EQ(pos, 100);
	CHECK_EQ(flags & ~K_O_LARGEFILE, O_RDWR | O_APPEND | O_NONBLOCK);
	close(fd);

	int p[2];
	CHECK_RET(pipe2(p, O_CLOEXEC), 0);
	read_fdinfo(p[1], &pos, &flags, &mnt, &ino);
	CHECK_EQ(pos, 0);
	CHECK_EQ(flags, O_WRONLY | O_CLOEXEC);
	read_fdinfo(p[0], &pos, &flags, &mnt, &ino);
	CHECK_EQ(flags, O_RDONLY | O_CLOEXEC);
	CHECK(access("/proc/self/fdinfo/999", F_OK) != 0);
	/* fdinfo/N read through the very description it describes (N made
	 * a duplicate of the fdinfo file): the position before this read. */
	int victim = CHECK_OK(open(path, O_RDONLY));
	char self_path[64], self_buf[256];
	snprintf(self_path, sizeof(self_path), "/proc/self/fdinfo/%d", victim);
	int self_fd = CHECK_OK(open(self_path, O_RDONLY));
	CHECK_RET(dup2(self_fd, victim), victim);
	ssize_t got = CHECK_OK(read(self_fd, self_buf, sizeof(self_buf) - 1));
	self_buf[got] = '\0';
	CHECK_MSG(strncmp(self_buf, "pos:\t0\nflags:\t0", 15) == 0, "\"%s\"", self_buf);
	CHECK_RET(read(self_fd, self_buf, sizeof(self_buf)), 0);
	close(victim);
	close(self_fd);
	/* fd/N names the file. */
	char link[64], target[PATH_MAX];
	fd = CHECK_OK(open(path, O_RDONLY));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = CHECK_OK(readlink(link, target, sizeof(target) - 1));
	target[n] = '\0';
	char real[PATH_MAX];
	CHECK(realpath(path, real) != NULL);
	CHECK_STREQ(target, real);
	close(fd);
	close(p[0]);
	close(p[1]);
}

