/*
 * Huge pages for user space, from memfd_create(2), mmap(2), proc(5) and
 * Documentation/admin-guide/mm/hugetlbpage.rst: the pool behind
 * /proc/sys/vm/nr_hugepages and /sys/kernel/mm/hugepages, hugetlb memfds
 * (MFD_HUGETLB: no write(2), sizes in whole huge pages, mmap lengths
 * rounded up, huge-page-aligned offsets and addresses, no partial munmap or
 * mprotect), reservations at mmap time (HugePages_Rsvd, ENOMEM when the
 * pool cannot cover a mapping), MAP_HUGETLB, seals, truncation and
 * fallocate. Needs root (it sizes the pool) and restores the pool to
 * empty.
 */
#include "proc_text.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#define HUGE_SHIFT 26
#define MFD_HUGE_64KB (16U << HUGE_SHIFT)
#define MFD_HUGE_2MB (21U << HUGE_SHIFT)
#define MFD_HUGE_1GB (30U << HUGE_SHIFT)
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_WRITE 0x0008
#define F_SEAL_GROW 0x0004
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

#define HP (2L << 20)
#define PAGE 4096L
#define SYSFS_HP "/sys/kernel/mm/hugepages/"
#define SYSFS_2M SYSFS_HP "hugepages-2048kB/"

static int hmemfd(const char *name, unsigned int flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}

/* Writes `text` to `path`: 0 or the errno. */
/* A /proc/meminfo field's number. */
static long meminfo(const char *key)
{
	static char buf[8192];
	read_file("/proc/meminfo", buf, sizeof(buf));
	return field_long(buf, key);
}

#define FREE() meminfo("HugePages_Free")
#define RSVD() meminfo("HugePages_Rsvd")
#define TOTAL() meminfo("HugePages_Total")
#define SURP() meminfo("HugePages_Surp")

/* Sizes the pool to `n` pages (root only; skipped where there is no pool). */
static void pool(long n)
{
	if (access(SYSFS_2M, F_OK) != 0)
		t_skip("no 2 MiB huge pages");
	if (geteuid() != 0)
		t_skip("sizing the huge page pool needs root");
	char text[32];
	snprintf(text, sizeof(text), "%ld\n", n);
	CHECK_RET(t_write_str("/proc/sys/vm/nr_hugepages", text), (long)strlen(text));
	CHECK_MSG(t_read_long("/proc/sys/vm/nr_hugepages") == n, "the pool did not reach %ld pages", n);
}

static void *map(void *addr, long len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, (size_t)len, prot, flags, fd, off);
}

/* The length of the /proc/self/maps line that starts at `p`, and whether it
 * names `name`. */
static long maps_len(void *p, const char *name)
{
	char line[512];
	long len = -1;
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo == (unsigned long)p) {
			len = (long)(hi - lo);
			if (name)
				CHECK_MSG(strstr(line, name) != NULL, "maps line \"%s\"", line);
		}
	}
	fclose(f);
	return len;
}

TEST(page_sizes)
{
	if (access(SYSFS_2M, F_OK) != 0)
		t_skip("no 2 MiB huge pages");
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	close(fd);
	fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB | MFD_HUGE_2MB));
	close(fd);
	/* A size the platform lacks (no sysfs directory) is ENODEV. */
	if (access(SYSFS_HP "hugepages-64kB", F_OK) != 0)
		CHECK_ERR(hmemfd("huge", MFD_HUGETLB | MFD_HUGE_64KB), ENODEV);
	if (access(SYSFS_HP "hugepages-1048576kB", F_OK) != 0)
		CHECK_ERR(hmemfd("huge", MFD_HUGETLB | MFD_HUGE_1GB), ENODEV);
	/* Size bits without MFD_HUGETLB are unknown flags. */
	CHECK_ERR(hmemfd("huge", MFD_HUGE_2MB), EINVAL);
	/* /proc/meminfo agrees with the directory. */
	CHECK_EQ(meminfo("Hugepagesize"), 2048);
}

TEST(pool_files)
{
	pool(3);
	CHECK_EQ(TOTAL(), 3);
	CHECK_EQ(FREE(), 3);
	CHECK_EQ(t_read_long(SYSFS_2M "nr_hugepages"), 3);
	CHECK_EQ(t_read_long(SYSFS_2M "free_hugepages"), 3);
	CHECK_EQ(t_read_long(SYSFS_2M "resv_hugepages"), 0);
	CHECK_EQ(meminfo("Hugetlb"), 3 * 2048);
	CHECK_ERR(t_write_str("/proc/sys/vm/nr_hugepages", "many\n"), EINVAL);
	CHECK_EQ(t_read_long("/proc/sys/vm/nr_hugepages"), 3);
	/* The sysfs file sizes the same pool. */
	CHECK_RET(t_write_str(SYSFS_2M "nr_hugepages", "1\n"), (long)strlen("1\n"));
	CHECK_EQ(TOTAL(), 1);
	/* A page in use when the pool shrinks to 0 stays, as surplus, until
	 * it is freed. */
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	CHECK_RET(fallocate(fd, 0, 0, HP), 0);
	CHECK_EQ(FREE(), 0);
	pool(0);
	CHECK_EQ(TOTAL(), 1);
	CHECK_EQ(SURP(), 1);
	close(fd);
	CHECK_EQ(TOTAL(), 0);
	CHECK_EQ(SURP(), 0);
}

