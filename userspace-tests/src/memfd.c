/*
 * memfd_create(2) and file seals (fcntl(2) F_ADD_SEALS/F_GET_SEALS), from
 * the man pages and mm/memfd.c, mm/shmem.c: flag and name checks, the
 * file's identity (unlinked, 0777 or 0666 with MFD_NOEXEC_SEAL, the
 * /proc/self/fd name), each seal against each path that would break it,
 * F_SEAL_WRITE's EBUSY exactly while a shared mapping may write (also one
 * of another process), and Starling's F_ADD_SEALS_REVOKE (skipped on Linux,
 * which answers EINVAL).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "starling/memfd.h"

#define PAGE 4096L

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static int memfd(const char *name, unsigned int flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}

/* A sealable memfd of `pages` pages. */
static int sealable(size_t pages)
{
	int fd = memfd("seals", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_RET(ftruncate(fd, (off_t)pages * PAGE), 0);
	return fd;
}

TEST(flags_and_names)
{
	CHECK_ERR(memfd("x", 0x100), EINVAL);
	CHECK_ERR(memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
	CHECK_ERR(syscall(SYS_memfd_create, NULL, 0), EFAULT);
	CHECK_ERR(syscall(SYS_memfd_create, (void *)8, 0), EFAULT);
	char name[260];
	memset(name, 'n', sizeof(name));
	name[249] = 0;
	int fd = (int)CHECK_OK(memfd(name, 0));
	close(fd);
	name[249] = 'n';
	name[250] = 0;
	CHECK_ERR(memfd(name, 0), EINVAL);
	fd = (int)CHECK_OK(memfd("", 0));
	close(fd);
}

TEST(an_unlinked_regular_file)
{
	int fd = (int)CHECK_OK(memfd("ident", MFD_CLOEXEC));
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	char link[64], target[128] = { 0 };
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	CHECK_OK(readlink(link, target, sizeof(target) - 1));
	CHECK_STREQ(target, "/memfd:ident (deleted)");
	/* /proc/self/maps names a mapping of it the same way. */
	CHECK_RET(ftruncate(fd, PAGE), 0);
	char *m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	char want[64], maps[65536];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)m);
	int mf = (int)CHECK_OK(open("/proc/self/maps", O_RDONLY));
	long got = 0, n;
	while ((n = read(mf, maps + got, sizeof(maps) - 1 - (size_t)got)) > 0)
		got += n;
	close(mf);
	maps[got] = 0;
	char *line = strstr(maps, want);
	CHECK(line != NULL);
	char *eol = strchr(line, '\n');
	CHECK(eol != NULL);
	*eol = 0;
	size_t ll = strlen(line), tl = strlen("/memfd:ident (deleted)");
	CHECK_MSG(ll > tl && strcmp(line + ll - tl, "/memfd:ident (deleted)") == 0,
		  "maps line: %s", line);
	CHECK_RET(munmap(m, PAGE), 0);
	CHECK_RET(ftruncate(fd, 0), 0);
	/* Data written is read back. */
	CHECK_RET(write(fd, "hello", 5), 5);
	char buf[8] = { 0 };
	CHECK_RET(pread(fd, buf, 5, 0), 5);
	CHECK_STREQ(buf, "hello");
	close(fd);
	/* MFD_NOEXEC_SEAL: no execute bits, sealable, F_SEAL_EXEC set. */
	fd = (int)CHECK_OK(memfd("noexec", MFD_NOEXEC_SEAL));
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0666);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
	CHECK_ERR(fchmod(fd, 0777), EPERM);
	CHECK_RET(fchmod(fd, 0600), 0);
	close(fd);
}

TEST(without_allow_sealing_sealed_shut)
{
	int fd = (int)CHECK_OK(memfd("plain", MFD_EXEC));
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0), EPERM);
	close(fd);
}

