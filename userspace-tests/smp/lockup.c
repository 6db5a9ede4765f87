/*
 * The soft-lockup detector (Starling): a CPU kept busy in the kernel with
 * preemption off (/proc/starling/provoke SOFTLOCKUP) is reported by another
 * CPU's watchdog thread once it has not scheduled for twice
 * kernel.watchdog_thresh seconds, with the stuck CPU's symbolised stack
 * (taken by an IPI) in the kernel log. Needs two CPUs and root; skipped on
 * Linux (whose detector would also report, but provoking it needs lkdtm).
 */
#include "test.h"

TEST(stuck_cpu_is_reported_with_its_stack)
{
	if (!on_starling() || geteuid() != 0)
		t_skip("Starling's /proc/starling/provoke, as root");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		t_skip("needs a second CPU to notice");
	const char *thresh = "/proc/sys/kernel/watchdog_thresh";
	long old = t_read_long(thresh);
	CHECK_EQ(t_put_str(thresh, "1"), 0);
	/* Spins 5 s; the report is due after 2 s. */
	int err = t_put_str("/proc/starling/provoke", "SOFTLOCKUP 5");
	char buf[16];
	snprintf(buf, sizeof(buf), "%ld", old);
	CHECK_EQ(t_put_str(thresh, buf), 0);
	CHECK_EQ(err, 0);

	const char *want[] = {
		"stuck for ",
		"[lockup:",
		"Call Trace:",
		"starling::debug::provoke::",
		"---[ end trace ]---",
	};
	CHECK_MSG(t_wait_kernel_log("watchdog: BUG: soft lockup - CPU#", want, 5),
		  "no soft lockup report with the spinning stack");
}
