/*
 * epoll(7): epoll_create/epoll_create1, epoll_ctl and its errors, level-
 * and edge-triggered and one-shot reporting, hang-ups, the event layout and
 * maxevents, nested instances and ELOOP, entries living as long as the open
 * file description, and how /proc shows the descriptor.  Waiting (timeouts,
 * wake-ups, signals, epoll_pwait/pwait2) is in epoll_wait.c.
 */
#include "epoll_test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>

TEST(create_errors_and_flags)
{
#ifdef SYS_epoll_create
	CHECK_ERR(syscall(SYS_epoll_create, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_create, -1), EINVAL);
	int old = CHECK_OK(syscall(SYS_epoll_create, 1));
	CHECK_RET(fcntl(old, F_GETFD), 0);
	close(old);
#endif
	CHECK_ERR(syscall(SYS_epoll_create1, O_NONBLOCK), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_create1, 1), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_create1, -1), EINVAL);
	int ep = CHECK_OK(syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
	CHECK_RET(fcntl(ep, F_GETFD), FD_CLOEXEC);
	CHECK_RET(fcntl(ep, F_GETFL), O_RDWR);
	/* No read or write operation. */
	char buf[16];
	CHECK_ERR(read(ep, buf, sizeof(buf)), EINVAL);
	CHECK_ERR(write(ep, buf, sizeof(buf)), EINVAL);
	close(ep);
}

TEST(ctl_errors)
{
	int ep = CHECK_OK(epoll_create1(0));
	int ep2 = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	struct epoll_event ev = { .events = EPOLLIN };
	CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, -1, &ev), EBADF);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 1000, &ev), EBADF);
	int opath = CHECK_OK(open("/", O_PATH));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, opath, &ev), EBADF);
	CHECK_ERR(epoll_ctl(opath, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	/* Files without a poll operation: EPERM, before the epfd check. */
	int reg = CHECK_OK(open(t_make_file("f", "x", 0600), O_RDONLY));
	int dir = CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	int null = CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev), EPERM);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, null, &ev), EPERM);
	CHECK_ERR(epoll_ctl(reg, EPOLL_CTL_ADD, reg, &ev), EPERM);
	/* EINVAL: not an epoll descriptor, itself (also through a dup). */
	CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	int epdup = CHECK_OK(dup(ep));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, epdup, &ev), EINVAL);
	/* Unknown operations, also after a successful lookup. */
	CHECK_ERR(epoll_ctl(ep, 0, p[0], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, 4, p[0], &ev), EINVAL);
	/* ENOENT before the entry exists, EEXIST after. */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
	CHECK_ERR(epoll_ctl(ep, 4, p[0], &ev), EINVAL);
	/* EFAULT: the event is read for every operation but DEL. */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (void *)8), EFAULT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], (void *)8), EFAULT);
	CHECK_ERR(epoll_ctl(ep, 4, p[0], (void *)8), EFAULT);
	CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, p[0], (void *)8), EFAULT);
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], (void *)8), 0);
	/* EPOLLEXCLUSIVE: not with MOD, other flags, or an epoll target. */
	struct epoll_event ex = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ex), 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ex), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), 0);
	ex.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ex), EINVAL);
	ex.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ex), EINVAL);
	ex.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ex), EINVAL);
	close(opath), close(reg), close(dir), close(null), close(epdup);
	close(p[0]), close(p[1]), close(ep), close(ep2);
}

TEST(level_triggered_pipe)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(ep, p[0], EPOLLIN);
	expect_none(ep);
	CHECK_RET(write(p[1], "ab", 2), 2);
	expect_one(ep, EPOLLIN, p[0]);
	/* Still readable: reported again. */
	expect_one(ep, EPOLLIN, p[0]);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	expect_one(ep, EPOLLIN, p[0]);
#ifdef SYS_epoll_wait
	/* The x86_64 call without a mask does the same. */
	struct epoll_event ev = { 0 };
	CHECK_RET(syscall(SYS_epoll_wait, ep, &ev, 1, 0), 1);
	CHECK_EQ(ev.events, EPOLLIN);
	CHECK_EQ(ev.data.u64, p[0]);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, &ev, 0, 0), EINVAL);
