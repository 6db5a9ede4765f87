/*
 * AF_UNIX stream sockets (unix(7)), setting up: socketpair, bind/listen/
 * accept4/connect on path and abstract names, autobind, getsockname/
 * getpeername, the backlog, the errors of each call, and how /proc shows
 * sockets.  Moving data is in unix_stream_io.c.
 */
#include "unix_test.h"

#include <grp.h>

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
