/*
 * AF_UNIX stream sockets (unix(7)): socketpair, bind/listen/accept4/connect
 * on path and abstract names, autobind, getsockname/getpeername, end of
 * stream, EPIPE/SIGPIPE/MSG_NOSIGNAL, shutdown and poll bits, O_NONBLOCK
 * and MSG_DONTWAIT, blocking accept/recv/connect woken by another process,
 * and the errors of each call.
 */
#include "test.h"

#include <grp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* An abstract name unique to this process: "\0starling-<pid>-<tag>". */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
			 "starling-%d-%s", (int)getpid(), tag);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static short revents(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	CHECK_OK(poll(&p, 1, 0));
	return p.revents;
}

/* A listener bound to `path` in the scratch directory. */
static int listener_at(const char *path, struct sockaddr_un *a, socklen_t *len)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	*len = path_addr(a, path);
	CHECK_OK(bind(s, (struct sockaddr *)a, *len));
	CHECK_OK(listen(s, 5));
	return s;
}

TEST(socketpair_round_trip)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_RET(write(sv[0], "hello", 5), 5);
	CHECK_RET(send(sv[0], " world", 6, 0), 6);
	char buf[32] = { 0 };
	/* Stream bytes join: one read gets both writes. */
	CHECK_RET(recv(sv[1], buf, sizeof(buf), 0), 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	CHECK_RET(write(sv[1], "back", 4), 4);
	CHECK_RET(read(sv[0], buf, 2), 2);
	CHECK_RET(read(sv[0], buf, 10), 2);
	CHECK(memcmp(buf, "ck", 2) == 0);
	struct stat st;
	CHECK_OK(fstat(sv[0], &st));
	CHECK_EQ(st.st_mode & S_IFMT, S_IFSOCK);
	close(sv[0]);
	close(sv[1]);
}

TEST(socket_and_socketpair_errors)
{
	int sv[2];
	CHECK_ERR(socket(AF_UNIX, 99, 0), EINVAL);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x1000, 0), EINVAL);
	CHECK_ERR(socket(AF_UNIX, 4 /* SOCK_RDM */, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, -1), EPROTONOSUPPORT);
	CHECK_ERR(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	/* PF_UNIX as the protocol is accepted. */
	close(CHECK_OK(socket(AF_UNIX, SOCK_STREAM, AF_UNIX)));
	CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	CHECK_ERR(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 8L), EFAULT);
	CHECK_ERR(socketpair(AF_UNIX, 99, 0, sv), EINVAL);
}

TEST(flags_nonblock_cloexec)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	close(s);
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	char c;
	CHECK_ERR(read(sv[0], &c, 1), EAGAIN);
	CHECK_ERR(recv(sv[1], &c, 1, 0), EAGAIN);
	CHECK_EQ(fcntl(sv[0], F_GETFD), 0);
	close(sv[0]);
	close(sv[1]);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(recv(sv[0], &c, 1, MSG_DONTWAIT), EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

TEST(path_bind_listen_accept_connect)
{
	struct sockaddr_un a, got;
	socklen_t len;
	const char *path = t_path("srv");
	int l = listener_at(path, &a, &len);
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & S_IFMT, S_IFSOCK);
	int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	socklen_t glen = sizeof(got);
	int s = CHECK_OK(accept4(l, (struct sockaddr *)&got, &glen, SOCK_CLOEXEC));
	/* The client is unbound: only the family comes back. */
	CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path));
	CHECK_EQ(got.sun_family, AF_UNIX);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	/* getsockname of the listener and the accepted socket: the path. */
	glen = sizeof(got);
	CHECK_OK(getsockname(l, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, len);
	CHECK_STREQ(got.sun_path, path);
	glen = sizeof(got);
	CHECK_OK(getsockname(s, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, len);
	glen = sizeof(got);
	CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, len);
	CHECK_STREQ(got.sun_path, path);
	glen = sizeof(got);
	CHECK_OK(getpeername(s, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path));
	CHECK_RET(write(c, "ping", 4), 4);
	char buf[8];
	CHECK_RET(read(s, buf, sizeof(buf)), 4);
	CHECK_RET(write(s, "pong", 4), 4);
	CHECK_RET(read(c, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "pong", 4) == 0);
	/* A short buffer gets the start of the name and the full length. */
	glen = 4;
	memset(&got, 'x', sizeof(got));
	CHECK_OK(getsockname(l, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, len);
	CHECK_EQ(got.sun_path[2], 'x');
	/* The peer's name stays after the peer and the listener closed. */
	close(s);
	close(l);
	glen = sizeof(got);
	CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, len);
	CHECK_STREQ(got.sun_path, path);
	close(c);
	/* The file outlives the socket: binding again is EADDRINUSE. */
	int b = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(b, (struct sockaddr *)&a, len), EADDRINUSE);
	CHECK_OK(unlink(path));
	CHECK_OK(bind(b, (struct sockaddr *)&a, len));
	close(b);
	unlink(path);
}