#endif
	CHECK_RET(read(p[0], &c, 1), 1);
	expect_none(ep);
	/* The write end: writable at once. */
	add(ep, p[1], EPOLLOUT);
	expect_one(ep, EPOLLOUT, p[1]);
	close(p[0]), close(p[1]), close(ep);
}

TEST(level_triggered_eventfd)
{
	int ep = CHECK_OK(epoll_create1(0));
	int efd = CHECK_OK(eventfd(0, EFD_NONBLOCK));
	add(ep, efd, EPOLLIN | EPOLLOUT);
	expect_one(ep, EPOLLOUT, efd);
	uint64_t v = 3;
	CHECK_RET(write(efd, &v, 8), 8);
	expect_one(ep, EPOLLIN | EPOLLOUT, efd);
	CHECK_RET(read(efd, &v, 8), 8);
	expect_one(ep, EPOLLOUT, efd);
	close(efd), close(ep);
}

TEST(edge_triggered_needs_a_new_event)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe2(p, O_NONBLOCK));
	add(ep, p[0], EPOLLIN | EPOLLET);
	expect_none(ep);
	CHECK_RET(write(p[1], "ab", 2), 2);
	expect_one(ep, EPOLLIN, p[0]);
	/* Data left, but no new event. */
	expect_none(ep);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	expect_none(ep);
	/* Each new write is a new event, even to a non-empty pipe. */
	CHECK_RET(write(p[1], "c", 1), 1);
	expect_one(ep, EPOLLIN, p[0]);
	expect_none(ep);
	CHECK_RET(write(p[1], "d", 1), 1);
	CHECK_RET(write(p[1], "e", 1), 1);
	expect_one(ep, EPOLLIN, p[0]);
	expect_none(ep);
	/* The write end: a read makes a new event only if the pipe was full. */
	int w[2];
	CHECK_OK(pipe2(w, O_NONBLOCK));
	add(ep, w[1], EPOLLOUT | EPOLLET);
	expect_one(ep, EPOLLOUT, w[1]);
	expect_none(ep);
	CHECK_RET(write(w[1], "ab", 2), 2);
	expect_none(ep);
	CHECK_RET(read(w[0], &c, 1), 1);
	expect_none(ep);
	static char big[65536];
	while (write(w[1], big, sizeof(big)) > 0)
		;
	CHECK_EQ(errno, EAGAIN);
	expect_none(ep);
	CHECK_RET(read(w[0], big, 8192), 8192);
	expect_one(ep, EPOLLOUT, w[1]);
	CHECK_RET(read(w[0], big, 8000), 8000);
	expect_none(ep);
	close(w[0]), close(w[1]);
	/* eventfd: each write wakes too. */
	int efd = CHECK_OK(eventfd(0, EFD_NONBLOCK));
	add(ep, efd, EPOLLIN | EPOLLET);
	expect_none(ep);
	uint64_t v = 1;
	CHECK_RET(write(efd, &v, 8), 8);
	expect_one(ep, EPOLLIN, efd);
	expect_none(ep);
	CHECK_RET(write(efd, &v, 8), 8);
	expect_one(ep, EPOLLIN, efd);
	expect_none(ep);
	/* Adding 0 is a write too. */
	uint64_t zero = 0;
	CHECK_RET(write(efd, &zero, 8), 8);
	expect_one(ep, EPOLLIN, efd);
	expect_none(ep);
	/* MOD polls again: ready now, so reported once. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 77 };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev), 0);
	expect_one(ep, EPOLLIN, 77);
	expect_none(ep);
	close(efd), close(p[0]), close(p[1]), close(ep);
}

TEST(oneshot_until_mod)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(ep, p[0], EPOLLIN | EPOLLONESHOT);
	CHECK_RET(write(p[1], "a", 1), 1);
	expect_one(ep, EPOLLIN, p[0]);
	/* Disarmed: neither the data nor a new write nor a hang-up shows. */
	expect_none(ep);
	CHECK_RET(write(p[1], "b", 1), 1);
	expect_none(ep);
	/* Re-armed by MOD, with new data. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 5 };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0);
	expect_one(ep, EPOLLIN, 5);
	expect_none(ep);
	close(p[1]);
	expect_none(ep);
	ev.events = EPOLLIN;
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0);
	expect_one(ep, EPOLLIN | EPOLLHUP, 5);
	close(p[0]), close(ep);
}

TEST(del_stops_reports)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(ep, p[0], EPOLLIN);
	CHECK_RET(write(p[1], "a", 1), 1);
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), 0);
	expect_none(ep);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
	add(ep, p[0], EPOLLIN);
	expect_one(ep, EPOLLIN, p[0]);
	close(p[0]), close(p[1]), close(ep);
}

TEST(hangup_and_error_always_reported)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	/* An empty mask still reports EPOLLHUP. */
	add(ep, p[0], 0);
	expect_none(ep);
	close(p[1]);
	expect_one(ep, EPOLLHUP, p[0]);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 1 };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0);
	expect_one(ep, EPOLLHUP, 1);
	close(p[0]);
	/* The write end after the reader left: EPOLLERR (and still writable). */
	CHECK_OK(pipe(p));
	add(ep, p[1], EPOLLOUT);
	expect_one(ep, EPOLLOUT, p[1]);
	close(p[0]);
	expect_one(ep, EPOLLOUT | EPOLLERR, p[1]);
	close(p[1]), close(ep);
}

