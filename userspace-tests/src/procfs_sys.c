/*
 * The system-wide /proc files and /sys in Linux's formats: mounts, mountinfo,
 * filesystems, cpuinfo, meminfo, stat, loadavg, uptime, /proc/sys entries
 * and config.gz, each checked against what the kernel reports through
 * system calls. Reads are also made one byte at a time and at offsets,
 * which must give the same text as one large read.
 *
 * Everything here holds on Linux. Checks that change system-wide settings
 * (sysctl values other than the one being written back) run only on
 * Starling, whose release ends in "-starling", so that running the suite on
 * a development host leaves the host alone.
 */
#include "test.h"
#include "proc_text.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* ---- mounts, filesystems -------------------------------------------- */

TEST(mounts_match_and_are_fstab_lines)
{
	static char a[BIG], b[BIG];
	read_file("/proc/mounts", a, sizeof(a));
	read_file("/proc/self/mounts", b, sizeof(b));
	CHECK_STREQ(a, b);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mounts", (int)getpid());
	read_file(path, b, sizeof(b));
	CHECK_STREQ(a, b);
	int root = 0, proc = 0, lines = 0;
	for (char *l = strtok(a, "\n"); l; l = strtok(NULL, "\n")) {
		static char src[4096], dir[4096], type[64], opts[4096];
		int f1, f2;
		CHECK_MSG(sscanf(l, "%4095s %4095s %63s %4095s %d %d", src, dir, type, opts, &f1, &f2) == 6,
			  "bad mounts line \"%s\"", l);
		CHECK(f1 == 0 && f2 == 0);
		CHECK(strncmp(opts, "rw", 2) == 0 || strncmp(opts, "ro", 2) == 0);
		root |= strcmp(dir, "/") == 0;
		proc |= strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0;
		lines++;
	}
	CHECK(lines >= 2 && root && proc);
}

TEST(mountinfo_lines_and_mount_ids)
{
	/* show_mountinfo: "id parent major:minor root point opts [tags] -
	 * type source superopts"; the ids are statx's stx_mnt_id. */
	static char buf[BIG];
	read_file("/proc/self/mountinfo", buf, sizeof(buf));
	struct statx sx;
	CHECK_RET(syscall(SYS_statx, AT_FDCWD, "/proc", 0, STATX_MNT_ID, &sx), 0);
	int proc = 0, lines = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		static char root[4096], point[4096], opts[4096], type[64];
		unsigned long long id, parent;
		unsigned maj, min;
		CHECK_MSG(sscanf(l, "%llu %llu %u:%u %4095s %4095s %4095s", &id, &parent, &maj, &min,
				 root, point, opts) == 7,
			  "bad mountinfo line \"%s\"", l);
		const char *dash = strstr(l, " - ");
		CHECK_MSG(dash && sscanf(dash, " - %63s", type) == 1, "no \" - type\" in \"%s\"", l);
		CHECK(strncmp(opts, "rw", 2) == 0 || strncmp(opts, "ro", 2) == 0);
		if (strcmp(point, "/proc") == 0 && strcmp(type, "proc") == 0) {
			proc = 1;
			CHECK_EQ(id, sx.stx_mnt_id);
		}
		lines++;
	}
	CHECK(lines >= 2 && proc);
}

TEST(filesystems_lists_proc_and_tmpfs)
{
	static char buf[8192];
	read_file("/proc/filesystems", buf, sizeof(buf));
	CHECK(strstr(buf, "nodev\tproc\n") != NULL);
	CHECK(strstr(buf, "nodev\ttmpfs\n") != NULL);
	CHECK(strstr(buf, "nodev\tsysfs\n") != NULL);
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		CHECK_MSG(strncmp(l, "nodev\t", 6) == 0 || l[0] == '\t', "bad line \"%s\"", l);
}

/* ---- cpuinfo, meminfo, stat, loadavg, uptime ------------------------ */

