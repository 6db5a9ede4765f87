/*
 * POSIX threads on the kernel's clone(CLONE_THREAD), futex and signal
 * primitives: create/join, mutexes, condition variables, cancellation,
 * thread-directed signals, and exit of the whole group from any thread.
 */
#include "test.h"

#include <pthread.h>
#include <sys/syscall.h>

static void *return_arg(void *arg)
{
	return arg;
}

TEST(create_join_returns_value)
{
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, return_arg, (void *)0x1234), 0);
	void *ret = NULL;
	CHECK_RET(pthread_join(t, &ret), 0);
	CHECK(ret == (void *)0x1234);
}

static void *report_ids(void *arg)
{
	pid_t *out = arg;
	out[0] = getpid();
	out[1] = (pid_t)syscall(SYS_gettid);
	return NULL;
}

TEST(threads_share_pid_not_tid)
{
	pid_t ids[2] = { 0, 0 };
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, report_ids, ids), 0);
	CHECK_RET(pthread_join(t, NULL), 0);
	CHECK_EQ(ids[0], getpid());
	CHECK(ids[1] != getpid());
	CHECK(ids[1] > 0);
}

#define THREADS 8
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

TEST(mutex_counts_exactly)
{
	pthread_t t[THREADS];
	counter = 0;
	for (int i = 0; i < THREADS; i++)
		CHECK_RET(pthread_create(&t[i], NULL, add, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		CHECK_RET(pthread_join(t[i], NULL), 0);
	CHECK_EQ(counter, (long)THREADS * ROUNDS);
}

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready, seen;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&cond, &lock);
	seen++;
	pthread_mutex_unlock(&lock);
	return NULL;
}

TEST(condvar_broadcast_wakes_all)
{
	pthread_t t[4];
	ready = seen = 0;
	for (int i = 0; i < 4; i++)
		CHECK_RET(pthread_create(&t[i], NULL, waiter, NULL), 0);
	usleep(100000);
	pthread_mutex_lock(&lock);
	ready = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < 4; i++)
		CHECK_RET(pthread_join(t[i], NULL), 0);
	CHECK_EQ(seen, 4);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

TEST(cancel_blocked_thread)
{
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, sleeper, NULL), 0);
	usleep(50000);
	CHECK_RET(pthread_cancel(t), 0);
	void *ret = NULL;
	CHECK_RET(pthread_join(t, &ret), 0);
	CHECK(ret == PTHREAD_CANCELED);
}

static volatile sig_atomic_t hit_tid;

static void on_usr1(int sig)
{
	(void)sig;
	hit_tid = (sig_atomic_t)syscall(SYS_gettid);
}

static void *wait_for_signal(void *arg)
{
	pid_t *tid = arg;
	*tid = (pid_t)syscall(SYS_gettid);
	while (!hit_tid)
		usleep(1000);
	return NULL;
}

TEST(tgkill_targets_one_thread)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_usr1;
	CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
	hit_tid = 0;
	pid_t tid = 0;
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, wait_for_signal, &tid), 0);
	while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	CHECK_RET(syscall(SYS_tgkill, getpid(), tid, SIGUSR1), 0);
	CHECK_RET(pthread_join(t, NULL), 0);
	CHECK_EQ(hit_tid, tid);
	signal(SIGUSR1, SIG_DFL);
}

static void *exit_group_from_thread(void *arg)
{
	(void)arg;
	exit(7);
}

TEST(exit_from_thread_ends_process)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, exit_group_from_thread, NULL);
		for (;;)
			pause();
	}
	t_wait_exit(pid, 7);
}