TEST(data_and_event_layout)
{
#if defined(__x86_64__)
	CHECK_EQ(sizeof(struct epoll_event), 12);
#else
	CHECK_EQ(sizeof(struct epoll_event), 16);
#endif
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x0123456789abcdefULL };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	CHECK_RET(write(p[1], "a", 1), 1);
	struct epoll_event evs[3];
	memset(evs, 0x5a, sizeof(evs));
	CHECK_RET(ewait(ep, evs, 3, 0), 1);
	CHECK_EQ(evs[0].events, EPOLLIN);
	CHECK_EQ(evs[0].data.u64, 0x0123456789abcdefULL);
	/* Only one event was written. */
	unsigned char *rest = (unsigned char *)&evs[1];
	for (size_t i = 0; i < 2 * sizeof(evs[0]); i++)
		CHECK_EQ(rest[i], 0x5a);
	close(p[0]), close(p[1]), close(ep);
}

TEST(maxevents_limits_and_order)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[3][2];
	for (int i = 0; i < 3; i++) {
		CHECK_OK(pipe(p[i]));
		add(ep, p[i][0], EPOLLIN);
		CHECK_RET(write(p[i][1], "a", 1), 1);
	}
	struct epoll_event evs[3];
	CHECK_ERR(ewait(ep, evs, 0, 0), EINVAL);
	CHECK_ERR(ewait(ep, evs, -1, 0), EINVAL);
	int too_many = (int)(INT32_MAX / sizeof(struct epoll_event) + 1);
	CHECK_ERR(ewait(ep, evs, too_many, 0), EINVAL);
	/* The order: the descriptor, maxevents, the buffer, the epoll check. */
	CHECK_ERR(ewait(-1, NULL, 0, 0), EBADF);
	CHECK_ERR(ewait(ep, (void *)-4096L, 0, 0), EINVAL);
	int pp[2];
	CHECK_OK(pipe(pp));
	CHECK_ERR(ewait(pp[0], evs, 0, 0), EINVAL);
	CHECK_ERR(ewait(pp[0], (void *)-4096L, 1, 0), EFAULT);
	CHECK_ERR(ewait(pp[0], evs, 1, 0), EINVAL);
	close(pp[0]), close(pp[1]);
	/* Two of three; a level-triggered entry reported goes to the back,
	 * so the next call starts with the one left over. */
	CHECK_RET(ewait(ep, evs, 2, 0), 2);
	CHECK(evs[0].data.u64 != evs[1].data.u64);
	uint64_t left = (uint64_t)p[0][0] + p[1][0] + p[2][0] - evs[0].data.u64 -
			evs[1].data.u64;
	CHECK_RET(ewait(ep, evs, 1, 0), 1);
	CHECK_EQ(evs[0].data.u64, left);
	CHECK_RET(ewait(ep, evs, 3, 0), 3);
	for (int i = 0; i < 3; i++)
		close(p[i][0]), close(p[i][1]);
	close(ep);
}

