/*
 * Another process's memory, from proc(5) (/proc/PID/mem) and
 * process_vm_readv(2): reads and writes at the process's addresses, the
 * FOLL_FORCE rules of /proc/PID/mem (read-only private memory can be
 * written, shared memory only where it is writable), EIO and partial
 * transfers, the attach permission (EACCES at open, EPERM for
 * process_vm_*), process_vm_*'s checks (EINVAL, ESRCH, EFAULT, partial
 * counts) and its lack of FOLL_FORCE, and file seals holding against both.
 */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "starling/memfd.h"

#define PAGE 4096L

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif

static volatile char target_word[64] = "child-original";

static int open_mem(pid_t pid, int flags)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return open(path, flags);
}

/* A child that waits until the parent writes a byte to `go`, then exits
 * with 0 if target_word reads `expect` (or 1). */
static pid_t waiting_child(int go[2], const char *expect)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(strcmp((const char *)target_word, expect) == 0 ? 0 : 1);
	}
	close(go[0]);
	return pid;
}

TEST(self_read_and_forced_write)
{
	int fd = CHECK_OK(open("/proc/self/mem", O_RDWR));
	char buf[16];
	CHECK_RET(pread(fd, buf, 14, (off_t)(uintptr_t)target_word), 14);
	CHECK(memcmp(buf, "child-original", 14) == 0);
	/* A read-only private page is written (copy-on-write, FOLL_FORCE). */
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_RET(pwrite(fd, "forced", 6, (off_t)(uintptr_t)ro), 6);
	CHECK(memcmp(ro, "forced", 6) == 0);
	/* PROT_NONE memory may be read and written too. */
	CHECK_RET(mprotect(ro, PAGE, PROT_NONE), 0);
	CHECK_RET(pread(fd, buf, 6, (off_t)(uintptr_t)ro), 6);
	CHECK(memcmp(buf, "forced", 6) == 0);
	CHECK_RET(munmap(ro, PAGE), 0);
	close(fd);
}

TEST(unmapped_addresses)
{
	int fd = CHECK_OK(open("/proc/self/mem", O_RDWR));
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	memset(p, 'x', PAGE);
	char buf[2 * PAGE];
	/* Nothing readable: EIO; a read running into the hole stops there. */
	CHECK_ERR(pread(fd, buf, 16, (off_t)(uintptr_t)(p + PAGE)), EIO);
	CHECK_ERR(pwrite(fd, buf, 16, (off_t)(uintptr_t)(p + PAGE)), EIO);
	CHECK_RET(pread(fd, buf, sizeof(buf), (off_t)(uintptr_t)(p + PAGE - 8)), 8);
	CHECK_EQ(buf[7], 'x');
	CHECK_RET(pread(fd, buf, 0, (off_t)(uintptr_t)(p + PAGE)), 0);
	/* lseek sets the address. */
	CHECK_RET(lseek(fd, (off_t)(uintptr_t)p, SEEK_SET), (off_t)(uintptr_t)p);
	CHECK_RET(read(fd, buf, 4), 4);
	CHECK_EQ(buf[0], 'x');
	CHECK_RET(munmap(p, PAGE), 0);
	close(fd);
}

TEST(another_process)
{
	int go[2];
	CHECK_RET(pipe(go), 0);
	pid_t pid = waiting_child(go, "written-by-parent");
	int fd = CHECK_OK(open_mem(pid, O_RDWR));
	char buf[32] = { 0 };
	CHECK_RET(pread(fd, buf, 14, (off_t)(uintptr_t)target_word), 14);
	CHECK_STREQ(buf, "child-original");
	CHECK_RET(pwrite(fd, "written-by-parent", 18, (off_t)(uintptr_t)target_word), 18);
	/* The parent's own copy is untouched. */
	CHECK(strcmp((const char *)target_word, "child-original") == 0);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_exit(pid, 0);
	/* The process is gone: reads return 0 (its memory is not pinned). */
	CHECK_RET(pread(fd, buf, 8, (off_t)(uintptr_t)target_word), 0);
	close(fd);
	close(go[1]);
}

