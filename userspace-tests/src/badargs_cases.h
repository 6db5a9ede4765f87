/*
 * The bad-argument sweep's cases (badargs.c): the argument classes and the
 * vector each gives a call, the calls never made, the calls that may end
 * their caller, and the calls whose answers are not compared in some
 * classes. Included by badargs.c only.
 */
#ifndef BADARGS_CASES_H
#define BADARGS_CASES_H

enum shape { GENERIC, FD, LEN_FD, LEN_PTR };

struct bad_class {
	const char *name;
	enum shape shape;
	unsigned long v;
};

static const struct bad_class classes[] = {
	{ "null", GENERIC, 0 },
	{ "unmapped", GENERIC, UNMAPPED_ADDR },
	{ "kernel", GENERIC, KERNEL_ADDR },
	{ "misaligned", GENERIC, BUF_ADDR + 1 },
	{ "huge", GENERIC, HUGE_ADDR },
	{ "allones", GENERIC, ~0UL },
	{ "int_m1", GENERIC, 0xffffffffUL },
	{ "fd_m1", FD, ~0UL },
	{ "fd_closed", FD, CLOSED_FD },
	{ "fd_pipe", FD, PIPE_FD },
	{ "len0_fd", LEN_FD, 0 },
	{ "lenm1_fd", LEN_FD, 0xffffffffUL },
	{ "lenmax_fd", LEN_FD, ~0UL },
	{ "len0_ptr", LEN_PTR, 0 },
	{ "lenm1_ptr", LEN_PTR, 0xffffffffUL },
	{ "lenmax_ptr", LEN_PTR, ~0UL },
};
#define NCLASSES ((int)(sizeof(classes) / sizeof(classes[0])))

/*
 * Calls never made, with the reason. Most are not in Starling's tables at
 * all; they matter to the Linux recording, which sweeps every x86_64 number.
 */
static const struct {
	const char *name;
	const char *why;
} skipped[] = {
	{ "reboot", "could power off or restart the machine" },
	{ "kexec_load", "could replace the running kernel" },
	{ "kexec_file_load", "could replace the running kernel" },
	{ "swapon", "changes the system's swap" },
	{ "swapoff", "changes the system's swap" },
	{ "init_module", "loads code into the kernel" },
	{ "finit_module", "loads code into the kernel" },
	{ "delete_module", "unloads kernel modules" },
	{ "settimeofday", "moves the system clock under the test runner" },
	{ "clock_settime", "moves the system clock under the test runner" },
	{ "clock_adjtime", "can move or slew the system clock" },
	{ "adjtimex", "can move or slew the system clock" },
	{ "vhangup", "hangs up the console the test runner writes to" },
	{ "pivot_root", "changes the root of every process of the namespace" },
	{ "acct", "switches process accounting on for the whole system" },
};

/*
 * Calls whose job is to end or redirect their caller: a child killed by a
 * signal after one of these is a correct answer, not a kernel fault.
 */
static const char *const may_kill[] = {
	"rt_sigreturn", "munmap", "mremap", "brk", "mprotect", "madvise",
	"clone", "clone3", "vfork", "fork", "execve", "execveat", "exit",
	"exit_group", "setrlimit", "prlimit64", "arch_prctl", "kill",
	"tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "ptrace",
	"seccomp", "prctl", "sigaltstack", "shmdt", "set_robust_list",
	"rseq", "mmap", "shmat", "userfaultfd",
};

static void vector(const struct bad_class *c, unsigned long a[6])
{
	switch (c->shape) {
	case GENERIC:
		for (int i = 0; i < 6; i++)
			a[i] = c->v;
		break;
	case FD:
		a[0] = c->v;
		a[1] = BUF_ADDR;
		a[2] = 16;
		a[3] = BUF_ADDR;
		a[4] = 16;
		a[5] = 0;
		break;
	case LEN_FD:
		a[0] = 1;
		a[1] = BUF_ADDR;
		a[2] = c->v;
		a[3] = BUF_ADDR;
		a[4] = c->v;
		a[5] = 0;
		break;
	case LEN_PTR:
		a[0] = BUF_ADDR;
		a[1] = c->v;
		a[2] = BUF_ADDR;
		a[3] = c->v;
		a[4] = 0;
		a[5] = 0;
		break;
	}
}

static const char *skip_reason(const char *name, const unsigned long a[6])
{
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		if (strcmp(name, skipped[i].name) == 0)
			return skipped[i].why;
	/* A real signal from the kill family could reach the test runner or
	 * PID 1 (pid 0, -1, 1 or a group); no vector has one today, and a
	 * new vector must not introduce one unnoticed. */
	int sig_arg = -1;
	if (!strcmp(name, "kill") || !strcmp(name, "tkill") ||
	    !strcmp(name, "rt_sigqueueinfo") || !strcmp(name, "pidfd_send_signal"))
		sig_arg = 1;
	else if (!strcmp(name, "tgkill") || !strcmp(name, "rt_tgsigqueueinfo"))
		sig_arg = 2;
	if (sig_arg >= 0 && (int)a[sig_arg] > 0 && (int)a[sig_arg] <= 64)
		return "a real signal could reach another process";
	return NULL;
}

static int is_may_kill(const char *name)
{
	for (size_t i = 0; i < sizeof(may_kill) / sizeof(may_kill[0]); i++)
		if (strcmp(name, may_kill[i]) == 0)
			return 1;
	return 0;
}

/* Calls whose first argument is a pid: in the fd classes it is 3 or 5,
 * kernel threads on Linux, and on Starling whatever process (if any) the
 * run so far left with that number. Their answers are not compared in
 * those classes. */
static const char *const pid_first[] = {
	"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
	"getpgid", "setpgid", "getsid", "sched_setparam", "sched_getparam",
	"sched_setscheduler", "sched_getscheduler", "sched_rr_get_interval",
	"sched_setaffinity", "sched_getaffinity", "sched_setattr",
	"sched_getattr", "get_robust_list", "prlimit64", "pidfd_open",
	"process_vm_readv", "process_vm_writev", "ptrace", "kcmp",
	"migrate_pages", "move_pages", "capget", "capset",
};

static int pid_dependent(const char *name, const char *cls)
{
	if (strcmp(cls, "fd_closed") != 0 && strcmp(cls, "fd_pipe") != 0)
		return 0;
	for (size_t i = 0; i < sizeof(pid_first) / sizeof(pid_first[0]); i++)
		if (strcmp(name, pid_first[i]) == 0)
			return 1;
	return 0;
}

#endif