TEST(bind_errors_and_mode)
{
	struct sockaddr_un a;
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	socklen_t len = path_addr(&a, t_path("nodir/s"));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), ENOENT);
	t_make_file("plain", "x", 0644);
	len = path_addr(&a, t_path("plain/s"));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), ENOTDIR);
	len = path_addr(&a, t_path("plain"));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), EADDRINUSE);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a) + 1), EINVAL);
	a.sun_family = AF_INET;
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)8, len), EFAULT);
	/* 0777 & ~umask. */
	mode_t old = umask(022);
	len = path_addr(&a, t_path("moded"));
	CHECK_OK(bind(s, (struct sockaddr *)&a, len));
	umask(old);
	struct stat st;
	CHECK_OK(stat(t_path("moded"), &st));
	CHECK_EQ(st.st_mode, S_IFSOCK | 0755);
	/* Bound already: EINVAL, and the second name is not left behind. */
	len = path_addr(&a, t_path("second"));
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), EINVAL);
	CHECK_ERR(access(t_path("second"), F_OK), ENOENT);
	close(s);
	unlink(t_path("moded"));
	unlink(t_path("plain"));
}

TEST(abstract_names)
{
	struct sockaddr_un a, got;
	socklen_t len = abstract_addr(&a, "abs");
	int l = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(bind(l, (struct sockaddr *)&a, len));
	CHECK_OK(listen(l, 1));
	int other = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(other, (struct sockaddr *)&a, len), EADDRINUSE);
	socklen_t glen = sizeof(got);
	CHECK_OK(getsockname(l, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, len);
	CHECK(memcmp(&got, &a, len) == 0);
	/* The name is exactly addrlen bytes: one byte less is another name. */
	CHECK_ERR(connect(other, (struct sockaddr *)&a, len - 1), ECONNREFUSED);
	CHECK_OK(connect(other, (struct sockaddr *)&a, len));
	int s = CHECK_OK(accept(l, NULL, NULL));
	CHECK_RET(send(other, "x", 1, 0), 1);
	char c;
	CHECK_RET(recv(s, &c, 1, 0), 1);
	close(s);
	close(other);
	close(l);
	/* Closing frees the name. */
	int again = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(bind(again, (struct sockaddr *)&a, len));
	close(again);
}

TEST(autobind)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a = { .sun_family = AF_UNIX }, got;
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	socklen_t glen = sizeof(got);
	CHECK_OK(getsockname(s, (struct sockaddr *)&got, &glen));
	/* "\0" and five hex digits. */
	CHECK_EQ(glen, offsetof(struct sockaddr_un, sun_path) + 6);
	CHECK_EQ(got.sun_path[0], 0);
	for (int i = 1; i < 6; i++)
		CHECK(strchr("0123456789abcdef", got.sun_path[i]) != NULL);
	/* Autobinding again keeps the name; a real bind now fails. */
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	socklen_t len = abstract_addr(&a, "late");
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), EINVAL);
	/* Unbound: getsockname gives the family only. */
	int u = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	glen = sizeof(got);
	CHECK_OK(getsockname(u, (struct sockaddr *)&got, &glen));
	CHECK_EQ(glen, sizeof(sa_family_t));
	glen = (socklen_t)-1;
	CHECK_ERR(getsockname(u, (struct sockaddr *)&got, &glen), EINVAL);
	glen = sizeof(got);
	CHECK_ERR(getpeername(u, (struct sockaddr *)&got, &glen), ENOTCONN);
	close(u);
	close(s);
}

