/*
 * Helpers shared by the AF_UNIX tests (unix_stream.c, unix_stream_io.c,
 * unix_dgram.c): socket addresses, poll bits, a path listener.
 */
#ifndef STARLING_UNIX_TEST_H
#define STARLING_UNIX_TEST_H

#include "test.h"

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

T_HELPER socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* An abstract name unique to this process: "\0starling-<pid>-<tag>". */
T_HELPER socklen_t abstract_addr(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
			 "starling-%d-%s", (int)getpid(), tag);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

T_HELPER short revents(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	CHECK_OK(poll(&p, 1, 0));
	return p.revents;
}

/* A listener bound to `path` in the scratch directory. */
T_HELPER int listener_at(const char *path, struct sockaddr_un *a, socklen_t *len)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	*len = path_addr(a, path);
	CHECK_OK(bind(s, (struct sockaddr *)a, *len));
	CHECK_OK(listen(s, 5));
	return s;
}

#endif
