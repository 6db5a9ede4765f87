/*
 * Helpers shared by the AF_INET/AF_INET6 tests (inet_tcp.c, inet_udp.c):
 * loopback addresses, ports, a listener on an ephemeral port.  Ports come
 * from bind(0), so the tests run beside anything else on a host.
 */
#ifndef STARLING_INET_TEST_H
#define STARLING_INET_TEST_H

#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

/* 127.0.0.1:port (host order). */
T_HELPER struct sockaddr_in v4(const char *ip, unsigned port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		t_fail("bad address %s", ip);
	return a;
}

T_HELPER struct sockaddr_in6 v6(const char *ip, unsigned port)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons((uint16_t)port);
	if (inet_pton(AF_INET6, ip, &a.sin6_addr) != 1)
		t_fail("bad address %s", ip);
	return a;
}

#define SA(a) ((struct sockaddr *)&(a))

/* The port getsockname reports for `fd` (host order). */
T_HELPER unsigned port_of(int fd)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);
	CHECK_OK(getsockname(fd, SA(a), &len));
	return ntohs(a.sin6_port); /* same offset in sockaddr_in */
}

/* A TCP listener on 127.0.0.1 and an ephemeral port; the port in *port. */
T_HELPER int tcp_listener(unsigned *port, int flags)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM | flags, 0));
	struct sockaddr_in a = v4("127.0.0.1", 0);
	CHECK_OK(bind(s, SA(a), sizeof(a)));
	CHECK_OK(listen(s, 16));
	*port = port_of(s);
	return s;
}

/* A connected client of 127.0.0.1:port. */
T_HELPER int tcp_client(unsigned port)
{
	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = v4("127.0.0.1", port);
	CHECK_OK(connect(c, SA(a), sizeof(a)));
	return c;
}

T_HELPER int int_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	CHECK_OK(getsockopt(fd, level, name, &v, &len));
	CHECK_EQ(len, sizeof(int));
	return v;
}

T_HELPER void set_int(int fd, int level, int name, int v)
{
	CHECK_OK(setsockopt(fd, level, name, &v, sizeof(v)));
}

T_HELPER short revents(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	CHECK_OK(poll(&p, 1, 0));
	return p.revents;
}

/* Reads exactly `len` bytes (blocking), failing on EOF. */
T_HELPER void read_full(int fd, void *buf, size_t len)
{
	size_t at = 0;
	while (at < len) {
		ssize_t n = read(fd, (char *)buf + at, len - at);
		CHECK_MSG(n > 0, "read returned %zd (%s) at %zu of %zu", n,
			  t_errname(errno), at, len);
		at += (size_t)n;
	}
}

T_HELPER void write_full(int fd, const void *buf, size_t len)
{
	size_t at = 0;
	while (at < len) {
		ssize_t n = write(fd, (const char *)buf + at, len - at);
		CHECK_MSG(n > 0, "write returned %zd (%s)", n, t_errname(errno));
		at += (size_t)n;
	}
}

#endif
