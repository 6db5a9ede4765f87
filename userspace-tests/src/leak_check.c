/*
 * Leak checks: thousands of cycles of memfd create / shared map / fork /
 * seal / live revocation / exit, and of pipe, socket, eventfd, epoll and
 * descriptor churn, after which the kernel's counters are back where they
 * started: the registry and object counts of /proc/starling/mm exactly,
 * user frames and the kernel heap (/proc/meminfo Slab) within a small
 * margin for allocator caches — far less than one leaked object per cycle
 * would add. Starling only (the counters are Starling's);
 * $STARLING_LEAK_CYCLES sets the number of cycles (default 10,000).
 */
#define T_SUBTEST_SECONDS 300
#include "test.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "starling/memfd.h"

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#define PAGE 4096L

struct counters {
	long objects, records, registries, frames, object_pages, slab_kb;
};

static long field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	CHECK_MSG(p != NULL, "no %s", key);
	return strtol(p + strlen(key), NULL, 10);
}

static void sample(struct counters *c)
{
	static char buf[8192];
	int fd = CHECK_OK(open("/proc/starling/mm", O_RDONLY));
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n] = 0;
	c->objects = field(buf, "mapped_objects ");
	c->records = field(buf, "map_records ");
	c->registries = field(buf, "registries ");
	c->frames = field(buf, "user_frames ");
	c->object_pages = field(buf, "object_pages ");
	fd = CHECK_OK(open("/proc/meminfo", O_RDONLY));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n] = 0;
	c->slab_kb = field(buf, "Slab:");
}

static void need_starling(void)
{
	if (!on_starling())
		t_skip("the counters are Starling's");
}

static long cycles(void)
{
	const char *v = getenv("STARLING_LEAK_CYCLES");
	long n = v ? atol(v) : 0;
	return n > 0 ? n : 10000;
}

/* The counters after the work are back at the baseline. */
static void same_as(const struct counters *base, long n)
{
	struct counters now;
	sample(&now);
	CHECK_EQ(now.objects, base->objects);
	CHECK_EQ(now.records, base->records);
	CHECK_EQ(now.registries, base->registries);
	CHECK_EQ(now.object_pages, base->object_pages);
	CHECK_MSG(now.frames <= base->frames + 16, "user frames %ld -> %ld after %ld cycles",
		  base->frames, now.frames, n);
	CHECK_MSG(now.slab_kb <= base->slab_kb + 64, "kernel heap %ld kB -> %ld kB after %ld cycles",
		  base->slab_kb, now.slab_kb, n);
}

/* One memfd cycle: create, map shared, fork a child that maps it too,
 * write, revoke every writable mapping, let the child exit, unmap, close.
 * Every 100th cycle forks (a fork per cycle would take minutes under
 * emulation); the others revoke the parent's own mapping. */
static void memfd_cycle(long i)
{
	int fd = CHECK_OK((int)syscall(SYS_memfd_create, "leak", MFD_ALLOW_SEALING));
	CHECK_RET(ftruncate(fd, 2 * PAGE), 0);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	p[PAGE] = 2;
	pid_t pid = -1;
	if (i % 100 == 0) {
		pid = t_fork();
		if (pid == 0) {
			char *q = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
			_exit(q != MAP_FAILED && q[0] == 1 ? 0 : 1);
		}
	}
	/* The parent's mapping, and the child's inherited and own ones while
	 * they exist. */
	CHECK(fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE) >= 1);
	if (pid > 0)
		t_wait_exit(pid, 0);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

/* One descriptor cycle: a pipe, a socket pair with a message, an eventfd
 * in an epoll set, a dup, an open file. */
static void fd_cycle(void)
{
	int p[2], s[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(write(p[1], "x", 1), 1);
	CHECK_RET(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	CHECK_RET(write(s[0], "yz", 2), 2);
	int ev = CHECK_OK(eventfd(1, 0));
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event e = { .events = EPOLLIN, .data.fd = ev };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e), 0);
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, s[1], &e), 0);
	int d = CHECK_OK(dup(p[0]));
	int f = CHECK_OK(open("/proc/self/stat", O_RDONLY));
	close(f);
	close(d);
	close(ep);
	close(ev);
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
}

TEST(memfd_map_fork_seal_revoke_cycles)
{
	need_starling();
	long n = cycles();
	/* A warm-up batch fills the allocators' caches first. */
	for (long i = 0; i < 100; i++)
		memfd_cycle(i);
	struct counters base;
	sample(&base);
	for (long i = 0; i < n; i++)
		memfd_cycle(i);
	same_as(&base, n);
}

TEST(descriptor_churn_cycles)
{
	need_starling();
	long n = cycles();
	for (long i = 0; i < 100; i++)
		fd_cycle();
	struct counters base;
	sample(&base);
	for (long i = 0; i < n; i++)
		fd_cycle();
	same_as(&base, n);
}