TEST(cpuinfo_one_block_per_online_cpu)
{
	static char buf[BIG];
	read_file("/proc/cpuinfo", buf, sizeof(buf));
	long want = sysconf(_SC_NPROCESSORS_ONLN);
	long n = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (strncmp(l, "processor", 9) == 0) {
			char *colon = strchr(l, ':');
			CHECK(colon && colon[1] == ' ');
			CHECK_EQ(atol(colon + 2), n);
			n++;
		}
#if defined(__x86_64__)
		if (n == 1 && strncmp(l, "flags", 5) == 0)
			CHECK_MSG(strstr(l, " fpu") && strstr(l, " lm"), "flags: %.60s", l);
#endif
	}
	CHECK_EQ(n, want);
	read_file("/proc/cpuinfo", buf, sizeof(buf));
#if defined(__x86_64__)
	const char *keys[] = { "vendor_id\t: ", "model name\t: ", "flags\t\t: ", "cpu family\t: " };
#elif defined(__riscv)
	const char *keys[] = { "hart\t\t: ", "isa\t\t: rv64", "mmu\t\t: sv" };
#endif
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long count = 0;
		for (const char *p = buf; (p = strstr(p, keys[i])) != NULL; p++)
			count++;
		CHECK_MSG(count == want, "\"%s\" appears %ld times", keys[i], count);
	}
}

TEST(meminfo_fields_and_totals)
{
	static const char *const keys[] = {
		"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
		"SwapCached", "Active", "Inactive", "SwapTotal", "SwapFree",
		"Shmem", "CommitLimit", "Committed_AS",
	};
	static char buf[8192];
	read_file("/proc/meminfo", buf, sizeof(buf));
	check_order(buf, keys, (int)(sizeof(keys) / sizeof(keys[0])));
	/* "Name:" padded to 16 columns, the value right-aligned in 8 (or
	 * more digits), then " kB". */
	for (char *l = buf; *l; l = strchr(l, '\n') + 1) {
		if (strncmp(l, "HugePages_", 10) == 0)
			break;
		size_t len = (size_t)(strchr(l, '\n') - l);
		CHECK_MSG(len >= 27 && memcmp(l + len - 3, " kB", 3) == 0, "bad line \"%.30s\"", l);
		size_t digits = 0;
		while (isdigit((unsigned char)l[len - 4 - digits]))
			digits++;
		CHECK_MSG(digits >= 1 && (digits > 8 || len == 27), "bad line \"%.30s\"", l);
		CHECK_MSG(memchr(l, ':', 16) != NULL, "bad line \"%.30s\"", l);
	}
	struct sysinfo si;
	CHECK_RET(sysinfo(&si), 0);
	long total = field_long(buf, "MemTotal");
	CHECK_EQ(total, (long)((unsigned long long)si.totalram * si.mem_unit / 1024));
	CHECK(field_long(buf, "MemFree") <= total);
	CHECK(field_long(buf, "MemAvailable") <= total);
	CHECK(field_long(buf, "SwapFree") <= field_long(buf, "SwapTotal"));

	/* tmpfs pages count as Shmem. */
	long shmem0 = field_long(buf, "Shmem");
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/procfs-test-%d", (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	static char block[64 * 1024];
	memset(block, 'z', sizeof(block));
	for (int i = 0; i < 32; i++)
		CHECK_RET(write(fd, block, sizeof(block)), (long)sizeof(block));
	read_file("/proc/meminfo", buf, sizeof(buf));
	long shmem1 = field_long(buf, "Shmem");
	close(fd);
	unlink(path);
	CHECK_MSG(shmem1 - shmem0 >= 1024, "Shmem %ld -> %ld kB after 2 MiB in /dev/shm", shmem0, shmem1);
}

