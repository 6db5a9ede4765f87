/*
 * The seal-bypass suite: after each seal, every way of changing a memfd's
 * contents or size is tried and must fail with Linux's errno while the
 * contents stay as they were — write, pwrite64, writev, pwritev2, a
 * writable shared mmap, mprotect(PROT_WRITE), mremap of a read-only shared
 * mapping then mprotect, a mapping inherited over fork, splice, sendfile
 * and copy_file_range into the file, ftruncate/fallocate against SHRINK and
 * GROW, an O_TRUNC reopen through /proc/self/fd, /proc/self/mem,
 * process_vm_writev, and a descriptor passed with SCM_RIGHTS to another
 * process. On Starling the same is checked after a live revocation
 * (F_ADD_SEALS_REVOKE), where the existing mappings are the target.
 * Sources: fcntl(2) "File sealing", memfd_create(2), mm/memfd.c, mm/shmem.c.
 */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "starling/memfd.h"

#define PAGE 4096L
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif

/* A sealable memfd of two pages filled with 'o'. */
static int sealed_file(void)
{
	int fd = CHECK_OK((int)syscall(SYS_memfd_create, "bypass", MFD_ALLOW_SEALING));
	char page[PAGE];
	memset(page, 'o', sizeof(page));
	CHECK_RET(write(fd, page, PAGE), PAGE);
	CHECK_RET(write(fd, page, PAGE), PAGE);
	return fd;
}

/* A memfd holding "XXXXXXXX": a source on the same file system (Linux
 * refuses copy_file_range across file systems with EXDEV first). */
static int source_file(void)
{
	int fd = CHECK_OK((int)syscall(SYS_memfd_create, "src", 0));
	CHECK_RET(write(fd, "XXXXXXXX", 8), 8);
	return fd;
}

/* The file still holds two pages of 'o'. */
static void unchanged(int fd)
{
	char buf[2 * PAGE + 1];
	CHECK_RET(pread(fd, buf, sizeof(buf), 0), 2 * PAGE);
	for (long i = 0; i < 2 * PAGE; i++)
		CHECK_MSG(buf[i] == 'o', "byte %ld is %#x", i, buf[i]);
}

/* Every path that writes the contents must fail; returns nothing, checks
 * each. `seal` tells which errno a write-type seal gives. */
static void write_paths_fail(int fd)
{
	char x[8] = "XXXXXXX";
	struct iovec iov = { x, sizeof(x) };
	CHECK_ERR(write(fd, x, sizeof(x)), EPERM);
	CHECK_ERR(pwrite(fd, x, sizeof(x), 0), EPERM);
	CHECK_ERR(pwritev(fd, &iov, 1, 0), EPERM);
	CHECK_ERR(syscall(SYS_pwritev2, fd, &iov, 1, 0, 0, 0), EPERM);
	/* A new writable shared mapping. */
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EPERM);
	/* A read-only one may not become writable, here or moved elsewhere. */
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_ERR(mprotect(ro, PAGE, PROT_READ | PROT_WRITE), EACCES);
	char *moved = mremap(ro, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			     (char *)mmap(NULL, 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) +
				     PAGE);
	CHECK(moved != MAP_FAILED);
	CHECK_ERR(mprotect(moved, PAGE, PROT_READ | PROT_WRITE), EACCES);
	/* ... nor in a child that inherited it. */
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(mprotect(moved, PAGE, PROT_READ | PROT_WRITE) == -1 && errno == EACCES ? 0 : 1);
	t_wait_exit(pid, 0);
	/* /proc/self/mem does not write shared memory through it
	 * (FOLL_FORCE writes only private mappings), nor does
	 * process_vm_writev. */
	int mem = CHECK_OK(open("/proc/self/mem", O_RDWR));
	CHECK_ERR(pwrite(mem, x, 1, (off_t)(uintptr_t)moved), EIO);
	struct iovec local = { x, 1 }, remote = { moved, 1 };
	CHECK_ERR(process_vm_writev(getpid(), &local, 1, &remote, 1, 0), EFAULT);
	/* A private mapping takes forced writes into its own copy only. */
	char *priv = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(priv != MAP_FAILED);
	CHECK_RET(pwrite(mem, x, 1, (off_t)(uintptr_t)priv), 1);
	CHECK_EQ(priv[0], 'X');
	close(mem);
	CHECK_RET(munmap(priv, PAGE), 0);
	CHECK_RET(munmap(moved, PAGE), 0);
	/* splice, sendfile and copy_file_range into the file. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(write(p[1], x, sizeof(x)), (ssize_t)sizeof(x));
	loff_t off = 0;
	CHECK_ERR(splice(p[0], NULL, fd, &off, sizeof(x), 0), EPERM);
	close(p[0]);
	close(p[1]);
	int src = source_file();
	off_t soff = 0;
	CHECK_ERR(sendfile(fd, src, &soff, 8), EPERM);
	loff_t in = 0, out = 0;
	CHECK_ERR(copy_file_range(src, &in, fd, &out, 8, 0), EPERM);
	close(src);
	/* A hole punched into the contents. */
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE), EPERM);
	unchanged(fd);
}

