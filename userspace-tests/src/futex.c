/*
 * futex(2): WAIT/WAKE, value mismatch, timeouts (relative, absolute with
 * FUTEX_CLOCK_REALTIME), bitsets, REQUEUE/CMP_REQUEUE, WAKE_OP, private
 * versus shared keys across processes, and robust lists
 * (set_robust_list/get_robust_list, FUTEX_OWNER_DIED at owner exit).
 */
#include "test.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

static long futex(void *uaddr, int op, uint32_t val, const struct timespec *ts,
		  void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* Waiters started by wake tests: each waits on `word` for value 0. */
struct waiter {
	_Atomic uint32_t *word;
	int op;
	uint32_t bitset;
	_Atomic int started;
	_Atomic int woke;
	long ret;
	int err;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	atomic_store(&w->started, 1);
	errno = 0;
	w->ret = futex(w->word, w->op, 0, NULL, NULL, w->bitset);
	w->err = errno;
	atomic_store(&w->woke, 1);
	return NULL;
}

/* Waits until `n` waiters block in the kernel (or gives up). Approximate:
 * a started waiter has called or is about to call futex; give it time. */
static void let_waiters_sleep(void)
{
	t_sleep_ms(50);
}

static void start(struct waiter *w, pthread_t *th, _Atomic uint32_t *word, int op,
		  uint32_t bitset)
{
	memset(w, 0, sizeof(*w));
	w->word = word;
	w->op = op;
	w->bitset = bitset;
	CHECK_RET(pthread_create(th, NULL, wait_thread, w), 0);
	while (!atomic_load(&w->started))
		sched_yield();
}

TEST(wait_value_mismatch_eagain)
{
	uint32_t word = 1;
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(futex(&word, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
}

TEST(wait_relative_timeout)
{
	uint32_t word = 0;
	struct timespec ts = { 0, 50 * 1000000L };
	long long t0 = t_now_ns();
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), ETIMEDOUT);
	CHECK(t_now_ns() - t0 >= 50 * 1000000LL);
}

TEST(wait_bitset_absolute_timeouts)
{
	uint32_t word = 0;
	struct timespec now, ts;
	/* Absolute CLOCK_MONOTONIC deadline. */
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &now));
	ts = now;
	ts.tv_nsec += 30 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	struct timespec after;
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &after));
	CHECK(after.tv_sec > ts.tv_sec || (after.tv_sec == ts.tv_sec && after.tv_nsec >= ts.tv_nsec));
	/* Absolute CLOCK_REALTIME deadline, already past: immediate. */
	CHECK_OK(clock_gettime(CLOCK_REALTIME, &now));
	now.tv_sec -= 1;
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &now, NULL,
			FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
}

