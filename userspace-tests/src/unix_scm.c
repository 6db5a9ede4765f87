/*
 * AF_UNIX ancillary data and socket options: SCM_RIGHTS across fork
 * (pipes and files, several descriptors, MSG_CTRUNC, MSG_CMSG_CLOEXEC,
 * the 253-descriptor limit, EBADF), SCM_CREDENTIALS with SO_PASSCRED and
 * its permission checks, SO_PEERCRED, the SOL_SOCKET options and their
 * errors, other address families and non-sockets.
 */
#include "test.h"

#include <stddef.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/time.h>
#include <sys/un.h>

/* Sends `len` bytes with the descriptors `fds` (n of them). */
static ssize_t send_fds(int sock, const char *data, size_t len, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 256)];
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > 0) {
		memset(ctl, 0, sizeof(ctl));
		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	}
	return sendmsg(sock, &m, 0);
}

/* Receives into `buf`, the descriptors into `fds` (at most `room`);
 * returns the byte count, *nfds and *flags set. */
static ssize_t recv_fds(int sock, char *buf, size_t len, int *fds, int room,
			int *nfds, int *flags, int rflags)
{
	char ctl[CMSG_SPACE(sizeof(int) * 256)];
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (room > 0) {
		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)room);
	}
	ssize_t r = recvmsg(sock, &m, rflags);
	*nfds = 0;
	*flags = m.msg_flags;
	if (r < 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)n);
			*nfds += n;
		}
	}
	return r;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

TEST(rights_across_fork_pipe_and_file)
{
	int sv[2], p[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(pipe(p));
	const char *path = t_make_file("passed", "file contents", 0644);
	int f = CHECK_OK(open(path, O_RDONLY));
	pid_t pid = t_fork();
	if (pid == 0) {
		close(sv[0]);
		close(p[1]);
		int fds[4], n = 0, flags = 0;
		char buf[32];
		ssize_t r = recv_fds(sv[1], buf, sizeof(buf), fds, 4, &n, &flags, 0);
		if (r != 4 || memcmp(buf, "fds!", 4) != 0 || n != 2)
			_exit(1);
		/* The file keeps its offset: the parent read 5 bytes. */
		char data[32] = { 0 };
		if (read(fds[1], data, sizeof(data)) != 8 || strcmp(data, "contents") != 0)
			_exit(2);
		if (write(fds[0], "via pipe", 8) != 8)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	char head[5];
	CHECK_RET(read(f, head, 5), 5);
	int fds[2] = { p[1], f };
	CHECK_RET(send_fds(sv[0], "fds!", 4, fds, 2), 4);
	/* The parent's copies go; the child's stay open. */
	close(p[1]);
	close(f);
	char buf[16] = { 0 };
	CHECK_RET(read(p[0], buf, sizeof(buf)), 8);
	CHECK_STREQ(buf, "via pipe");
	t_wait_exit(pid, 0);
	/* Every write end is closed now. */
	CHECK_RET(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	close(sv[0]);
}

TEST(several_fds_and_cloexec)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int a = CHECK_OK(open("/dev/null", O_RDONLY));
	int b = CHECK_OK(open("/", O_RDONLY | O_DIRECTORY));
	int c = CHECK_OK(dup(sv[0]));
	int fds[3] = { a, b, c }, got[8], n, flags;
	CHECK_RET(send_fds(sv[0], "x", 1, fds, 3), 1);
	char buf[4];
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 8, &n, &flags, MSG_CMSG_CLOEXEC), 1);
	CHECK_EQ(n, 3);
	CHECK_EQ(flags & MSG_CTRUNC, 0);
	for (int i = 0; i < 3; i++) {
		CHECK(got[i] != a && got[i] != b && got[i] != c);
		CHECK(same_file(got[i], fds[i]));
		CHECK_EQ(fcntl(got[i], F_GETFD), FD_CLOEXEC);
		close(got[i]);
	}
	/* Without MSG_CMSG_CLOEXEC the flag is clear. */
	CHECK_RET(send_fds(sv[0], "y", 1, fds, 1), 1);
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 8, &n, &flags, 0), 1);
	CHECK_EQ(n, 1);
	CHECK_EQ(fcntl(got[0], F_GETFD), 0);
	close(got[0]);
	close(a);
	close(b);
	close(c);
	close(sv[0]);
	close(sv[1]);
}

