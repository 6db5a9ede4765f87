/*
 * madvise(2): argument checks in Linux's order, the unmapped-hole rule
 * (the mapped parts take the advice, then ENOMEM), MADV_DONTNEED and
 * MADV_FREE on private and shared memory, MADV_REMOVE on tmpfs files and
 * shared anonymous memory (EINVAL/EACCES elsewhere), MADV_DONTFORK and
 * MADV_DOFORK across fork, locked VMAs, and the VMA splits and merges the
 * read-ahead hints cause (seen in /proc/self/maps).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/resource.h>

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static long madv(void *addr, size_t len, int advice)
{
	return syscall(SYS_madvise, addr, len, advice);
}

static char *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, RW, flags, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap(%zu) failed: %s", len, t_errname(errno));
	return p;
}

/* An unlinked tmpfs file of `pages` pages filled with `c`, opened
 * read-write (and read-only into *ro when `ro` is not NULL). */
static int shm_file_ro(const char *tag, size_t pages, char c, int *ro)
{
	char path[96];
	snprintf(path, sizeof(path), "/dev/shm/madvise.%s.%d", tag, (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		t_fail("open %s: %s", path, t_errname(errno));
	if (ro && (*ro = open(path, O_RDONLY)) < 0)
		t_fail("open %s: %s", path, t_errname(errno));
	unlink(path);
	char buf[PAGE];
	memset(buf, c, sizeof(buf));
	for (size_t i = 0; i < pages; i++)
		if (write(fd, buf, PAGE) != (ssize_t)PAGE)
			t_fail("write %s: %s", path, t_errname(errno));
	return fd;
}

static int shm_file(const char *tag, size_t pages, char c)
{
	return shm_file_ro(tag, pages, c, NULL);
}

/* Number of resident pages among the `pages` pages at `p`. */
static int resident(void *p, size_t pages)
{
	unsigned char v[16];
	if (pages > sizeof(v) || mincore(p, pages * PAGE, v) != 0)
		t_fail("mincore: %s", t_errname(errno));
	int n = 0;
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	return n;
}

/* Number of /proc/self/maps lines starting inside [lo, hi). */
static int maps_in(void *lo, void *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		t_fail("open /proc/self/maps: %s", t_errname(errno));
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s = strtoul(line, NULL, 16);
		if (s >= (unsigned long)lo && s < (unsigned long)hi)
			n++;
	}
	fclose(f);
	return n;
}

TEST(bad_advice_einval)
{
	char *p = map(PAGE, ANON);
	CHECK_ERR(madv(p, PAGE, 12345), EINVAL);
	CHECK_ERR(madv(p, PAGE, -1), EINVAL);
	/* Bad advice is refused before anything else, even for len 0. */
	CHECK_ERR(madv(p, 0, 12345), EINVAL);
	munmap(p, PAGE);
}

TEST(unaligned_einval)
{
	char *p = map(2 * PAGE, ANON);
	CHECK_ERR(madv(p + 1, PAGE, MADV_NORMAL), EINVAL);
	CHECK_ERR(madv(p + PAGE / 2, 0, MADV_DONTNEED), EINVAL);
	munmap(p, 2 * PAGE);
}

TEST(len_zero_is_success_even_unmapped)
{
	char *p = map(PAGE, ANON);
	CHECK_RET(madv(p, 0, MADV_DONTNEED), 0);
	munmap(p, PAGE);
	CHECK_RET(madv(p, 0, MADV_DONTNEED), 0);
}

TEST(wrapping_length_einval)
{
	char *p = map(PAGE, ANON);
	/* Rounds up past the top of the address space. */
	CHECK_ERR(madv(p, (size_t)-1, MADV_NORMAL), EINVAL);
	/* Page aligned, but start + len wraps. */
	CHECK_ERR(madv(p, (size_t)-(long)PAGE, MADV_NORMAL), EINVAL);
	munmap(p, PAGE);
}

TEST(unmapped_enomem)
{
	char *p = map(PAGE, ANON);
	munmap(p, PAGE);
	CHECK_ERR(madv(p, PAGE, MADV_NORMAL), ENOMEM);
	CHECK_ERR(madv(p, PAGE, MADV_DONTNEED), ENOMEM);
	CHECK_ERR(madv(p, PAGE, MADV_WILLNEED), ENOMEM);
}

TEST(hole_enomem_after_advising_the_rest)
{
	char *p = map(3 * PAGE, ANON);
	memset(p, 'x', 3 * PAGE);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	CHECK_ERR(madv(p, 3 * PAGE, MADV_DONTNEED), ENOMEM);
	/* Both mapped pages were dropped before the error. */
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[2 * PAGE], 0);
	/* A hole at the end: the same. */
	memset(p, 'y', PAGE);
	CHECK_ERR(madv(p, 2 * PAGE, MADV_DONTNEED), ENOMEM);
	CHECK_EQ(p[0], 0);
	munmap(p, 3 * PAGE);
}

