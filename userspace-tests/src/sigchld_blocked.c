/*
 * sigchld_blocked - a blocked signal whose default action is to ignore it
 * (SIGCHLD, SIGURG, SIGWINCH) is queued, not discarded, when it is
 * generated: the handler may change before it is unblocked, and
 * sigtimedwait(2) takes it from the pending set (signal(7); Linux's
 * sig_ignored: "Blocked signals are never ignored"). Trinity's main loop
 * waits for its children this way.
 */
#include "test.h"

static void block(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void unblock(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Waits up to 5 s for sig; returns its siginfo's si_code, or -1. */
static int timed_wait(int sig, siginfo_t *si)
{
	sigset_t set;
	struct timespec ts = { .tv_sec = 5 };

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &ts);
}

TEST(exit_of_child_pending_while_blocked)
{
	siginfo_t si;
	sigset_t pending;
	pid_t pid;

	signal(SIGCHLD, SIG_DFL);
	block(SIGCHLD);
	pid = CHECK_OK(fork());
	if (pid == 0)
		_exit(7);
	/* The child is a zombie once waitid with WNOWAIT sees it. */
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK_OK(sigpending(&pending));
	CHECK_MSG(sigismember(&pending, SIGCHLD), "SIGCHLD not pending after the child exited");
	memset(&si, 0, sizeof(si));
	CHECK_RET(timed_wait(SIGCHLD, &si), SIGCHLD);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_status, 7);
	t_wait_exit(pid, 7);
	unblock(SIGCHLD);
}

TEST(sigtimedwait_wakes_for_child_exit)
{
	siginfo_t si;
	pid_t pid;

	signal(SIGCHLD, SIG_DFL);
	block(SIGCHLD);
	pid = CHECK_OK(fork());
	if (pid == 0) {
		t_sleep_ms(200);
		_exit(3);
	}
	memset(&si, 0, sizeof(si));
	CHECK_RET(timed_wait(SIGCHLD, &si), SIGCHLD);
	CHECK_EQ(si.si_pid, pid);
	t_wait_exit(pid, 3);
	unblock(SIGCHLD);
}

TEST(child_stop_pending_while_blocked)
{
	siginfo_t si;
	pid_t pid;

	signal(SIGCHLD, SIG_DFL);
	block(SIGCHLD);
	pid = CHECK_OK(fork());
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	memset(&si, 0, sizeof(si));
	CHECK_RET(timed_wait(SIGCHLD, &si), SIGCHLD);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_status, SIGSTOP);
	CHECK_OK(kill(pid, SIGCONT));
	t_wait_exit(pid, 0);
	/* The continue notification is queued as well; drop it. */
	timed_wait(SIGCHLD, &si);
	unblock(SIGCHLD);
}

TEST(ignored_by_default_signal_pending_while_blocked)
{
	sigset_t pending;
	siginfo_t si;

	signal(SIGURG, SIG_DFL);
	block(SIGURG);
	CHECK_OK(kill(getpid(), SIGURG));
	CHECK_OK(sigpending(&pending));
	CHECK_MSG(sigismember(&pending, SIGURG), "a blocked SIGURG was discarded");
	CHECK_RET(timed_wait(SIGURG, &si), SIGURG);
	unblock(SIGURG);
	/* Unblocked, the default action discards it at once. */
	CHECK_OK(kill(getpid(), SIGURG));
	CHECK_OK(sigpending(&pending));
	CHECK(!sigismember(&pending, SIGURG));
}
