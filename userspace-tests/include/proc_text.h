/*
 * Helpers of the /proc tests (procfs.c, procfs_sys.c): whole-file reads in
 * chunks, "key: value" fields, line order, and whether the kernel is
 * Starling (`on_starling`, test.h).
 */
#ifndef STARLING_PROC_TEXT_H
#define STARLING_PROC_TEXT_H

#include "test.h"

#include <sys/utsname.h>

#define BIG (256 * 1024)

/* O_LARGEFILE as the kernel sees it (glibc defines it as 0 on 64-bit). */
#define K_O_LARGEFILE 0100000

/* Reads all of `path` with reads of `chunk` bytes into `buf` (NUL-ended). */
T_HELPER size_t read_chunked(const char *path, char *buf, size_t size, size_t chunk)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		t_fail("open(%s): %s", path, t_errname(errno));
	size_t got = 0;
	for (;;) {
		size_t want = size - 1 - got < chunk ? size - 1 - got : chunk;
		if (want == 0)
			t_fail("%s is larger than %zu bytes", path, size);
		ssize_t n = read(fd, buf + got, want);
		if (n < 0)
			t_fail("read(%s): %s", path, t_errname(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

T_HELPER size_t read_file(const char *path, char *buf, size_t size)
{
	return read_chunked(path, buf, size, size);
}

/* The value after "key:" on a line of its own in `text`, or NULL. */
T_HELPER const char *field(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, k) == 0 && p[k] == ':') {
			p += k + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
	}
	return NULL;
}

T_HELPER long field_long(const char *text, const char *key)
{
	const char *v = field(text, key);
	if (!v)
		t_fail("no \"%s:\" line", key);
	return strtol(v, NULL, 10);
}

/* Checks that every key of `keys` starts a line of `text`, in this order. */
T_HELPER void check_order(const char *text, const char *const *keys, int n)
{
	const char *pos = text;
	for (int i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\n%s:", keys[i]);
		const char *at = strncmp(text, want + 1, strlen(want + 1)) == 0 ? text : strstr(text, want);
		CHECK_MSG(at != NULL, "\"%s:\" missing", keys[i]);
		CHECK_MSG(at >= pos, "\"%s:\" out of order", keys[i]);
		pos = at;
	}
}


#endif
