/*
 * AF_INET and AF_INET6 stream sockets on loopback (tcp(7), ip(7), ipv6(7)):
 * socket types and protocols, bind rules (EADDRNOTAVAIL, EADDRINUSE,
 * SO_REUSEADDR, ephemeral ports, privileged ports), a forked client and
 * server, non-blocking accept and connect, poll and epoll readiness,
 * shutdown/EOF/EPIPE, MSG_PEEK/MSG_WAITALL/MSG_DONTWAIT, IPv6 and
 * v4-mapped addresses, the options, and 4 MiB each way.
 */
#include "inet_test.h"

#include <sys/uio.h>
#include <sys/wait.h>

TEST(socket_types_and_protocols)
{
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET6, SOCK_STREAM, 99), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, 99, 0), EINVAL);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM | 0x1000, 0), EINVAL);
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
	CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_DOMAIN), AF_INET);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
	struct stat st;
	CHECK_OK(fstat(s, &st));
	CHECK_EQ(st.st_mode & S_IFMT, S_IFSOCK);
	close(s);
	s = CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_DOMAIN), AF_INET6);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	close(s);
	int sv[2];
	CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}

TEST(names_before_connecting)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	memset(&a, 0xff, sizeof(a));
	CHECK_OK(getsockname(s, SA(a), &len));
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK_EQ(a.sin_port, 0);
	CHECK_EQ(a.sin_addr.s_addr, htonl(INADDR_ANY));
	len = sizeof(a);
	CHECK_ERR(getpeername(s, SA(a), &len), ENOTCONN);
	char c;
	CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_ERR(recv(s, &c, 1, 0), ENOTCONN);
	CHECK_ERR(shutdown(s, SHUT_RDWR), ENOTCONN);
	CHECK_ERR(accept(s, NULL, NULL), EINVAL);
	close(s);
}

TEST(bind_rules)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = v4("192.0.2.1", 0);
	CHECK_ERR(bind(s, SA(a), sizeof(a)), EADDRNOTAVAIL);
	a = v4("127.0.0.1", 0);
	CHECK_ERR(bind(s, SA(a), sizeof(a) - 1), EINVAL);
	struct sockaddr_in6 six = v6("::1", 0);
	CHECK_ERR(bind(s, SA(six), sizeof(six)), EAFNOSUPPORT);
	CHECK_OK(bind(s, SA(a), sizeof(a)));
	unsigned port = port_of(s);
	CHECK_MSG(port >= 1024, "ephemeral port %u", port);
	CHECK_ERR(bind(s, SA(a), sizeof(a)), EINVAL);

	/* The same port again: taken, also through 0.0.0.0 and 127.0.0.2. */
	int t = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in b = v4("127.0.0.1", port);
	CHECK_ERR(bind(t, SA(b), sizeof(b)), EADDRINUSE);
	b = v4("0.0.0.0", port);
	CHECK_ERR(bind(t, SA(b), sizeof(b)), EADDRINUSE);
	/* Another 127/8 address is a different address. */
	b = v4("127.0.0.2", port);
	CHECK_OK(bind(t, SA(b), sizeof(b)));
	CHECK_EQ(port_of(t), port);
	close(t);

	/* SO_REUSEADDR on both, neither listening: shared. */
	close(s);
	s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	t = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(t, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_REUSEADDR), 1);
	CHECK_OK(bind(s, SA(a), sizeof(a)));
	b = v4("127.0.0.1", port_of(s));
	CHECK_OK(bind(t, SA(b), sizeof(b)));
	close(t);
	CHECK_OK(listen(s, 1));
	/* A listener is never shared through SO_REUSEADDR. */
	t = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int(t, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_ERR(bind(t, SA(b), sizeof(b)), EADDRINUSE);
	close(t);
	close(s);
	/* Closing frees the port. */
	t = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(bind(t, SA(b), sizeof(b)));
	close(t);
}