TEST(proc_stat_cpu_lines_and_counters)
{
	static char buf[BIG];
	read_file("/proc/stat", buf, sizeof(buf));
	CHECK(strncmp(buf, "cpu  ", 5) == 0);
	unsigned long long v[10];
	CHECK(sscanf(buf, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 10);
	long cpus = 0;
	for (char *p = buf; (p = strstr(p, "\ncpu")) != NULL; p++)
		CHECK_EQ(atol(p + 4), cpus++);
	CHECK_EQ(cpus, sysconf(_SC_NPROCESSORS_ONLN));
	char *btime = strstr(buf, "\nbtime ");
	char up[128];
	read_file("/proc/uptime", up, sizeof(up));
	CHECK(btime != NULL);
	long long boot = atoll(btime + 7);
	long long now = (long long)time(NULL);
	long long uptime = (long long)strtod(up, NULL);
	CHECK_MSG(boot + uptime >= now - 3 && boot + uptime <= now + 3,
		  "btime %lld + uptime %lld vs now %lld", boot, uptime, now);
	CHECK(strstr(buf, "\nctxt ") && strstr(buf, "\nprocesses "));
	char *running = strstr(buf, "\nprocs_running ");
	CHECK(running && atol(running + 15) >= 1);
	CHECK(strstr(buf, "\nprocs_blocked "));
}

TEST(loadavg_and_uptime_format)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(0);
	t_wait_exit(pid, 0);
	char buf[256];
	read_file("/proc/loadavg", buf, sizeof(buf));
	double a, b, c;
	int run, all, last;
	CHECK_MSG(sscanf(buf, "%lf %lf %lf %d/%d %d", &a, &b, &c, &run, &all, &last) == 6,
		  "loadavg \"%s\"", buf);
	CHECK(a >= 0 && b >= 0 && c >= 0);
	CHECK(run >= 1 && all >= run);
	/* The last pid handed out is the child's, or later (or pids wrapped). */
	CHECK_MSG(last >= pid || last < 300 + 1000, "last pid %d before child %d", last, (int)pid);
	/* Two decimals each. */
	char *dot = strchr(buf, '.');
	CHECK(dot && isdigit((unsigned char)dot[1]) && isdigit((unsigned char)dot[2]) && dot[3] == ' ');
	read_file("/proc/uptime", buf, sizeof(buf));
	unsigned long us, uc, is, ic;
	CHECK(sscanf(buf, "%lu.%2lu %lu.%2lu", &us, &uc, &is, &ic) == 4);
	CHECK(buf[strlen(buf) - 1] == '\n');
}

/* ---- /proc/sys ------------------------------------------------------- */