TEST(connect_errors)
{
	struct sockaddr_un a;
	int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	socklen_t len = path_addr(&a, t_path("missing"));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ENOENT);
	t_make_file("regular", "", 0666);
	len = path_addr(&a, t_path("regular"));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(sa_family_t)), EINVAL);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, 0), EINVAL);
	/* A bound socket that does not listen refuses. */
	int b = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	len = path_addr(&a, t_path("bound"));
	CHECK_OK(bind(b, (struct sockaddr *)&a, len));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	/* A socket file whose socket closed refuses. */
	close(b);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	unlink(t_path("bound"));
	/* Type mismatch. */
	int l = listener_at(t_path("lst"), &a, &len);
	int d = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(connect(d, (struct sockaddr *)&a, len), EPROTOTYPE);
	int sp = CHECK_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	CHECK_ERR(connect(sp, (struct sockaddr *)&a, len), EPROTOTYPE);
	/* Connected already. */
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EISCONN);
	close(c);
	close(d);
	close(sp);
	close(l);
	unlink(t_path("lst"));
	unlink(t_path("regular"));
}

TEST(connect_needs_write_permission)
{
	if (geteuid() != 0)
		t_skip("needs root to drop to another uid");
	struct sockaddr_un a;
	socklen_t len;
	CHECK_OK(chmod(t_tmpdir(), 0755));
	mode_t old = umask(022);
	int l = listener_at(t_path("perm"), &a, &len);
	umask(old);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgroups(0, NULL));
		CHECK_OK(setresgid(65534, 65534, 65534));
		CHECK_OK(setresuid(65534, 65534, 65534));
		int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* With write permission for others it connects. */
	CHECK_OK(chmod(t_path("perm"), 0777));
	pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setresgid(65534, 65534, 65534));
		CHECK_OK(setresuid(65534, 65534, 65534));
		int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_OK(connect(c, (struct sockaddr *)&a, len));
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The directories on the way need search permission. */
	CHECK_OK(chmod(t_tmpdir(), 0700));
	pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setresgid(65534, 65534, 65534));
		CHECK_OK(setresuid(65534, 65534, 65534));
		int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(l);
	unlink(t_path("perm"));
}

TEST(listen_accept_errors)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	/* Unbound sockets cannot listen. */
	CHECK_ERR(listen(s, 1), EINVAL);
	CHECK_ERR(accept(s, NULL, NULL), EINVAL);
	CHECK_ERR(accept4(s, NULL, NULL, 0x1), EINVAL);
	int d = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(listen(d, 1), EOPNOTSUPP);
	CHECK_ERR(accept(d, NULL, NULL), EOPNOTSUPP);
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(listen(sv[0], 1), EINVAL);
	int fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(listen(fd, 1), ENOTSOCK);
	CHECK_ERR(accept(fd, NULL, NULL), ENOTSOCK);
	CHECK_ERR(listen(-1, 1), EBADF);
	CHECK_ERR(accept(12345, NULL, NULL), EBADF);
	/* Nonblocking accept with nothing pending. */
	struct sockaddr_un a;
	socklen_t len;
	int l = listener_at(t_path("nb"), &a, &len);
	CHECK_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	CHECK_EQ(revents(l, POLLIN | POLLOUT), 0);
	int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	CHECK_EQ(revents(l, POLLIN), POLLIN);
	/* The new socket does not inherit O_NONBLOCK without SOCK_NONBLOCK. */
	int n = CHECK_OK(accept4(l, NULL, NULL, 0));
	CHECK_EQ(fcntl(n, F_GETFL) & O_NONBLOCK, 0);
	close(n);
	close(c);
	close(l);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	close(d);
	close(s);
	unlink(t_path("nb"));
}

TEST(backlog_full_nonblocking_connect)
{
	struct sockaddr_un a;
	int l = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	socklen_t len = abstract_addr(&a, "backlog");
	CHECK_OK(bind(l, (struct sockaddr *)&a, len));
	CHECK_OK(listen(l, 0));
	int c[4], n = 0;
	/* Backlog 0 still takes one connection, as Linux counts "more than". */
	for (; n < 4; n++) {
		c[n] = CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
		if (connect(c[n], (struct sockaddr *)&a, len) != 0)
			break;
	}
	CHECK_EQ(n, 1);
	CHECK_EQ(errno, EAGAIN);
	close(CHECK_OK(accept(l, NULL, NULL)));
	CHECK_OK(connect(c[n], (struct sockaddr *)&a, len));
	for (int i = 0; i <= n; i++)
		close(c[i]);
	close(l);
}

