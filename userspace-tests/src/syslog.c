/*
 * syslog(2) and /dev/kmsg: the kernel log buffer as dmesg reads it.
 *
 * Records written to /dev/kmsg must come back from SYSLOG_ACTION_READ_ALL
 * as "<prio>[seconds.micros] text" lines and from reads of /dev/kmsg as
 * one "prio,seq,usec,-;text" record per read; CLEAR hides older records
 * from READ_ALL; the argument errors and the permission rules are Linux's
 * with dmesg_restrict = 0 (READ_ALL and SIZE_BUFFER open to everyone).
 */

#include "test.h"

#include <sys/sysmacros.h>

#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_CLEAR 5
#define SYSLOG_ACTION_CONSOLE_LEVEL 8
#define SYSLOG_ACTION_SIZE_UNREAD 9
#define SYSLOG_ACTION_SIZE_BUFFER 10

static char logbuf[1 << 18];

static long klog(int type, char *buf, int len)
{
	return syscall(SYS_syslog, type, buf, len);
}

/*
 * Logs "syslog: <tag> <pid>" at level 6 through /dev/kmsg and returns the
 * text in `text`. Records written to /dev/kmsg get facility user (1)
 * unless the prefix names another (devkmsg_write), so they read back with
 * priority 1 << 3 | 6 = 14.
 */
static void log_marker(const char *tag, char *text, size_t size)
{
	snprintf(text, size, "syslog: %s %d", tag, (int)getpid());
	char line[160];
	int n = snprintf(line, sizeof(line), "<6>%s\n", text);
	int fd = CHECK_OK(open("/dev/kmsg", O_WRONLY | O_CLOEXEC));
	CHECK_RET(write(fd, line, (size_t)n), n);
	close(fd);
}

/* The READ_ALL text, NUL terminated. */
static const char *read_all(void)
{
	long n = CHECK_OK(klog(SYSLOG_ACTION_READ_ALL, logbuf, sizeof(logbuf) - 1));
	CHECK(n >= 0 && n < (long)sizeof(logbuf));
	logbuf[n] = '\0';
	return logbuf;
}

TEST(size_buffer)
{
	CHECK(klog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0) > 0);
}

TEST(read_all_line_format)
{
	char text[128];
	log_marker("format", text, sizeof(text));
	const char *all = read_all();
	const char *at = strstr(all, text);
	CHECK_MSG(at != NULL, "\"%s\" not in the log", text);
	/* The line starts with "<14>[", a time "%5lu.%06lu", "] ". */
	const char *start = at;
	while (start > all && start[-1] != '\n')
		start--;
	CHECK_MSG(strncmp(start, "<14>[", 5) == 0, "line starts \"%.20s\"", start);
	const char *close = strchr(start, ']');
	CHECK(close != NULL && close < at);
	CHECK(close[-7] == '.' && close[1] == ' ' && close + 2 == at);
	CHECK(all[strlen(all) - 1] == '\n');
}

TEST(read_all_short_buffer_keeps_newest)
{
	char text[128];
	log_marker("newest", text, sizeof(text));
	char small[256];
	long n = CHECK_OK(klog(SYSLOG_ACTION_READ_ALL, small, sizeof(small) - 1));
	CHECK(n > 0 && n < (long)sizeof(small));
	small[n] = '\0';
	CHECK_MSG(strstr(small, text) != NULL, "newest record missing from \"%s\"", small);
	/* Whole lines only. */
	CHECK(small[0] == '<' && small[n - 1] == '\n');
}

TEST(clear)
{
	char old[128], new[128];
	log_marker("before-clear", old, sizeof(old));
	CHECK_RET(klog(SYSLOG_ACTION_CLEAR, NULL, 0), 0);
	log_marker("after-clear", new, sizeof(new));
	const char *all = read_all();
	CHECK(strstr(all, old) == NULL);
	CHECK(strstr(all, new) != NULL);
}

TEST(argument_errors)
{
	CHECK_ERR(klog(-1, NULL, 0), EINVAL);
	CHECK_ERR(klog(11, NULL, 0), EINVAL);
	CHECK_ERR(klog(SYSLOG_ACTION_READ_ALL, NULL, 10), EINVAL);
	CHECK_ERR(klog(SYSLOG_ACTION_READ_ALL, logbuf, -1), EINVAL);
	CHECK_RET(klog(SYSLOG_ACTION_READ_ALL, logbuf, 0), 0);
	CHECK_ERR(klog(SYSLOG_ACTION_READ_ALL, (char *)8, 64), EFAULT);
	CHECK_ERR(klog(SYSLOG_ACTION_CONSOLE_LEVEL, NULL, 0), EINVAL);
	CHECK_ERR(klog(SYSLOG_ACTION_CONSOLE_LEVEL, NULL, 9), EINVAL);
}

/* kernel.dmesg_restrict (0 where the file does not exist, as on Starling). */
static int dmesg_restrict(void)
{
	int v = 0;
	FILE *f = fopen("/proc/sys/kernel/dmesg_restrict", "r");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

TEST(unprivileged)
{
	int restricted = dmesg_restrict();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setuid(65534), 0);
		if (restricted) {
			/* check_syslog_permissions: everything needs CAP_SYSLOG. */
			CHECK_ERR(klog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), EPERM);
			CHECK_ERR(klog(SYSLOG_ACTION_READ_ALL, logbuf, sizeof(logbuf)), EPERM);
		} else {
			CHECK(klog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0) > 0);
			CHECK(klog(SYSLOG_ACTION_READ_ALL, logbuf, sizeof(logbuf)) >= 0);
		}
		CHECK_ERR(klog(SYSLOG_ACTION_CLEAR, NULL, 0), EPERM);
		CHECK_ERR(klog(SYSLOG_ACTION_SIZE_UNREAD, NULL, 0), EPERM);
		CHECK_ERR(klog(SYSLOG_ACTION_CONSOLE_LEVEL, NULL, 4), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(kmsg_records)
{
	int fd = CHECK_OK(open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), 11);

	char text[128];
	log_marker("kmsg", text, sizeof(text));
	/* One record per read; the marker is among the newest. */
	char rec[1024];
	int found = 0;
	long last_seq = -1;
	for (int i = 0; i < 4096 && !found; i++) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		CHECK_MSG(n > 0, "read returned %zd (errno %s) before the marker", n,
			  t_errname(errno));
		rec[n] = '\0';
		CHECK(rec[n - 1] == '\n');
		CHECK(strchr(rec, '\n') == rec + n - 1);
		int prio;
		long seq;
		unsigned long long usec;
		int used = 0;
		CHECK_MSG(sscanf(rec, "%d,%ld,%llu,-;%n", &prio, &seq, &usec, &used) == 3 &&
				  used > 0,
			  "record \"%s\"", rec);
		CHECK(seq > last_seq);
		last_seq = seq;
		if (strncmp(rec + used, text, strlen(text)) == 0) {
			CHECK_EQ(prio, 14);
			found = 1;
		}
	}
	CHECK(found);
	/* Too small for a record: EINVAL. */
	log_marker("small", text, sizeof(text));
	CHECK_ERR(read(fd, rec, 4), EINVAL);
	close(fd);
}