TEST(sys_kernel_entries)
{
	static const char *const files[] = {
		"/proc/sys/kernel/tainted", "/proc/sys/kernel/osrelease",
		"/proc/sys/kernel/ostype", "/proc/sys/kernel/hostname",
		"/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max",
		"/proc/sys/kernel/core_pattern", "/proc/sys/vm/overcommit_memory",
		"/proc/sys/vm/overcommit_ratio", "/proc/sys/vm/max_map_count",
		"/proc/sys/vm/min_free_kbytes", "/proc/sys/fs/nr_open",
		"/proc/sys/fs/pipe-max-size", "/proc/sys/fs/file-max",
		"/proc/sys/fs/file-nr",
	};
	char buf[512];
	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n = read_file(files[i], buf, sizeof(buf));
		CHECK_MSG(n > 0 && buf[n - 1] == '\n', "%s: \"%s\"", files[i], buf);
	}
	struct utsname u;
	CHECK_RET(uname(&u), 0);
	read_file("/proc/sys/kernel/hostname", buf, sizeof(buf));
	buf[strlen(buf) - 1] = '\0';
	CHECK_STREQ(buf, u.nodename);
	read_file("/proc/sys/kernel/ostype", buf, sizeof(buf));
	CHECK_STREQ(buf, "Linux\n");
	read_file("/proc/sys/kernel/pid_max", buf, sizeof(buf));
	CHECK(atol(buf) >= 301 && atol(buf) > getpid());
	read_file("/proc/sys/vm/overcommit_memory", buf, sizeof(buf));
	CHECK(buf[0] >= '0' && buf[0] <= '2' && buf[1] == '\n');
	if (on_starling()) {
		read_file("/proc/sys/kernel/tainted", buf, sizeof(buf));
		CHECK_STREQ(buf, "0\n");
	}
	/* boot_id is fixed, uuid new at every read; both version 4 UUIDs. */
	char id1[64], id2[64];
	read_file("/proc/sys/kernel/random/boot_id", id1, sizeof(id1));
	read_file("/proc/sys/kernel/random/boot_id", id2, sizeof(id2));
	CHECK_STREQ(id1, id2);
	read_file("/proc/sys/kernel/random/uuid", id1, sizeof(id1));
	read_file("/proc/sys/kernel/random/uuid", id2, sizeof(id2));
	CHECK(strcmp(id1, id2) != 0);
	CHECK_EQ(strlen(id1), 37);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			CHECK(id1[i] == '-');
		else
			CHECK(isxdigit((unsigned char)id1[i]) && !isupper((unsigned char)id1[i]));
	}
	CHECK(id1[14] == '4');
	/* file-nr: three numbers separated by tabs. */
	read_file("/proc/sys/fs/file-nr", buf, sizeof(buf));
	unsigned long f1, f2, f3;
	CHECK(sscanf(buf, "%lu\t%lu\t%lu", &f1, &f2, &f3) == 3 && f1 > 0);
}

/* Writes garbage and out-of-range values (EINVAL, nothing changes), then
 * the current value back (accepted). */
static void check_rejects(const char *path, const char *const *bad, int nbad)
{
	char before[128], after[128];
	read_file(path, before, sizeof(before));
	for (int i = 0; i < nbad; i++) {
		errno = 0;
		CHECK_MSG(t_write_str(path, bad[i]) == -1 && errno == EINVAL,
			  "%s accepted \"%s\" (errno %s)", path, bad[i], t_errname(errno));
		read_file(path, after, sizeof(after));
		CHECK_STREQ(after, before);
	}
	CHECK_RET(t_write_str(path, before), (long)strlen(before));
	read_file(path, after, sizeof(after));
	CHECK_STREQ(after, before);
}

TEST(sysctl_writes_validate_like_linux)
{
	if (geteuid() != 0)
		t_skip("needs root");
	const char *const ints[] = { "garbage\n", "\n", "1x\n", "0x\n", "2147483648\n" };
	const char *const omem[] = { "3\n", "-1\n" };
	const char *const pidmax[] = { "300\n", "99999999\n" };
	const char *const drop[] = { "0\n", "x\n", "-1\n" };
	check_rejects("/proc/sys/vm/overcommit_memory", ints, 5);
	check_rejects("/proc/sys/vm/overcommit_memory", omem, 2);
	check_rejects("/proc/sys/vm/max_map_count", ints, 5);
	const char *neg[] = { "-1\n" };
	check_rejects("/proc/sys/vm/max_map_count", neg, 1);
	check_rejects("/proc/sys/vm/min_free_kbytes", neg, 1);
	check_rejects("/proc/sys/kernel/pid_max", pidmax, 2);
	check_rejects("/proc/sys/kernel/threads-max", ints, 5);
	check_rejects("/proc/sys/fs/nr_open", ints, 5);
	for (int i = 0; i < 3; i++) {
		errno = 0;
		CHECK_MSG(t_write_str("/proc/sys/vm/drop_caches", drop[i]) == -1 && errno == EINVAL,
			  "drop_caches accepted \"%s\"", drop[i]);
	}
	if (on_starling()) {
		/* 1..=4 (fs/drop_caches.c); 1 and 3 drop the page cache. */
		errno = 0;
		CHECK_MSG(t_write_str("/proc/sys/vm/drop_caches", "5\n") == -1 && errno == EINVAL,
			  "drop_caches accepted 5");
		CHECK_RET(t_write_str("/proc/sys/vm/drop_caches", "3\n"), 2);
		CHECK_RET(t_write_str("/proc/sys/vm/drop_caches", "1"), 1);
	}
}