TEST(eof_after_close_and_shutdown)
{
	int sv[2];
	char buf[8];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_RET(write(sv[0], "ab", 2), 2);
	CHECK_OK(shutdown(sv[0], SHUT_WR));
	CHECK_RET(read(sv[1], buf, sizeof(buf)), 2);
	CHECK_RET(read(sv[1], buf, sizeof(buf)), 0);
	/* The other direction still works. */
	CHECK_RET(write(sv[1], "cd", 2), 2);
	CHECK_RET(read(sv[0], buf, sizeof(buf)), 2);
	close(sv[0]);
	CHECK_RET(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
	/* Closing with unread data: the peer reads ECONNRESET once, then EOF. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_RET(write(sv[1], "x", 1), 1);
	close(sv[0]);
	CHECK_ERR(read(sv[1], buf, 1), ECONNRESET);
	CHECK_RET(read(sv[1], buf, 1), 0);
	close(sv[1]);
}

static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig)
{
	(void)sig;
	got_sigpipe++;
}

TEST(epipe_sigpipe_nosignal)
{
	int sv[2];
	struct sigaction sa = { .sa_handler = on_sigpipe }, old;
	CHECK_OK(sigaction(SIGPIPE, &sa, &old));
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	got_sigpipe = 0;
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK_EQ(got_sigpipe, 1);
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_EQ(got_sigpipe, 2);
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(got_sigpipe, 2);
	close(sv[0]);
	/* After our own SHUT_WR, too. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(shutdown(sv[0], SHUT_WR));
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(got_sigpipe, 2);
	close(sv[0]);
	close(sv[1]);
	/* And after the peer's SHUT_RD. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(shutdown(sv[1], SHUT_RD));
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_RET(send(sv[1], "x", 1, MSG_NOSIGNAL), 1);
	close(sv[0]);
	close(sv[1]);
	CHECK_OK(sigaction(SIGPIPE, &old, NULL));
	/* The default action kills. */
	pid_t pid = t_fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		int p[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0)
			_exit(1);
		close(p[1]);
		(void)!write(p[0], "x", 1);
		_exit(0);
	}
	t_wait_signal(pid, SIGPIPE);
}

TEST(unconnected_errors)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	char c;
	CHECK_ERR(read(s, &c, 1), EINVAL);
	CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN);
	CHECK_ERR(write(s, "x", 1), ENOTCONN);
	struct sockaddr_un a;
	socklen_t len = abstract_addr(&a, "to");
	CHECK_ERR(sendto(s, "x", 1, 0, (struct sockaddr *)&a, len), EOPNOTSUPP);
	CHECK_EQ(revents(s, POLLIN | POLLOUT), POLLOUT | POLLHUP);
	CHECK_OK(shutdown(s, SHUT_RD));
	CHECK_ERR(shutdown(s, 3), EINVAL);
	CHECK_ERR(shutdown(s, -1), EINVAL);
	int fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(shutdown(fd, SHUT_RD), ENOTSOCK);
	CHECK_ERR(send(fd, "x", 1, 0), ENOTSOCK);
	CHECK_ERR(recv(fd, &c, 1, 0), ENOTSOCK);
	socklen_t glen = sizeof(a);
	CHECK_ERR(getsockname(fd, (struct sockaddr *)&a, &glen), ENOTSOCK);
	CHECK_ERR(getpeername(fd, (struct sockaddr *)&a, &glen), ENOTSOCK);
	CHECK_ERR(connect(fd, (struct sockaddr *)&a, len), ENOTSOCK);
	CHECK_ERR(bind(fd, (struct sockaddr *)&a, len), ENOTSOCK);
	CHECK_ERR(shutdown(-1, SHUT_RD), EBADF);
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&a, len), EISCONN);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	close(s);
}

