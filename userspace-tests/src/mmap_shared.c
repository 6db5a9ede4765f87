/*
 * Shared mappings: MAP_SHARED | MAP_ANONYMOUS across fork, and MAP_SHARED
 * of a tmpfs file (/dev/shm), where the mapping, read(2) and write(2) all
 * see the same bytes (mmap(2)).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096UL

/* Pages first touched after fork are still shared (no eager population). */
TEST(anon_shared_across_fork)
{
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	pid_t pid = t_fork();
	if (pid == 0) {
		p[0] = 2;
		p[3 * PAGE] = 3;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 2);
	CHECK_EQ(p[3 * PAGE], 3);
	CHECK_RET(munmap(p, 4 * PAGE), 0);
}

static int shm_file(const char *name, size_t size, int flags)
{
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/starling-%s-%d", name, getpid());
	int fd = open(path, flags | O_CREAT, 0600);
	CHECK_MSG(fd >= 0, "open %s: %s", path, strerror(errno));
	unlink(path);
	if (size)
		CHECK_RET(ftruncate(fd, (off_t)size), 0);
	return fd;
}

TEST(shm_file_mapping_coherent_with_read_write)
{
	int fd = shm_file("coherent", 2 * PAGE, O_RDWR);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	/* write(2) shows in the mapping ... */
	CHECK_RET(pwrite(fd, "abc", 3, PAGE), 3);
	CHECK(memcmp(p + PAGE, "abc", 3) == 0);
	/* ... and a store through the mapping shows in read(2). */
	memcpy(p + 10, "xyz", 3);
	char buf[4] = { 0 };
	CHECK_RET(pread(fd, buf, 3, 10), 3);
	CHECK_STREQ(buf, "xyz");
	/* A second mapping of the same file sees the same page. */
	char *q = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	CHECK(q != MAP_FAILED);
	CHECK(memcmp(q, "abc", 3) == 0);
	munmap(q, PAGE);
	munmap(p, 2 * PAGE);
	close(fd);
}

TEST(shm_file_shared_with_child)
{
	int fd = shm_file("child", PAGE, O_RDWR);
	int *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* The child maps the file again, at another address. */
		int *c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (c == MAP_FAILED)
			_exit(1);
		c[1] = 42;
		p[2] = 43;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[1], 42);
	CHECK_EQ(p[2], 43);
	munmap(p, PAGE);
	close(fd);
}

static sigjmp_buf bus_jmp;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	siglongjmp(bus_jmp, 1);
}

TEST(beyond_eof_sigbus)
{
	int fd = shm_file("bus", PAGE, O_RDWR);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	CHECK_RET(sigaction(SIGBUS, &sa, NULL), 0);
	bus_code = 0;
	if (sigsetjmp(bus_jmp, 1) == 0) {
		volatile char c = p[PAGE];
		(void)c;
		t_fail("reading past the end of the file did not raise SIGBUS");
	}
	CHECK_EQ(bus_code, BUS_ADRERR);
	signal(SIGBUS, SIG_DFL);
	munmap(p, 2 * PAGE);
	close(fd);
}

TEST(read_only_descriptor)
{
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/starling-ro-%d", getpid());
	int rw = (int)CHECK_OK(open(path, O_RDWR | O_CREAT, 0600));
	CHECK_RET(ftruncate(rw, PAGE), 0);
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	unlink(path);
	/* PROT_WRITE on a MAP_SHARED mapping needs an O_RDWR descriptor. */
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	/* A read-only mapping may never become writable. */
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(mprotect(p, PAGE, PROT_READ | PROT_WRITE), EACCES);
	/* MAP_PRIVATE of the same descriptor may (copy-on-write). */
	char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(q != MAP_FAILED);
	CHECK_RET(mprotect(q, PAGE, PROT_READ | PROT_WRITE), 0);
	munmap(p, PAGE);
	munmap(q, PAGE);
	close(fd);
	close(rw);
}
