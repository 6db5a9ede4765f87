/*
 * Signal dispositions, masks and delivery: rt_sigaction(2),
 * rt_sigprocmask(2), rt_sigpending(2) and the return path through
 * rt_sigreturn(2) (every handler that returns exercises it).
 *
 * Handlers are installed with libc's sigaction, which supplies the
 * SA_RESTORER trampoline x86_64 needs; error cases use the raw syscalls.
 * Each sub-test runs in a child so dispositions never leak between tests.
 */
#include "test.h"

#define SIGSET_SIZE 8 /* the kernel's sigset_t: 64 signals */

static long raw_sigaction(int sig, const void *act, void *old, size_t size)
{
	return syscall(SYS_rt_sigaction, sig, act, old, size);
}

static long raw_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return syscall(SYS_rt_sigprocmask, how, set, old, SIGSET_SIZE);
}

static volatile sig_atomic_t hits;
static volatile sig_atomic_t last_sig;
static siginfo_t last_info;
static sigset_t mask_in_handler;

static void on_signal(int sig)
{
	hits++;
	last_sig = sig;
	sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static void on_siginfo(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_info = *si;
}

static void install(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
	sigemptyset(&sa.sa_mask);
	CHECK_RET(sigaction(sig, &sa, NULL), 0);
}

static sigset_t just(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	return s;
}

TEST(handler_runs_before_kill_returns)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		install(SIGUSR1, on_signal, 0);
		hits = 0;
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		/* An unblocked signal sent to oneself is delivered before
		 * kill returns (POSIX kill(3p)). */
		CHECK_EQ(hits, 1);
		CHECK_EQ(last_sig, SIGUSR1);
		/* Handlers are called again for later signals. */
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK_EQ(hits, 2);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(siginfo_from_kill)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = on_siginfo,
					.sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		CHECK_RET(sigaction(SIGUSR2, &sa, NULL), 0);
		hits = 0;
		CHECK_RET(kill(getpid(), SIGUSR2), 0);
		CHECK_EQ(hits, 1);
		CHECK_EQ(last_info.si_signo, SIGUSR2);
		CHECK_EQ(last_info.si_code, SI_USER);
		CHECK_EQ(last_info.si_pid, getpid());
		CHECK_EQ(last_info.si_uid, getuid());
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(siginfo_from_other_process)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = on_siginfo,
					.sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		sigset_t b = just(SIGUSR1), old;
		sigprocmask(SIG_BLOCK, &b, &old);
		hits = 0;
		pid_t sender = fork();
		if (sender == 0) {
			kill(getppid(), SIGUSR1);
			_exit(0);
		}
		t_wait(sender);
		/* Delivered when unblocked, carrying the sender's pid. */
		sigprocmask(SIG_SETMASK, &old, NULL);
		CHECK_EQ(hits, 1);
		CHECK_EQ(last_info.si_pid, sender);
		CHECK_EQ(last_info.si_signo, SIGUSR1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(blocked_signal_pending_until_unblocked)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		install(SIGUSR1, on_signal, 0);
		hits = 0;
		sigset_t b = just(SIGUSR1), old, pend;
		CHECK_RET(raw_sigprocmask(SIG_BLOCK, &b, &old), 0);
		CHECK(!sigismember(&old, SIGUSR1));
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK_EQ(hits, 0);
		sigemptyset(&pend);
		CHECK_RET(syscall(SYS_rt_sigpending, &pend, SIGSET_SIZE), 0);
		CHECK(sigismember(&pend, SIGUSR1));
		CHECK(!sigismember(&pend, SIGUSR2));
		/* Unblocking delivers it before sigprocmask returns; standard
		 * signals do not queue, so twice sent is once delivered. */
		CHECK_RET(raw_sigprocmask(SIG_UNBLOCK, &b, NULL), 0);
		CHECK_EQ(hits, 1);
		CHECK_RET(syscall(SYS_rt_sigpending, &pend, SIGSET_SIZE), 0);
		CHECK(!sigismember(&pend, SIGUSR1));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sigprocmask_how)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		sigset_t a = just(SIGUSR1), b = just(SIGUSR2), cur;
		CHECK_RET(raw_sigprocmask(SIG_SETMASK, &a, NULL), 0);
		CHECK_RET(raw_sigprocmask(SIG_BLOCK, &b, &cur), 0);
		CHECK(sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGUSR2));
		CHECK_RET(raw_sigprocmask(SIG_UNBLOCK, &a, &cur), 0);
		CHECK(sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2));
		CHECK_RET(raw_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
		CHECK(!sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2));
		/* SIGKILL and SIGSTOP cannot be blocked: silently dropped. */
		sigset_t all;
		sigfillset(&all);
		CHECK_RET(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL,
				  SIGSET_SIZE), 0);
		CHECK_RET(raw_sigprocmask(SIG_BLOCK, NULL, &cur), 0);
		CHECK(!sigismember(&cur, SIGKILL));
		CHECK(!sigismember(&cur, SIGSTOP));
		CHECK(sigismember(&cur, SIGTERM));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sigprocmask_errors)
{
	sigset_t s = just(SIGUSR1);
	CHECK_ERR(raw_sigprocmask(99, &s, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 4), EINVAL);
	CHECK_ERR(raw_sigprocmask(SIG_BLOCK, (sigset_t *)1, NULL), EFAULT);
}

