/*
 * AF_UNIX stream sockets (unix(7)), moving data: end of stream,
 * EPIPE/SIGPIPE/MSG_NOSIGNAL, shutdown and poll bits, O_NONBLOCK and
 * MSG_DONTWAIT, partial and large writes, MSG_PEEK/MSG_WAITALL, and
 * blocking accept/recv/connect woken by another process.
 */
#include "unix_test.h"

#include <grp.h>

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