TEST(efault_keeps_the_event)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	/* Nothing ready: an unmapped buffer is not touched. */
	add(ep, p[0], EPOLLIN | EPOLLONESHOT);
	CHECK_RET(ewait(ep, NULL, 1, 0), 0);
	/* A buffer outside user space is EFAULT at once. */
	CHECK_ERR(ewait(ep, (void *)-4096L, 1, 0), EFAULT);
	CHECK_RET(write(p[1], "a", 1), 1);
	CHECK_ERR(ewait(ep, NULL, 1, 0), EFAULT);
	CHECK_ERR(ewait(ep, NULL, 1, -1), EFAULT);
	/* The one-shot event was not consumed by the failed copy. */
	expect_one(ep, EPOLLIN, p[0]);
	expect_none(ep);
	close(p[0]), close(p[1]), close(ep);
}

TEST(nested_and_pollable)
{
	int outer = CHECK_OK(epoll_create1(0));
	int inner = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(inner, p[0], EPOLLIN);
	add(outer, inner, EPOLLIN);
	expect_none(outer);
	struct pollfd pfd = { .fd = inner, .events = POLLIN | POLLOUT };
	CHECK_RET(poll(&pfd, 1, 0), 0);
	CHECK_RET(write(p[1], "a", 1), 1);
	expect_one(outer, EPOLLIN, inner);
	CHECK_RET(poll(&pfd, 1, 0), 1);
	CHECK_EQ(pfd.revents, POLLIN);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(inner, &r);
	struct timeval tv = { 0, 0 };
	CHECK_RET(select(inner + 1, &r, NULL, NULL, &tv), 1);
	expect_one(inner, EPOLLIN, p[0]);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	expect_none(outer);
	/* A blocked wait on the outer instance, woken through the inner. */
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		_exit(write(p[1], "b", 1) == 1 ? 0 : 1);
	}
	struct epoll_event ev = { 0 };
	CHECK_RET(ewait(outer, &ev, 1, -1), 1);
	CHECK_EQ(ev.data.u64, inner);
	t_wait_exit(pid, 0);
	/* poll(2) blocked on an epoll descriptor. */
	CHECK_RET(read(p[0], &c, 1), 1);
	pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		_exit(write(p[1], "c", 1) == 1 ? 0 : 1);
	}
	CHECK_RET(poll(&pfd, 1, 10000), 1);
	CHECK_EQ(pfd.revents, POLLIN);
	t_wait_exit(pid, 0);
	close(p[0]), close(p[1]), close(inner), close(outer);
}

TEST(nesting_loops_and_depth)
{
	int e[7];
	for (int i = 0; i < 7; i++)
		e[i] = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { .events = EPOLLIN };
	/* e0 watches e1; e1 watching e0 would be a loop. */
	CHECK_RET(epoll_ctl(e[0], EPOLL_CTL_ADD, e[1], &ev), 0);
	CHECK_ERR(epoll_ctl(e[1], EPOLL_CTL_ADD, e[0], &ev), ELOOP);
	CHECK_RET(epoll_ctl(e[1], EPOLL_CTL_ADD, e[2], &ev), 0);
	CHECK_ERR(epoll_ctl(e[2], EPOLL_CTL_ADD, e[0], &ev), ELOOP);
	/* Five instances in a chain are allowed, six are not. */
	CHECK_RET(epoll_ctl(e[2], EPOLL_CTL_ADD, e[3], &ev), 0);
	CHECK_RET(epoll_ctl(e[3], EPOLL_CTL_ADD, e[4], &ev), 0);
	CHECK_ERR(epoll_ctl(e[4], EPOLL_CTL_ADD, e[5], &ev), ELOOP);
	CHECK_ERR(epoll_ctl(e[5], EPOLL_CTL_ADD, e[0], &ev), ELOOP);
	/* After a DEL there is room again. */
	CHECK_RET(epoll_ctl(e[3], EPOLL_CTL_DEL, e[4], NULL), 0);
	CHECK_RET(epoll_ctl(e[5], EPOLL_CTL_ADD, e[6], &ev), 0);
	CHECK_ERR(epoll_ctl(e[3], EPOLL_CTL_ADD, e[5], &ev), ELOOP);
	CHECK_RET(epoll_ctl(e[3], EPOLL_CTL_ADD, e[4], &ev), 0);
	/* Closing an instance removes its entries from its watchers. */
	close(e[1]);
	CHECK_RET(epoll_ctl(e[5], EPOLL_CTL_ADD, e[0], &ev), 0);
	for (int i = 0; i < 7; i++)
		if (i != 1)
			close(e[i]);
}

