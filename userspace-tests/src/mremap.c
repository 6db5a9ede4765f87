/*
 * mremap(2): shrinking, growing in place, moving (MREMAP_MAYMOVE,
 * MREMAP_FIXED, MREMAP_DONTUNMAP), duplicating a shared mapping with a
 * zero old_size, and the EINVAL/EFAULT/ENOMEM cases of the man page.
 */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void *raw_mremap(void *old, size_t old_len, size_t new_len, int flags,
			void *new_addr)
{
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
			       new_addr);
}

static char *map_at(void *addr, size_t len, int flags)
{
	void *p = mmap(addr, len, RW, flags, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap(%zu) failed: %s", len, t_errname(errno));
	return p;
}

/* Reserves `len` bytes of address space (PROT_NONE) and returns it. */
static char *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, ANON, -1, 0);
	if (p == MAP_FAILED)
		t_fail("reserve(%zu) failed: %s", len, t_errname(errno));
	return p;
}

/* Whether the page at `p` is mapped (msync fails with ENOMEM if not). */
static int mapped(void *p)
{
	return msync(p, PAGE, MS_ASYNC) == 0;
}

/* Fills `n` pages at `p` with their page number plus `seed`. */
static void fill(char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		memset(p + i * PAGE, (int)(i + seed), PAGE);
}

static void expect_fill(const char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < PAGE; j += 511)
			CHECK_MSG(p[i * PAGE + j] == (char)(i + seed),
				  "page %zu byte %zu is 0x%x", i, j,
				  (unsigned char)p[i * PAGE + j]);
}