TEST(errors)
{
	uint32_t word = 0;
	struct timespec bad = { 0, 1000000000L };
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0), EINVAL);
	struct timespec neg = { -1, 0 };
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 0, &neg, NULL, 0), EINVAL);
	/* Misaligned word. */
	CHECK_ERR(futex((char *)&word + 1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EINVAL);
	/* A zero bitset never matches. */
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	/* FUTEX_CLOCK_REALTIME only with the bitset/wait operations. */
	CHECK_ERR(futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
	CHECK_ERR(futex((void *)8, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(&word, 99, 0, NULL, NULL, 0), ENOSYS);
	/* Waking nobody is not an error. */
	CHECK_RET(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
}

TEST(wake_wakes_waiter)
{
	_Atomic uint32_t word = 0;
	struct waiter w;
	pthread_t th;
	start(&w, &th, &word, FUTEX_WAIT_PRIVATE, 0);
	let_waiters_sleep();
	CHECK_EQ(atomic_load(&w.woke), 0);
	CHECK_RET(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
	CHECK_RET(pthread_join(th, NULL), 0);
	CHECK_EQ(w.ret, 0);
}

TEST(wake_count_limits)
{
	_Atomic uint32_t word = 0;
	struct waiter w[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		start(&w[i], &th[i], &word, FUTEX_WAIT_PRIVATE, 0);
	let_waiters_sleep();
	CHECK_RET(futex(&word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0), 2);
	t_sleep_ms(50);
	int woke = 0;
	for (int i = 0; i < 3; i++)
		woke += atomic_load(&w[i].woke);
	CHECK_EQ(woke, 2);
	CHECK_RET(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 1);
	for (int i = 0; i < 3; i++)
		CHECK_RET(pthread_join(th[i], NULL), 0);
}

TEST(bitset_selects_waiters)
{
	_Atomic uint32_t word = 0;
	struct waiter a, b;
	pthread_t ta, tb;
	start(&a, &ta, &word, FUTEX_WAIT_BITSET_PRIVATE, 0x1);
	start(&b, &tb, &word, FUTEX_WAIT_BITSET_PRIVATE, 0x2);
	let_waiters_sleep();
	CHECK_RET(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 0x2), 1);
	CHECK_RET(pthread_join(tb, NULL), 0);
	CHECK_EQ(atomic_load(&a.woke), 0);
	/* Plain FUTEX_WAKE matches every bitset. */
	CHECK_RET(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 1);
	CHECK_RET(pthread_join(ta, NULL), 0);
}

TEST(requeue_moves_waiters)
{
	_Atomic uint32_t from = 0, to = 0;
	struct waiter w[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		start(&w[i], &th[i], &from, FUTEX_WAIT_PRIVATE, 0);
	let_waiters_sleep();
	/* Wake one and move one: (CMP_)REQUEUE returns woken + requeued; CMP
	 * fails with EAGAIN when the word does not hold val3. */
	CHECK_ERR(futex(&from, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &to, 5), EAGAIN);
	CHECK_RET(futex(&from, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &to, 0), 2);
	t_sleep_ms(30);
	int woke = 0;
	for (int i = 0; i < 3; i++)
		woke += atomic_load(&w[i].woke);
	CHECK_EQ(woke, 1);
	/* One waiter now waits on `to`, one still on `from`. */
	CHECK_RET(futex(&to, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 1);
	CHECK_RET(futex(&from, FUTEX_REQUEUE_PRIVATE, 0, (void *)10, &to, 0), 1);
	CHECK_RET(futex(&to, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 1);
	for (int i = 0; i < 3; i++)
		CHECK_RET(pthread_join(th[i], NULL), 0);
}

TEST(wake_op)
{
	_Atomic uint32_t a = 0, b = 0;
	struct waiter wa, wb;
	pthread_t ta, tb;
	start(&wa, &ta, &a, FUTEX_WAIT_PRIVATE, 0);
	start(&wb, &tb, &b, FUTEX_WAIT_PRIVATE, 0);
	let_waiters_sleep();
	/* b = b + 1 (old 0); wake on a; wake on b if old == 0. */
	uint32_t op = FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0);
	CHECK_RET(futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &b, op), 2);
	CHECK_EQ(atomic_load(&b), 1);
	CHECK_RET(pthread_join(ta, NULL), 0);
	CHECK_RET(pthread_join(tb, NULL), 0);
	/* Comparison false: only the first word's waiters. */
	op = FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0);
	CHECK_RET(futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &b, op), 0);
	CHECK_EQ(atomic_load(&b), 7);
}

TEST(shared_futex_across_processes)
{
	_Atomic uint32_t *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(word != MAP_FAILED);
	atomic_store(word, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		long r;
		do
			r = futex(word, FUTEX_WAIT, 0, NULL, NULL, 0);
		while (r == -1 && errno == EINTR);
		_exit(atomic_load(word) == 1 ? 0 : 3);
	}
	/* Wake until the child was there to be woken. */
	atomic_store(word, 1);
	long woken = 0;
	for (int i = 0; i < 200 && woken == 0; i++) {
		woken = futex(word, FUTEX_WAKE, 1, NULL, NULL, 0);
		if (woken == 0)
			t_sleep_ms(5);
	}
	/* The child either slept and was woken, or saw 1 and never slept. */
	t_wait_exit(pid, 0);
	munmap(word, 4096);
}

TEST(private_futex_does_not_cross_processes)
{
	_Atomic uint32_t *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(word != MAP_FAILED);
	atomic_store(word, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		struct timespec ts = { 0, 300 * 1000000L };
		long r = futex(word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		_exit(r == -1 && errno == ETIMEDOUT ? 0 : 4);
	}
	t_sleep_ms(50);
	/* A private wake from another process finds no waiter. */
	CHECK_RET(futex(word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	t_wait_exit(pid, 0);
	munmap(word, 4096);
}

/* ---- robust lists ---------------------------------------------------- */

struct robust_lock {
	struct robust_list list;
	_Atomic uint32_t word;
};

TEST(set_get_robust_list)
{
	struct robust_list_head head;
	head.list.next = &head.list;
	head.futex_offset = 0;
	head.list_op_pending = NULL;
	CHECK_ERR(syscall(SYS_set_robust_list, &head, sizeof(head) + 1), EINVAL);
	CHECK_RET(syscall(SYS_set_robust_list, &head, sizeof(head)), 0);
	struct robust_list_head *got = NULL;
	size_t len = 0;
	CHECK_RET(syscall(SYS_get_robust_list, 0, &got, &len), 0);
	CHECK_EQ((uintptr_t)got, (uintptr_t)&head);
	CHECK_EQ(len, sizeof(head));
	CHECK_RET(syscall(SYS_get_robust_list, syscall(SYS_gettid), &got, &len), 0);
	CHECK_EQ((uintptr_t)got, (uintptr_t)&head);
	CHECK_ERR(syscall(SYS_get_robust_list, 0x3ffffff, &got, &len), ESRCH);
	CHECK_ERR(syscall(SYS_get_robust_list, 0, (void *)8, &len), EFAULT);
}

TEST(owner_died_on_exit)
{
	struct robust_lock *lk = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(lk != MAP_FAILED);
	atomic_store(&lk->word, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		static struct robust_list_head head;
		head.list.next = &lk->list;
		lk->list.next = &head.list;
		head.futex_offset = (long)offsetof(struct robust_lock, word);
		head.list_op_pending = NULL;
		if (syscall(SYS_set_robust_list, &head, sizeof(head)) != 0)
			_exit(5);
		/* Take the lock (with a waiter flag) and die holding it. */
		atomic_store(&lk->word, (uint32_t)syscall(SYS_gettid) | FUTEX_WAITERS);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	uint32_t v = atomic_load(&lk->word);
	CHECK_MSG(v & FUTEX_OWNER_DIED, "word %#x lacks FUTEX_OWNER_DIED", v);
	CHECK_EQ(v & FUTEX_TID_MASK, 0);
	CHECK(v & FUTEX_WAITERS);
	munmap(lk, 4096);
}

TEST(lock_of_another_owner_untouched)
{
	struct robust_lock *lk = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(lk != MAP_FAILED);
	atomic_store(&lk->word, 12345);
	pid_t pid = t_fork();
	if (pid == 0) {
		static struct robust_list_head head;
		head.list.next = &lk->list;
		lk->list.next = &head.list;
		head.futex_offset = (long)offsetof(struct robust_lock, word);
		head.list_op_pending = NULL;
		syscall(SYS_set_robust_list, &head, sizeof(head));
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(atomic_load(&lk->word), 12345);
	munmap(lk, 4096);
}

static pthread_mutex_t robust_mu;

static void *die_holding(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust_mu);
	return NULL; /* exits with the mutex held */
}

TEST(pthread_robust_mutex_eownerdead)
{
	pthread_mutexattr_t at;
	CHECK_RET(pthread_mutexattr_init(&at), 0);
	CHECK_RET(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST), 0);
	CHECK_RET(pthread_mutex_init(&robust_mu, &at), 0);
	pthread_t th;
	CHECK_RET(pthread_create(&th, NULL, die_holding, NULL), 0);
	CHECK_RET(pthread_join(th, NULL), 0);
	CHECK_RET(pthread_mutex_lock(&robust_mu), EOWNERDEAD);
	CHECK_RET(pthread_mutex_consistent(&robust_mu), 0);
	CHECK_RET(pthread_mutex_unlock(&robust_mu), 0);
	CHECK_RET(pthread_mutex_lock(&robust_mu), 0);
	CHECK_RET(pthread_mutex_unlock(&robust_mu), 0);
}

TEST(robust_mutex_across_processes)
{
	pthread_mutex_t *mu = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(mu != MAP_FAILED);
	pthread_mutexattr_t at;
	CHECK_RET(pthread_mutexattr_init(&at), 0);
	CHECK_RET(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST), 0);
	CHECK_RET(pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED), 0);
	CHECK_RET(pthread_mutex_init(mu, &at), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_mutex_lock(mu);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(pthread_mutex_lock(mu), EOWNERDEAD);
	CHECK_RET(pthread_mutex_consistent(mu), 0);
	CHECK_RET(pthread_mutex_unlock(mu), 0);
	munmap(mu, 4096);
}