TEST(ctrunc_closes_what_does_not_fit)
{
	int sv[2], p[2], q[2], w[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	CHECK_OK(pipe(w));
	int fds[3] = { p[1], q[1], w[1] }, got[4], n, flags;
	CHECK_RET(send_fds(sv[0], "t", 1, fds, 3), 1);
	close(p[1]);
	close(q[1]);
	close(w[1]);
	char buf[4];
	/* CMSG_SPACE(sizeof(int)) holds two descriptors (the padding takes
	 * one): the third is closed. */
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 1, &n, &flags, 0), 1);
	CHECK_EQ(n, 2);
	CHECK_EQ(flags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_RET(read(w[0], buf, 1), 0);
	close(got[0]);
	close(got[1]);
	CHECK_RET(read(p[0], buf, 1), 0);
	CHECK_RET(read(q[0], buf, 1), 0);
	close(p[0]);
	close(w[0]);
	/* No control buffer at all: MSG_CTRUNC, everything closed. */
	CHECK_OK(pipe(p));
	CHECK_RET(send_fds(sv[0], "u", 1, &p[1], 1), 1);
	close(p[1]);
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 0, &n, &flags, 0), 1);
	CHECK_EQ(n, 0);
	CHECK_EQ(flags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_RET(read(p[0], buf, 1), 0);
	/* read(2) has no control buffer either. */
	int r[2];
	CHECK_OK(pipe(r));
	CHECK_RET(send_fds(sv[0], "v", 1, &r[1], 1), 1);
	close(r[1]);
	CHECK_RET(read(sv[1], buf, sizeof(buf)), 1);
	CHECK_RET(read(r[0], buf, 1), 0);
	close(r[0]);
	close(p[0]);
	close(q[0]);
	close(sv[0]);
	close(sv[1]);
}

TEST(stream_read_stops_after_rights)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_RET(send(sv[0], "a", 1, 0), 1);
	CHECK_RET(send_fds(sv[0], "b", 1, &fd, 1), 1);
	CHECK_RET(send(sv[0], "c", 1, 0), 1);
	char buf[8];
	int got[2], n, flags;
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 2, &n, &flags, 0), 2);
	CHECK(memcmp(buf, "ab", 2) == 0);
	CHECK_EQ(n, 1);
	close(got[0]);
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 2, &n, &flags, 0), 1);
	CHECK_EQ(buf[0], 'c');
	CHECK_EQ(n, 0);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

TEST(rights_limits_and_errors)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int fds[254];
	fds[0] = CHECK_OK(open("/dev/null", O_RDONLY));
	for (int i = 1; i < 254; i++)
		fds[i] = fds[0];
	CHECK_ERR(send_fds(sv[0], "x", 1, fds, 254), EINVAL);
	CHECK_RET(send_fds(sv[0], "x", 1, fds, 253), 1);
	int got[256], n, flags;
	char buf[2];
	CHECK_RET(recv_fds(sv[1], buf, sizeof(buf), got, 256, &n, &flags, 0), 1);
	CHECK_EQ(n, 253);
	for (int i = 0; i < n; i++)
		close(got[i]);
	int bad[2] = { fds[0], 9999 };
	CHECK_ERR(send_fds(sv[0], "x", 1, bad, 2), EBADF);
	/* Nothing was queued by the failed sends. */
	CHECK_ERR(recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
	/* Unknown SOL_SOCKET type, bad cmsg_len. */
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = 77;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = sizeof(ctl) + 8;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	/* Other levels are ignored. */
	c->cmsg_level = 6;
	c->cmsg_type = 1;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	CHECK_RET(sendmsg(sv[0], &m, 0), 1);
	CHECK_RET(recv(sv[1], buf, 1, 0), 1);
	CHECK_ERR(sendmsg(sv[0], (struct msghdr *)8, 0), EFAULT);
	close(fds[0]);
	close(sv[0]);
	close(sv[1]);
}