TEST(add_seals_rules)
{
	int fd = sealable(1);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	/* A read-only description cannot add seals. */
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	int ro = (int)CHECK_OK(open(link, O_RDONLY));
	CHECK_ERR(fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
	CHECK_EQ(fcntl(ro, F_GET_SEALS), 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	CHECK_EQ(fcntl(ro, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), 0);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0), EPERM);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(ro);
	close(fd);
	/* Files that are not shmem: EINVAL (EPERM first if not writable). */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(fcntl(p[0], F_GET_SEALS), EINVAL);
	CHECK_ERR(fcntl(p[1], F_ADD_SEALS, F_SEAL_WRITE), EINVAL);
	CHECK_ERR(fcntl(p[0], F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(p[0]);
	close(p[1]);
}

TEST(shrink_and_grow_seals)
{
	int fd = sealable(2);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	CHECK_ERR(ftruncate(fd, PAGE), EPERM);
	CHECK_RET(ftruncate(fd, 3 * PAGE), 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	CHECK_ERR(ftruncate(fd, 4 * PAGE), EPERM);
	CHECK_RET(ftruncate(fd, 3 * PAGE), 0);
	/* Writes inside the file are fine, past its end they are refused. */
	CHECK_RET(pwrite(fd, "ab", 2, 0), 2);
	CHECK_ERR(pwrite(fd, "ab", 2, 3 * PAGE), EPERM);
	/* Checked per page: the part inside the last page is written. */
	CHECK_RET(pwrite(fd, "ab", 2, 3 * PAGE - 1), 1);
	/* fallocate past the end: refused, with KEEP_SIZE too; inside the
	 * file it is fine. */
	CHECK_ERR(fallocate(fd, 0, 3 * PAGE, PAGE), EPERM);
	CHECK_ERR(fallocate(fd, FALLOC_FL_KEEP_SIZE, 3 * PAGE, PAGE), EPERM);
	CHECK_RET(fallocate(fd, 0, 0, 3 * PAGE), 0);
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 3 * PAGE);
	close(fd);
}

TEST(write_seal_stops_every_writer)
{
	int fd = sealable(2);
	char *priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(priv != MAP_FAILED);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(pwrite(fd, "x", 1, 0), EPERM);
	struct iovec iov = { "x", 1 };
	CHECK_ERR(pwritev(fd, &iov, 1, 0), EPERM);
	CHECK_RET(write(fd, "", 0), 0);
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE),
		  EPERM);
	/* splice and sendfile into the file. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(write(p[1], "sp", 2), 2);
	loff_t off = 0;
	CHECK_ERR(splice(p[0], NULL, fd, &off, 2, 0), EPERM);
	int src = memfd("src", 0);
	CHECK_RET(write(src, "sf", 2), 2);
	off_t soff = 0;
	CHECK_ERR(sendfile(fd, src, &soff, 2), EPERM);
	close(src);
	close(p[0]);
	close(p[1]);
	/* No shared writable mapping, now or later. */
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EPERM);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_ERR(mprotect(ro, PAGE, PROT_READ | PROT_WRITE), EACCES);
	/* Private mappings keep copy-on-write; the file stays unchanged. */
	priv[0] = 'p';
	CHECK_EQ(ro[0], 0);
	char *priv2 = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(priv2 != MAP_FAILED);
	priv2[0] = 'q';
	CHECK_EQ(ro[0], 0);
	/* Resizing is governed by SHRINK and GROW only (test_seal_write). */
	CHECK_RET(ftruncate(fd, PAGE), 0);
	CHECK_RET(ftruncate(fd, 2 * PAGE), 0);
	munmap(priv, PAGE);
	munmap(priv2, PAGE);
	munmap(ro, PAGE);
	close(fd);
}

TEST(write_seal_ebusy_while_a_shared_mapping_may_write)
{
	int fd = sealable(1);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(rw != MAP_FAILED);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	/* PROT_READ, but of a writable description: may write later. */
	CHECK_RET(mprotect(rw, PAGE, PROT_READ), 0);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	/* A failed add applies nothing, not even the other seals. */
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK), EBUSY);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	CHECK_RET(munmap(rw, PAGE), 0);
	/* Another process's mapping counts, until it exits. */
	int go[2], ready[2];
	CHECK_RET(pipe(go), 0);
	CHECK_RET(pipe(ready), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		char c;
		if (m == MAP_FAILED || write(ready[1], "r", 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_exit(pid, 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
	close(fd);
}

TEST(future_write_keeps_existing_mappings)
{
	int fd = sealable(1);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(rw != MAP_FAILED);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0);
	rw[0] = 'k';
	char b = 0;
	CHECK_RET(pread(fd, &b, 1, 0), 1);
	CHECK_EQ(b, 'k');
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EPERM);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_ERR(mprotect(ro, PAGE, PROT_READ | PROT_WRITE), EACCES);
	munmap(ro, PAGE);
	munmap(rw, PAGE);
	close(fd);
}

TEST(exec_seal_implies_the_write_seals)
{
	int fd = (int)CHECK_OK(memfd("exec", MFD_ALLOW_SEALING | MFD_EXEC));
	CHECK_RET(ftruncate(fd, PAGE), 0);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(rw != MAP_FAILED);
	/* The implied F_SEAL_WRITE counts for the EBUSY check (Linux 6.18). */
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), EBUSY);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	munmap(rw, PAGE);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), 0);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW |
						 F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(fchmod(fd, 0666), EPERM);
	CHECK_RET(fchmod(fd, 0755), 0);
	close(fd);
	/* Without execute bits only F_SEAL_EXEC is added. */
	fd = (int)CHECK_OK(memfd("noexec", MFD_ALLOW_SEALING | MFD_EXEC));
	CHECK_RET(fchmod(fd, 0644), 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), 0);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
	close(fd);
}