TEST(attach_permission)
{
	int go[2];
	CHECK_RET(pipe(go), 0);
	pid_t victim = waiting_child(go, "child-original");
	pid_t pid = t_fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		errno = 0;
		if (open_mem(victim, O_RDONLY) >= 0 || errno != EACCES)
			_exit(4);
		char c;
		struct iovec l = { &c, 1 }, r = { (void *)target_word, 1 };
		errno = 0;
		if (process_vm_readv(victim, &l, 1, &r, 1, 0) != -1 || errno != EPERM)
			_exit(5);
		/* Its own memory is allowed, once it is dumpable again (a
		 * non-dumpable process's /proc files belong to root). */
		errno = 0;
		if (open("/proc/self/mem", O_RDONLY) >= 0 || errno != EACCES)
			_exit(6);
		if (prctl(PR_SET_DUMPABLE, 1) != 0)
			_exit(7);
		int fd = open("/proc/self/mem", O_RDONLY);
		if (fd < 0 || pread(fd, &c, 1, (off_t)(uintptr_t)target_word) != 1 || c != 'c')
			_exit(8);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_exit(victim, 0);
	close(go[1]);
	/* Same ids: allowed while the target is dumpable, not after. */
	pid = t_fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		/* Changing ids made this process non-dumpable; undo that so its
		 * child starts dumpable. */
		if (prctl(PR_SET_DUMPABLE, 1) != 0)
			_exit(4);
		int cmd[2], ack[2];
		if (pipe(cmd) != 0 || pipe(ack) != 0)
			_exit(5);
		pid_t t = fork();
		if (t == 0) {
			char c;
			if (read(cmd[0], &c, 1) != 1 || prctl(PR_SET_DUMPABLE, 0) != 0)
				_exit(1);
			if (write(ack[1], "k", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		int fd = open_mem(t, O_RDONLY);
		if (fd < 0)
			_exit(9);
		close(fd);
		char c;
		if (write(cmd[1], "d", 1) != 1 || read(ack[0], &c, 1) != 1)
			_exit(7);
		errno = 0;
		int bad = open_mem(t, O_RDONLY) >= 0 || errno != EACCES;
		kill(t, SIGKILL);
		waitpid(t, NULL, 0);
		_exit(bad ? 10 : 0);
	}
	t_wait_exit(pid, 0);
}

TEST(process_vm_checks)
{
	char buf[64];
	struct iovec l = { buf, sizeof(buf) };
	struct iovec r = { (void *)target_word, 14 };
	CHECK_ERR(process_vm_readv(getpid(), &l, 1, &r, 1, 1), EINVAL);
	CHECK_ERR(process_vm_readv(getpid(), &l, 1025, &r, 1, 0), EINVAL);
	CHECK_ERR(process_vm_readv(getpid(), (struct iovec *)8, 1, &r, 1, 0), EFAULT);
	/* Nothing to copy: 0 before the pid is looked at. */
	CHECK_RET(process_vm_readv(-5, &l, 0, &r, 1, 0), 0);
	CHECK_ERR(process_vm_readv(-5, &l, 1, &r, 1, 0), ESRCH);
	CHECK_ERR(process_vm_readv(getpid(), &l, 1, &r, 1025, 0), EINVAL);
	/* An unmapped remote address: EFAULT. */
	struct iovec bad = { (void *)8, 4 };
	CHECK_ERR(process_vm_readv(getpid(), &l, 1, &bad, 1, 0), EFAULT);
	/* A local fault: EFAULT. */
	struct iovec badl = { (void *)8, 4 };
	CHECK_ERR(process_vm_readv(getpid(), &badl, 1, &r, 1, 0), EFAULT);
}

TEST(process_vm_transfers)
{
	int go[2];
	CHECK_RET(pipe(go), 0);
	pid_t pid = waiting_child(go, "via-writev-here");
	/* Scatter the child's 14 bytes into two local buffers. */
	char a[5] = { 0 }, b[16] = { 0 };
	struct iovec l[2] = { { a, 5 }, { b, 9 } };
	struct iovec r = { (void *)target_word, 14 };
	CHECK_RET(process_vm_readv(pid, l, 2, &r, 1, 0), 14);
	CHECK(memcmp(a, "child", 5) == 0 && memcmp(b, "-original", 9) == 0);
	/* Gather two local buffers into two remote ranges. */
	char x[] = "via-", y[] = "writev-here";
	struct iovec lw[2] = { { x, 4 }, { y, 12 } };
	struct iovec rw[2] = { { (void *)target_word, 8 }, { (void *)(target_word + 8), 8 } };
	CHECK_RET(process_vm_writev(pid, lw, 2, rw, 2, 0), 16);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_exit(pid, 0);
	close(go[1]);

	/* A remote range running into a hole: the part before it. */
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	static char big[2 * PAGE];
	struct iovec lb = { big, sizeof(big) };
	struct iovec rb = { p + PAGE - 100, 200 };
	CHECK_RET(process_vm_readv(getpid(), &lb, 1, &rb, 1, 0), 100);
	/* No FOLL_FORCE: a read-only page cannot be written, PROT_NONE not read. */
	CHECK_RET(mprotect(p, PAGE, PROT_READ), 0);
	struct iovec rp = { p, 4 };
	CHECK_ERR(process_vm_writev(getpid(), &lb, 1, &rp, 1, 0), EFAULT);
	CHECK_RET(mprotect(p, PAGE, PROT_NONE), 0);
	CHECK_ERR(process_vm_readv(getpid(), &lb, 1, &rp, 1, 0), EFAULT);
	CHECK_RET(munmap(p, PAGE), 0);
}

TEST(seals_hold)
{
	int mfd = CHECK_OK((int)syscall(SYS_memfd_create, "sealed", MFD_ALLOW_SEALING));
	CHECK_RET(ftruncate(mfd, PAGE), 0);
	int mem = CHECK_OK(open("/proc/self/mem", O_RDWR));
	/* A shared mapping that may write but is read-only now: FOLL_FORCE
	 * does not write shared memory through it. */
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, mfd, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_ERR(pwrite(mem, "x", 1, (off_t)(uintptr_t)ro), EIO);
	CHECK_RET(munmap(ro, PAGE), 0);
	/* A writable shared mapping is written through, until the seal. */
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK(rw != MAP_FAILED);
	CHECK_RET(pwrite(mem, "y", 1, (off_t)(uintptr_t)rw), 1);
	char c;
	CHECK_RET(pread(mfd, &c, 1, 0), 1);
	CHECK_EQ(c, 'y');
	struct iovec l = { "z", 1 }, r = { rw, 1 };
	CHECK_RET(process_vm_writev(getpid(), &l, 1, &r, 1, 0), 1);
	if (on_starling()) {
		/* Revoked: neither path writes any more. */
		CHECK_RET(fcntl(mfd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE), 1);
		CHECK_ERR(pwrite(mem, "w", 1, (off_t)(uintptr_t)rw), EIO);
		CHECK_ERR(process_vm_writev(getpid(), &l, 1, &r, 1, 0), EFAULT);
	} else {
		CHECK_RET(munmap(rw, PAGE), 0);
		CHECK_RET(fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE), 0);
		rw = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, mfd, 0);
		CHECK(rw != MAP_FAILED);
		CHECK_ERR(pwrite(mem, "w", 1, (off_t)(uintptr_t)rw), EIO);
		r.iov_base = rw;
		CHECK_ERR(process_vm_writev(getpid(), &l, 1, &r, 1, 0), EFAULT);
	}
	CHECK_RET(pread(mfd, &c, 1, 0), 1);
	CHECK_EQ(c, 'z');
	/* A private mapping of the sealed file still takes forced writes:
	 * they land in its own copy. */
	char *priv = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, mfd, 0);
	CHECK(priv != MAP_FAILED);
	CHECK_RET(pwrite(mem, "p", 1, (off_t)(uintptr_t)priv), 1);
	CHECK_EQ(priv[0], 'p');
	CHECK_RET(pread(mfd, &c, 1, 0), 1);
	CHECK_EQ(c, 'z');
	close(mem);
	close(mfd);
}