/* Sends with an SCM_CREDENTIALS of `uc`. */
static ssize_t send_creds(int sock, const struct ucred *uc)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))] = { 0 };
	struct iovec iov = { "c", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	memcpy(CMSG_DATA(c), uc, sizeof(*uc));
	return sendmsg(sock, &m, 0);
}

/* Receives one byte; *have says whether SCM_CREDENTIALS came, into *uc. */
static ssize_t recv_creds(int sock, struct ucred *uc, int *have)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred)) + 64];
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t r = recvmsg(sock, &m, 0);
	*have = 0;
	if (r < 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(uc, CMSG_DATA(c), sizeof(*uc));
			*have = 1;
		}
	return r;
}

TEST(credentials_with_passcred)
{
	int sv[2], on = 1, have;
	struct ucred uc;
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	/* Without SO_PASSCRED nothing comes, even if sent. */
	struct ucred mine = { getpid(), getuid(), getgid() };
	CHECK_RET(send_creds(sv[0], &mine), 1);
	CHECK_RET(recv_creds(sv[1], &uc, &have), 1);
	CHECK_EQ(have, 0);
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
	/* The kernel fills in the sender's credentials. */
	CHECK_RET(send(sv[0], "k", 1, 0), 1);
	CHECK_RET(recv_creds(sv[1], &uc, &have), 1);
	CHECK_EQ(have, 1);
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, getuid());
	CHECK_EQ(uc.gid, getgid());
	/* From a child: its pid. */
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(send(sv[0], "k", 1, 0) == 1 ? 0 : 1);
	t_wait_exit(pid, 0);
	CHECK_RET(recv_creds(sv[1], &uc, &have), 1);
	CHECK_EQ(have, 1);
	CHECK_EQ(uc.pid, pid);
	/* Explicit credentials of its own are passed as given. */
	CHECK_RET(send_creds(sv[0], &mine), 1);
	CHECK_RET(recv_creds(sv[1], &uc, &have), 1);
	CHECK_EQ(uc.pid, getpid());
	/* Root may name another existing process, not a missing one. */
	if (geteuid() == 0) {
		struct ucred other = { getppid(), 0, 0 };
		CHECK_RET(send_creds(sv[0], &other), 1);
		CHECK_RET(recv_creds(sv[1], &uc, &have), 1);
		CHECK_EQ(uc.pid, getppid());
		struct ucred ghost = { 0x3ffffff0, 0, 0 };
		CHECK_ERR(send_creds(sv[0], &ghost), ESRCH);
	}
	/* A wrong length is EINVAL. */
	char ctl[CMSG_SPACE(8)] = { 0 };
	struct iovec iov = { "c", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(8);
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	close(sv[0]);
	close(sv[1]);
}

/* Receives up to 8 bytes from a stream with SO_PASSCRED: the count and
 * the credentials' pid. */
static ssize_t recv_stream_creds(int sock, char *buf, pid_t *pid)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, 8 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t r = recvmsg(sock, &m, 0);
	*pid = -1;
	struct cmsghdr *c = r >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_type == SCM_CREDENTIALS) {
		struct ucred uc;
		memcpy(&uc, CMSG_DATA(c), sizeof(uc));
		*pid = uc.pid;
	}
	return r;
}

TEST(stream_reads_split_at_other_credentials)
{
	int sv[2], on = 1;
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
	CHECK_RET(send(sv[0], "ab", 2, 0), 2);
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(send(sv[0], "cd", 2, 0) == 2 ? 0 : 1);
	t_wait_exit(pid, 0);
	CHECK_RET(send(sv[0], "ef", 2, 0), 2);
	char buf[8];
	pid_t from;
	/* Each sender's bytes come separately, with its pid. */
	CHECK_RET(recv_stream_creds(sv[1], buf, &from), 2);
	CHECK_EQ(from, getpid());
	CHECK_RET(recv_stream_creds(sv[1], buf, &from), 2);
	CHECK_EQ(from, pid);
	CHECK(memcmp(buf, "cd", 2) == 0);
	CHECK_RET(recv_stream_creds(sv[1], buf, &from), 2);
	CHECK_EQ(from, getpid());
	/* Without SO_PASSCRED they join. */
	on = 0;
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
	CHECK_RET(send(sv[0], "gh", 2, 0), 2);
	pid = t_fork();
	if (pid == 0)
		_exit(send(sv[0], "ij", 2, 0) == 2 ? 0 : 1);
	t_wait_exit(pid, 0);
	CHECK_RET(recv(sv[1], buf, sizeof(buf), 0), 4);
	close(sv[0]);
	close(sv[1]);
}

