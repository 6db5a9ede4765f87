/*
 * Scheduling: sched_yield, sched_{set,get}affinity, sched_{set,get}scheduler,
 * sched_{set,get}param, sched_get_priority_{min,max}, sched_rr_get_interval,
 * setpriority/getpriority (sched(7)).
 */
#include "test.h"

#include <sched.h>
#include <sys/resource.h>

TEST(yield)
{
	CHECK_RET(sched_yield(), 0);
}

TEST(getaffinity_matches_online_cpus)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_RET(sched_getaffinity(0, sizeof(set), &set), 0);
	CHECK_EQ(CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_ONLN));
	/* The raw call returns the kernel mask size; too small is EINVAL. */
	long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	CHECK(n >= 8 && n <= (long)sizeof(set));
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 1, &set), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0x3ffffff, sizeof(set), &set), ESRCH);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(set), (void *)8), EFAULT);
}

TEST(setaffinity_pins_to_one_cpu)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		CHECK_RET(sched_setaffinity(0, sizeof(set), &set), 0);
		cpu_set_t got;
		CPU_ZERO(&got);
		CHECK_RET(sched_getaffinity(0, sizeof(got), &got), 0);
		CHECK_EQ(CPU_COUNT(&got), 1);
		CHECK(CPU_ISSET(0, &got));
		for (int i = 0; i < 50; i++) {
			CHECK_EQ(sched_getcpu(), 0);
			sched_yield();
		}
		/* Inherited by a child. */
		pid_t gc = fork();
		if (gc == 0) {
			cpu_set_t g;
			CPU_ZERO(&g);
			sched_getaffinity(0, sizeof(g), &g);
			_exit(CPU_COUNT(&g) == 1 && CPU_ISSET(0, &g) ? 0 : 1);
		}
		int st;
		CHECK_RET(waitpid(gc, &st, 0), gc);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setaffinity_errors)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	/* No CPU at all, or only CPUs that do not exist. */
	CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &set);
	CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK_ERR(sched_setaffinity(0x3ffffff, sizeof(set), &set), ESRCH);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof(set), (void *)8), EFAULT);
}

TEST(default_policy_other)
{
	CHECK_RET(sched_getscheduler(0), SCHED_OTHER);
	struct sched_param p = { .sched_priority = 5 };
	CHECK_RET(sched_getparam(0, &p), 0);
	CHECK_EQ(p.sched_priority, 0);
	CHECK_ERR(sched_getscheduler(-1), EINVAL);
	CHECK_ERR(sched_getscheduler(0x3ffffff), ESRCH);
	CHECK_ERR(sched_getparam(0, NULL), EINVAL);
	CHECK_ERR(sched_getparam(-1, &p), EINVAL);
}

TEST(priority_ranges)
{
	CHECK_RET(sched_get_priority_max(SCHED_FIFO), 99);
	CHECK_RET(sched_get_priority_min(SCHED_FIFO), 1);
	CHECK_RET(sched_get_priority_max(SCHED_RR), 99);
	CHECK_RET(sched_get_priority_min(SCHED_RR), 1);
	CHECK_RET(sched_get_priority_max(SCHED_OTHER), 0);
	CHECK_RET(sched_get_priority_min(SCHED_BATCH), 0);
	CHECK_ERR(sched_get_priority_max(1234), EINVAL);
	CHECK_ERR(sched_get_priority_min(-1), EINVAL);
}