TEST(sig_ign_discards)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
		CHECK(signal(SIGTERM, SIG_IGN) != SIG_ERR);
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK_RET(kill(getpid(), SIGTERM), 0);
		/* Still alive, and nothing left pending. */
		sigset_t pend;
		CHECK_RET(sigpending(&pend), 0);
		CHECK(!sigismember(&pend, SIGUSR1));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(default_action_terminates)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		kill(getpid(), SIGUSR1);
		_exit(0);
	}
	t_wait_signal(pid, SIGUSR1);
	/* SIGCHLD's default is to ignore: a parent survives it. */
	pid = t_fork();
	if (pid == 0) {
		kill(getpid(), SIGCHLD);
		kill(getpid(), SIGURG);
		_exit(3);
	}
	t_wait_exit(pid, 3);
}

TEST(sigkill_sigstop_cannot_be_caught)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct sigaction old;
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGKILL, &ign, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	/* Querying them is allowed. */
	CHECK_RET(sigaction(SIGKILL, NULL, &old), 0);
	CHECK(old.sa_handler == SIG_DFL);
}

TEST(sigaction_errors)
{
	struct sigaction old;
	/* Raw kernel struct: handler, flags, restorer, 8-byte mask. */
	unsigned long kact[4] = { (unsigned long)SIG_IGN, 0, 0, 0 };
	CHECK_ERR(raw_sigaction(0, kact, NULL, SIGSET_SIZE), EINVAL);
	CHECK_ERR(raw_sigaction(65, kact, NULL, SIGSET_SIZE), EINVAL);
	CHECK_ERR(raw_sigaction(-1, kact, NULL, SIGSET_SIZE), EINVAL);
	CHECK_ERR(raw_sigaction(SIGUSR1, kact, NULL, 4), EINVAL);
	CHECK_ERR(raw_sigaction(SIGKILL, kact, NULL, SIGSET_SIZE), EINVAL);
	CHECK_ERR(raw_sigaction(SIGUSR1, (void *)1, NULL, SIGSET_SIZE), EFAULT);
	CHECK_ERR(raw_sigaction(SIGUSR1, NULL, (void *)1, SIGSET_SIZE), EFAULT);
	(void)old;
}

TEST(old_action_reported)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_signal,
					.sa_flags = SA_RESTART };
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGUSR2);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		struct sigaction old;
		memset(&old, 0, sizeof(old));
		CHECK_RET(sigaction(SIGUSR1, NULL, &old), 0);
		CHECK(old.sa_handler == on_signal);
		CHECK(old.sa_flags & SA_RESTART);
		CHECK(sigismember(&old.sa_mask, SIGUSR2));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(mask_during_handler_and_restore)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGUSR2);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		hits = 0;
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK_EQ(hits, 1);
		/* In the handler: the signal itself plus sa_mask were blocked. */
		CHECK(sigismember(&mask_in_handler, SIGUSR1));
		CHECK(sigismember(&mask_in_handler, SIGUSR2));
		/* After rt_sigreturn: the original mask is back. */
		sigset_t now;
		CHECK_RET(sigprocmask(SIG_BLOCK, NULL, &now), 0);
		CHECK(!sigismember(&now, SIGUSR1));
		CHECK(!sigismember(&now, SIGUSR2));
		/* SA_NODEFER leaves the signal itself unblocked. */
		sa.sa_flags = SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK(!sigismember(&mask_in_handler, SIGUSR1));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static void on_clobber(int sig)
{
	/* Use the integer and FP registers the interrupted code relies on. */
	volatile double x = sig * 1.5;
	for (int i = 0; i < 100; i++)
		x = x * 1.0001 + 0.5;
	hits++;
}

