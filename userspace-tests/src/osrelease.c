/*
 * /proc/sys/kernel/{osrelease,ostype}: must agree with uname(2).
 *
 * Kept apart from uname.c so that a kernel without procfs fails only here.
 */

#include "test.h"

#include <sys/utsname.h>

/* Reads a small file into `buf` (NUL-terminated); returns its length. */
static size_t read_small(const char *path, char *buf, size_t len)
{
	int fd = CHECK_OK(open(path, O_RDONLY));
	size_t got = 0;
	for (;;) {
		ssize_t n = CHECK_OK(read(fd, buf + got, len - 1 - got));
		if (n == 0 || got + (size_t)n >= len - 1) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

TEST(osrelease_matches_uname)
{
	struct utsname u;
	CHECK_RET(uname(&u), 0);
	char buf[256], want[sizeof(u.release) + 2];
	read_small("/proc/sys/kernel/osrelease", buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s\n", u.release);
	CHECK_STREQ(buf, want);
}

TEST(ostype_linux)
{
	char buf[64];
	read_small("/proc/sys/kernel/ostype", buf, sizeof(buf));
	CHECK_STREQ(buf, "Linux\n");
}
