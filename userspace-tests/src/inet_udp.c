/*
 * AF_INET and AF_INET6 datagram sockets on loopback (udp(7)): sendto and
 * recvfrom with addresses, autobind on the first send, connect (default
 * peer, source filter, AF_UNSPEC), truncation and MSG_TRUNC, MSG_PEEK and
 * MSG_DONTWAIT, poll, datagrams to nobody, EMSGSIZE, IPv6 and v4-mapped
 * sources, bind rules and the errors of the stream-only calls.
 */
#include "inet_test.h"

#include <sys/uio.h>

/* A UDP socket bound to 127.0.0.1 and an ephemeral port. */
static int udp_bound(unsigned *port)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a = v4("127.0.0.1", 0);
	CHECK_OK(bind(s, SA(a), sizeof(a)));
	*port = port_of(s);
	return s;
}

TEST(sendto_recvfrom)
{
	unsigned pr, ps;
	int r = udp_bound(&pr), s = udp_bound(&ps);
	CHECK_EQ(int_opt(r, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	CHECK_EQ(int_opt(r, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	struct sockaddr_in to = v4("127.0.0.1", pr);
	CHECK_RET(sendto(s, "one", 3, 0, SA(to), sizeof(to)), 3);
	CHECK_RET(sendto(s, "two!", 4, 0, SA(to), sizeof(to)), 4);
	char buf[16];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	memset(&from, 0, sizeof(from));
	/* Boundaries are kept. */
	CHECK_RET(recvfrom(r, buf, sizeof(buf), 0, SA(from), &len), 3);
	CHECK(memcmp(buf, "one", 3) == 0);
	CHECK_EQ(len, sizeof(from));
	CHECK_EQ(from.sin_family, AF_INET);
	CHECK_EQ(ntohs(from.sin_port), ps);
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK_RET(recv(r, buf, sizeof(buf), 0), 4);
	CHECK_ERR(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	close(s);
	close(r);
}

TEST(first_send_autobinds)
{
	unsigned pr;
	int r = udp_bound(&pr);
	int s = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_EQ(port_of(s), 0);
	struct sockaddr_in to = v4("127.0.0.1", pr);
	CHECK_RET(sendto(s, "x", 1, 0, SA(to), sizeof(to)), 1);
	unsigned ps = port_of(s);
	CHECK(ps != 0);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	CHECK_OK(getsockname(s, SA(a), &len));
	CHECK_EQ(a.sin_addr.s_addr, htonl(INADDR_ANY));
	struct sockaddr_in from;
	len = sizeof(from);
	char c;
	CHECK_RET(recvfrom(r, &c, 1, 0, SA(from), &len), 1);
	CHECK_EQ(ntohs(from.sin_port), ps);
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* The reply reaches the autobound port. */
	CHECK_RET(sendto(r, "y", 1, 0, SA(from), len), 1);
	CHECK_RET(recv(s, &c, 1, 0), 1);
	CHECK_EQ(c, 'y');
	close(s);
	close(r);
}

TEST(connected_sockets)
{
	unsigned pr, ps, po;
	int r = udp_bound(&pr), s = udp_bound(&ps), other = udp_bound(&po);
	char c;
	CHECK_ERR(send(s, "x", 1, 0), EDESTADDRREQ);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	CHECK_ERR(getpeername(s, SA(a), &len), ENOTCONN);
	struct sockaddr_in to = v4("127.0.0.1", pr);
	CHECK_OK(connect(s, SA(to), sizeof(to)));
	len = sizeof(a);
	CHECK_OK(getpeername(s, SA(a), &len));
	CHECK_EQ(ntohs(a.sin_port), pr);
	CHECK_RET(send(s, "a", 1, 0), 1);
	CHECK_RET(write(s, "b", 1), 1);
	CHECK_RET(recv(r, &c, 1, 0), 1);
	CHECK_EQ(c, 'a');
	CHECK_RET(read(r, &c, 1), 1);
	CHECK_EQ(c, 'b');
	/* A connected socket takes datagrams from its peer only. */
	to = v4("127.0.0.1", ps);
	CHECK_RET(sendto(other, "o", 1, 0, SA(to), sizeof(to)), 1);
	CHECK_RET(sendto(r, "r", 1, 0, SA(to), sizeof(to)), 1);
	struct pollfd p = { .fd = s, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	CHECK_RET(recv(s, &c, 1, 0), 1);
	CHECK_EQ(c, 'r');
	CHECK_ERR(recv(s, &c, 1, MSG_DONTWAIT), EAGAIN);
	/* AF_UNSPEC dissolves the association. */
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	CHECK_OK(connect(s, &un, sizeof(un)));
	len = sizeof(a);
	CHECK_ERR(getpeername(s, SA(a), &len), ENOTCONN);
	CHECK_ERR(send(s, "x", 1, 0), EDESTADDRREQ);
	close(other);
	close(s);
	close(r);
}

TEST(truncation_peek_and_poll)
{
	unsigned pr, ps;
	int r = udp_bound(&pr), s = udp_bound(&ps);
	CHECK_EQ(revents(r, POLLIN | POLLOUT), POLLOUT);
	struct sockaddr_in to = v4("127.0.0.1", pr);
	CHECK_RET(sendto(s, "abcdefgh", 8, 0, SA(to), sizeof(to)), 8);
	CHECK_RET(sendto(s, "12345678", 8, 0, SA(to), sizeof(to)), 8);
	CHECK_RET(sendto(s, "XYZ", 3, 0, SA(to), sizeof(to)), 3);
	struct pollfd p = { .fd = r, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	char buf[16];
	CHECK_RET(recv(r, buf, 2, MSG_PEEK), 2);
	CHECK(memcmp(buf, "ab", 2) == 0);
	/* A short buffer takes the start; the rest is lost. */
	struct iovec iov = { buf, 3 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	CHECK_RET(recvmsg(r, &m, 0), 3);
	CHECK(m.msg_flags & MSG_TRUNC);
	CHECK(memcmp(buf, "abc", 3) == 0);
	/* MSG_TRUNC returns the datagram's real length. */
	CHECK_RET(recv(r, buf, 4, MSG_TRUNC), 8);
	CHECK(memcmp(buf, "1234", 4) == 0);
	CHECK_RET(recv(r, buf, sizeof(buf), 0), 3);
	CHECK(memcmp(buf, "XYZ", 3) == 0);
	CHECK_EQ(revents(r, POLLIN), 0);
	close(s);
	close(r);
}

TEST(datagrams_to_nobody_and_too_big)
{
	unsigned pr;
	int r = udp_bound(&pr);
	int s = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	close(r);
	/* Nobody holds the port: the datagram is lost, the send succeeds. */
	struct sockaddr_in to = v4("127.0.0.1", pr);
	CHECK_RET(sendto(s, "x", 1, 0, SA(to), sizeof(to)), 1);
	static char big[65508];
	CHECK_ERR(sendto(s, big, sizeof(big), 0, SA(to), sizeof(to)), EMSGSIZE);
	CHECK_ERR(sendto(s, "x", 1, 0, SA(to), 4), EINVAL);
	close(s);
}

TEST(ipv6_and_mapped_sources)
{
	int r = CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 any = v6("::", 0);
	CHECK_OK(bind(r, SA(any), sizeof(any)));
	unsigned pr = port_of(r);
	/* From IPv4: the source reads as ::ffff:127.0.0.1. */
	unsigned ps;
	int s4 = udp_bound(&ps);
	struct sockaddr_in to4 = v4("127.0.0.1", pr);
	CHECK_RET(sendto(s4, "4", 1, 0, SA(to4), sizeof(to4)), 1);
	struct sockaddr_in6 from;
	socklen_t len = sizeof(from);
	char c;
	CHECK_RET(recvfrom(r, &c, 1, 0, SA(from), &len), 1);
	CHECK_EQ(len, sizeof(struct sockaddr_in6));
	CHECK_EQ(from.sin6_family, AF_INET6);
	struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1", 0);
	CHECK(memcmp(&from.sin6_addr, &mapped.sin6_addr, 16) == 0);
	CHECK_EQ(ntohs(from.sin6_port), ps);
	/* From IPv6 on ::1. */
	int s6 = CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 to6 = v6("::1", pr);
	CHECK_RET(sendto(s6, "6", 1, 0, SA(to6), sizeof(to6)), 1);
	len = sizeof(from);
	CHECK_RET(recvfrom(r, &c, 1, 0, SA(from), &len), 1);
	CHECK_EQ(c, '6');
	CHECK(memcmp(&from.sin6_addr, &to6.sin6_addr, 16) == 0);
	CHECK_EQ(ntohs(from.sin6_port), port_of(s6));
	close(s6);
	close(s4);
	close(r);
}

TEST(bind_rules_and_stream_calls)
{
	unsigned p;
	int a = udp_bound(&p);
	int b = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in at = v4("127.0.0.1", p);
	CHECK_ERR(bind(b, SA(at), sizeof(at)), EADDRINUSE);
	/* TCP and UDP ports are separate. */
	int t = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(bind(t, SA(at), sizeof(at)));
	close(t);
	close(a);
	a = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	set_int(a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(b, SOL_SOCKET, SO_REUSEADDR, 1);
	CHECK_OK(bind(a, SA(at), sizeof(at)));
	CHECK_OK(bind(b, SA(at), sizeof(at)));
	CHECK_ERR(listen(a, 1), EOPNOTSUPP);
	CHECK_ERR(accept(a, NULL, NULL), EOPNOTSUPP);
	int v;
	socklen_t len = sizeof(v);
	CHECK_ERR(getsockopt(a, IPPROTO_TCP, TCP_NODELAY, &v, &len), EOPNOTSUPP);
	set_int(a, SOL_SOCKET, SO_BROADCAST, 1);
	CHECK_EQ(int_opt(a, SOL_SOCKET, SO_BROADCAST), 1);
	close(b);
	close(a);
}