/* Register-heavy work with no calls, so an interrupted context holds live
 * integer and FP values that only a correct signal frame preserves. */
__attribute__((noinline)) static double chunk(double seed)
{
	double a = seed, b = 1.0;
	long k = 0;
	for (long i = 0; i < 100000; i++) {
		a = a * 1.0000001 + 0.25;
		b = b * 0.9999999 + a * 1e-9;
		k += i ^ (long)a;
	}
	return a + b + (double)k;
}

TEST(sigreturn_restores_context)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		volatile double seed = 1.0;
		double want = chunk(seed);
		install(SIGUSR1, on_clobber, SA_RESTART);
		hits = 0;
		pid_t me = getpid();
		pid_t sender = fork();
		if (sender == 0) {
			for (int i = 0; i < 400 && getppid() == me; i++) {
				kill(me, SIGUSR1);
				t_sleep_ms(2);
			}
			_exit(0);
		}
		long long end = t_now_ns() + 3000000000LL;
		int rounds = 0;
		while (hits < 100 && t_now_ns() < end) {
			double got = chunk(seed);
			CHECK_MSG(got == want,
				  "result changed by signal delivery (round %d, "
				  "%d signals): %.17g != %.17g",
				  rounds, (int)hits, got, want);
			rounds++;
		}
		kill(sender, SIGKILL);
		t_wait(sender);
		CHECK_MSG(hits > 0, "no SIGUSR1 arrived from the sender");
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sa_resethand)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		install(SIGUSR1, on_signal, SA_RESETHAND | SA_RESTART);
		hits = 0;
		kill(getpid(), SIGUSR1);
		CHECK_EQ(hits, 1);
		struct sigaction now;
		CHECK_RET(sigaction(SIGUSR1, NULL, &now), 0);
		CHECK(now.sa_handler == SIG_DFL);
		/* Only the handler is reset: the flags stay (SA_ONESHOT in
		 * kernel/signal.c sets sa_handler alone). */
		CHECK(now.sa_flags & SA_RESTART);
		CHECK(now.sa_flags & SA_RESETHAND);
		/* Default action now: this kills us. */
		kill(getpid(), SIGUSR1);
		_exit(0);
	}
	t_wait_signal(pid, SIGUSR1);
}

/* Child that blocks in read(2) on an empty pipe while `sig` arrives. */
static void interrupted_read(int flags, int expect_eintr)
{
	install(SIGUSR1, on_signal, flags);
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t me = getpid();
	pid_t k = fork();
	if (k == 0) {
		t_sleep_ms(100);
		kill(me, SIGUSR1);
		t_sleep_ms(100);
		(void)write(p[1], "r", 1);
		_exit(0);
	}
	char c;
	hits = 0;
	if (expect_eintr) {
		CHECK_ERR(read(p[0], &c, 1), EINTR);
	} else {
		CHECK_RET(read(p[0], &c, 1), 1);
		CHECK_EQ(c, 'r');
	}
	CHECK_EQ(hits, 1);
	t_wait(k);
}

TEST(eintr_without_sa_restart)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		interrupted_read(0, 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sa_restart_resumes_read)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		interrupted_read(SA_RESTART, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(fork_inherits_handlers_not_pending)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		install(SIGUSR1, on_signal, 0);
		sigset_t b = just(SIGUSR2);
		sigprocmask(SIG_BLOCK, &b, NULL);
		kill(getpid(), SIGUSR2);
		pid_t gc = t_fork();
		if (gc == 0) {
			/* fork(2): handlers and mask inherited, pending set empty. */
			sigset_t pend, mask;
			CHECK_RET(sigpending(&pend), 0);
			CHECK(!sigismember(&pend, SIGUSR2));
			CHECK_RET(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
			CHECK(sigismember(&mask, SIGUSR2));
			hits = 0;
			kill(getpid(), SIGUSR1);
			CHECK_EQ(hits, 1);
			_exit(0);
		}
		t_wait_exit(gc, 0);
		sigset_t pend;
		CHECK_RET(sigpending(&pend), 0);
		CHECK(sigismember(&pend, SIGUSR2));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