/* The text of /proc/self/fdinfo/<fd>. */
static void fdinfo(int fd, char *text, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int f = CHECK_OK(open(path, O_RDONLY));
	memset(text, 0, size);
	CHECK_OK(read(f, text, size - 1));
	close(f);
}

TEST(entry_lives_with_the_open_file_description)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	int r = p[0];
	add(ep, r, EPOLLIN);
	int r2 = CHECK_OK(dup(r));
	/* The entry is keyed by (description, r): not found through r2. */
	struct epoll_event ev = { .events = EPOLLIN };
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, r2, &ev), ENOENT);
	/* Closing r alone keeps the entry; it still reports r's data. */
	close(r);
	CHECK_RET(write(p[1], "a", 1), 1);
	expect_one(ep, EPOLLIN, r);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, r, NULL), EBADF);
	char text[1024], want[64];
	fdinfo(ep, text, sizeof(text));
	snprintf(want, sizeof(want), "tfd: %8d events: ", r);
	CHECK_MSG(strstr(text, want), "fdinfo: %s", text);
	/* The last close removes it. */
	close(r2);
	expect_none(ep);
	fdinfo(ep, text, sizeof(text));
	CHECK_MSG(!strstr(text, "tfd:"), "fdinfo: %s", text);
	/* The same number for a new description is a new entry. */
	int q[2];
	CHECK_OK(pipe(q));
	CHECK_EQ(q[0], r);
	add(ep, q[0], EPOLLIN);
	close(q[0]), close(q[1]), close(p[1]), close(ep);
}

TEST(proc_fd_link_and_fdinfo)
{
	int ep = CHECK_OK(epoll_create1(EPOLL_CLOEXEC));
	int p[2];
	CHECK_OK(pipe(p));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0xfeedULL };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	ev.events = EPOLLOUT | EPOLLONESHOT;
	ev.data.u64 = 0x1122334455667788ULL;
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev), 0);
	char path[64], link[64] = { 0 };
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ep);
	CHECK_OK(readlink(path, link, sizeof(link) - 1));
	CHECK_STREQ(link, "anon_inode:[eventpoll]");
	char text[1024], want[128];
	fdinfo(ep, text, sizeof(text));
	CHECK_MSG(strstr(text, "flags:\t02000002\n"), "fdinfo: %s", text);
	struct stat st;
	CHECK_OK(fstat(p[0], &st));
	snprintf(want, sizeof(want),
		 "tfd: %8d events: %8x data: %16llx  pos:0 ino:%lx sdev:", p[0],
		 EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP, 0xfeedULL, (unsigned long)st.st_ino);
	CHECK_MSG(strstr(text, want), "want \"%s\" in fdinfo: %s", want, text);
	/* The write end's one-shot entry, disarmed after its report. */
	expect_one(ep, EPOLLOUT, 0x1122334455667788ULL);
	fdinfo(ep, text, sizeof(text));
	snprintf(want, sizeof(want), "tfd: %8d events: %8x data: 1122334455667788  pos:0",
		 p[1], EPOLLONESHOT);
	CHECK_MSG(strstr(text, want), "want \"%s\" in fdinfo: %s", want, text);
	close(p[0]), close(p[1]), close(ep);
}
