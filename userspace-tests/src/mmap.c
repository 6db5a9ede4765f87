/*
 * Anonymous private mmap(2) and munmap(2): placement, zero fill, MAP_FIXED,
 * argument validation, and faults on unmapped or protected memory (taken in
 * a child, whose death by SIGSEGV is the expected result).
 */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* An address no user mapping can have on any supported configuration. */
#define KERNEL_HALF ((void *)(1UL << 63))

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
		      long off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static char *map(size_t len)
{
	void *p = raw_mmap(NULL, len, RW, ANON, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap(%zu) failed: %s", len, t_errname(errno));
	return p;
}

/* Forks a child that touches `addr` (write if `write`); expects SIGSEGV. */
static void expect_segv(void *addr, int write)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (write)
			*(volatile char *)addr = 1;
		else
			(void)*(volatile char *)addr;
		_exit(0);
	}
	t_wait_signal(pid, SIGSEGV);
}

TEST(anon_private_zeroed_and_writable)
{
	char *p = map(3 * PAGE);
	CHECK_EQ((unsigned long)p % PAGE, 0);
	for (unsigned long i = 0; i < 3 * PAGE; i++)
		CHECK_MSG(p[i] == 0, "byte %lu of a new mapping is 0x%x", i,
			  (unsigned char)p[i]);
	memset(p, 0x42, 3 * PAGE);
	CHECK_EQ(p[3 * PAGE - 1], 0x42);
	CHECK_RET(syscall(SYS_munmap, p, 3 * PAGE), 0);
}

TEST(mappings_do_not_overlap)
{
	char *a = map(PAGE), *b = map(PAGE);
	CHECK(a != b);
	a[0] = 1;
	b[0] = 2;
	CHECK_EQ(a[0], 1);
	munmap(a, PAGE);
	munmap(b, PAGE);
}

TEST(einval_length_zero)
{
	CHECK_ERR(raw_mmap(NULL, 0, RW, ANON, -1, 0), EINVAL);
	char *p = map(PAGE);
	CHECK_ERR(syscall(SYS_munmap, p, 0), EINVAL);
	munmap(p, PAGE);
}

TEST(einval_unaligned)
{
	char *p = map(2 * PAGE);
	/* MAP_FIXED needs a page-aligned address (a plain hint does not). */
	CHECK_ERR(raw_mmap(p + 1, PAGE, RW, ANON | MAP_FIXED, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, p + 1, PAGE), EINVAL);
	/* The offset must be a multiple of the page size. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, ANON, -1, 1), EINVAL);
	/* The failed calls left the mapping alone. */
	p[0] = 3;
	p[2 * PAGE - 1] = 4;
	munmap(p, 2 * PAGE);
}

TEST(einval_bad_flags)
{
	/* Exactly one of MAP_PRIVATE and MAP_SHARED is required. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_ANONYMOUS, -1, 0), EINVAL);
}

TEST(enomem_out_of_range)
{
	/* A length that overflows when rounded up to a page. */
	CHECK_ERR(raw_mmap(NULL, ~0UL - 10, RW, ANON, -1, 0), ENOMEM);
	/* A fixed address in the kernel's half of the address space. */
	CHECK_ERR(raw_mmap(KERNEL_HALF, PAGE, RW, ANON | MAP_FIXED, -1, 0),
		  ENOMEM);
	CHECK_ERR(syscall(SYS_munmap, KERNEL_HALF, PAGE), EINVAL);
}

TEST(munmap_unmapped_range_ok)
{
	/* "It is not an error if the indicated range does not contain any
	 * mapped pages." */
	char *p = map(PAGE);
	CHECK_RET(syscall(SYS_munmap, p, PAGE), 0);
	CHECK_RET(syscall(SYS_munmap, p, PAGE), 0);
}

TEST(map_fixed_replaces)
{
	char *p = map(3 * PAGE);
	memset(p, 0xab, 3 * PAGE);
	void *q = raw_mmap(p + PAGE, PAGE, RW, ANON | MAP_FIXED, -1, 0);
	CHECK(q == p + PAGE);
	/* The middle page is a fresh zero page; its neighbours are intact. */
	CHECK_EQ(p[PAGE], 0);
	CHECK_EQ(p[2 * PAGE - 1], 0);
	CHECK_EQ((unsigned char)p[PAGE - 1], 0xab);
	CHECK_EQ((unsigned char)p[2 * PAGE], 0xab);
	munmap(p, 3 * PAGE);
}

TEST(hint_is_honoured_when_free)
{
	/* Not required by POSIX, but Linux places a mapping at a free,
	 * aligned hint; programs rely on it for placement. */
	char *p = map(4 * PAGE);
	munmap(p, 4 * PAGE);
	void *q = raw_mmap(p + PAGE, PAGE, RW, ANON, -1, 0);
	CHECK(q == p + PAGE);
	munmap(q, PAGE);
}

TEST(access_after_munmap_segv)
{
	char *p = map(PAGE);
	p[0] = 1;
	CHECK_RET(syscall(SYS_munmap, p, PAGE), 0);
	expect_segv(p, 0);
	expect_segv(p, 1);
}

TEST(partial_munmap_splits)
{
	char *p = map(3 * PAGE);
	memset(p, 0x11, 3 * PAGE);
	CHECK_RET(syscall(SYS_munmap, p + PAGE, PAGE), 0);
	CHECK_EQ(p[0], 0x11);
	CHECK_EQ(p[PAGE - 1], 0x11);
	CHECK_EQ(p[2 * PAGE], 0x11);
	CHECK_EQ(p[3 * PAGE - 1], 0x11);
	expect_segv(p + PAGE, 0);
	/* Unmapping across the hole and both remaining pieces works. */
	CHECK_RET(syscall(SYS_munmap, p, 3 * PAGE), 0);
	expect_segv(p, 0);
	expect_segv(p + 2 * PAGE, 0);
}

