/*
 * The soft-lockup detector (Starling): a CPU kept busy in the kernel with
 * preemption off (/proc/starling/provoke SOFTLOCKUP) is reported by another
 * CPU's watchdog thread once it has not scheduled for twice
 * kernel.watchdog_thresh seconds, with the stuck CPU's symbolised stack
 * (taken by an IPI) in the kernel log. Needs two CPUs and root; skipped on
 * Linux (whose detector would also report, but provoking it needs lkdtm).
 */
#include "test.h"

#include <sys/klog.h>

#define SYSLOG_ACTION_READ_ALL 3
#define LOG_SIZE (1 << 20)

static int put(const char *path, const char *s)
{
	long n = t_write_str(path, s);
	if (n < 0)
		return errno;
	return n == (long)strlen(s) ? 0 : EIO;
}

/* The kernel log after the last occurrence of `start`, or NULL. */
static char *log_after(const char *start, char **whole)
{
	char *buf = malloc(LOG_SIZE + 1);
	CHECK(buf != NULL);
	int n = klogctl(SYSLOG_ACTION_READ_ALL, buf, LOG_SIZE);
	CHECK(n >= 0);
	buf[n] = 0;
	*whole = buf;
	char *from = NULL;
	for (char *p = strstr(buf, start); p; p = strstr(p + 1, start))
		from = p;
	return from;
}

TEST(stuck_cpu_is_reported_with_its_stack)
{
	if (!on_starling() || geteuid() != 0)
		t_skip("Starling's /proc/starling/provoke, as root");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		t_skip("needs a second CPU to notice");
	const char *thresh = "/proc/sys/kernel/watchdog_thresh";
	long old = t_read_long(thresh);
	CHECK_EQ(put(thresh, "1"), 0);
	/* Spins 5 s; the report is due after 2 s. */
	int err = put("/proc/starling/provoke", "SOFTLOCKUP 5");
	char buf[16];
	snprintf(buf, sizeof(buf), "%ld", old);
	CHECK_EQ(put(thresh, buf), 0);
	CHECK_EQ(err, 0);

	const char *want[] = {
		"stuck for ",
		"[lockup:",
		"Call Trace:",
		"starling::debug::provoke::",
		"---[ end trace ]---",
	};
	int found = 0;
	for (int tries = 0; tries < 100 && !found; tries++) {
		char *whole;
		char *from = log_after("watchdog: BUG: soft lockup - CPU#", &whole);
		found = from != NULL;
		for (int i = 0; found && i < 5; i++)
			found = strstr(from, want[i]) != NULL;
		free(whole);
		if (!found)
			t_sleep_ms(50);
	}
	CHECK_MSG(found, "no soft lockup report with the spinning stack");
}