TEST(nr_open_bounds_rlimit_nofile)
{
	if (geteuid() != 0)
		t_skip("needs root");
	pid_t pid = t_fork();
	if (pid == 0) {
		char buf[64];
		read_file("/proc/sys/fs/nr_open", buf, sizeof(buf));
		struct rlimit rl = { 1024, (rlim_t)atol(buf) + 1 };
		CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
		/* At most nr_open is fine (without CAP_SYS_RESOURCE, only up
		 * to the current hard limit). */
		struct rlimit cur;
		CHECK_RET(getrlimit(RLIMIT_NOFILE, &cur), 0);
		rl.rlim_max = cur.rlim_max < (rlim_t)atol(buf) ? cur.rlim_max : (rlim_t)atol(buf);
		CHECK_RET(setrlimit(RLIMIT_NOFILE, &rl), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* Starling only: these change system-wide limits for a moment. */
TEST(sysctl_limits_take_effect)
{
	if (!on_starling())
		t_skip("changes system-wide limits; checked on Starling only");
	char saved[64];
	/* max_map_count: mmap fails with ENOMEM past it. */
	read_file("/proc/sys/vm/max_map_count", saved, sizeof(saved));
	static char maps[BIG];
	int vmas = 0;
	read_file("/proc/self/maps", maps, sizeof(maps));
	for (char *p = maps; (p = strchr(p, '\n')) != NULL; p++)
		vmas++;
	char v[32];
	snprintf(v, sizeof(v), "%d\n", vmas + 5);
	CHECK_RET(t_write_str("/proc/sys/vm/max_map_count", v), (long)strlen(v));
	long pg = sysconf(_SC_PAGESIZE);
	void *got[64];
	int n = 0, err = 0;
	for (; n < 64; n++) {
		/* Alternate protections so neighbours never merge. */
		got[n] = mmap(NULL, pg, (n & 1) ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (got[n] == MAP_FAILED) {
			err = errno;
			break;
		}
	}
	CHECK_RET(t_write_str("/proc/sys/vm/max_map_count", saved), (long)strlen(saved));
	for (int i = 0; i < n; i++)
		munmap(got[i], pg);
	CHECK_MSG(n < 64 && err == ENOMEM, "%d mappings past the limit (errno %s)", n, t_errname(err));
	CHECK_MSG(n >= 4 && n <= 7, "%d mappings with %d VMAs and a limit of %d", n, vmas, vmas + 5);

	/* threads-max: fork fails with EAGAIN at the limit. */
	read_file("/proc/sys/kernel/threads-max", saved, sizeof(saved));
	CHECK_RET(t_write_str("/proc/sys/kernel/threads-max", "1\n"), 2);
	errno = 0;
	pid_t pid = fork();
	int e = errno;
	if (pid == 0)
		_exit(0);
	CHECK_RET(t_write_str("/proc/sys/kernel/threads-max", saved), (long)strlen(saved));
	if (pid > 0)
		t_wait_exit(pid, 0);
	CHECK_MSG(pid == -1 && e == EAGAIN, "fork at threads-max returned %d (errno %s)", (int)pid, t_errname(e));

	/* overcommit_ratio sets CommitLimit. */
	read_file("/proc/sys/vm/overcommit_ratio", saved, sizeof(saved));
	CHECK_RET(t_write_str("/proc/sys/vm/overcommit_ratio", "25\n"), 3);
	static char mem[8192];
	read_file("/proc/meminfo", mem, sizeof(mem));
	CHECK_RET(t_write_str("/proc/sys/vm/overcommit_ratio", saved), (long)strlen(saved));
	long total = field_long(mem, "MemTotal"), limit = field_long(mem, "CommitLimit");
	CHECK_MSG(limit >= total / 4 - 16 && limit <= total / 4 + 16, "CommitLimit %ld of %ld", limit, total);

	/* hostname: what uname reports. */
	struct utsname u;
	CHECK_RET(uname(&u), 0);
	CHECK_RET(t_write_str("/proc/sys/kernel/hostname", "procfs-test\n"), 12);
	struct utsname u2;
	CHECK_RET(uname(&u2), 0);
	char name[80];
	snprintf(name, sizeof(name), "%s\n", u.nodename);
	CHECK_RET(t_write_str("/proc/sys/kernel/hostname", name), (long)strlen(name));
	CHECK_STREQ(u2.nodename, "procfs-test");
}

/* ---- config.gz ------------------------------------------------------- */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* Inflates a gzip member made of stored deflate blocks (Starling's). */
static size_t gunzip_stored(const unsigned char *gz, size_t n, char *out, size_t size)
{
	CHECK(n >= 18 && gz[3] == 0);
	size_t pos = 10, len = 0;
	for (;;) {
		CHECK_MSG(pos + 5 <= n, "truncated block header");
		unsigned head = gz[pos];
		CHECK_MSG((head & 6) == 0, "block type %u is not stored", (head >> 1) & 3);
		unsigned blen = gz[pos + 1] | gz[pos + 2] << 8;
		unsigned nlen = gz[pos + 3] | gz[pos + 4] << 8;
		CHECK_EQ(blen, ~nlen & 0xffff);
		pos += 5;
		CHECK(pos + blen <= n && len + blen < size);
		memcpy(out + len, gz + pos, blen);
		pos += blen;
		len += blen;
		if (head & 1)
			break;
	}
	CHECK_EQ(pos + 8, n);
	uint32_t crc = gz[pos] | gz[pos + 1] << 8 | gz[pos + 2] << 16 | (uint32_t)gz[pos + 3] << 24;
	uint32_t isize = gz[pos + 4] | gz[pos + 5] << 8 | gz[pos + 6] << 16 | (uint32_t)gz[pos + 7] << 24;
	CHECK_EQ(crc, crc32_of((const unsigned char *)out, len));
	CHECK_EQ(isize, (uint32_t)len);
	out[len] = '\0';
	return len;
}

/* The text of /proc/config.gz through zcat. */
static void zcat_config(char *out, size_t size)
{
	FILE *f = popen("zcat /proc/config.gz", "r");
	CHECK(f != NULL);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	CHECK_MSG(pclose(f) == 0, "zcat /proc/config.gz failed");
	CHECK(n > 0);
}

static int config_has(const char *text, const char *opt)
{
	char want[96];
	snprintf(want, sizeof(want), "\n%s=y\n", opt);
	return strstr(text, want) != NULL;
}

TEST(config_gz_is_gzip_and_matches_syscalls)
{
	static unsigned char gz[BIG];
	static char text[4 * BIG], text2[4 * BIG];
	int fd = open("/proc/config.gz", O_RDONLY);
	if (fd < 0 && errno == ENOENT && !on_starling())
		t_skip("this kernel has no /proc/config.gz");
	CHECK_MSG(fd >= 0, "open(/proc/config.gz): %s", t_errname(errno));
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, gz + n, sizeof(gz) - n)) > 0)
		n += (size_t)r;
	close(fd);
	CHECK(n >= 18 && gz[0] == 0x1f && gz[1] == 0x8b && gz[2] == 8);
	zcat_config(text, sizeof(text));
	if (on_starling()) {
		gunzip_stored(gz, n, text2, sizeof(text2));
		CHECK_STREQ(text, text2);
	}
	CHECK(config_has(text, "CONFIG_PROC_FS"));
	CHECK(config_has(text, "CONFIG_MMU"));
	CHECK(config_has(text, "CONFIG_IKCONFIG_PROC"));
	if (sizeof(long) == 8)
		CHECK(config_has(text, "CONFIG_64BIT"));
	/* An option is set exactly when its system call exists. */
	struct {
		const char *opt;
		long nr;
	} probes[] = {
		{ "CONFIG_MEMFD_CREATE", SYS_memfd_create },
		{ "CONFIG_POSIX_TIMERS", SYS_timer_create },
		{ "CONFIG_EPOLL", SYS_epoll_create1 },
		{ "CONFIG_EVENTFD", SYS_eventfd2 },
		{ "CONFIG_TIMERFD", SYS_timerfd_create },
		{ "CONFIG_INOTIFY_USER", SYS_inotify_init1 },
		{ "CONFIG_SIGNALFD", SYS_signalfd4 },
		{ "CONFIG_FUTEX", SYS_futex },
		{ "CONFIG_SYSVIPC", SYS_shmget },
		{ "CONFIG_FILE_LOCKING", SYS_flock },
	};
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		long ret;
		errno = 0;
		switch (probes[i].nr) {
		case SYS_memfd_create:
			ret = syscall(SYS_memfd_create, "procfs", 0);
			break;
		case SYS_timer_create: {
			timer_t id;
			ret = syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &id);
			if (ret == 0)
				syscall(SYS_timer_delete, id);
			break;
		}
		case SYS_signalfd4: {
			uint64_t mask = 0;
			ret = syscall(SYS_signalfd4, -1, &mask, 8, 0);
			break;
		}
		case SYS_futex: {
			int word = 0;
			ret = syscall(SYS_futex, &word, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
			break;
		}
		case SYS_shmget:
			ret = syscall(SYS_shmget, 0 /* IPC_PRIVATE */, 4096, 0600);
			if (ret >= 0)
				syscall(SYS_shmctl, (int)ret, 0 /* IPC_RMID */, NULL);
			break;
		case SYS_flock:
			ret = syscall(SYS_flock, 0, 8 /* LOCK_UN */);
			break;
		default:
			ret = syscall(probes[i].nr, 0, 0);
			break;
		}
		int missing = ret == -1 && errno == ENOSYS;
		if (ret >= 0 && probes[i].nr != SYS_futex && probes[i].nr != SYS_timer_create &&
		    probes[i].nr != SYS_shmget && probes[i].nr != SYS_flock)
			close((int)ret);
		CHECK_MSG(config_has(text, probes[i].opt) == !missing,
			  "%s is %s but the system call %s", probes[i].opt,
			  config_has(text, probes[i].opt) ? "set" : "not set",
			  missing ? "is missing" : "exists");
	}
	/* The address families: set exactly when socket(2) makes one. */
	struct {
		const char *opt;
		int family;
	} families[] = { { "CONFIG_UNIX", AF_UNIX }, { "CONFIG_INET", AF_INET }, { "CONFIG_IPV6", AF_INET6 } };
	for (unsigned i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int fd = socket(families[i].family, SOCK_STREAM, 0);
		if (fd >= 0)
			close(fd);
		CHECK_MSG(config_has(text, families[i].opt) == (fd >= 0), "%s is %s but socket(%d) %s",
			  families[i].opt, config_has(text, families[i].opt) ? "set" : "not set",
			  families[i].family, fd >= 0 ? "works" : "fails");
	}
}

/* ---- small reads and offsets ------------------------------------------ */

TEST(small_reads_and_offsets_give_the_same_text)
{
	static const char *const files[] = {
		"/proc/filesystems", "/proc/sys/kernel/osrelease", "/proc/mounts",
		"/proc/self/cmdline", "/proc/config.gz", "/sys/devices/system/cpu/online",
		"/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/present",
	};
	static char whole[BIG], bytes[BIG], part[64];
	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK) != 0 && !on_starling())
			continue;
		size_t n = read_file(files[i], whole, sizeof(whole));
		CHECK_MSG(n > 0, "%s is empty", files[i]);
		CHECK_EQ(read_chunked(files[i], bytes, sizeof(bytes), 1), n);
		CHECK_MSG(memcmp(whole, bytes, n) == 0, "%s differs when read byte by byte", files[i]);
		CHECK_EQ(read_chunked(files[i], bytes, sizeof(bytes), 7), n);
		CHECK(memcmp(whole, bytes, n) == 0);
		int fd = CHECK_OK(open(files[i], O_RDONLY));
		size_t off = n / 2;
		ssize_t got = pread(fd, part, sizeof(part), (off_t)off);
		CHECK_EQ(got, (long)(n - off < sizeof(part) ? n - off : sizeof(part)));
		CHECK(memcmp(part, whole + off, (size_t)got) == 0);
		CHECK_EQ(lseek(fd, (off_t)off, SEEK_SET), (long)off);
		CHECK_EQ(read(fd, part, 1), 1);
		CHECK_EQ(part[0], whole[off]);
		CHECK_RET(pread(fd, part, sizeof(part), (off_t)n + 100), 0);
		close(fd);
	}
	/* A file whose values change still reads as one text byte by byte. */
	char up[128];
	read_chunked("/proc/uptime", up, sizeof(up), 1);
	unsigned long a, b, c, d;
	char nl;
	CHECK_MSG(sscanf(up, "%lu.%2lu %lu.%2lu%c", &a, &b, &c, &d, &nl) == 5 && nl == '\n',
		  "uptime read byte by byte: \"%s\"", up);
	static char st[8192];
	read_chunked("/proc/self/status", st, sizeof(st), 3);
	CHECK_EQ(field_long(st, "Pid"), getpid());
	CHECK(strstr(st, "\nCpus_allowed_list:\t") != NULL);
}

