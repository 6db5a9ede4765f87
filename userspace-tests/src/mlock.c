/*
 * mlock(2), mlock2(2), munlock(2), mlockall(2), munlockall(2): locking
 * populates the pages (except MLOCK_ONFAULT / MCL_ONFAULT) and counts them
 * in VmLck of /proc/self/status; a hole makes mlock and munlock fail with
 * ENOMEM after the VMAs before it changed; MCL_FUTURE locks later mappings
 * (mmap and brk); locks are not inherited by fork; RLIMIT_MEMLOCK without
 * CAP_IPC_LOCK: EPERM when it is 0, ENOMEM (mlock, mlockall) or EAGAIN
 * (mmap MAP_LOCKED) past it.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/resource.h>

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static long mlock2_raw(void *addr, size_t len, int flags)
{
	return syscall(SYS_mlock2, addr, len, flags);
}

static char *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, RW, flags, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap(%zu) failed: %s", len, t_errname(errno));
	return p;
}

/* A field of /proc/self/status in kB. */
static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		t_fail("open /proc/self/status: %s", t_errname(errno));
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	if (v < 0)
		t_fail("no %s in /proc/self/status", field);
	return v;
}

static long vmlck(void)
{
	return status_kb("VmLck");
}

/* Number of resident pages among the `pages` pages at `p`. */
static int resident(void *p, size_t pages)
{
	unsigned char v[64];
	if (pages > sizeof(v))
		t_fail("resident: too many pages");
	if (mincore(p, pages * PAGE, v) != 0)
		t_fail("mincore: %s", t_errname(errno));
	int n = 0;
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	return n;
}

/* Drops CAP_IPC_LOCK (and every other capability) by becoming nobody,
 * after setting RLIMIT_MEMLOCK to `bytes`. For a t_fork() child only. */
