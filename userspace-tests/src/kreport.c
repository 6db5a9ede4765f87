/*
 * Kernel reports: /proc/kallsyms, /sys/kernel/warn_count,
 * kernel.watchdog_thresh, and on Starling the symbolised backtraces of a
 * WARN (/proc/starling/provoke, Linux's lkdtm command names) and of sysrq
 * 'l', read back from the kernel log with syslog(2).
 *
 * Linux: /proc/kallsyms lists "address type name" sorted by address (the
 * core kernel's part), with zero addresses for readers without CAP_SYSLOG
 * under the default kptr_restrict and perf_event_paranoid;
 * /sys/kernel/warn_count exists since 6.2; watchdog_thresh takes 0..60
 * (proc_watchdog_thresh), EINVAL outside. Needs root.
 */
#include "test.h"
#include "proc_text.h"

#include <sys/wait.h>

static char *read_kallsyms(void)
{
	size_t size = 64 << 20;
	char *buf = malloc(size);
	CHECK(buf != NULL);
	size_t n = read_chunked("/proc/kallsyms", buf, size, 65536);
	CHECK(n > 0 && n < size - 1);
	return buf;
}

TEST(kallsyms_is_sorted_and_typed)
{
	if (geteuid() != 0)
		t_skip("needs root");
	char *text = read_kallsyms();
	unsigned long prev = 0;
	long lines = 0;
	int getpid_seen = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long addr;
		char type;
		char name[512];
		CHECK_MSG(sscanf(line, "%lx %c %511s", &addr, &type, name) == 3,
			  "line %ld: %s", lines, line);
		/* Module symbols (Linux) follow the core, unsorted. */
		if (strstr(line, "\t["))
			break;
		CHECK_MSG(addr >= prev, "not sorted at %s", line);
		CHECK_MSG(addr != 0, "root reads a zero address: %s", line);
		CHECK_MSG(strchr("tTwWdDbBrRaAvV", type) != NULL, "type %c", type);
		if (strstr(line, "sys_getpid"))
			getpid_seen = 1;
		prev = addr;
		lines++;
	}
	CHECK_MSG(lines > 1000, "%ld symbols", lines);
	CHECK_MSG(getpid_seen, "no symbol for sys_getpid");
	free(text);
}

TEST(kallsyms_hides_addresses_from_users)
{
	if (geteuid() != 0)
		t_skip("needs root");
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgid(65534));
		CHECK_OK(setuid(65534));
		char *text = read_kallsyms();
		long lines = 0;
		for (char *line = strtok(text, "\n"); line && lines < 5000;
		     line = strtok(NULL, "\n"), lines++) {
			unsigned long addr = 1;
			CHECK(sscanf(line, "%lx", &addr) == 1);
			CHECK_MSG(addr == 0, "a user reads %s", line);
		}
		CHECK(lines > 100);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(warn_count_is_a_number)
{
	long n = t_read_long("/sys/kernel/warn_count");
	CHECK(n >= 0);
}

TEST(watchdog_thresh_range)
{
	if (geteuid() != 0)
		t_skip("needs root");
	const char *path = "/proc/sys/kernel/watchdog_thresh";
	long old = t_read_long(path);
	CHECK(old >= 0 && old <= 60);
	CHECK_EQ(t_put_str(path, "61"), EINVAL);
	CHECK_EQ(t_put_str(path, "-1"), EINVAL);
	CHECK_EQ(t_read_long(path), old);
	char buf[16];
	snprintf(buf, sizeof(buf), "%ld", old);
	CHECK_EQ(t_put_str(path, buf), 0);
	CHECK_EQ(t_read_long(path), old);
}

static int starling_root(void)
{
	return on_starling() && geteuid() == 0;
}

TEST(provoked_warning_logs_a_symbolised_backtrace)
{
	if (!starling_root())
		t_skip("Starling's /proc/starling/provoke, as root");
	long before = t_read_long("/sys/kernel/warn_count");
	CHECK_EQ(t_put_str("/proc/starling/provoke", "WARNING"), 0);
	CHECK_EQ(t_read_long("/sys/kernel/warn_count"), before + 1);
	const char *want[] = {
		"WARNING: CPU: ",
		"provoked through /proc/starling/provoke",
		"Call Trace:",
		" starling::debug::provoke::write+0x",
		"starling::syscall::fs::rw::sys_write+0x",
		"---[ end trace ]---",
	};
	CHECK_MSG(t_wait_kernel_log("------------[ cut here ]------------", want, 6),
		  "the report is not in the kernel log");
}

TEST(provoke_rejects_unknown_commands)
{
	if (!starling_root())
		t_skip("Starling's /proc/starling/provoke, as root");
	const char *path = "/proc/starling/provoke";
	CHECK_EQ(t_put_str(path, "BOGUS"), EINVAL);
	CHECK_EQ(t_put_str(path, "WARNING twice"), EINVAL);
	CHECK_EQ(t_put_str(path, "SOFTLOCKUP 0"), EINVAL);
	CHECK_EQ(t_put_str(path, "SOFTLOCKUP 601"), EINVAL);
	CHECK_EQ(t_put_str(path, "SOFTLOCKUP x"), EINVAL);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setuid(65534));
		CHECK_ERR(open(path, O_WRONLY), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sysrq_l_logs_every_cpu)
{
	if (!starling_root())
		t_skip("logs every CPU's stack into the host's log on Linux");
	CHECK_EQ(t_put_str("/proc/sysrq-trigger", "l"), 0);
	const char *want[] = {
		"Backtrace for cpu 0:",
		"starling::debug::watchdog::show_all_cpus+0x",
	};
	CHECK_MSG(t_wait_kernel_log("Show backtrace of all active CPUs", want, 2),
		  "no backtraces in the kernel log");
}