TEST(dontneed_private_anon_reads_zero)
{
	char *p = map(4 * PAGE, ANON);
	memset(p, 'a', 4 * PAGE);
	CHECK_RET(madv(p + PAGE, 2 * PAGE, MADV_DONTNEED), 0);
	CHECK_EQ(p[0], 'a');
	CHECK_EQ(p[PAGE], 0);
	CHECK_EQ(p[3 * PAGE - 1], 0);
	CHECK_EQ(p[3 * PAGE], 'a');
	/* The range is usable again. */
	p[PAGE] = 'b';
	CHECK_EQ(p[PAGE], 'b');
	/* An unaligned length covers the whole last page. */
	memset(p, 'c', 4 * PAGE);
	CHECK_RET(madv(p, PAGE + 1, MADV_DONTNEED), 0);
	CHECK_EQ(p[PAGE + 100], 0);
	CHECK_EQ(p[2 * PAGE], 'c');
	munmap(p, 4 * PAGE);
}

TEST(dontneed_after_fork_only_drops_own_copy)
{
	char *p = map(PAGE, ANON);
	memset(p, 'p', PAGE);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(madv(p, PAGE, MADV_DONTNEED), 0);
		CHECK_EQ(p[0], 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 'p');
	CHECK_EQ(p[PAGE - 1], 'p');
	munmap(p, PAGE);
}

TEST(dontneed_shared_anon_keeps_data)
{
	char *p = map(2 * PAGE, MAP_SHARED | MAP_ANONYMOUS);
	memset(p, 's', 2 * PAGE);
	CHECK_RET(madv(p, 2 * PAGE, MADV_DONTNEED), 0);
	CHECK_EQ(p[0], 's');
	CHECK_EQ(p[2 * PAGE - 1], 's');
	munmap(p, 2 * PAGE);
}