TEST(setscheduler_realtime_and_back)
{
	if (geteuid() != 0)
		t_skip("needs root");
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sched_param p = { .sched_priority = 10 };
		CHECK_RET(sched_setscheduler(0, SCHED_RR, &p), 0);
		CHECK_RET(sched_getscheduler(0), SCHED_RR);
		p.sched_priority = 0;
		CHECK_RET(sched_getparam(0, &p), 0);
		CHECK_EQ(p.sched_priority, 10);
		struct timespec ts = { 0, 0 };
		CHECK_RET(sched_rr_get_interval(0, &ts), 0);
		CHECK(ts.tv_sec > 0 || ts.tv_nsec > 0);
		p.sched_priority = 20;
		CHECK_RET(sched_setparam(0, &p), 0);
		CHECK_RET(sched_getparam(0, &p), 0);
		CHECK_EQ(p.sched_priority, 20);
		CHECK_RET(sched_setscheduler(0, SCHED_FIFO, &p), 0);
		CHECK_RET(sched_rr_get_interval(0, &ts), 0);
		CHECK_EQ(ts.tv_sec, 0);
		CHECK_EQ(ts.tv_nsec, 0);
		p.sched_priority = 0;
		CHECK_RET(sched_setscheduler(0, SCHED_OTHER, &p), 0);
		CHECK_RET(sched_getscheduler(0), SCHED_OTHER);
		CHECK_RET(sched_setscheduler(0, SCHED_BATCH, &p), 0);
		CHECK_RET(sched_getscheduler(0), SCHED_BATCH);
		CHECK_RET(sched_setscheduler(0, SCHED_IDLE, &p), 0);
		CHECK_RET(sched_getscheduler(0), SCHED_IDLE);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setscheduler_errors)
{
	struct sched_param p = { .sched_priority = 0 };
	CHECK_ERR(sched_setscheduler(0, 1234, &p), EINVAL);
	CHECK_ERR(sched_setscheduler(0, SCHED_OTHER, NULL), EINVAL);
	CHECK_ERR(sched_setscheduler(-1, SCHED_OTHER, &p), EINVAL);
	CHECK_ERR(sched_setscheduler(0x3ffffff, SCHED_OTHER, &p), ESRCH);
	p.sched_priority = 1;
	CHECK_ERR(sched_setscheduler(0, SCHED_OTHER, &p), EINVAL);
	p.sched_priority = 100;
	CHECK_ERR(sched_setscheduler(0, SCHED_FIFO, &p), EINVAL);
	p.sched_priority = 0;
	CHECK_ERR(sched_setscheduler(0, SCHED_RR, &p), EINVAL);
	CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8), EFAULT);
}

TEST(unprivileged_cannot_go_realtime)
{
	if (geteuid() != 0)
		t_skip("needs root to drop privileges");
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		struct sched_param p = { .sched_priority = 10 };
		CHECK_ERR(sched_setscheduler(0, SCHED_FIFO, &p), EPERM);
		p.sched_priority = 0;
		CHECK_RET(sched_setscheduler(0, SCHED_BATCH, &p), 0);
		/* Raising priority (lower nice) needs CAP_SYS_NICE. */
		CHECK_RET(setpriority(PRIO_PROCESS, 0, 5), 0);
		CHECK_ERR(setpriority(PRIO_PROCESS, 0, 0), EACCES);
		/* Another user's process: EPERM. */
		CHECK_ERR(setpriority(PRIO_PROCESS, getppid(), 5), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(nice_values)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		errno = 0;
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), 0);
		CHECK_EQ(errno, 0);
		CHECK_RET(setpriority(PRIO_PROCESS, 0, 7), 0);
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), 7);
		/* The raw call returns 20 - nice. */
		CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 13);
		/* Out of range values are clamped. */
		CHECK_RET(setpriority(PRIO_PROCESS, 0, 100), 0);
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), 19);
		CHECK_EQ(nice(0), 19);
		/* Process group form: alone in its own group, it is the best. */
		CHECK_RET(setpgid(0, 0), 0);
		CHECK_EQ(getpriority(PRIO_PGRP, 0), 19);
		CHECK_EQ(getpriority(PRIO_USER, 0) <= 19, 1);
		CHECK_ERR(setpriority(99, 0, 0), EINVAL);
		CHECK_ERR(getpriority(99, 0), EINVAL);
		CHECK_ERR(setpriority(PRIO_PROCESS, 0x3ffffff, 0), ESRCH);
		CHECK_ERR(getpriority(PRIO_PROCESS, 0x3ffffff), ESRCH);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