TEST(revoke_downgrades_every_writable_mapping)
{
	if (!on_starling()) {
		int fd = sealable(1);
		CHECK_ERR(fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE), EINVAL);
		close(fd);
		t_skip("F_ADD_SEALS_REVOKE is Starling's");
	}
	int fd = sealable(1);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(rw != MAP_FAILED && ro != MAP_FAILED);
	rw[0] = 'a';
	int go[2], ready[2];
	CHECK_RET(pipe(go), 0);
	CHECK_RET(pipe(ready), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* The child shares rw; after the parent revokes, its next store
		 * must die with SIGSEGV. */
		char c;
		rw[1] = 'b';
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		rw[2] = 'c';
		_exit(0);
	}
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	/* rw and ro (PROT_READ of an O_RDWR descriptor) in both processes. */
	CHECK_RET(fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE), 4);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_signal(pid, SIGSEGV);
	/* Stores before the call are there; none after. */
	CHECK_EQ(ro[0], 'a');
	CHECK_EQ(ro[1], 'b');
	CHECK_EQ(ro[2], 0);
	CHECK_ERR(mprotect(rw, PAGE, PROT_READ | PROT_WRITE), EACCES);
	/* A kernel copy into the downgraded range fails. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(write(p[1], "z", 1), 1);
	CHECK_ERR(read(p[0], rw, 1), EFAULT);
	close(p[0]);
	close(p[1]);
	/* Revoking again has nothing left to do. */
	CHECK_RET(fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE), 0);
	munmap(rw, PAGE);
	munmap(ro, PAGE);
	close(fd);
}

/* Writes `v` to /proc/sys/vm/memfd_seal_revoke; returns write's result. */
static long set_seal_revoke(const char *v)
{
	int f = open("/proc/sys/vm/memfd_seal_revoke", O_WRONLY);
	if (f < 0)
		return -1;
	long r = write(f, v, strlen(v));
	int e = errno;
	close(f);
	errno = e;
	return r;
}

