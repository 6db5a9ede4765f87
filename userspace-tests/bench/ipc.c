/*
 * Benchmark: round trips between two parties.
 *
 *   pipe_roundtrip_ns    one byte to a child process and back, two pipes
 *   unix_roundtrip_ns    the same over a Unix stream socket pair
 *   futex_pingpong_ns    two threads handing a turn back and forth with
 *                        FUTEX_WAKE / FUTEX_WAIT (one round trip)
 *   signal_roundtrip_ns  SIGUSR1 to a child process, SIGUSR1 back; both
 *                        wait in sigsuspend and run a handler
 *
 * Prints "name value unit" lines (see include/bench.h and run-bench); each
 * metric is the mean over its time budget.
 */
#include "bench.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Two channels: parent writes wr, reads rd. */
struct chan {
	int wr, rd;
};

static int byte_trip(void *arg)
{
	const struct chan *c = arg;
	char b = 'p';
	return write(c->wr, &b, 1) != 1 || read(c->rd, &b, 1) != 1;
}

/* Echoes bytes from `in` to `out` until end of file. */
static void echo_child(int in, int out)
{
	char b;
	while (read(in, &b, 1) == 1)
		if (write(out, &b, 1) != 1)
			_exit(1);
	_exit(0);
}

static double pipe_roundtrip(void)
{
	int to[2], from[2];
	if (pipe(to) || pipe(from))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		echo_child(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	struct chan c = { to[1], from[0] };
	double ns = bench_loop(byte_trip, &c, 100);
	close(to[1]);
	close(from[0]);
	waitpid(pid, NULL, 0);
	return ns;
}

static double unix_roundtrip(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(sv[0]);
		echo_child(sv[1], sv[1]);
	}
	close(sv[1]);
	struct chan c = { sv[0], sv[0] };
	double ns = bench_loop(byte_trip, &c, 100);
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return ns;
}

/* The turn: 0 = main thread's, 1 = the partner's, 2 = stop. */
static _Atomic int turn;

static void futex_wait(int val)
{
	syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(void)
{
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *partner(void *arg)
{
	(void)arg;
	for (;;) {
		int t;
		while ((t = atomic_load(&turn)) == 0)
			futex_wait(0);
		if (t == 2)
			return NULL;
		atomic_store(&turn, 0);
		futex_wake();
	}
}

static int futex_trip(void *arg)
{
	(void)arg;
	atomic_store(&turn, 1);
	futex_wake();
	while (atomic_load(&turn) == 1)
		futex_wait(1);
	return 0;
}

static double futex_pingpong(void)
{
	pthread_t t;
	atomic_store(&turn, 0);
	if (pthread_create(&t, NULL, partner, NULL))
		return -1;
	double ns = bench_loop(futex_trip, NULL, 100);
	atomic_store(&turn, 2);
	futex_wake();
	pthread_join(t, NULL);
	return ns;
}

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got = 1;
}

static pid_t peer;
static sigset_t waitmask;

static int signal_trip(void *arg)
{
	(void)arg;
	got = 0;
	if (kill(peer, SIGUSR1))
		return 1;
	while (!got)
		sigsuspend(&waitmask);
	return 0;
}

static double signal_roundtrip(void)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	/* Blocked outside sigsuspend, so no signal is lost between the check
	 * of `got` and the wait. */
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (;;) {
			while (!got)
				sigsuspend(&waitmask);
			got = 0;
			if (kill(parent, SIGUSR1))
				_exit(1);
		}
	}
	peer = pid;
	double ns = bench_loop(signal_trip, NULL, 100);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	return ns;
}

int main(void)
{
	const char *p = "ipc";
	int status = 0;
	bench_report(p, "pipe_roundtrip_ns", pipe_roundtrip(), 1, "ns", &status);
	bench_report(p, "unix_roundtrip_ns", unix_roundtrip(), 1, "ns", &status);
	bench_report(p, "futex_pingpong_ns", futex_pingpong(), 1, "ns", &status);
	bench_report(p, "signal_roundtrip_ns", signal_roundtrip(), 1, "ns", &status);
	return status;
}
