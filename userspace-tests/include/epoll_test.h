/*
 * Helpers shared by the epoll tests (epoll.c, epoll_wait.c).
 */
#ifndef STARLING_EPOLL_TEST_H
#define STARLING_EPOLL_TEST_H

#include "test.h"

#include <sys/epoll.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

/* Adds `fd` to `ep` for `events` with `fd` as data. */
T_HELPER void add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)fd };
	CHECK_RET(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

/* epoll_wait through the raw epoll_pwait (riscv64 has no epoll_wait). */
T_HELPER long ewait(int ep, struct epoll_event *evs, int max, int timeout)
{
	return syscall(SYS_epoll_pwait, ep, evs, max, timeout, NULL, 8);
}

/* Exactly one event is ready now: `events` with data `data`. */
T_HELPER void expect_one(int ep, uint32_t events, uint64_t data)
{
	struct epoll_event evs[4];
	memset(evs, 0xa5, sizeof(evs));
	CHECK_RET(ewait(ep, evs, 4, 0), 1);
	CHECK_EQ(evs[0].events, events);
	CHECK_EQ(evs[0].data.u64, data);
}

T_HELPER void expect_none(int ep)
{
	struct epoll_event ev;
	CHECK_RET(ewait(ep, &ev, 1, 0), 0);
}

#endif