TEST(dontneed_shared_file_refetches)
{
	int fd = shm_file("dn", 2, 'f');
	char *p = mmap(NULL, 2 * PAGE, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[1] = 'm';
	CHECK_RET(madv(p, 2 * PAGE, MADV_DONTNEED), 0);
	CHECK_EQ(p[0], 'f');
	CHECK_EQ(p[1], 'm');
	/* A write(2) after the pages were dropped shows in the mapping. */
	CHECK_RET(pwrite(fd, "w", 1, PAGE), 1);
	CHECK_EQ(p[PAGE], 'w');
	munmap(p, 2 * PAGE);
	close(fd);
}

TEST(free_private_anon)
{
	char *p = map(2 * PAGE, ANON);
	memset(p, 'a', 2 * PAGE);
	CHECK_RET(madv(p, 2 * PAGE, MADV_FREE), 0);
	/* Freed pages are either still there or zero until written. */
	CHECK(p[0] == 'a' || p[0] == 0);
	p[0] = 'n';
	CHECK_EQ(p[0], 'n');
	munmap(p, 2 * PAGE);
}

TEST(free_not_anonymous_einval)
{
	char *s = map(PAGE, MAP_SHARED | MAP_ANONYMOUS);
	CHECK_ERR(madv(s, PAGE, MADV_FREE), EINVAL);
	munmap(s, PAGE);
	int fd = shm_file("free", 1, 'f');
	char *f = mmap(NULL, PAGE, RW, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	CHECK_ERR(madv(f, PAGE, MADV_FREE), EINVAL);
	munmap(f, PAGE);
	close(fd);
}

TEST(locked_pages_refuse_dontneed)
{
	char *p = map(PAGE, ANON);
	p[0] = 'l';
	if (mlock(p, PAGE) != 0)
		t_skip("mlock: %s", t_errname(errno));
	CHECK_ERR(madv(p, PAGE, MADV_DONTNEED), EINVAL);
	CHECK_ERR(madv(p, PAGE, MADV_FREE), EINVAL);
	CHECK_EQ(p[0], 'l');
	CHECK_RET(madv(p, PAGE, MADV_DONTNEED_LOCKED), 0);
	CHECK_EQ(p[0], 0);
	CHECK_RET(munlock(p, PAGE), 0);
	p[0] = 'u';
	CHECK_RET(madv(p, PAGE, MADV_DONTNEED), 0);
	CHECK_EQ(p[0], 0);
	munmap(p, PAGE);
}

TEST(remove_private_anon_einval)
{
	char *p = map(PAGE, ANON);
	CHECK_ERR(madv(p, PAGE, MADV_REMOVE), EINVAL);
	munmap(p, PAGE);
}

TEST(remove_private_file_eacces)
{
	int fd = shm_file("rp", 1, 'f');
	char *p = mmap(NULL, PAGE, RW, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(madv(p, PAGE, MADV_REMOVE), EACCES);
	munmap(p, PAGE);
	close(fd);
}

TEST(remove_read_only_shared_eacces)
{
	int ro;
	int fd = shm_file_ro("ro", 1, 'f', &ro);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(madv(p, PAGE, MADV_REMOVE), EACCES);
	CHECK_EQ(p[0], 'f');
	munmap(p, PAGE);
	/* PROT_READ of a read-write descriptor may write later: allowed. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(madv(p, PAGE, MADV_REMOVE), 0);
	CHECK_EQ(p[0], 0);
	munmap(p, PAGE);
	close(ro);
	close(fd);
}

TEST(remove_tmpfs_punches_hole)
{
	int fd = shm_file("rm", 3, 'f');
	char *p = mmap(NULL, 3 * PAGE, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	struct stat before, after;
	CHECK_RET(fstat(fd, &before), 0);
	CHECK_RET(madv(p + PAGE, PAGE, MADV_REMOVE), 0);
	CHECK_RET(fstat(fd, &after), 0);
	CHECK_EQ(after.st_size, 3 * PAGE);
	CHECK_EQ(after.st_blocks, before.st_blocks - PAGE / 512);
	CHECK_EQ(p[0], 'f');
	CHECK_EQ(p[PAGE], 0);
	CHECK_EQ(p[2 * PAGE - 1], 0);
	CHECK_EQ(p[2 * PAGE], 'f');
	char c = 'x';
	CHECK_RET(pread(fd, &c, 1, PAGE + 7), 1);
	CHECK_EQ(c, 0);
	munmap(p, 3 * PAGE);
	close(fd);
}

TEST(remove_shared_anon_zeroes)
{
	char *p = map(2 * PAGE, MAP_SHARED | MAP_ANONYMOUS);
	memset(p, 'a', 2 * PAGE);
	CHECK_RET(madv(p, PAGE, MADV_REMOVE), 0);
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[PAGE], 'a');
	munmap(p, 2 * PAGE);
}

TEST(remove_locked_einval)
{
	char *p = map(PAGE, MAP_SHARED | MAP_ANONYMOUS);
	p[0] = 'l';
	if (mlock(p, PAGE) != 0)
		t_skip("mlock: %s", t_errname(errno));
	CHECK_ERR(madv(p, PAGE, MADV_REMOVE), EINVAL);
	CHECK_EQ(p[0], 'l');
	munmap(p, PAGE);
}

TEST(dontfork_leaves_range_out_of_child)
{
	char *p = map(3 * PAGE, ANON);
	memset(p, 'd', 3 * PAGE);
	CHECK_RET(madv(p + PAGE, PAGE, MADV_DONTFORK), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		if (p[0] != 'd' || p[2 * PAGE] != 'd')
			_exit(1);
		(void)*(volatile char *)(p + PAGE);
		_exit(2);
	}
	t_wait_signal(pid, SIGSEGV);
	/* The child's address space has no VMA there at all. */
	pid = t_fork();
	if (pid == 0) {
		CHECK_ERR(madv(p + PAGE, PAGE, MADV_NORMAL), ENOMEM);
		void *q = mmap(p + PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
		CHECK(q == p + PAGE);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[PAGE], 'd');
	CHECK_RET(madv(p, 3 * PAGE, MADV_DOFORK), 0);
	pid = t_fork();
	if (pid == 0)
		_exit(p[PAGE] == 'd' ? 0 : 1);
	t_wait_exit(pid, 0);
	munmap(p, 3 * PAGE);
}

TEST(hints_split_and_merge_vmas)
{
	char *p = map(3 * PAGE, ANON);
	memset(p, 'h', 3 * PAGE);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 1);
	CHECK_RET(madv(p + PAGE, PAGE, MADV_RANDOM), 0);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 3);
	CHECK_RET(madv(p + PAGE, PAGE, MADV_SEQUENTIAL), 0);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 3);
	CHECK_RET(madv(p, 3 * PAGE, MADV_NORMAL), 0);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 1);
	CHECK_RET(madv(p, 3 * PAGE, MADV_WILLNEED), 0);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 1);
	/* Hints keep the contents. */
	CHECK_EQ(p[PAGE], 'h');
	CHECK_EQ(p[3 * PAGE - 1], 'h');
	munmap(p, 3 * PAGE);
}

