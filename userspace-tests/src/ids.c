/*
 * Process, thread and user identities: getpid(2), getppid(2), gettid(2),
 * getuid(2) and friends, and set_tid_address(2).
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

static long raw_gettid(void)
{
	return syscall(SYS_gettid);
}

TEST(getpid_stable)
{
	long a = syscall(SYS_getpid), b = syscall(SYS_getpid);
	CHECK(a > 0);
	CHECK_EQ(a, b);
	CHECK_EQ(getpid(), a);
}

TEST(gettid_is_pid_in_single_thread)
{
	CHECK_EQ(raw_gettid(), syscall(SYS_getpid));
}

static long thread_tid, thread_pid, thread_ppid;

static void *report_ids(void *arg)
{
	(void)arg;
	thread_tid = raw_gettid();
	thread_pid = syscall(SYS_getpid);
	thread_ppid = syscall(SYS_getppid);
	return NULL;
}

TEST(threads_share_pid_not_tid)
{
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, report_ids, NULL), 0);
	CHECK_RET(pthread_join(t, NULL), 0);
	CHECK_EQ(thread_pid, getpid());
	CHECK_EQ(thread_ppid, getppid());
	CHECK(thread_tid > 0);
	CHECK(thread_tid != getpid());
}

TEST(getppid_in_child)
{
	pid_t me = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_EQ(syscall(SYS_getppid), me);
		CHECK(syscall(SYS_getpid) != me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(orphan_is_reparented)
{
	/* When its parent dies, a process gets a new parent (init or a
	 * subreaper), so getppid() no longer names the dead parent. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		pid_t dying = getpid();
		pid_t gc = fork();
		if (gc == 0) {
			char r = 'n';
			for (int i = 0; i < 500; i++) {
				if (getppid() != dying) {
					r = 'y';
					break;
				}
				t_sleep_ms(10);
			}
			(void)write(p[1], &r, 1);
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	t_wait_exit(pid, 0);
	char r = 0;
	CHECK_RET(read(p[0], &r, 1), 1);
	CHECK_MSG(r == 'y', "getppid() still names the dead parent after 5 s");
	close(p[0]);
}

TEST(credentials_are_root)
{
	/* The guest runs the suite as root. */
	CHECK_RET(syscall(SYS_getuid), 0);
	CHECK_RET(syscall(SYS_geteuid), 0);
	CHECK_RET(syscall(SYS_getgid), 0);
	CHECK_RET(syscall(SYS_getegid), 0);
}

TEST(set_tid_address_returns_tid)
{
	/* In a child: the main thread's clear-child-tid pointer belongs to
	 * libc, and we replace it. */
	pid_t pid = t_fork();
	if (pid == 0) {
		static int ctid;
		CHECK_EQ(syscall(SYS_set_tid_address, &ctid), raw_gettid());
		CHECK_EQ(syscall(SYS_set_tid_address, NULL), raw_gettid());
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static _Atomic int thread_ctid = -1;
static long set_tid_result;

static void *set_own_tid_address(void *arg)
{
	(void)arg;
	long tid = raw_gettid();
	atomic_store(&thread_ctid, (int)tid);
	set_tid_result = syscall(SYS_set_tid_address, &thread_ctid);
	return NULL;
}

TEST(set_tid_address_cleared_at_thread_exit)
{
	/* set_tid_address(2): when the thread exits, the kernel writes 0 to
	 * the address (and wakes futex waiters on it).  In a child process,
	 * because the thread no longer clears what pthread_join waits on. */
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		CHECK_RET(pthread_create(&t, &attr, set_own_tid_address, NULL), 0);
		int i;
		for (i = 0; i < 500 && atomic_load(&thread_ctid) != 0; i++)
			t_sleep_ms(10);
		CHECK_MSG(atomic_load(&thread_ctid) == 0,
			  "tid word still %d 5 s after the thread exited",
			  atomic_load(&thread_ctid));
		CHECK(set_tid_result > 0);
		CHECK(set_tid_result != getpid());
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
