/*
 * Network interface ioctls on sockets (netdevice(7)) for the loopback
 * interface: SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFINDEX, SIOCGIFNAME (and
 * glibc's if_nametoindex/if_indextoname, built on them), SIOCGIFMTU,
 * SIOCGIFHWADDR, SIOCGIFMETRIC, SIOCGIFTXQLEN, SIOCGIFMAP on every kind of
 * socket; the address requests (SIOCGIFADDR, SIOCGIFNETMASK,
 * SIOCGIFBRDADDR, SIOCGIFDSTADDR) on AF_INET sockets only (ENOTTY
 * elsewhere); ENODEV for unknown names and indexes, EADDRNOTAVAIL for an
 * alias without an address, EFAULT. A Linux host may have more
 * interfaces than lo; Starling has lo alone.
 */
#include "test.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static const struct {
	int family, type;
	const char *name;
} kinds[] = {
	{ AF_INET, SOCK_DGRAM, "AF_INET datagram" },   { AF_INET6, SOCK_DGRAM, "AF_INET6 datagram" },
	{ AF_UNIX, SOCK_DGRAM, "AF_UNIX datagram" },   { AF_INET, SOCK_STREAM, "AF_INET stream" },
	{ AF_INET6, SOCK_STREAM, "AF_INET6 stream" }, { AF_UNIX, SOCK_STREAM, "AF_UNIX stream" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int sock(unsigned i)
{
	return (int)CHECK_OK(socket(kinds[i].family, kinds[i].type, 0));
}

/* A request for `name` whose union holds 0xa5 bytes. */
static struct ifreq req(const char *name)
{
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	memset(&r.ifr_ifru, 0xa5, sizeof(r.ifr_ifru));
	strncpy(r.ifr_name, name, IFNAMSIZ - 1);
	return r;
}

static const unsigned char *data(const struct ifreq *r)
{
	return (const unsigned char *)&r->ifr_ifru;
}

static const unsigned long dev_cmds[] = { SIOCGIFFLAGS, SIOCGIFINDEX, SIOCGIFMTU,  SIOCGIFHWADDR,
					  SIOCGIFMETRIC, SIOCGIFTXQLEN, SIOCGIFMAP };
static const unsigned long addr_cmds[] = { SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR,
					   SIOCGIFDSTADDR };
#define N(a) (sizeof(a) / sizeof(a[0]))

TEST(lo_device_requests)
{
	for (unsigned i = 0; i < NKINDS; i++) {
		t_info("%s", kinds[i].name);
		int fd = sock(i);
		struct ifreq r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFFLAGS, &r), 0);
		int want = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
		CHECK_EQ(r.ifr_flags & want, want);
		if (on_starling())
			CHECK_EQ(r.ifr_flags, want);
		/* Only the field is written; the rest of the union comes back
		 * as it went in. */
		CHECK_EQ(data(&r)[2], 0xa5);
		CHECK_STREQ(r.ifr_name, "lo");
		r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFINDEX, &r), 0);
		CHECK_EQ(r.ifr_ifindex, 1);
		r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFMTU, &r), 0);
		CHECK_EQ(r.ifr_mtu, 65536);
		r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFHWADDR, &r), 0);
		CHECK_EQ(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
		/* The 6-byte (all-zero) address; the rest of sa_data as given. */
		for (int j = 0; j < 6; j++)
			CHECK_EQ(r.ifr_hwaddr.sa_data[j], 0);
		CHECK_EQ((unsigned char)r.ifr_hwaddr.sa_data[6], 0xa5);
		r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFMETRIC, &r), 0);
		CHECK_EQ(r.ifr_metric, 0);
		r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFTXQLEN, &r), 0);
		CHECK_EQ(r.ifr_qlen, 1000);
		r = req("lo");
		CHECK_RET(ioctl(fd, SIOCGIFMAP, &r), 0);
		CHECK_EQ(r.ifr_map.mem_start, 0);
		CHECK_EQ(r.ifr_map.base_addr, 0);
		CHECK_EQ(r.ifr_map.irq, 0);
		/* An alias label names its device. */
		r = req("lo:7");
		CHECK_RET(ioctl(fd, SIOCGIFINDEX, &r), 0);
		CHECK_EQ(r.ifr_ifindex, 1);
		CHECK_STREQ(r.ifr_name, "lo:7");
		close(fd);
	}
}

TEST(unknown_names_and_faults)
{
	for (unsigned i = 0; i < NKINDS; i++) {
		t_info("%s", kinds[i].name);
		int fd = sock(i);
		for (unsigned c = 0; c < N(dev_cmds); c++) {
			struct ifreq r = req("nosuch0");
			CHECK_ERR(ioctl(fd, dev_cmds[c], &r), ENODEV);
			r = req("");
			CHECK_ERR(ioctl(fd, dev_cmds[c], &r), ENODEV);
			r = req("l");
			CHECK_ERR(ioctl(fd, dev_cmds[c], &r), ENODEV);
			CHECK_ERR(ioctl(fd, dev_cmds[c], (void *)8), EFAULT);
		}
		for (unsigned c = 0; c < N(addr_cmds); c++)
			CHECK_ERR(ioctl(fd, addr_cmds[c], (void *)8), EFAULT);
		CHECK_ERR(ioctl(fd, SIOCGIFNAME, (void *)8), EFAULT);
		close(fd);
	}
}