TEST(willneed_shared_file)
{
	int fd = shm_file("wn", 2, 'w');
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(madv(p, 2 * PAGE, MADV_WILLNEED), 0);
	CHECK_EQ(p[PAGE], 'w');
	munmap(p, 2 * PAGE);
	close(fd);
}

TEST(wipeonfork_child_reads_zero)
{
	char *p = map(2 * PAGE, ANON);
	memset(p, 'w', 2 * PAGE);
	CHECK_RET(madv(p, PAGE, MADV_WIPEONFORK), 0);
	CHECK_EQ(maps_in(p, p + 2 * PAGE), 2);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_EQ(p[0], 0);
		CHECK_EQ(p[PAGE - 1], 0);
		CHECK_EQ(p[PAGE], 'w');
		p[0] = 'c';
		/* The setting stays with the child's VMA. */
		pid_t grandchild = t_fork();
		if (grandchild == 0)
			_exit(p[0] == 0 ? 0 : 1);
		t_wait_exit(grandchild, 0);
		CHECK_EQ(p[0], 'c');
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 'w');
	CHECK_RET(madv(p, 2 * PAGE, MADV_KEEPONFORK), 0);
	CHECK_EQ(maps_in(p, p + 2 * PAGE), 1);
	pid = t_fork();
	if (pid == 0)
		_exit(p[0] == 'w' ? 0 : 1);
	t_wait_exit(pid, 0);
	munmap(p, 2 * PAGE);
}

TEST(wipeonfork_private_anonymous_only)
{
	char *s = map(PAGE, MAP_SHARED | MAP_ANONYMOUS);
	CHECK_ERR(madv(s, PAGE, MADV_WIPEONFORK), EINVAL);
	CHECK_RET(madv(s, PAGE, MADV_KEEPONFORK), 0);
	munmap(s, PAGE);
	int fd = shm_file("wof", 1, 'f');
	char *f = mmap(NULL, PAGE, RW, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	CHECK_ERR(madv(f, PAGE, MADV_WIPEONFORK), EINVAL);
	munmap(f, PAGE);
	close(fd);
}

TEST(dontdump_splits_and_dodump_merges)
{
	char *p = map(3 * PAGE, ANON);
	CHECK_RET(madv(p + PAGE, PAGE, MADV_DONTDUMP), 0);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 3);
	CHECK_RET(madv(p, 3 * PAGE, MADV_DODUMP), 0);
	CHECK_EQ(maps_in(p, p + 3 * PAGE), 1);
	munmap(p, 3 * PAGE);
}