static void *segv_want_addr;
static int segv_want_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int ok = sig == SIGSEGV && si->si_signo == SIGSEGV &&
		 si->si_addr == segv_want_addr && si->si_code == segv_want_code;
	_exit(ok ? 0 : 1);
}

/* Child with a SIGSEGV handler: checks si_addr and si_code of the fault. */
static void expect_siginfo(void *addr, int write, int code)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		segv_want_addr = addr;
		segv_want_code = code;
		struct sigaction sa = { .sa_sigaction = on_segv,
					.sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		if (write)
			*(volatile char *)addr = 1;
		else
			(void)*(volatile char *)addr;
		_exit(2);
	}
	int st = t_wait(pid);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "fault at %p: handler saw the wrong si_addr/si_code, or none "
		  "ran (status 0x%x)",
		  addr, st);
}

TEST(segv_siginfo_maperr)
{
	char *p = map(2 * PAGE);
	munmap(p, 2 * PAGE);
	expect_siginfo(p + PAGE + 24, 0, SEGV_MAPERR);
}

TEST(prot_none_faults_accerr)
{
	char *p = raw_mmap(NULL, PAGE, PROT_NONE, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	expect_segv(p, 0);
	expect_siginfo(p + 8, 0, SEGV_ACCERR);
	munmap(p, PAGE);
}

TEST(read_only_write_faults)
{
	char *p = raw_mmap(NULL, PAGE, PROT_READ, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[100], 0);
	expect_siginfo(p + 100, 1, SEGV_ACCERR);
	munmap(p, PAGE);
}

TEST(fork_copy_on_write)
{
	char *p = map(2 * PAGE);
	memset(p, 'P', 2 * PAGE);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_EQ(p[0], 'P');
		memset(p, 'C', 2 * PAGE);
		CHECK_EQ(p[PAGE], 'C');
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 'P');
	CHECK_EQ(p[2 * PAGE - 1], 'P');
	munmap(p, 2 * PAGE);
}

TEST(large_mapping_on_demand)
{
	/* 64 MiB touched sparsely, once per MiB. */
	size_t len = 64UL << 20;
	char *p = map(len);
	for (size_t off = 0; off < len; off += 1UL << 20)
		p[off] = (char)(off >> 20);
	for (size_t off = 0; off < len; off += 1UL << 20)
		CHECK_EQ(p[off], (char)(off >> 20));
	CHECK_RET(syscall(SYS_munmap, p, len), 0);
}

/* MAP_PRIVATE of a file: the mapping shows the file's bytes, bytes past the
 * end of the file read as zero within the last page, and stores stay
 * private to the mapping (the file is unchanged). */
TEST(private_file_mapping)
{
	const char *path = t_make_file("mapped", "hello mapping", 0600);
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(memcmp(p, "hello mapping", 13) == 0);
	CHECK_EQ(p[13], 0);
	CHECK_EQ(p[PAGE - 1], 0);
	p[0] = 'J';
	char buf[16] = { 0 };
	CHECK_RET(pread(fd, buf, 13, 0), 13);
	CHECK_STREQ(buf, "hello mapping");
	CHECK_RET(munmap(p, PAGE), 0);
	/* An offset that is not a page multiple is EINVAL. */
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	close(fd);
	/* A write-only descriptor cannot back a mapping (EACCES). */
	fd = (int)CHECK_OK(open(path, O_WRONLY));
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	close(fd);
}

/* Reserves `pages` free pages of address space and returns the base. */
static char *free_range(size_t pages)
{
	char *p = raw_mmap(NULL, pages * PAGE, PROT_NONE, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(munmap(p, pages * PAGE), 0);
	return p;
}

TEST(growsdown_grows_on_access_below)
{
	/* 300 free pages, the top 2 mapped MAP_GROWSDOWN. */
	char *base = free_range(300);
	char *stack = raw_mmap(base + 298 * PAGE, 2 * PAGE, RW,
			       ANON | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
	CHECK(stack == base + 298 * PAGE);
	/* A store 20 pages below the mapping grows it down to there. */
	pid_t pid = t_fork();
	if (pid == 0) {
		stack[-20 * (long)PAGE] = 7;
		if (stack[-20 * (long)PAGE] != 7)
			_exit(1);
		/* The grown part is mapped: msync sees it. */
		_exit(msync(stack - 20 * PAGE, 21 * PAGE, MS_ASYNC) == 0 ? 0 : 2);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(munmap(base, 300 * PAGE), 0);
}

TEST(growsdown_keeps_the_guard_gap)
{
	char *base = free_range(300);
	char *stack = raw_mmap(base + 298 * PAGE, 2 * PAGE, RW,
			       ANON | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
	CHECK(stack == base + 298 * PAGE);
	/* An accessible page 100 pages below: growing to within 256 pages
	 * of it (stack_guard_gap) is refused with SIGSEGV. */
	char *below = raw_mmap(base + 190 * PAGE, PAGE, RW, ANON | MAP_FIXED,
			       -1, 0);
	CHECK(below == base + 190 * PAGE);
	expect_segv(stack - PAGE, 1);
	CHECK_RET(munmap(base, 300 * PAGE), 0);
}
