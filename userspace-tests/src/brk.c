/*
 * brk(2), through the raw system call.
 *
 * The raw call differs from libc's brk(): it returns the new program break on
 * success and the unchanged current break on failure (never -1), and 0 asks
 * for the current break.  Every sub-test runs in a child so that moving the
 * break cannot upset the parent's malloc.
 */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096UL

extern char end[]; /* first address past the BSS (see end(3)) */

static unsigned long raw_brk(unsigned long addr)
{
	return (unsigned long)syscall(SYS_brk, addr);
}

/* The current break; it must be an address, never a -errno value. */
static unsigned long brk_now(void)
{
	errno = 0;
	unsigned long b = raw_brk(0);
	CHECK_MSG(b != 0 && b < -4095UL && errno == 0,
		  "brk(0) returned %#lx (errno %s)", b, t_errname(errno));
	return b;
}

static unsigned long page_up(unsigned long a)
{
	return (a + PAGE - 1) & ~(PAGE - 1);
}

TEST(query_with_zero)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long b = brk_now();
		CHECK_MSG(b >= (unsigned long)end,
			  "break 0x%lx is below the end of BSS %p", b, (void *)end);
		/* Asking again does not move it. */
		CHECK_EQ(raw_brk(0), b);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(grow_is_zeroed_and_writable)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long b0 = brk_now();
		unsigned long want = b0 + 16 * PAGE + 123;
		CHECK_EQ(raw_brk(want), want);
		CHECK_EQ(raw_brk(0), want);
		unsigned char *p = (unsigned char *)page_up(b0);
		for (unsigned long i = 0; p + i < (unsigned char *)want; i++)
			CHECK_MSG(p[i] == 0, "new heap byte at %p is 0x%x",
				  (void *)(p + i), p[i]);
		/* The whole range up to the new break is writable. */
		memset((void *)b0, 0xa5, want - b0);
		CHECK_EQ(((unsigned char *)want)[-1], 0xa5);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(shrink_releases_memory)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long b0 = brk_now();
		unsigned long big = page_up(b0) + 8 * PAGE;
		CHECK_EQ(raw_brk(big), big);
		memset((void *)page_up(b0), 0x5a, 8 * PAGE);
		CHECK_EQ(raw_brk(b0), b0);
		CHECK_EQ(raw_brk(0), b0);
		/* Growing again gives fresh zero pages, not the old contents. */
		CHECK_EQ(raw_brk(big), big);
		CHECK_EQ(*(unsigned char *)(page_up(b0) + 4 * PAGE), 0);
		CHECK_EQ(raw_brk(b0), b0);
		/* And the released pages are gone: touching one faults. */
		pid_t gc = t_fork();
		if (gc == 0) {
			*(volatile char *)(page_up(b0) + 2 * PAGE) = 1;
			_exit(0);
		}
		t_wait_signal(gc, SIGSEGV);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(below_start_fails_unchanged)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long b0 = brk_now();
		/* Below the start of the heap: refused, break unchanged. */
		CHECK_EQ(raw_brk(PAGE), b0);
		CHECK_EQ(raw_brk(0), b0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(collision_with_mapping_fails)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long b0 = brk_now();
		void *hint = (void *)(page_up(b0) + 64 * PAGE);
		void *m = mmap(hint, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(m != MAP_FAILED);
		if ((unsigned long)m < b0)
			t_skip("mapping placed below the break (%p)", m);
		*(volatile char *)m = 7;
		/* Growing the heap over an existing mapping is refused ... */
		CHECK_EQ(raw_brk((unsigned long)m + PAGE), b0);
		CHECK_EQ(raw_brk(0), b0);
		/* ... and the mapping is intact. */
		CHECK_EQ(*(volatile char *)m, 7);
		/* Far beyond the user address space: refused as well. */
		CHECK_EQ(raw_brk(~0UL - PAGE), b0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(inherited_by_fork)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long b0 = brk_now();
		unsigned long b1 = page_up(b0) + 4 * PAGE;
		CHECK_EQ(raw_brk(b1), b1);
		*(volatile int *)(b1 - 8) = 42;
		pid_t gc = t_fork();
		if (gc == 0) {
			CHECK_EQ(raw_brk(0), b1);
			CHECK_EQ(*(volatile int *)(b1 - 8), 42);
			*(volatile int *)(b1 - 8) = 43;
			_exit(0);
		}
		t_wait_exit(gc, 0);
		CHECK_EQ(*(volatile int *)(b1 - 8), 42);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