static void become_unprivileged(rlim_t bytes)
{
	struct rlimit rl = { bytes, bytes };
	CHECK_RET(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	CHECK_RET(setgid(65534), 0);
	CHECK_RET(setuid(65534), 0);
}

TEST(mlock_populates_and_counts)
{
	char *p = map(4 * PAGE, ANON);
	long base = vmlck();
	CHECK_EQ(resident(p, 4), 0);
	CHECK_RET(mlock(p, 4 * PAGE), 0);
	CHECK_EQ(resident(p, 4), 4);
	CHECK_EQ(vmlck(), base + 16);
	/* Locking again counts nothing new. */
	CHECK_RET(mlock(p, 2 * PAGE), 0);
	CHECK_EQ(vmlck(), base + 16);
	CHECK_RET(munlock(p + PAGE, PAGE), 0);
	CHECK_EQ(vmlck(), base + 12);
	CHECK_RET(munlock(p, 4 * PAGE), 0);
	CHECK_EQ(vmlck(), base);
	/* Unlocking does not drop the pages. */
	CHECK_EQ(resident(p, 4), 4);
	munmap(p, 4 * PAGE);
}

TEST(munmap_uncounts)
{
	char *p = map(3 * PAGE, ANON);
	long base = vmlck();
	CHECK_RET(mlock(p, 3 * PAGE), 0);
	CHECK_EQ(vmlck(), base + 12);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	CHECK_EQ(vmlck(), base + 8);
	munmap(p, 3 * PAGE);
	CHECK_EQ(vmlck(), base);
}

TEST(unaligned_range_covers_its_pages)
{
	char *p = map(3 * PAGE, ANON);
	long base = vmlck();
	CHECK_RET(mlock(p + PAGE - 1, 2), 0);
	CHECK_EQ(vmlck(), base + 8);
	CHECK_RET(munlock(p + 100, 1), 0);
	CHECK_EQ(vmlck(), base + 4);
	CHECK_RET(munlock(p, 3 * PAGE), 0);
	munmap(p, 3 * PAGE);
}

TEST(len_zero)
{
	char *p = map(PAGE, ANON);
	long base = vmlck();
	CHECK_RET(mlock(p, 0), 0);
	CHECK_RET(munlock(p, 0), 0);
	CHECK_RET(mlock2_raw(p, 0, MLOCK_ONFAULT), 0);
	CHECK_EQ(vmlck(), base);
	munmap(p, PAGE);
}

TEST(unmapped_enomem)
{
	char *p = map(PAGE, ANON);
	munmap(p, PAGE);
	CHECK_ERR(mlock(p, PAGE), ENOMEM);
	CHECK_ERR(munlock(p, PAGE), ENOMEM);
	CHECK_ERR(mlock2_raw(p, PAGE, 0), ENOMEM);
}

TEST(hole_enomem_after_earlier_vmas)
{
	char *p = map(3 * PAGE, ANON);
	long base = vmlck();
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	CHECK_ERR(mlock(p, 3 * PAGE), ENOMEM);
	/* The page before the hole is locked, the one after it is not. */
	CHECK_EQ(vmlck(), base + 4);
	CHECK_RET(mlock(p + 2 * PAGE, PAGE), 0);
	CHECK_EQ(vmlck(), base + 8);
	CHECK_ERR(munlock(p, 3 * PAGE), ENOMEM);
	CHECK_EQ(vmlck(), base + 4);
	CHECK_RET(munlock(p + 2 * PAGE, PAGE), 0);
	CHECK_EQ(vmlck(), base);
	munmap(p, 3 * PAGE);
}

TEST(wrapping_range)
{
	char *p = map(PAGE, ANON);
	/* start + len wraps: EINVAL. */
	CHECK_ERR(mlock(p, (size_t)-(long)(2 * PAGE)), EINVAL);
	CHECK_ERR(munlock(p, (size_t)-(long)(2 * PAGE)), EINVAL);
	munmap(p, PAGE);
}

TEST(prot_none_enomem)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_NONE, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	long base = vmlck();
	/* The VMA is locked, but its pages cannot be faulted in. */
	CHECK_ERR(mlock(p, 2 * PAGE), ENOMEM);
	CHECK_EQ(vmlck(), base + 8);
	CHECK_RET(munlock(p, 2 * PAGE), 0);
	CHECK_EQ(vmlck(), base);
	/* On fault, nothing is faulted in now. */
	CHECK_RET(mlock2_raw(p, 2 * PAGE, MLOCK_ONFAULT), 0);
	CHECK_EQ(vmlck(), base + 8);
	munmap(p, 2 * PAGE);
	CHECK_EQ(vmlck(), base);
}

TEST(mlock2_onfault)
{
	char *p = map(4 * PAGE, ANON);
	long base = vmlck();
	CHECK_ERR(mlock2_raw(p, 4 * PAGE, 2), EINVAL);
	CHECK_ERR(mlock2_raw(p, 4 * PAGE, -1), EINVAL);
	CHECK_RET(mlock2_raw(p, 4 * PAGE, MLOCK_ONFAULT), 0);
	CHECK_EQ(vmlck(), base + 16);
	CHECK_EQ(resident(p, 4), 0);
	p[PAGE] = 1;
	CHECK_EQ(resident(p, 4), 1);
	/* Plain mlock over it populates. */
	CHECK_RET(mlock2_raw(p, 4 * PAGE, 0), 0);
	CHECK_EQ(resident(p, 4), 4);
	CHECK_EQ(vmlck(), base + 16);
	CHECK_RET(munlock(p, 4 * PAGE), 0);
	munmap(p, 4 * PAGE);
}

TEST(locked_mapping_is_populated)
{
	long base = vmlck();
	char *p = map(4 * PAGE, ANON | MAP_LOCKED);
	CHECK_EQ(vmlck(), base + 16);
	CHECK_EQ(resident(p, 4), 4);
	munmap(p, 4 * PAGE);
	CHECK_EQ(vmlck(), base);
}