TEST(poll_bits_and_shutdown)
{
	int sv[2];
	const short all = POLLIN | POLLOUT | POLLRDHUP;
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(revents(sv[0], all), POLLOUT);
	CHECK_RET(write(sv[1], "x", 1), 1);
	CHECK_EQ(revents(sv[0], all), POLLIN | POLLOUT);
	CHECK_OK(shutdown(sv[1], SHUT_WR));
	/* The reader sees RDHUP; the writer that shut down only POLLOUT. */
	CHECK_EQ(revents(sv[0], all), POLLIN | POLLOUT | POLLRDHUP);
	CHECK_EQ(revents(sv[1], all), POLLOUT);
	CHECK_OK(shutdown(sv[1], SHUT_RD));
	CHECK_EQ(revents(sv[1], all), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	CHECK_EQ(revents(sv[0], all), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	close(sv[0]);
	close(sv[1]);
	/* A closed peer: hang-up. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	CHECK_EQ(revents(sv[0], all), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	close(sv[0]);
}

TEST(partial_nonblocking_write)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	static char big[1 << 20];
	memset(big, 'z', sizeof(big));
	/* The send buffer takes part of a large write, then EAGAIN. */
	ssize_t n = CHECK_OK(write(sv[0], big, sizeof(big)));
	CHECK(n > 0 && n < (ssize_t)sizeof(big));
	CHECK_ERR(write(sv[0], big, sizeof(big)), EAGAIN);
	CHECK_EQ(revents(sv[0], POLLOUT), 0);
	/* Draining makes room again. */
	static char sink[1 << 20];
	ssize_t got = 0;
	while (got < n) {
		ssize_t r = read(sv[1], sink, sizeof(sink));
		CHECK(r > 0);
		got += r;
	}
	CHECK_EQ(got, n);
	CHECK_EQ(revents(sv[0], POLLOUT), POLLOUT);
	close(sv[0]);
	close(sv[1]);
}

TEST(blocking_write_of_a_megabyte)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = t_fork();
	if (pid == 0) {
		close(sv[0]);
		static char buf[4096];
		long total = 0;
		for (;;) {
			ssize_t r = read(sv[1], buf, sizeof(buf));
			if (r <= 0)
				break;
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != (char)((total + i) % 251))
					_exit(2);
			total += r;
		}
		_exit(total == (1 << 20) ? 0 : 1);
	}
	close(sv[1]);
	static char big[1 << 20];
	for (long i = 0; i < (long)sizeof(big); i++)
		big[i] = (char)(i % 251);
	CHECK_RET(write(sv[0], big, sizeof(big)), sizeof(big));
	close(sv[0]);
	t_wait_exit(pid, 0);
}

TEST(peek_and_waitall)
{
	int sv[2];
	char buf[16];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_RET(write(sv[0], "abcdef", 6), 6);
	CHECK_RET(recv(sv[1], buf, 3, MSG_PEEK), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_RET(recv(sv[1], buf, 16, MSG_PEEK), 6);
	CHECK_RET(recv(sv[1], buf, 16, 0), 6);
	CHECK(memcmp(buf, "abcdef", 6) == 0);
	/* MSG_WAITALL collects writes from another process. */
	pid_t pid = t_fork();
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			t_sleep_ms(20);
			if (write(sv[0], "wxyz", 4) != 4)
				_exit(1);
		}
		_exit(0);
	}
	CHECK_RET(recv(sv[1], buf, 16, MSG_WAITALL), 16);
	CHECK(memcmp(buf, "wxyzwxyzwxyzwxyz", 16) == 0);
	t_wait_exit(pid, 0);
	/* EOF ends a MSG_WAITALL read short. */
	CHECK_RET(write(sv[0], "ab", 2), 2);
	CHECK_OK(shutdown(sv[0], SHUT_WR));
	CHECK_RET(recv(sv[1], buf, 16, MSG_WAITALL), 2);
	close(sv[0]);
	close(sv[1]);
}

TEST(blocking_accept_and_recv_woken_by_child)
{
	struct sockaddr_un a;
	socklen_t len;
	int l = listener_at(t_path("wake"), &a, &len);
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(50);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, len) != 0)
			_exit(1);
		t_sleep_ms(50);
		if (write(c, "late", 4) != 4)
			_exit(2);
		char c2;
		/* Waits for the parent to close. */
		if (read(c, &c2, 1) != 0)
			_exit(3);
		_exit(0);
	}
	int s = CHECK_OK(accept(l, NULL, NULL));
	char buf[8];
	CHECK_RET(read(s, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "late", 4) == 0);
	close(s);
	t_wait_exit(pid, 0);
	close(l);
	unlink(t_path("wake"));
}

TEST(blocking_connect_waits_for_backlog)
{
	struct sockaddr_un a;
	int l = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	socklen_t len = abstract_addr(&a, "waitbl");
	CHECK_OK(bind(l, (struct sockaddr *)&a, len));
	CHECK_OK(listen(l, 0));
	int first = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(first, (struct sockaddr *)&a, len));
	pid_t pid = t_fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		/* Blocks until the parent accepts the first connection. */
		if (c < 0 || connect(c, (struct sockaddr *)&a, len) != 0)
			_exit(1);
		if (write(c, "2", 1) != 1)
			_exit(2);
		_exit(0);
	}
	t_sleep_ms(100);
	int s1 = CHECK_OK(accept(l, NULL, NULL));
	int s2 = CHECK_OK(accept(l, NULL, NULL));
	char c;
	CHECK_RET(read(s2, &c, 1), 1);
	CHECK_EQ(c, '2');
	t_wait_exit(pid, 0);
	close(s1);
	close(s2);
	close(first);
	close(l);
}