TEST(name_and_index)
{
	for (unsigned i = 0; i < NKINDS; i++) {
		t_info("%s", kinds[i].name);
		int fd = sock(i);
		struct ifreq r;
		memset(&r, 0, sizeof(r));
		r.ifr_ifindex = 1;
		CHECK_RET(ioctl(fd, SIOCGIFNAME, &r), 0);
		CHECK_STREQ(r.ifr_name, "lo");
		CHECK_EQ(r.ifr_ifindex, 1);
		int bad[] = { 0, -1, 1 << 30 };
		for (unsigned k = 0; k < N(bad); k++) {
			memset(&r, 0, sizeof(r));
			r.ifr_ifindex = bad[k];
			CHECK_ERR(ioctl(fd, SIOCGIFNAME, &r), ENODEV);
		}
		close(fd);
	}
	/* glibc's conversions go through these requests. */
	CHECK_EQ(if_nametoindex("lo"), 1);
	errno = 0;
	CHECK_EQ(if_nametoindex("nosuch0"), 0);
	CHECK_EQ(errno, ENODEV);
	char name[IF_NAMESIZE];
	CHECK(if_indextoname(1, name) == name);
	CHECK_STREQ(name, "lo");
	errno = 0;
	CHECK(if_indextoname(1 << 30, name) == NULL);
	CHECK_EQ(errno, ENXIO);
}

/* The IPv4 address a request returned. */
static const char *sin_addr(const struct ifreq *r, char *buf)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&r->ifr_addr;
	CHECK_EQ(sin->sin_family, AF_INET);
	CHECK_EQ(sin->sin_port, 0);
	return inet_ntop(AF_INET, &sin->sin_addr, buf, INET_ADDRSTRLEN);
}

TEST(inet_addresses)
{
	char buf[INET_ADDRSTRLEN];
	int fd = (int)CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq r = req("lo");
	CHECK_RET(ioctl(fd, SIOCGIFADDR, &r), 0);
	CHECK_STREQ(sin_addr(&r, buf), "127.0.0.1");
	/* The whole sockaddr_in is written, its padding zeroed. */
	CHECK_EQ(data(&r)[8], 0);
	CHECK_EQ(data(&r)[16], 0xa5);
	r = req("lo");
	CHECK_RET(ioctl(fd, SIOCGIFNETMASK, &r), 0);
	CHECK_STREQ(sin_addr(&r, buf), "255.0.0.0");
	r = req("lo");
	CHECK_RET(ioctl(fd, SIOCGIFDSTADDR, &r), 0);
	CHECK_STREQ(sin_addr(&r, buf), "127.0.0.1");
	/* lo has no broadcast address. */
	r = req("lo");
	CHECK_RET(ioctl(fd, SIOCGIFBRDADDR, &r), 0);
	CHECK_STREQ(sin_addr(&r, buf), "0.0.0.0");
	for (unsigned c = 0; c < N(addr_cmds); c++) {
		r = req("nosuch0");
		CHECK_ERR(ioctl(fd, addr_cmds[c], &r), ENODEV);
		/* The device exists, the alias has no address. */
		r = req("lo:1");
		CHECK_ERR(ioctl(fd, addr_cmds[c], &r), EADDRNOTAVAIL);
	}
	close(fd);
	/* Other families have no address requests. */
	for (unsigned i = 0; i < NKINDS; i++) {
		if (kinds[i].family == AF_INET)
			continue;
		t_info("%s", kinds[i].name);
		fd = sock(i);
		for (unsigned c = 0; c < N(addr_cmds); c++) {
			r = req("lo");
			CHECK_ERR(ioctl(fd, addr_cmds[c], &r), ENOTTY);
		}
		close(fd);
	}
}

TEST(ifconf)
{
	for (unsigned i = 0; i < NKINDS; i++) {
		t_info("%s", kinds[i].name);
		int fd = sock(i);
		/* A NULL buffer asks for the length. */
		struct ifconf c = { .ifc_len = 0, .ifc_buf = NULL };
		CHECK_RET(ioctl(fd, SIOCGIFCONF, &c), 0);
		CHECK(c.ifc_len >= (int)sizeof(struct ifreq));
		CHECK_EQ(c.ifc_len % sizeof(struct ifreq), 0);
		if (on_starling())
			CHECK_EQ(c.ifc_len, sizeof(struct ifreq));
		int need = c.ifc_len;
		/* Whole entries only: one byte short of one gives none. */
		struct ifreq rs[16];
		memset(rs, 0xa5, sizeof(rs));
		c.ifc_len = sizeof(struct ifreq) - 1;
		c.ifc_req = rs;
		CHECK_RET(ioctl(fd, SIOCGIFCONF, &c), 0);
		CHECK_EQ(c.ifc_len, 0);
		CHECK_EQ(((unsigned char *)rs)[0], 0xa5);
		c.ifc_len = -5;
		CHECK_RET(ioctl(fd, SIOCGIFCONF, &c), 0);
		CHECK_EQ(c.ifc_len, 0);
		/* Room for all: lo with 127.0.0.1 among them. */
		c.ifc_len = sizeof(rs);
		CHECK_RET(ioctl(fd, SIOCGIFCONF, &c), 0);
		CHECK_EQ(c.ifc_len, need);
		int found = 0;
		for (int k = 0; k < c.ifc_len / (int)sizeof(struct ifreq); k++) {
			char buf[INET_ADDRSTRLEN];
			if (strcmp(rs[k].ifr_name, "lo") == 0 &&
			    strcmp(sin_addr(&rs[k], buf), "127.0.0.1") == 0)
				found = 1;
		}
		CHECK(found);
		/* Faults: the ifconf itself, and a buffer that has to be written. */
		CHECK_ERR(ioctl(fd, SIOCGIFCONF, (void *)8), EFAULT);
		c.ifc_len = sizeof(struct ifreq);
		c.ifc_buf = (void *)8;
		CHECK_ERR(ioctl(fd, SIOCGIFCONF, &c), EFAULT);
		close(fd);
	}
}
