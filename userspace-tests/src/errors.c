/*
 * Cross-cutting error behaviour: unknown system call numbers (ENOSYS) and
 * bad user pointers (EFAULT), including kernel-half and PROT_NONE
 * addresses, which a kernel must refuse rather than dereference.
 */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096UL

/* Addresses that are never valid user memory on x86_64 or riscv64
 * (kernel text, direct maps of the usual layouts, the very top). */
static const unsigned long bad_addrs[] = {
	1UL,
	0xffff800000000000UL,
	0xffff888000000000UL,
	0xffffffc000000000UL,
	0xffffffd800000000UL,
	0xffffffff80000000UL,
	0xfffffffffffff000UL,
	1UL << 63,
};
#define NBAD (sizeof(bad_addrs) / sizeof(bad_addrs[0]))

/* Raw calls: libc's declarations would let the compiler reject the
 * deliberately bad arguments. */
static long raw_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

static long raw_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static void make_pipe(int p[2])
{
	CHECK_RET(pipe(p), 0);
}

TEST(enosys_unknown_syscall)
{
	CHECK_ERR(syscall(1000), ENOSYS);
	CHECK_ERR(syscall(2000, 1, 2, 3, 4, 5, 6), ENOSYS);
	CHECK_ERR(syscall(0x7fffffff), ENOSYS);
	CHECK_ERR(syscall(-1), ENOSYS);
	/* The process carries on normally afterwards. */
	CHECK(getpid() > 0);
}

TEST(efault_write)
{
	int p[2];
	make_pipe(p);
	for (size_t i = 0; i < NBAD; i++)
		CHECK_MSG(raw_write(p[1], (void *)bad_addrs[i], 10) == -1 &&
				  errno == EFAULT,
			  "write from %#lx: errno %s", bad_addrs[i],
			  t_errname(errno));
	/* Nothing was written to the pipe. */
	CHECK_RET(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	/* Standard output too, when it is a pipe, file or terminal. */
	struct stat st;
	if (fstat(1, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || isatty(1)))
		CHECK_ERR(raw_write(1, (void *)1, 10), EFAULT);
	close(p[0]);
	close(p[1]);
}

TEST(efault_read)
{
	int p[2];
	make_pipe(p);
	CHECK_RET(write(p[1], "0123456789", 10), 10);
	CHECK_ERR(raw_read(p[0], NULL, 10), EFAULT);
	for (size_t i = 0; i < NBAD; i++)
		CHECK_MSG(raw_read(p[0], (void *)bad_addrs[i], 10) == -1 &&
				  errno == EFAULT,
			  "read into %#lx: errno %s", bad_addrs[i],
			  t_errname(errno));
	/* The failed reads consumed nothing. */
	char buf[16] = { 0 };
	CHECK_RET(read(p[0], buf, sizeof(buf)), 10);
	CHECK_STREQ(buf, "0123456789");
	/* A regular file likewise. */
	const char *path = t_make_file("data", "abcdef", 0600);
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_ERR(raw_read(fd, NULL, 6), EFAULT);
	CHECK_ERR(raw_read(fd, (void *)0xffffffff80000000UL, 6), EFAULT);
	CHECK_RET(read(fd, buf, 6), 6);
	close(fd);
	close(p[0]);
	close(p[1]);
}

TEST(efault_prot_none_and_unmapped)
{
	/* Address-range checks are not enough: the page must be accessible. */
	char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(none != MAP_FAILED);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	/* Unmapped last, so no later mapping can reuse the hole. */
	char *gone = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(gone != MAP_FAILED);
	CHECK_RET(munmap(gone, PAGE), 0);
	int p[2];
	make_pipe(p);
	CHECK_ERR(raw_write(p[1], none, 10), EFAULT);
	CHECK_ERR(raw_write(p[1], gone, 10), EFAULT);
	CHECK_RET(write(p[1], "xyz", 3), 3);
	CHECK_ERR(raw_read(p[0], none, 3), EFAULT);
	CHECK_ERR(raw_read(p[0], gone, 3), EFAULT);
	/* Reading into read-only memory is a write by the kernel: refused. */
	CHECK_ERR(raw_read(p[0], ro, 3), EFAULT);
	CHECK_EQ(ro[0], 0);
	munmap(none, PAGE);
	munmap(ro, PAGE);
	close(p[0]);
	close(p[1]);
}

TEST(efault_paths)
{
	struct stat st;
	for (size_t i = 0; i < NBAD; i++) {
		const char *bad = (const char *)bad_addrs[i];
		CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, bad, &st, 0), EFAULT);
		CHECK_ERR(syscall(SYS_openat, AT_FDCWD, bad, O_RDONLY, 0), EFAULT);
		CHECK_ERR(syscall(SYS_chdir, bad), EFAULT);
	}
	/* A path running off the end of a mapping into an unmapped page. */
	char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_RET(munmap(m + PAGE, PAGE), 0);
	memset(m, 'a', PAGE);
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, m + PAGE - 8, &st, 0), EFAULT);
	munmap(m, PAGE);
}

TEST(efault_output_structs)
{
	/* Kernel writes to bad addresses fail instead of landing anywhere. */
	int p[2];
	make_pipe(p);
	for (size_t i = 0; i < NBAD; i++) {
		void *bad = (void *)bad_addrs[i];
		CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad), EFAULT);
		CHECK_ERR(syscall(SYS_uname, bad), EFAULT);
		CHECK_ERR(syscall(SYS_fstat, p[0], bad), EFAULT);
		CHECK_ERR(syscall(SYS_pipe2, bad, 0), EFAULT);
	}
	close(p[0]);
	close(p[1]);
}