TEST(poll_wakes_on_data_from_child)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(50);
		_exit(write(sv[1], "p", 1) == 1 ? 0 : 1);
	}
	struct pollfd p = { .fd = sv[0], .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_EQ(p.revents, POLLIN);
	t_wait_exit(pid, 0);
	close(sv[0]);
	close(sv[1]);
}

TEST(listener_close_resets_pending)
{
	struct sockaddr_un a;
	int l = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	socklen_t len = abstract_addr(&a, "pend");
	CHECK_OK(bind(l, (struct sockaddr *)&a, len));
	CHECK_OK(listen(l, 4));
	int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&a, len));
	close(l);
	/* As an unread connection: ECONNRESET once, then end of file. */
	char ch;
	CHECK_ERR(read(c, &ch, 1), ECONNRESET);
	CHECK_RET(read(c, &ch, 1), 0);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	close(c);
}

TEST(proc_fd_link)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	char link[64], target[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s);
	ssize_t n = CHECK_OK(readlink(link, target, sizeof(target) - 1));
	target[n] = '\0';
	struct stat st;
	CHECK_OK(fstat(s, &st));
	char want[64];
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	CHECK_STREQ(target, want);
	close(s);
}

/* The /proc/net/unix line of inode `ino`, or NULL. */
static char *net_unix_line(unsigned long ino, char *line, size_t size)
{
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f)
		return NULL;
	char *found = NULL;
	while (fgets(line, (int)size, f)) {
		unsigned long i = 0;
		if (sscanf(line, "%*x: %*x %*x %*x %*x %*x %lu", &i) == 1 && i == ino) {
			found = line;
			break;
		}
	}
	fclose(f);
	return found;
}

TEST(proc_net_unix)
{
	FILE *f = fopen("/proc/net/unix", "r");
	CHECK(f != NULL);
	char line[512];
	CHECK(fgets(line, sizeof(line), f) != NULL);
	fclose(f);
	CHECK_STREQ(line, "Num       RefCount Protocol Flags    Type St Inode Path\n");
	struct sockaddr_un a;
	socklen_t len;
	int l = listener_at(t_path("netunix"), &a, &len);
	struct stat st;
	CHECK_OK(fstat(l, &st));
	char *got = net_unix_line((unsigned long)st.st_ino, line, sizeof(line));
	CHECK(got != NULL);
	unsigned flags = 0, type = 0, state = 0;
	char path[256] = "";
	CHECK_EQ(sscanf(got, "%*x: %*x %*x %x %x %x %*u %255s", &flags, &type, &state, path), 4);
	CHECK_EQ(flags, 0x10000);
	CHECK_EQ(type, SOCK_STREAM);
	CHECK_EQ(state, 1);
	CHECK_STREQ(path, t_path("netunix"));
	/* A connected datagram pair, one with an abstract name. */
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_OK(fstat(sv[0], &st));
	got = net_unix_line((unsigned long)st.st_ino, line, sizeof(line));
	CHECK(got != NULL);
	CHECK_EQ(sscanf(got, "%*x: %*x %*x %x %x %x", &flags, &type, &state), 3);
	CHECK_EQ(flags, 0);
	CHECK_EQ(type, SOCK_DGRAM);
	CHECK_EQ(state, 3);
	int b = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	socklen_t blen = abstract_addr(&a, "net");
	CHECK_OK(bind(b, (struct sockaddr *)&a, blen));
	CHECK_OK(fstat(b, &st));
	got = net_unix_line((unsigned long)st.st_ino, line, sizeof(line));
	CHECK(got != NULL);
	CHECK(strstr(got, " @starling-") != NULL);
	close(b);
	/* Closed sockets leave the table. */
	CHECK_OK(fstat(sv[1], &st));
	close(sv[0]);
	close(sv[1]);
	CHECK(net_unix_line((unsigned long)st.st_ino, line, sizeof(line)) == NULL);
	close(l);
	unlink(t_path("netunix"));
}