TEST(privileged_port_needs_capability)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (geteuid() == 0)
			CHECK_OK(setuid(65534));
		int s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
		struct sockaddr_in a = v4("127.0.0.1", 80);
		CHECK_ERR(bind(s, SA(a), sizeof(a)), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(listen_autobinds)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(listen(s, 4));
	CHECK(port_of(s) != 0);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 1);
	close(s);
}

TEST(connect_errors)
{
	/* A bound port nobody listens on refuses. */
	int b = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = v4("127.0.0.1", 0);
	CHECK_OK(bind(b, SA(a), sizeof(a)));
	a = v4("127.0.0.1", port_of(b));
	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, SA(a), sizeof(a)), ECONNREFUSED);
	close(c);
	c = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, SA(a), 8), EINVAL);
	close(c);
	close(b);

	unsigned port;
	int l = tcp_listener(&port, 0);
	c = tcp_client(port);
	a = v4("127.0.0.1", port);
	CHECK_ERR(connect(c, SA(a), sizeof(a)), EISCONN);
	CHECK_ERR(listen(c, 1), EINVAL);
	CHECK_ERR(connect(l, SA(a), sizeof(a)), EISCONN);
	close(c);
	close(l);
}

TEST(fork_client_server)
{
	unsigned port;
	int l = tcp_listener(&port, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		int c = tcp_client(port);
		struct sockaddr_in p;
		socklen_t len = sizeof(p);
		CHECK_OK(getpeername(c, SA(p), &len));
		CHECK_EQ(len, sizeof(p));
		CHECK_EQ(ntohs(p.sin_port), port);
		CHECK_EQ(p.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
		len = sizeof(p);
		CHECK_OK(getsockname(c, SA(p), &len));
		CHECK_EQ(p.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
		CHECK(ntohs(p.sin_port) != port && ntohs(p.sin_port) != 0);
		CHECK_RET(write(c, "ping", 4), 4);
		char buf[8];
		read_full(c, buf, 4);
		CHECK(memcmp(buf, "pong", 4) == 0);
		/* The server closed: end of file. */
		CHECK_RET(read(c, buf, sizeof(buf)), 0);
		close(c);
		_exit(0);
	}
	struct sockaddr_in p;
	socklen_t len = sizeof(p);
	int s = CHECK_OK(accept(l, SA(p), &len));
	CHECK_EQ(len, sizeof(p));
	CHECK_EQ(p.sin_family, AF_INET);
	CHECK_EQ(p.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	unsigned cport = ntohs(p.sin_port);
	struct sockaddr_in q;
	len = sizeof(q);
	CHECK_OK(getpeername(s, SA(q), &len));
	CHECK_EQ(ntohs(q.sin_port), cport);
	len = sizeof(q);
	CHECK_OK(getsockname(s, SA(q), &len));
	CHECK_EQ(ntohs(q.sin_port), port);
	CHECK_EQ(q.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	char buf[8];
	read_full(s, buf, 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_RET(send(s, "pong", 4, 0), 4);
	close(s);
	t_wait_exit(pid, 0);
	close(l);
}

TEST(nonblocking_accept_and_connect)
{
	unsigned port;
	int l = tcp_listener(&port, SOCK_NONBLOCK);
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	CHECK_EQ(revents(l, POLLIN), 0);
	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in a = v4("127.0.0.1", port);
	CHECK_ERR(connect(c, SA(a), sizeof(a)), EINPROGRESS);
	struct pollfd p = { .fd = c, .events = POLLOUT };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_EQ(p.revents, POLLOUT);
	CHECK_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
	p = (struct pollfd){ .fd = l, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_EQ(p.revents, POLLIN);
	int s = CHECK_OK(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
	/* The connect after EINPROGRESS reports the outcome, then EISCONN. */
	CHECK_OK(connect(c, SA(a), sizeof(a)));
	CHECK_ERR(connect(c, SA(a), sizeof(a)), EISCONN);
	char ch;
	CHECK_ERR(recv(s, &ch, 1, 0), EAGAIN);
	CHECK_RET(send(c, "x", 1, 0), 1);
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_RET(recv(s, &ch, 1, 0), 1);
	CHECK_EQ(ch, 'x');
	close(s);
	close(c);
	close(l);
}

TEST(nonblocking_connect_refused)
{
	int b = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = v4("127.0.0.1", 0);
	CHECK_OK(bind(b, SA(a), sizeof(a)));
	a = v4("127.0.0.1", port_of(b));
	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERR(connect(c, SA(a), sizeof(a)), EINPROGRESS);
	struct pollfd p = { .fd = c, .events = POLLOUT };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLERR);
	CHECK_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	CHECK_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
	close(c);
	close(b);
}

TEST(epoll_readiness)
{
	unsigned port;
	int l = tcp_listener(&port, 0);
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	struct epoll_event got[4];
	CHECK_RET(epoll_wait(ep, got, 4, 0), 0);
	int c = tcp_client(port);
	CHECK_RET(epoll_wait(ep, got, 4, 5000), 1);
	CHECK_EQ(got[0].events, EPOLLIN);
	int s = CHECK_OK(accept(l, NULL, NULL));
	CHECK_RET(epoll_wait(ep, got, 4, 0), 0);
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.fd = s };
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	CHECK_RET(epoll_wait(ep, got, 4, 0), 1);
	CHECK_EQ(got[0].events, EPOLLOUT);
	CHECK_RET(write(c, "abc", 3), 3);
	CHECK_RET(epoll_wait(ep, got, 4, 5000), 1);
	CHECK_EQ(got[0].events, EPOLLIN | EPOLLOUT);
	char buf[4];
	CHECK_RET(read(s, buf, 4), 3);
	CHECK_OK(shutdown(c, SHUT_WR));
	/* The peer's FIN: readable (end of file) and EPOLLRDHUP. */
	for (int i = 0; i < 100; i++) {
		CHECK_RET(epoll_wait(ep, got, 4, 5000), 1);
		if (got[0].events & EPOLLRDHUP)
			break;
		t_sleep_ms(10);
	}
	CHECK_EQ(got[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	CHECK_RET(read(s, buf, 4), 0);
	close(ep);
	close(s);
	close(c);
	close(l);
}

static volatile sig_atomic_t pipes;
static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

TEST(shutdown_eof_and_epipe)
{
	unsigned port;
	int l = tcp_listener(&port, 0);
	int c = tcp_client(port);
	int s = CHECK_OK(accept(l, NULL, NULL));
	CHECK_ERR(shutdown(c, 7), EINVAL);
	CHECK_OK(shutdown(c, SHUT_WR));
	char buf[8];
	CHECK_RET(read(s, buf, sizeof(buf)), 0);
	/* The other direction still works. */
	CHECK_RET(write(s, "back", 4), 4);
	read_full(c, buf, 4);
	CHECK(memcmp(buf, "back", 4) == 0);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	struct sigaction sa = { .sa_handler = on_pipe }, old;
	CHECK_OK(sigaction(SIGPIPE, &sa, &old));
	pipes = 0;
	CHECK_ERR(write(c, "x", 1), EPIPE);
	CHECK_EQ(pipes, 1);
	close(s);
	/* The peer is gone: a write fails with EPIPE at the latest on the
	 * second try (Linux takes the first and answers with a reset). */
	int err = 0;
	CHECK_RET(read(c, buf, sizeof(buf)), 0);
	int c2 = tcp_client(port);
	int s2 = CHECK_OK(accept(l, NULL, NULL));
	close(s2);
	for (int i = 0; i < 3 && !err; i++) {
		if (send(c2, "y", 1, MSG_NOSIGNAL) < 0)
			err = errno;
		else
			t_sleep_ms(20);
	}
	CHECK_EQ(err, EPIPE);
	CHECK_OK(sigaction(SIGPIPE, &old, NULL));
	close(c2);
	close(c);
	close(l);
}

TEST(peek_waitall_dontwait)
{
	unsigned port;
	int l = tcp_listener(&port, 0);
	int c = tcp_client(port);
	int s = CHECK_OK(accept(l, NULL, NULL));
	char buf[16];
	CHECK_ERR(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK_RET(write(c, "hello", 5), 5);
	struct pollfd p = { .fd = s, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_RET(recv(s, buf, 3, MSG_PEEK), 3);
	CHECK(memcmp(buf, "hel", 3) == 0);
	CHECK_RET(recv(s, buf, sizeof(buf), 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			t_sleep_ms(10);
			CHECK_RET(write(c, "abcd", 4), 4);
		}
		_exit(0);
	}
	CHECK_RET(recv(s, buf, 16, MSG_WAITALL), 16);
	CHECK(memcmp(buf, "abcdabcdabcdabcd", 16) == 0);
	t_wait_exit(pid, 0);
	/* readv/writev. */
	struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
	CHECK_RET(writev(c, iov, 2), 5);
	char x[2], y[3];
	struct iovec in[2] = { { x, 2 }, { y, 3 } };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_RET(readv(s, in, 2), 5);
	CHECK(memcmp(y, "cde", 3) == 0);
	close(s);
	close(c);
	close(l);
}

TEST(ipv6_and_v4_mapped)
{
	int l = CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_EQ(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	struct sockaddr_in6 any = v6("::", 0);
	CHECK_OK(bind(l, SA(any), sizeof(any)));
	CHECK_ERR(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 }, sizeof(int)), EINVAL);
	CHECK_OK(listen(l, 4));
	unsigned port = port_of(l);
	/* An IPv4 client reaches the :: listener. */
	int c4 = tcp_client(port);
	struct sockaddr_in6 p;
	socklen_t len = sizeof(p);
	int s4 = CHECK_OK(accept(l, SA(p), &len));
	CHECK_EQ(len, sizeof(struct sockaddr_in6));
	CHECK_EQ(p.sin6_family, AF_INET6);
	struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1", 0);
	CHECK(memcmp(&p.sin6_addr, &mapped.sin6_addr, 16) == 0);
	len = sizeof(p);
	CHECK_OK(getsockname(s4, SA(p), &len));
	CHECK(memcmp(&p.sin6_addr, &mapped.sin6_addr, 16) == 0);
	CHECK_EQ(ntohs(p.sin6_port), port);
	/* An IPv6 client on ::1, and one through the mapped address. */
	int c6 = CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in6 one = v6("::1", port);
	CHECK_OK(connect(c6, SA(one), sizeof(one)));
	len = sizeof(p);
	int s6 = CHECK_OK(accept(l, SA(p), &len));
	CHECK(memcmp(&p.sin6_addr, &one.sin6_addr, 16) == 0);
	int cm = CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	mapped.sin6_port = htons((uint16_t)port);
	CHECK_OK(connect(cm, SA(mapped), sizeof(mapped)));
	int sm = CHECK_OK(accept(l, NULL, NULL));
	CHECK_RET(write(c6, "six", 3), 3);
	char buf[4];
	read_full(s6, buf, 3);
	CHECK(memcmp(buf, "six", 3) == 0);
	CHECK_RET(write(s4, "four", 4), 4);
	read_full(c4, buf, 4);
	CHECK(memcmp(buf, "four", 4) == 0);
	close(sm);
	close(cm);
	close(s6);
	close(c6);
	close(s4);
	close(c4);
	close(l);

	/* IPV6_V6ONLY: IPv4 clients are refused. */
	l = CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	set_int(l, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	CHECK_EQ(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	CHECK_OK(bind(l, SA(any), sizeof(any)));
	CHECK_OK(listen(l, 4));
	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = v4("127.0.0.1", port_of(l));
	CHECK_ERR(connect(c, SA(a), sizeof(a)), ECONNREFUSED);
	close(c);
	close(l);
}

TEST(options_read_back)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int(s, SOL_SOCKET, SO_REUSEPORT, 1);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_REUSEPORT), 1);
	set_int(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 1);
	set_int(s, IPPROTO_TCP, TCP_NODELAY, 1);
	CHECK_EQ(int_opt(s, IPPROTO_TCP, TCP_NODELAY), 1);
	set_int(s, IPPROTO_TCP, TCP_CORK, 1);
	CHECK_EQ(int_opt(s, IPPROTO_TCP, TCP_CORK), 1);
	set_int(s, IPPROTO_IP, IP_TOS, 0x10);
	CHECK_EQ(int_opt(s, IPPROTO_IP, IP_TOS), 0x10);
	set_int(s, SOL_SOCKET, SO_RCVBUF, 65536);
	CHECK_EQ(int_opt(s, SOL_SOCKET, SO_RCVBUF), 131072);
	struct linger lg = { 1, 5 }, got;
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	socklen_t len = sizeof(got);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len));
	CHECK_EQ(len, sizeof(got));
	CHECK_EQ(got.l_onoff, 1);
	CHECK_EQ(got.l_linger, 5);
	struct timeval tv = { 1, 500000 }, tg;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	len = sizeof(tg);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tg, &len));
	CHECK_EQ(tg.tv_sec, 1);
	CHECK_EQ(tg.tv_usec, 500000);
	int v;
	len = sizeof(v);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	CHECK_ERR(getsockopt(s, IPPROTO_TCP, 9999, &v, &len), ENOPROTOOPT);
	CHECK_ERR(setsockopt(s, IPPROTO_TCP, 9999, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), EOPNOTSUPP);
	close(s);
}

#define BIG (4u << 20)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 31 + seed + (i >> 12)) & 0xff);
}

TEST(four_mib_each_way)
{
	unsigned port;
	int l = tcp_listener(&port, 0);
	unsigned char *out = malloc(BIG), *in = malloc(BIG), *want = malloc(BIG);
	CHECK(out && in && want);
	pid_t pid = t_fork();
	if (pid == 0) {
		int c = tcp_client(port);
		fill(out, BIG, 1);
		write_full(c, out, BIG);
		CHECK_OK(shutdown(c, SHUT_WR));
		read_full(c, in, BIG);
		fill(want, BIG, 2);
		CHECK(memcmp(in, want, BIG) == 0);
		char ch;
		CHECK_RET(read(c, &ch, 1), 0);
		close(c);
		_exit(0);
	}
	int s = CHECK_OK(accept(l, NULL, NULL));
	read_full(s, in, BIG);
	char ch;
	CHECK_RET(read(s, &ch, 1), 0);
	fill(want, BIG, 1);
	CHECK(memcmp(in, want, BIG) == 0);
	fill(out, BIG, 2);
	write_full(s, out, BIG);
	close(s);
	t_wait_exit(pid, 0);
	free(out);
	free(in);
	free(want);
	close(l);
}

/* The /proc/net/tcp line whose local address is 127.0.0.1:port and whose
 * state is `st`: its inode, or 0 when there is none. */
static unsigned long proc_tcp_inode(unsigned port, unsigned st)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	CHECK_MSG(f != NULL, "open /proc/net/tcp: %s", t_errname(errno));
	char line[256];
	unsigned long found = 0;
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK(strncmp(line, "  sl  local_address rem_address   st", 36) == 0);
	while (fgets(line, sizeof(line), f)) {
		unsigned laddr, lport, raddr, rport, state, uid;
		unsigned long inode;
		if (sscanf(line, "%*d: %8X:%4X %8X:%4X %2X %*X:%*X %*X:%*X %*X %u %*d %lu",
			   &laddr, &lport, &raddr, &rport, &state, &uid, &inode) != 7)
			continue;
		if (laddr == htonl(INADDR_LOOPBACK) && lport == port && state == st)
			found = inode;
	}
	fclose(f);
	return found;
}

TEST(proc_net_tcp)
{
	unsigned port;
	int l = tcp_listener(&port, 0);
	struct stat st;
	CHECK_OK(fstat(l, &st));
	CHECK_EQ(proc_tcp_inode(port, 0x0a), (unsigned long)st.st_ino);
	int c = tcp_client(port);
	int s = CHECK_OK(accept(l, NULL, NULL));
	CHECK_OK(fstat(s, &st));
	/* The accepted socket: established on the listener's port. */
	CHECK_EQ(proc_tcp_inode(port, 0x01), (unsigned long)st.st_ino);
	close(s);
	close(c);
	close(l);
	CHECK_EQ(proc_tcp_inode(port, 0x0a), 0);
}