TEST(credentials_checked_for_unprivileged)
{
	if (geteuid() != 0)
		t_skip("needs root to drop to another uid");
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgroups(0, NULL));
		CHECK_OK(setresgid(65534, 65534, 65534));
		CHECK_OK(setresuid(65534, 65534, 65534));
		struct ucred uc = { getppid(), 65534, 65534 };
		CHECK_ERR(send_creds(sv[0], &uc), EPERM);
		uc.pid = getpid();
		uc.uid = 0;
		CHECK_ERR(send_creds(sv[0], &uc), EPERM);
		uc.uid = 65534;
		uc.gid = 0;
		CHECK_ERR(send_creds(sv[0], &uc), EPERM);
		uc.gid = 65534;
		CHECK_RET(send_creds(sv[0], &uc), 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(sv[0]);
	close(sv[1]);
}

TEST(peercred)
{
	int sv[2];
	struct ucred uc;
	socklen_t l = sizeof(uc);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(l, sizeof(uc));
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, geteuid());
	CHECK_EQ(uc.gid, getegid());
	close(sv[0]);
	close(sv[1]);
	/* Unconnected: no peer. */
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	l = sizeof(uc);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, 0);
	CHECK_EQ(uc.uid, (uid_t)-1);
	CHECK_EQ(uc.gid, (gid_t)-1);
	/* Across connect: each side sees the other process. */
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "starling-pc-%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	CHECK_OK(bind(s, (struct sockaddr *)&a, len));
	CHECK_OK(listen(s, 1));
	pid_t parent = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_OK(connect(c, (struct sockaddr *)&a, len));
		struct ucred pc;
		socklen_t pl = sizeof(pc);
		CHECK_OK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &pc, &pl));
		CHECK_EQ(pc.pid, parent);
		char ch;
		CHECK_RET(read(c, &ch, 1), 0);
		_exit(0);
	}
	int srv = CHECK_OK(accept(s, NULL, NULL));
	l = sizeof(uc);
	CHECK_OK(getsockopt(srv, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, pid);
	close(srv);
	t_wait_exit(pid, 0);
	/* A short length gets the start. */
	l = 4;
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(l, 4);
	close(s);
}

static int getint(int s, int opt)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	CHECK_OK(getsockopt(s, SOL_SOCKET, opt, &v, &l));
	CHECK_EQ(l, sizeof(v));
	return v;
}