/* The paths through another process that got the descriptor over a Unix
 * socket. */
static void passed_descriptor_fails(int fd)
{
	int sv[2];
	CHECK_RET(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(sv[0]);
		char c;
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &c, 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		if (recvmsg(sv[1], &msg, 0) != 1)
			_exit(2);
		int got;
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(got));
		errno = 0;
		if (write(got, "X", 1) != -1 || errno != EPERM)
			_exit(3);
		if (mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, got, 0) != MAP_FAILED ||
		    errno != EPERM)
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	char c = 'f';
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	CHECK_RET(sendmsg(sv[0], &msg, 0), 1);
	t_wait_exit(pid, 0);
	close(sv[0]);
	unchanged(fd);
}

TEST(write_seal)
{
	int fd = sealed_file();
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	write_paths_fail(fd);
	passed_descriptor_fails(fd);
	/* Resizing is SHRINK's and GROW's business: allowed here. */
	CHECK_RET(ftruncate(fd, 3 * PAGE), 0);
	CHECK_RET(ftruncate(fd, 2 * PAGE), 0);
	unchanged(fd);
	close(fd);
}

TEST(future_write_seal)
{
	int fd = sealed_file();
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0);
	write_paths_fail(fd);
	passed_descriptor_fails(fd);
	close(fd);
}

TEST(shrink_seal)
{
	int fd = sealed_file();
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	CHECK_ERR(ftruncate(fd, PAGE), EPERM);
	CHECK_ERR(ftruncate(fd, 0), EPERM);
	/* O_TRUNC through /proc/self/fd is a shrink too. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK_ERR(open(path, O_RDWR | O_TRUNC), EPERM);
	unchanged(fd);
	/* Growing and writing are still fine. */
	CHECK_RET(ftruncate(fd, 3 * PAGE), 0);
	close(fd);
}

TEST(grow_seal)
{
	int fd = sealed_file();
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	CHECK_ERR(ftruncate(fd, 3 * PAGE), EPERM);
	CHECK_ERR(pwrite(fd, "X", 1, 2 * PAGE), EPERM);
	CHECK_ERR(fallocate(fd, 0, 0, 3 * PAGE), EPERM);
	CHECK_ERR(fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * PAGE, PAGE), EPERM);
	int out = source_file();
	loff_t in = 0, at = 2 * PAGE;
	CHECK_ERR(copy_file_range(out, &in, fd, &at, 8, 0), EPERM);
	close(out);
	/* A writable mapping reaches only the existing pages: past the end
	 * is SIGBUS. */
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	pid_t pid = t_fork();
	if (pid == 0) {
		p[2 * PAGE] = 'X';
		_exit(0);
	}
	t_wait_signal(pid, SIGBUS);
	CHECK_RET(munmap(p, 3 * PAGE), 0);
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 2 * PAGE);
	unchanged(fd);
	close(fd);
}

TEST(after_live_revocation)
{
	if (!on_starling())
		t_skip("F_ADD_SEALS_REVOKE is Starling's");
	int fd = sealed_file();
	char *w = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(w != MAP_FAILED);
	pid_t child = t_fork();
	if (child == 0) {
		/* Wait to be told, then store through the inherited mapping. */
		raise(SIGSTOP);
		w[1] = 'X';
		_exit(0);
	}
	CHECK_RET(waitpid(child, NULL, WUNTRACED), child);
	CHECK_RET(fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE), 2);
	/* Every write path, including the mappings that existed. */
	write_paths_fail(fd);
	passed_descriptor_fails(fd);
	int mem = CHECK_OK(open("/proc/self/mem", O_RDWR));
	CHECK_ERR(pwrite(mem, "X", 1, (off_t)(uintptr_t)w), EIO);
	close(mem);
	struct iovec local = { "X", 1 }, remote = { w, 1 };
	CHECK_ERR(process_vm_writev(getpid(), &local, 1, &remote, 1, 0), EFAULT);
	CHECK_ERR(mprotect(w, PAGE, PROT_READ | PROT_WRITE), EACCES);
	/* read(2) into the revoked range: EFAULT. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(write(p[1], "X", 1), 1);
	CHECK_ERR(read(p[0], w, 1), EFAULT);
	close(p[0]);
	close(p[1]);
	/* The parent's own store and the child's die with SIGSEGV. */
	pid_t self_store = t_fork();
	if (self_store == 0) {
		w[0] = 'X';
		_exit(0);
	}
	t_wait_signal(self_store, SIGSEGV);
	CHECK_RET(kill(child, SIGCONT), 0);
	t_wait_signal(child, SIGSEGV);
	unchanged(fd);
	CHECK_RET(munmap(w, 2 * PAGE), 0);
	close(fd);
}