TEST(every_proc_sys_file_reads_without_error)
{
	/* Walks /proc/sys, /proc/self and /sys/devices/system/cpu reading
	 * every readable regular file with small reads. */
	const char *roots[] = { "/proc/sys/kernel", "/proc/sys/vm", "/proc/sys/fs",
				"/sys/devices/system/cpu" };
	int files = 0;
	for (unsigned r = 0; r < sizeof(roots) / sizeof(roots[0]); r++) {
		DIR *d = opendir(roots[r]);
		CHECK_MSG(d != NULL, "opendir(%s)", roots[r]);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			char path[512];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", roots[r], e->d_name);
			if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			int fd = open(path, O_RDONLY);
			if (fd < 0) {
				CHECK_MSG(errno == EACCES || errno == EPERM, "open(%s): %s", path,
					  t_errname(errno));
				continue;
			}
			char c[5];
			ssize_t n;
			int reads = 0;
			while ((n = read(fd, c, sizeof(c))) > 0 && reads++ < 4096)
				;
			CHECK_MSG(n >= 0 || errno == EACCES || errno == EPERM || errno == EIO ||
					  errno == EINVAL || errno == ENODEV || errno == EOPNOTSUPP,
				  "read(%s): %s", path, t_errname(errno));
			close(fd);
			files++;
		}
		closedir(d);
	}
	CHECK(files > 10);
	static const char *const self[] = {
		"status", "stat", "statm", "maps", "cmdline", "comm", "mounts",
		"oom_score_adj",
	};
	for (unsigned i = 0; i < sizeof(self) / sizeof(self[0]); i++) {
		char path[64];
		static char buf[BIG];
		snprintf(path, sizeof(path), "/proc/self/%s", self[i]);
		read_chunked(path, buf, sizeof(buf), 2);
		CHECK_MSG(buf[0] != '\0', "%s is empty", path);
	}
}
