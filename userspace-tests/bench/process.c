/*
 * Benchmark: process and thread creation.
 *
 *   fork_exit_wait_us     fork, child _exit(0), parent waitpid
 *   fork_exec_wait_us     fork, child execve of a static hello (this
 *                         program with the argument "hello"), waitpid
 *   vfork_exec_wait_us    the same with vfork
 *   pthread_create_join_us  pthread_create of a thread that returns, join
 *
 * Prints "name value unit" lines (see include/bench.h and run-bench); each
 * metric is the mean over its time budget.
 */
#include "bench.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>

static char self[256];

static int wait_ok(pid_t pid)
{
	int st;
	return pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

static int fork_exit(void *arg)
{
	(void)arg;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return wait_ok(pid);
}

static void exec_hello(void)
{
	char *argv[] = { self, "hello", NULL };
	char *envp[] = { NULL };
	execve(self, argv, envp);
	_exit(127);
}

static int fork_exec(void *arg)
{
	(void)arg;
	pid_t pid = fork();
	if (pid == 0)
		exec_hello();
	return wait_ok(pid);
}

static int vfork_exec(void *arg)
{
	(void)arg;
	pid_t pid = vfork();
	if (pid == 0)
		exec_hello();
	return wait_ok(pid);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int thread_create_join(void *arg)
{
	(void)arg;
	pthread_t t;
	void *ret;
	return pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, &ret);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "hello") == 0) {
		/* The exec'd child: stdout is /dev/null (see main below). */
		return write(1, "hello\n", 6) != 6;
	}
	const char *p = "process";
	int status = 0;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "%s: readlink /proc/self/exe failed\n", p);
		return 1;
	}
	self[n] = 0;
	bench_report(p, "fork_exit_wait_us", bench_loop(fork_exit, NULL, 1), 1000, "us", &status);
	/* The hello children inherit stdout: point it at /dev/null meanwhile. */
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY);
	if (saved < 0 || null < 0 || dup2(null, 1) != 1)
		return 1;
	double fe = bench_want("fork_exec_wait_us") ? bench_loop(fork_exec, NULL, 1) : 0;
	double ve = bench_want("vfork_exec_wait_us") ? bench_loop(vfork_exec, NULL, 1) : 0;
	dup2(saved, 1);
	bench_report(p, "fork_exec_wait_us", fe, 1000, "us", &status);
	bench_report(p, "vfork_exec_wait_us", ve, 1000, "us", &status);
	bench_report(p, "pthread_create_join_us", bench_loop(thread_create_join, NULL, 1), 1000,
		     "us", &status);
	return status;
}