TEST(no_write_and_whole_page_sizes)
{
	pool(1);
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	CHECK_ERR(write(fd, "x", 1), EINVAL);
	CHECK_ERR(write(fd, "", 0), EINVAL);
	CHECK_ERR(pwrite(fd, "x", 1, 0), EINVAL);
	CHECK_ERR(ftruncate(fd, PAGE), EINVAL);
	CHECK_ERR(ftruncate(fd, HP + PAGE), EINVAL);
	CHECK_RET(ftruncate(fd, 2 * HP), 0);
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 2 * HP);
	CHECK_EQ(st.st_blksize, HP);
	/* Reading a hole takes nothing from the pool. */
	char buf[16];
	CHECK_RET(pread(fd, buf, sizeof(buf), HP), (ssize_t)sizeof(buf));
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(FREE(), 1);
	close(fd);
	pool(0);
}

TEST(shared_mapping)
{
	pool(2);
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	/* The length rounds up to a huge page, the address is aligned to one,
	 * a writable mapping extends the file, and the page is reserved, not
	 * allocated, until the first touch. */
	char *p = map(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ((unsigned long)p % HP, 0);
	CHECK_EQ(maps_len(p, "/memfd:huge (deleted)"), HP);
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, HP);
	CHECK_EQ(RSVD(), 1);
	CHECK_EQ(FREE(), 2);
	p[0] = 'a';
	p[HP - 1] = 'z';
	CHECK_EQ(RSVD(), 0);
	CHECK_EQ(FREE(), 1);
	char c;
	CHECK_RET(pread(fd, &c, 1, HP - 1), 1);
	CHECK_EQ(c, 'z');
	/* A child shares the pages. */
	pid_t pid = t_fork();
	if (pid == 0) {
		p[1] = 'b';
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[1], 'b');
	/* No split inside a huge page: munmap, mprotect and mremap refuse. */
	CHECK_ERR(munmap(p, PAGE), EINVAL);
	CHECK_ERR(munmap(p + PAGE, PAGE), EINVAL);
	CHECK_ERR(mprotect(p, HP / 2, PROT_READ), EINVAL);
	CHECK_ERR(mremap(p, HP, 2 * HP, MREMAP_MAYMOVE), EINVAL);
	CHECK_RET(mprotect(p, HP, PROT_READ), 0);
	CHECK_RET(munmap(p, HP), 0);
	/* The page stays with the file. */
	CHECK_EQ(FREE(), 1);
	p = map(NULL, HP, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[0], 'a');
	CHECK_RET(munmap(p, HP), 0);
	close(fd);
	CHECK_EQ(FREE(), 2);
	pool(0);
}