TEST(not_inherited_by_fork)
{
	char *p = map(2 * PAGE, ANON);
	long base = vmlck();
	CHECK_RET(mlock(p, 2 * PAGE), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_EQ(vmlck(), 0);
		/* Not locked in the child: MADV_DONTNEED works. */
		CHECK_RET(madvise(p, PAGE, MADV_DONTNEED), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(vmlck(), base + 8);
	CHECK_ERR(madvise(p, PAGE, MADV_DONTNEED), EINVAL);
	munmap(p, 2 * PAGE);
}

TEST(mlockall_flags_einval)
{
	CHECK_ERR(mlockall(0), EINVAL);
	CHECK_ERR(mlockall(MCL_ONFAULT), EINVAL);
	CHECK_ERR(mlockall(8), EINVAL);
	CHECK_ERR(mlockall(MCL_CURRENT | 16), EINVAL);
}

TEST(mlockall_current)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		char *p = map(4 * PAGE, ANON);
		CHECK_RET(mlockall(MCL_CURRENT), 0);
		long locked = vmlck();
		CHECK(locked > 0);
		CHECK(locked <= status_kb("VmSize"));
		CHECK_EQ(resident(p, 4), 4);
		/* Current only: a new mapping is not locked. */
		char *q = map(4 * PAGE, ANON);
		CHECK_EQ(vmlck(), locked);
		CHECK_EQ(resident(q, 4), 0);
		CHECK_RET(munlockall(), 0);
		CHECK_EQ(vmlck(), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(mlockall_current_onfault)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		char *p = map(4 * PAGE, ANON);
		CHECK_RET(mlockall(MCL_CURRENT | MCL_ONFAULT), 0);
		CHECK(vmlck() > 0);
		CHECK_EQ(resident(p, 4), 0);
		CHECK_RET(munlockall(), 0);
		CHECK_EQ(vmlck(), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(mlockall_future)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(mlockall(MCL_FUTURE), 0);
		CHECK_EQ(vmlck(), 0);
		char *p = map(4 * PAGE, ANON);
		CHECK_EQ(vmlck(), 16);
		CHECK_EQ(resident(p, 4), 4);
		/* brk grows locked too. */
		char *brk0 = (char *)syscall(SYS_brk, 0);
		char *top = (char *)(((unsigned long)brk0 + PAGE - 1) & ~(PAGE - 1));
		CHECK_EQ(syscall(SYS_brk, top + 2 * PAGE), (long)(top + 2 * PAGE));
		CHECK_EQ(vmlck(), 24);
		CHECK_EQ(resident(top, 2), 2);
		CHECK_EQ(syscall(SYS_brk, top), (long)top);
		CHECK_EQ(vmlck(), 16);
		/* With MCL_ONFAULT, new mappings are locked but not populated. */
		CHECK_RET(mlockall(MCL_FUTURE | MCL_ONFAULT), 0);
		char *q = map(4 * PAGE, ANON);
		CHECK_EQ(vmlck(), 32);
		CHECK_EQ(resident(q, 4), 0);
		/* MCL_CURRENT alone ends MCL_FUTURE. */
		CHECK_RET(mlockall(MCL_CURRENT), 0);
		long locked = vmlck();
		char *r = map(4 * PAGE, ANON);
		CHECK_EQ(vmlck(), locked);
		CHECK_RET(munlockall(), 0);
		CHECK_EQ(vmlck(), 0);
		r = map(4 * PAGE, ANON);
		CHECK_EQ(vmlck(), 0);
		CHECK_EQ(resident(r, 4), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(limit_zero_eperm)
{
	if (geteuid() != 0)
		t_skip("needs root to drop CAP_IPC_LOCK by setuid");
	char *p = map(PAGE, ANON);
	pid_t pid = t_fork();
	if (pid == 0) {
		become_unprivileged(0);
		CHECK_ERR(mlock(p, PAGE), EPERM);
		CHECK_ERR(mlock2_raw(p, PAGE, MLOCK_ONFAULT), EPERM);
		CHECK_ERR(mlockall(MCL_CURRENT), EPERM);
		CHECK_ERR(mlockall(MCL_FUTURE), EPERM);
		CHECK(mmap(NULL, PAGE, RW, ANON | MAP_LOCKED, -1, 0) == MAP_FAILED);
		CHECK_EQ(errno, EPERM);
		/* Unlocking needs no permission. */
		CHECK_RET(munlock(p, PAGE), 0);
		CHECK_RET(munlockall(), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	munmap(p, PAGE);
}

TEST(limit_enforced_unprivileged)
{
	if (geteuid() != 0)
		t_skip("needs root to drop CAP_IPC_LOCK by setuid");
	char *p = map(4 * PAGE, ANON);
	pid_t pid = t_fork();
	if (pid == 0) {
		become_unprivileged(2 * PAGE);
		CHECK_ERR(mlock(p, 3 * PAGE), ENOMEM);
		CHECK_EQ(vmlck(), 0);
		CHECK_RET(mlock(p, 2 * PAGE), 0);
		CHECK_EQ(vmlck(), 8);
		/* Pages locked already are not counted twice. */
		CHECK_RET(mlock(p, 2 * PAGE), 0);
		CHECK_RET(mlock(p + PAGE, PAGE), 0);
		CHECK_ERR(mlock(p + PAGE, 2 * PAGE), ENOMEM);
		CHECK_ERR(mlock2_raw(p + 2 * PAGE, PAGE, MLOCK_ONFAULT), ENOMEM);
		CHECK(mmap(NULL, PAGE, RW, ANON | MAP_LOCKED, -1, 0) == MAP_FAILED);
		CHECK_EQ(errno, EAGAIN);
		/* The whole address space is far above two pages. */
		CHECK_ERR(mlockall(MCL_CURRENT), ENOMEM);
		CHECK_RET(mlockall(MCL_FUTURE), 0);
		CHECK(mmap(NULL, PAGE, RW, ANON, -1, 0) == MAP_FAILED);
		CHECK_EQ(errno, EAGAIN);
		CHECK_RET(munlockall(), 0);
		CHECK_EQ(vmlck(), 0);
		void *q = mmap(NULL, PAGE, RW, ANON, -1, 0);
		CHECK(q != MAP_FAILED);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	munmap(p, 4 * PAGE);
}

TEST(msync_invalidate_of_locked_memory_is_ebusy)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(msync(p, 2 * 4096, MS_INVALIDATE), 0);
	CHECK_RET(mlock(p + 4096, 4096), 0);
	/* mm/msync.c: MS_INVALIDATE on a VM_LOCKED VMA. */
	CHECK_ERR(msync(p, 2 * 4096, MS_INVALIDATE), EBUSY);
	CHECK_ERR(msync(p + 4096, 4096, MS_SYNC | MS_INVALIDATE), EBUSY);
	CHECK_RET(msync(p + 4096, 4096, MS_SYNC), 0);
	CHECK_RET(munlock(p, 2 * 4096), 0);
	CHECK_RET(msync(p, 2 * 4096, MS_INVALIDATE), 0);
	CHECK_RET(munmap(p, 2 * 4096), 0);
}

/* The "Locked:" value in kB of the smaps entry that starts at `addr`. */
static long smaps_locked_kb(void *addr)
{
	static char buf[1 << 17];
	int fd = (int)CHECK_OK(open("/proc/self/smaps", O_RDONLY));
	long got = 0, n;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	char head[32];
	snprintf(head, sizeof(head), "%lx-", (unsigned long)addr);
	char *entry = strstr(buf, head);
	CHECK(entry != NULL);
	char *locked = strstr(entry, "\nLocked:");
	CHECK(locked != NULL);
	return strtol(locked + strlen("\nLocked:"), NULL, 10);
}

TEST(smaps_shows_locked_pages)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(smaps_locked_kb(p), 0);
	CHECK_RET(mlock(p, 2 * 4096), 0);
	/* The locked part is its own VMA, populated: 8 kB locked. */
	CHECK_EQ(smaps_locked_kb(p), 8);
	CHECK_EQ(smaps_locked_kb(p + 2 * 4096), 0);
	CHECK_RET(munlock(p, 2 * 4096), 0);
	CHECK_EQ(smaps_locked_kb(p), 0);
	CHECK_RET(munmap(p, 3 * 4096), 0);
}