TEST(populate_read_and_write)
{
	char *p = map(4 * PAGE, ANON);
	CHECK_EQ(resident(p, 4), 0);
	CHECK_RET(madv(p, 2 * PAGE, MADV_POPULATE_READ), 0);
	CHECK_EQ(resident(p, 4), 2);
	CHECK_EQ(p[0], 0);
	CHECK_RET(madv(p, 4 * PAGE, MADV_POPULATE_WRITE), 0);
	CHECK_EQ(resident(p, 4), 4);
	CHECK_EQ(p[3 * PAGE], 0);
	munmap(p, 4 * PAGE);
}

TEST(populate_errors)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(madv(p, 2 * PAGE, MADV_POPULATE_WRITE), EINVAL);
	CHECK_RET(mprotect(p + PAGE, PAGE, PROT_NONE), 0);
	CHECK_ERR(madv(p, 2 * PAGE, MADV_POPULATE_READ), EINVAL);
	/* The page before the refused VMA was populated. */
	CHECK_EQ(resident(p, 1), 1);
	munmap(p, 2 * PAGE);
	/* A hole: ENOMEM, after the pages before it. */
	p = map(3 * PAGE, ANON);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	CHECK_ERR(madv(p, 3 * PAGE, MADV_POPULATE_WRITE), ENOMEM);
	CHECK_EQ(resident(p, 1), 1);
	CHECK_EQ(resident(p + 2 * PAGE, 1), 0);
	munmap(p, 3 * PAGE);
	/* Past the end of a shared file: SIGBUS on access, EFAULT here. */
	int fd = shm_file("pop", 1, 'p');
	char *f = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(f != MAP_FAILED);
	CHECK_ERR(madv(f, 2 * PAGE, MADV_POPULATE_READ), EFAULT);
	CHECK_EQ(resident(f, 1), 1);
	munmap(f, 2 * PAGE);
	close(fd);
}

TEST(remove_disk_file_punches_hole)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/remove", t_disk_dir());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	char buf[PAGE];
	memset(buf, 'e', sizeof(buf));
	for (int i = 0; i < 3; i++)
		CHECK_RET(write(fd, buf, PAGE), PAGE);
	char *p = mmap(NULL, 3 * PAGE, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[PAGE], 'e');
	CHECK_RET(madv(p + PAGE, PAGE, MADV_REMOVE), 0);
	CHECK_EQ(p[0], 'e');
	CHECK_EQ(p[PAGE], 0);
	CHECK_EQ(p[2 * PAGE - 1], 0);
	CHECK_EQ(p[2 * PAGE], 'e');
	char c = 'x';
	CHECK_RET(pread(fd, &c, 1, PAGE + 9), 1);
	CHECK_EQ(c, 0);
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 3 * PAGE);
	munmap(p, 3 * PAGE);
	close(fd);
	unlink(path);
}

/* A child that mapped `p` (one page holding 'a') sees zeros after the
 * parent's MADV_REMOVE. */
static void remove_seen_by_child(char *p)
{
	int go[2], ready[2];
	CHECK_RET(pipe(go), 0);
	CHECK_RET(pipe(ready), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		CHECK_EQ(p[0], 'a');
		CHECK_RET(write(ready[1], "r", 1), 1);
		CHECK_RET(read(go[0], &c, 1), 1);
		/* The parent punched the page out of the shared object. */
		CHECK_EQ(p[0], 0);
		/* A store now lands in the object's new page. */
		p[1] = 'c';
		_exit(0);
	}
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	CHECK_RET(madv(p, PAGE, MADV_REMOVE), 0);
	CHECK_EQ(p[0], 0);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_exit(pid, 0);
	CHECK_EQ(p[1], 'c');
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

TEST(remove_shared_anon_reaches_other_processes)
{
	char *p = map(PAGE, MAP_SHARED | MAP_ANONYMOUS);
	p[0] = 'a';
	remove_seen_by_child(p);
	munmap(p, PAGE);
}

TEST(remove_tmpfs_reaches_other_processes)
{
	int fd = shm_file("other", 1, 'a');
	char *p = mmap(NULL, PAGE, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	remove_seen_by_child(p);
	munmap(p, PAGE);
	close(fd);
}