TEST(alignment_rules)
{
	pool(2);
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	CHECK_RET(ftruncate(fd, 2 * HP), 0);
	CHECK(map(NULL, HP, PROT_READ, MAP_SHARED, fd, PAGE) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* A fixed address must be huge-page aligned. */
	char *area = map(NULL, 4 * HP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED);
	char *at = (char *)(((unsigned long)area + HP - 1) & ~(HP - 1));
	CHECK(map(at + PAGE, HP, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	char *p = map(at, HP, PROT_READ, MAP_SHARED | MAP_FIXED, fd, HP);
	CHECK(p == at);
	/* MAP_HUGETLB is accepted on a hugetlb file. */
	char *q = map(NULL, HP, PROT_READ, MAP_SHARED | MAP_HUGETLB, fd, 0);
	CHECK(q != MAP_FAILED);
	CHECK_RET(munmap(q, HP), 0);
	CHECK_RET(munmap(area, 4 * HP), 0);
	close(fd);
	pool(0);
}

TEST(reservations_run_out)
{
	pool(2);
	int fd = CHECK_OK(hmemfd("a", MFD_HUGETLB));
	char *p = map(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(RSVD(), 2);
	int other = CHECK_OK(hmemfd("b", MFD_HUGETLB));
	CHECK(map(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, other, 0) == MAP_FAILED);
	CHECK_EQ(errno, ENOMEM);
	CHECK(map(NULL, HP, PROT_NONE, MAP_PRIVATE, other, 0) == MAP_FAILED);
	CHECK_EQ(errno, ENOMEM);
	CHECK(map(NULL, HP, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0) ==
	      MAP_FAILED);
	CHECK_EQ(errno, ENOMEM);
	/* A second mapping of the same reserved range needs nothing more. */
	char *q = map(NULL, 2 * HP, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(q != MAP_FAILED);
	CHECK_RET(munmap(q, 2 * HP), 0);
	/* Unmapping keeps the file's reservation; closing the file ends it. */
	CHECK_RET(munmap(p, 2 * HP), 0);
	CHECK_EQ(RSVD(), 2);
	close(fd);
	CHECK_EQ(RSVD(), 0);
	/* A private mapping reserves for as long as it exists. */
	p = map(NULL, HP, PROT_READ | PROT_WRITE, MAP_PRIVATE, other, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(RSVD(), 1);
	p[0] = 1;
	CHECK_RET(munmap(p, HP), 0);
	CHECK_EQ(RSVD(), 0);
	close(other);
	CHECK_EQ(FREE(), 2);
	pool(0);
}

TEST(overcommit_surplus)
{
	pool(0);
	CHECK_RET(t_write_str("/proc/sys/vm/nr_overcommit_hugepages", "1\n"), (long)strlen("1\n"));
	CHECK_EQ(t_read_long(SYSFS_2M "nr_overcommit_hugepages"), 1);
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	char *p = map(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(SURP(), 1);
	CHECK(map(NULL, 2 * HP, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0) ==
	      MAP_FAILED);
	CHECK_EQ(errno, ENOMEM);
	p[0] = 1;
	CHECK_RET(munmap(p, HP), 0);
	close(fd);
	CHECK_EQ(SURP(), 0);
	CHECK_EQ(TOTAL(), 0);
	CHECK_RET(t_write_str("/proc/sys/vm/nr_overcommit_hugepages", "0\n"), (long)strlen("0\n"));
}

TEST(map_hugetlb_anonymous)
{
	pool(2);
	char *p = map(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB,
		      -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ((unsigned long)p % HP, 0);
	CHECK_EQ(maps_len(p, "/anon_hugepage (deleted)"), HP);
	pid_t pid = t_fork();
	if (pid == 0) {
		p[HP - 1] = 7;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[HP - 1], 7);
	CHECK_EQ(FREE(), 1);
	CHECK_RET(munmap(p, HP), 0);
	CHECK_EQ(FREE(), 2);
	char *q = map(NULL, HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		      -1, 0);
	CHECK(q != MAP_FAILED);
	CHECK_EQ(RSVD(), 1);
	q[5] = 5;
	CHECK_EQ(q[5], 5);
	CHECK_RET(munmap(q, HP), 0);
	CHECK_EQ(RSVD(), 0);
	pool(0);
}

TEST(truncate_and_fallocate)
{
	pool(2);
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB));
	char *p = map(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	p[HP] = 2;
	CHECK_EQ(FREE(), 0);
	/* Truncation frees the huge page past the end; touching it is SIGBUS. */
	CHECK_RET(ftruncate(fd, HP), 0);
	CHECK_EQ(FREE(), 1);
	pid_t pid = t_fork();
	if (pid == 0) {
		(void)*(volatile char *)(p + HP);
		_exit(0);
	}
	t_wait_signal(pid, SIGBUS);
	CHECK_EQ(p[0], 1);
	CHECK_RET(munmap(p, 2 * HP), 0);
	/* fallocate takes whole huge pages; a punched hole gives them back. */
	CHECK_RET(fallocate(fd, FALLOC_FL_KEEP_SIZE, HP, PAGE), 0);
	CHECK_EQ(FREE(), 0);
	int other = CHECK_OK(hmemfd("other", MFD_HUGETLB));
	CHECK_ERR(fallocate(other, 0, 0, HP), ENOSPC);
	CHECK_RET(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * HP), 0);
	CHECK_EQ(FREE(), 2);
	CHECK_RET(fallocate(other, 0, 0, PAGE), 0);
	struct stat st;
	CHECK_RET(fstat(other, &st), 0);
	CHECK_EQ(st.st_size, PAGE);
	CHECK_EQ(FREE(), 1);
	close(other);
	close(fd);
	CHECK_EQ(FREE(), 2);
	pool(0);
}

TEST(seals)
{
	pool(1);
	int fd = CHECK_OK(hmemfd("huge", MFD_HUGETLB | MFD_ALLOW_SEALING));
	char *p = map(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	CHECK_RET(munmap(p, HP), 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW), 0);
	CHECK(map(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EPERM);
	CHECK_ERR(ftruncate(fd, 2 * HP), EPERM);
	p = map(NULL, HP, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(mprotect(p, HP, PROT_READ | PROT_WRITE), EACCES);
	CHECK_RET(munmap(p, HP), 0);
	close(fd);
	pool(0);
}