TEST(sysctl_memfd_seal_revoke)
{
	if (!on_starling())
		t_skip("vm.memfd_seal_revoke is Starling's");
	CHECK_ERR(set_seal_revoke("2"), EINVAL);
	/* Root only. */
	pid_t pid = t_fork();
	if (pid == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		_exit(set_seal_revoke("1") == -1 && errno == EACCES ? 0 : 1);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(set_seal_revoke("1"), 1);
	int fd = sealable(1);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(rw != MAP_FAILED);
	rw[0] = 'x';
	/* Plain F_ADD_SEALS now revokes and returns 0. */
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
	CHECK_ERR(mprotect(rw, PAGE, PROT_READ | PROT_WRITE), EACCES);
	pid = t_fork();
	if (pid == 0) {
		rw[0] = 'y';
		_exit(0);
	}
	t_wait_signal(pid, SIGSEGV);
	CHECK_EQ(rw[0], 'x');
	munmap(rw, PAGE);
	close(fd);
	/* Back to Linux's answer. */
	CHECK_RET(set_seal_revoke("0"), 1);
	fd = sealable(1);
	rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(rw != MAP_FAILED);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	munmap(rw, PAGE);
	close(fd);
}

/* Sends descriptor `fd` over the Unix socket `sock`. */
static void send_fd(int sock, int fd)
{
	char byte = 'f';
	struct iovec iov = { &byte, 1 };
	char ctl[CMSG_SPACE(sizeof(int))];
	memset(ctl, 0, sizeof(ctl));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	CHECK_RET(sendmsg(sock, &msg, 0), 1);
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

TEST(a_mapping_made_from_a_passed_descriptor_counts)
{
	int sv[2];
	CHECK_RET(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* An unrelated process: it gets the memfd over the socket and
		 * maps it. */
		int fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(1);
		char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		char c;
		if (m == MAP_FAILED || write(sv[1], "m", 1) != 1 || read(sv[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	int fd = sealable(1);
	send_fd(sv[0], fd);
	char c;
	CHECK_RET(read(sv[0], &c, 1), 1);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	if (on_starling()) {
		/* fdinfo names the holder. */
		char path[64], buf[4096] = { 0 };
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		int f = (int)CHECK_OK(open(path, O_RDONLY));
		CHECK_OK(read(f, buf, sizeof(buf) - 1));
		close(f);
		char want[64];
		snprintf(want, sizeof(want), "mapping:\t%d\t", (int)pid);
		CHECK_MSG(strstr(buf, want) != NULL, "fdinfo: %s", buf);
		CHECK(strstr(buf, "maywrite=1") != NULL);
		CHECK(strstr(buf, "seals:\t0x0") != NULL);
	}
	CHECK_RET(write(sv[0], "g", 1), 1);
	t_wait_exit(pid, 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

static long read_noexec(void)
{
	char buf[16] = { 0 };
	int f = open("/proc/sys/vm/memfd_noexec", O_RDONLY);
	if (f < 0)
		return -1;
	long n = read(f, buf, sizeof(buf) - 1);
	close(f);
	return n > 0 ? atol(buf) : -1;
}

static int write_noexec(const char *v)
{
	int f = open("/proc/sys/vm/memfd_noexec", O_WRONLY);
	if (f < 0)
		return -1;
	long r = write(f, v, strlen(v));
	int e = errno;
	close(f);
	errno = e;
	return r < 0 ? -1 : 0;
}

/* In a new pid namespace (pid 1 there): the rules of vm.memfd_noexec. */
static int noexec_in_namespace(void)
{
	if (read_noexec() != 0)
		return 10;
	if (write_noexec("1") != 0)
		return 11;
	int fd = memfd("dflt", 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || (st.st_mode & 0777) != 0666 ||
	    fcntl(fd, F_GET_SEALS) != F_SEAL_EXEC)
		return 12;
	close(fd);
	fd = memfd("exec", MFD_EXEC);
	if (fd < 0 || fstat(fd, &st) || (st.st_mode & 0777) != 0777)
		return 13;
	close(fd);
	if (write_noexec("2") != 0 || read_noexec() != 2)
		return 14;
	if (memfd("exec", MFD_EXEC) != -1 || errno != EACCES)
		return 15;
	if (write_noexec("3") != -1 || errno != EINVAL)
		return 16;
	/* A nested namespace starts from 2 and may not go below it. */
	if (unshare(CLONE_NEWPID) != 0)
		return 17;
	pid_t pid = fork();
	if (pid == 0) {
		if (read_noexec() != 2)
			_exit(1);
		if (write_noexec("1") != -1 || errno != EINVAL)
			_exit(2);
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 18;
	/* Lowering ours to 1 is allowed (the parent has 0). */
	if (write_noexec("1") != 0 || read_noexec() != 1)
		return 19;
	return 0;
}

TEST(memfd_noexec_per_pid_namespace)
{
	if (geteuid() != 0)
		t_skip("needs root");
	long outer = read_noexec();
	if (outer != 0)
		t_skip("vm.memfd_noexec is %ld here", outer);
	pid_t pid = t_fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWPID) != 0)
			_exit(errno == EPERM || errno == EINVAL ? 99 : 98);
		pid_t inner = fork();
		if (inner == 0)
			_exit(noexec_in_namespace());
		int status;
		if (waitpid(inner, &status, 0) != inner || !WIFEXITED(status))
			_exit(97);
		_exit(WEXITSTATUS(status));
	}
	int status;
	CHECK_RET(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	if (WEXITSTATUS(status) == 99)
		t_skip("no pid namespaces");
	CHECK_MSG(WEXITSTATUS(status) == 0, "step %d failed", WEXITSTATUS(status));
	/* The outer namespace still has 0. */
	CHECK_EQ(read_noexec(), 0);
	int fd = (int)CHECK_OK(memfd("outer", 0));
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0777);
	close(fd);
}