TEST(einval_flags_and_alignment)
{
	char *p = map_at(NULL, 2 * PAGE, ANON);
	CHECK(raw_mremap(p, PAGE, PAGE, 8, NULL) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* MREMAP_FIXED needs MREMAP_MAYMOVE. */
	CHECK(raw_mremap(p, PAGE, PAGE, MREMAP_FIXED, p + PAGE) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* MREMAP_DONTUNMAP needs MAYMOVE and equal sizes. */
	CHECK(raw_mremap(p, PAGE, PAGE, MREMAP_DONTUNMAP, NULL) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	CHECK(raw_mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
			 NULL) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* Unaligned old address; zero new size. */
	CHECK(raw_mremap(p + 1, PAGE, PAGE, 0, NULL) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	CHECK(raw_mremap(p, PAGE, 0, MREMAP_MAYMOVE, NULL) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* MREMAP_FIXED: unaligned target, overlapping ranges. */
	char *q = reserve(4 * PAGE);
	CHECK(raw_mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q + 1) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	CHECK(raw_mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			 p + PAGE) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	CHECK_RET(munmap(q, 4 * PAGE), 0);
}

TEST(efault_unmapped_or_spanning)
{
	char *p = reserve(4 * PAGE);
	CHECK_RET(munmap(p, 4 * PAGE), 0);
	CHECK(raw_mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EFAULT);
	/* Two VMAs (different protections) next to each other. */
	char *a = map_at(p, 2 * PAGE, ANON | MAP_FIXED);
	CHECK_RET(mprotect(a + PAGE, PAGE, PROT_READ), 0);
	CHECK(raw_mremap(a, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EFAULT);
	CHECK_RET(munmap(a, 2 * PAGE), 0);
}

TEST(shrink_unmaps_the_tail)
{
	char *p = map_at(NULL, 4 * PAGE, ANON);
	fill(p, 4, 1);
	CHECK(raw_mremap(p, 4 * PAGE, PAGE + 1, 0, NULL) == p);
	expect_fill(p, 2, 1);
	CHECK(!mapped(p + 2 * PAGE));
	CHECK(!mapped(p + 3 * PAGE));
	CHECK_RET(munmap(p, 2 * PAGE), 0);
}

TEST(grow_in_place_when_free)
{
	char *r = reserve(8 * PAGE);
	CHECK_RET(munmap(r, 8 * PAGE), 0);
	char *p = map_at(r, 2 * PAGE, ANON | MAP_FIXED);
	fill(p, 2, 3);
	CHECK(raw_mremap(p, 2 * PAGE, 6 * PAGE, 0, NULL) == p);
	expect_fill(p, 2, 3);
	/* The new part is zero-filled and writable. */
	CHECK_EQ(p[5 * PAGE + 7], 0);
	p[5 * PAGE + 7] = 9;
	CHECK_RET(munmap(p, 6 * PAGE), 0);
}

TEST(blocked_grow_enomem_without_maymove)
{
	char *r = reserve(2 * PAGE);
	CHECK_RET(munmap(r, 2 * PAGE), 0);
	char *q = map_at(r, PAGE, ANON | MAP_FIXED);
	/* A mapping of another kind right after q (it cannot merge). */
	char *blocker =
		map_at(r + PAGE, PAGE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
	CHECK(raw_mremap(q, PAGE, 2 * PAGE, 0, NULL) == MAP_FAILED);
	CHECK_EQ(errno, ENOMEM);
	fill(q, 1, 5);
	char *moved = raw_mremap(q, PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL);
	CHECK(moved != MAP_FAILED);
	CHECK(moved != q);
	expect_fill(moved, 1, 5);
	CHECK(!mapped(q));
	CHECK_RET(munmap(moved, 3 * PAGE), 0);
	CHECK_RET(munmap(blocker, PAGE), 0);
}

TEST(fixed_move_replaces_target)
{
	char *p = map_at(NULL, 3 * PAGE, ANON);
	fill(p, 3, 7);
	char *t = map_at(NULL, 5 * PAGE, ANON);
	fill(t, 5, 40);
	char *got = raw_mremap(p, 3 * PAGE, 3 * PAGE,
			       MREMAP_MAYMOVE | MREMAP_FIXED, t + PAGE);
	CHECK(got == t + PAGE);
	expect_fill(got, 3, 7);
	/* The target's other pages are untouched; the source is gone. */
	expect_fill(t, 1, 40);
	CHECK_EQ(t[4 * PAGE], 44);
	CHECK(!mapped(p));
	CHECK_RET(munmap(t, 5 * PAGE), 0);
}

TEST(fixed_move_shrinking)
{
	char *p = map_at(NULL, 4 * PAGE, ANON);
	fill(p, 4, 11);
	char *t = reserve(2 * PAGE);
	char *got = raw_mremap(p, 4 * PAGE, 2 * PAGE,
			       MREMAP_MAYMOVE | MREMAP_FIXED, t);
	CHECK(got == t);
	expect_fill(got, 2, 11);
	for (int i = 0; i < 4; i++)
		CHECK(!mapped(p + i * PAGE));
	CHECK_RET(munmap(t, 2 * PAGE), 0);
}

TEST(dontunmap_leaves_an_empty_mapping)
{
	char *p = map_at(NULL, 2 * PAGE, ANON);
	fill(p, 2, 20);
	char *got = raw_mremap(p, 2 * PAGE, 2 * PAGE,
			       MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	CHECK(got != MAP_FAILED);
	CHECK(got != p);
	expect_fill(got, 2, 20);
	/* The old range is still mapped, its pages gone (zero again). */
	CHECK(mapped(p));
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[PAGE + 100], 0);
	p[0] = 1;
	CHECK_EQ(got[0], 20);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	CHECK_RET(munmap(got, 2 * PAGE), 0);
}

TEST(moved_shared_memory_stays_shared)
{
	char *p = map_at(NULL, 2 * PAGE, MAP_SHARED | MAP_ANONYMOUS);
	p[0] = 1;
	pid_t pid = t_fork();
	if (pid == 0) {
		/* The child moves its copy, then stores through it. */
		char *c = raw_mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE |
				     MREMAP_FIXED, reserve(2 * PAGE));
		if (c == MAP_FAILED)
			_exit(1);
		c[0] = 2;
		c[PAGE] = 3;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 2);
	CHECK_EQ(p[PAGE], 3);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
}

TEST(zero_old_size_duplicates_shared_only)
{
	char *s = map_at(NULL, 2 * PAGE, MAP_SHARED | MAP_ANONYMOUS);
	s[PAGE] = 5;
	char *dup = raw_mremap(s, 0, 2 * PAGE, MREMAP_MAYMOVE, NULL);
	CHECK(dup != MAP_FAILED);
	CHECK(dup != s);
	CHECK_EQ(dup[PAGE], 5);
	dup[0] = 6;
	CHECK_EQ(s[0], 6);
	/* The original stays. */
	CHECK(mapped(s));
	CHECK_RET(munmap(dup, 2 * PAGE), 0);
	CHECK_RET(munmap(s, 2 * PAGE), 0);
	char *p = map_at(NULL, PAGE, ANON);
	CHECK(raw_mremap(p, 0, PAGE, MREMAP_MAYMOVE, NULL) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	CHECK_RET(munmap(p, PAGE), 0);
}

TEST(move_of_part_splits)
{
	char *p = map_at(NULL, 4 * PAGE, ANON);
	fill(p, 4, 30);
	char *got = raw_mremap(p + PAGE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE |
			       MREMAP_FIXED, reserve(2 * PAGE));
	CHECK(got != MAP_FAILED);
	expect_fill(got, 2, 31);
	expect_fill(p, 1, 30);
	CHECK_EQ(p[3 * PAGE], 33);
	CHECK(!mapped(p + PAGE));
	CHECK(!mapped(p + 2 * PAGE));
	CHECK_RET(munmap(p, 4 * PAGE), 0);
	CHECK_RET(munmap(got, 2 * PAGE), 0);
}

TEST(moved_file_mapping_keeps_offset)
{
	const char *path = t_make_file("mremap_file", "", 0600);
	int fd = (int)CHECK_OK(open(path, O_RDWR));
	CHECK_RET(ftruncate(fd, 4 * PAGE), 0);
	char *p = mmap(NULL, 4 * PAGE, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	fill(p, 4, 50);
	char *got = raw_mremap(p + 2 * PAGE, 2 * PAGE, 2 * PAGE,
			       MREMAP_MAYMOVE | MREMAP_FIXED, reserve(2 * PAGE));
	CHECK(got != MAP_FAILED);
	expect_fill(got, 2, 52);
	got[0] = 'x';
	char c = 0;
	CHECK_RET(pread(fd, &c, 1, 2 * PAGE), 1);
	CHECK_EQ(c, 'x');
	CHECK_RET(munmap(got, 2 * PAGE), 0);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}