TEST(socket_options)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_EQ(getint(s, SO_TYPE), SOCK_STREAM);
	CHECK_EQ(getint(s, SO_DOMAIN), AF_UNIX);
	CHECK_EQ(getint(s, SO_PROTOCOL), 0);
	CHECK_EQ(getint(s, SO_ACCEPTCONN), 0);
	CHECK_EQ(getint(s, SO_ERROR), 0);
	CHECK_EQ(getint(s, SO_PASSCRED), 0);
	CHECK_EQ(getint(s, SO_REUSEADDR), 0);
	CHECK(getint(s, SO_SNDBUF) > 0);
	CHECK(getint(s, SO_RCVBUF) > 0);
	int v = 10000;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_EQ(getint(s, SO_SNDBUF), 20000);
	v = 1;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_EQ(getint(s, SO_SNDBUF), 4608);
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	CHECK_EQ(getint(s, SO_RCVBUF), 2304);
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	CHECK_EQ(getint(s, SO_PASSCRED), 1);
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	CHECK_EQ(getint(s, SO_REUSEADDR), 1);
	/* A short length gets that many bytes. */
	long long big = -1;
	socklen_t l = 2;
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &big, &l));
	CHECK_EQ(l, 2);
	l = 8;
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &big, &l));
	CHECK_EQ(l, 4);
	/* Errors. */
	l = (socklen_t)-1;
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	l = sizeof(v);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, 2), EINVAL);
	CHECK_ERR(getsockopt(s, 6 /* IPPROTO_TCP */, 1, &v, &l), EOPNOTSUPP);
	CHECK_ERR(setsockopt(s, 6, 1, &v, sizeof(v)), EOPNOTSUPP);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_TYPE, (void *)8, &l), EFAULT);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_SNDBUF, (void *)8, sizeof(v)), EFAULT);
	int fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l), ENOTSOCK);
	CHECK_ERR(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)), ENOTSOCK);
	CHECK_ERR(getsockopt(-1, SOL_SOCKET, SO_TYPE, &v, &l), EBADF);
	CHECK_ERR(setsockopt(-1, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), EBADF);
	close(fd);
	/* SO_ACCEPTCONN after listen; SO_TYPE of the others. */
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	CHECK_OK(listen(s, 1));
	CHECK_EQ(getint(s, SO_ACCEPTCONN), 1);
	close(s);
	s = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_EQ(getint(s, SO_TYPE), SOCK_DGRAM);
	close(s);
	s = CHECK_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	CHECK_EQ(getint(s, SO_TYPE), SOCK_SEQPACKET);
	close(s);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST(receive_and_send_timeouts)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct timeval tv = { 7, 7 };
	socklen_t l = sizeof(tv);
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l));
	CHECK_EQ(l, sizeof(tv));
	CHECK_EQ(tv.tv_sec, 0);
	CHECK_EQ(tv.tv_usec, 0);
	tv.tv_sec = 1;
	tv.tv_usec = 500000;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	memset(&tv, 0, sizeof(tv));
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, &l));
	CHECK_EQ(tv.tv_sec, 1);
	CHECK_EQ(tv.tv_usec, 500000);
	tv.tv_usec = 1000000;
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
	/* A receive that times out is EAGAIN, for recv and read alike. */
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	char buf[8];
	CHECK_ERR(recv(sv[0], buf, sizeof(buf), 0), EAGAIN);
	CHECK_ERR(read(sv[0], buf, sizeof(buf)), EAGAIN);
	/* Data within the time is received. */
	CHECK_RET(write(sv[1], "t", 1), 1);
	CHECK_RET(recv(sv[0], buf, sizeof(buf), 0), 1);
	/* A negative time does not wait at all. */
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_ERR(recv(sv[0], buf, sizeof(buf), 0), EAGAIN);
	/* With a timeout, a signal ends the wait with EINTR even under
	 * SA_RESTART. */
	tv.tv_sec = 5;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART }, old;
	CHECK_OK(sigaction(SIGALRM, &sa, &old));
	struct itimerval it = { .it_value = { 0, 50000 } };
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
	CHECK_ERR(recv(sv[0], buf, sizeof(buf), 0), EINTR);
	CHECK_OK(sigaction(SIGALRM, &old, NULL));
	/* A send blocked on a full buffer times out too. */
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	static char big[1 << 16];
	while (send(sv[1], big, sizeof(big), MSG_DONTWAIT) > 0)
		;
	CHECK_ERR(send(sv[1], big, sizeof(big), 0), EAGAIN);
	close(sv[0]);
	close(sv[1]);
	/* accept waits up to SO_RCVTIMEO. */
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	CHECK_OK(listen(s, 1));
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_ERR(accept(s, NULL, NULL), EAGAIN);
	close(s);
}

TEST(passcred_autobinds_datagram_sender)
{
	int r = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un a = { .sun_family = AF_UNIX }, got;
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "starling-ab-%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	CHECK_OK(bind(r, (struct sockaddr *)&a, len));
	int s = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	int on = 1;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
	CHECK_RET(sendto(s, "a", 1, 0, (struct sockaddr *)&a, len), 1);
	socklen_t glen = sizeof(got);
	CHECK_OK(getsockname(s, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + 6);
	char b;
	glen = sizeof(got);
	CHECK_RET(recvfrom(r, &b, 1, 0, (struct sockaddr *)&got, &glen), 1);
	CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + 6);
	close(s);
	close(r);
}

TEST(other_families)
{
	/* Starling has AF_UNIX, AF_INET and AF_INET6 only (inet_tcp.c,
	 * inet_udp.c); a Linux host lists this as expected. */
	CHECK_ERR(socket(AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
}
