/*
 * mincore(2): one byte per page, 1 exactly when the page is resident;
 * EINVAL for an unaligned start, ENOMEM for an unmapped page or a range
 * past the address space (before the vector is looked at), EFAULT for a
 * vector that cannot be written; a hole stops the walk after the bytes of
 * the pages before it were stored. Shared memory reports the pages its
 * object holds, mapped here or not.
 */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* An address no user mapping can have on any supported configuration. */
#define KERNEL_HALF ((unsigned char *)(1UL << 63))

static long mincore_raw(void *addr, size_t len, unsigned char *vec)
{
	return syscall(SYS_mincore, addr, len, vec);
}

static char *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, RW, flags, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap(%zu) failed: %s", len, t_errname(errno));
	return p;
}

TEST(unaligned_einval)
{
	char *p = map(2 * PAGE, ANON);
	unsigned char v[2];
	CHECK_ERR(mincore_raw(p + 1, PAGE, v), EINVAL);
	/* Before the length and vector are looked at. */
	CHECK_ERR(mincore_raw(p + 1, 0, NULL), EINVAL);
	munmap(p, 2 * PAGE);
}

TEST(unmapped_enomem)
{
	char *p = map(PAGE, ANON);
	munmap(p, PAGE);
	unsigned char v[1];
	CHECK_ERR(mincore_raw(p, PAGE, v), ENOMEM);
	/* An unmapped page is found before an unwritable vector is... */
	CHECK_ERR(mincore_raw(p, PAGE, (unsigned char *)p), ENOMEM);
	/* ...but a vector outside the user address space is refused first. */
	CHECK_ERR(mincore_raw(p, PAGE, KERNEL_HALF), EFAULT);
}

TEST(range_past_address_space_enomem)
{
	char *p = map(PAGE, ANON);
	unsigned char v[1];
	CHECK_ERR(mincore_raw(p, (size_t)1 << 62, v), ENOMEM);
	CHECK_ERR(mincore_raw(p, (size_t)-1, v), ENOMEM);
	munmap(p, PAGE);
}

TEST(bad_vector_efault)
{
	char *p = map(2 * PAGE, ANON);
	CHECK_ERR(mincore_raw(p, 2 * PAGE, KERNEL_HALF), EFAULT);
	char *ro = mmap(NULL, PAGE, PROT_READ, ANON, -1, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_ERR(mincore_raw(p, 2 * PAGE, (unsigned char *)ro), EFAULT);
	char *gone = map(PAGE, ANON);
	munmap(gone, PAGE);
	CHECK_ERR(mincore_raw(p, 2 * PAGE, (unsigned char *)gone), EFAULT);
	munmap(ro, PAGE);
	munmap(p, 2 * PAGE);
}

TEST(len_zero)
{
	char *p = map(PAGE, ANON);
	CHECK_RET(mincore_raw(p, 0, NULL), 0);
	munmap(p, PAGE);
	CHECK_RET(mincore_raw(p, 0, NULL), 0);
}

TEST(private_anon_touched_pages)
{
	char *p = map(4 * PAGE, ANON);
	unsigned char v[5];
	memset(v, 0xee, sizeof(v));
	CHECK_RET(mincore_raw(p, 4 * PAGE, v), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(v[i], 0);
	CHECK_EQ(v[4], 0xee);
	p[0] = 1;
	p[2 * PAGE + 5] = 1;
	CHECK_RET(mincore_raw(p, 4 * PAGE, v), 0);
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[1], 0);
	CHECK_EQ(v[2], 1);
	CHECK_EQ(v[3], 0);
	CHECK_RET(madvise(p + 2 * PAGE, PAGE, MADV_DONTNEED), 0);
	CHECK_RET(mincore_raw(p, 4 * PAGE, v), 0);
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[2], 0);
	munmap(p, 4 * PAGE);
}

TEST(partial_page_length)
{
	char *p = map(3 * PAGE, ANON);
	memset(p, 1, 3 * PAGE);
	unsigned char v[3];
	memset(v, 0xee, sizeof(v));
	CHECK_RET(mincore_raw(p, PAGE + 1, v), 0);
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[1], 1);
	CHECK_EQ(v[2], 0xee);
	munmap(p, 3 * PAGE);
}

TEST(hole_stops_after_earlier_bytes)
{
	char *p = map(3 * PAGE, ANON);
	memset(p, 1, 3 * PAGE);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	unsigned char v[3];
	memset(v, 0xee, sizeof(v));
	CHECK_ERR(mincore_raw(p, 3 * PAGE, v), ENOMEM);
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[1], 0xee);
	CHECK_EQ(v[2], 0xee);
	munmap(p, 3 * PAGE);
}

TEST(across_vmas)
{
	char *p = map(3 * PAGE, ANON);
	CHECK_RET(mprotect(p + PAGE, PAGE, PROT_READ), 0);
	p[0] = 1;
	p[2 * PAGE] = 1;
	unsigned char v[3];
	CHECK_RET(mincore_raw(p, 3 * PAGE, v), 0);
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[1], 0);
	CHECK_EQ(v[2], 1);
	munmap(p, 3 * PAGE);
}

TEST(shared_anon_reports_object_pages)
{
	char *p = map(3 * PAGE, MAP_SHARED | MAP_ANONYMOUS);
	p[0] = 1;
	p[PAGE] = 1;
	CHECK_RET(madvise(p, 2 * PAGE, MADV_DONTNEED), 0);
	unsigned char v[3];
	CHECK_RET(mincore_raw(p, 3 * PAGE, v), 0);
	/* Dropped from the page table, still in the shared object. */
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[1], 1);
	CHECK_EQ(v[2], 0);
	/* A child's store makes the page resident for the parent too. */
	pid_t pid = t_fork();
	if (pid == 0) {
		p[2 * PAGE] = 1;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(mincore_raw(p, 3 * PAGE, v), 0);
	CHECK_EQ(v[2], 1);
	munmap(p, 3 * PAGE);
}

TEST(tmpfs_file_pages)
{
	char path[96];
	snprintf(path, sizeof(path), "/dev/shm/mincore.%d", (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	unlink(path);
	CHECK_RET(ftruncate(fd, 3 * PAGE), 0);
	CHECK_RET(pwrite(fd, "x", 1, 2 * PAGE), 1);
	char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	unsigned char v[3];
	CHECK_RET(mincore_raw(p, 3 * PAGE, v), 0);
	/* Written with pwrite, never mapped here: resident. Holes: not. */
	CHECK_EQ(v[0], 0);
	CHECK_EQ(v[1], 0);
	CHECK_EQ(v[2], 1);
	munmap(p, 3 * PAGE);
	close(fd);
}

TEST(disk_file_page_cache)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/cached", t_disk_dir());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_RET(ftruncate(fd, 3 * PAGE), 0);
	CHECK_RET(pwrite(fd, "x", 1, PAGE), 1);
	char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	unsigned char v[3];
	CHECK_RET(mincore_raw(p, 3 * PAGE, v), 0);
	/* Written with pwrite, never mapped here: in the page cache. */
	CHECK_EQ(v[1], 1);
	/* Read through the mapping, then dropped from it: still cached. */
	CHECK_EQ(p[2 * PAGE], 0);
	CHECK_RET(madvise(p, 3 * PAGE, MADV_DONTNEED), 0);
	CHECK_RET(mincore_raw(p, 3 * PAGE, v), 0);
	CHECK_EQ(v[1], 1);
	CHECK_EQ(v[2], 1);
	munmap(p, 3 * PAGE);
	close(fd);
	unlink(path);
}
