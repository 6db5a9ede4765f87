/*
 * Benchmark: process-level round trips.
 *
 *   pipe_pingpong_ns   one byte to a child and back, over two pipes
 *   fork_exit_wait_us  fork, child _exit(0), parent wait4
 *
 * Prints "name value unit" lines; see run-bench.  Each measurement runs for
 * about a second of wall time and reports the mean.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NS 1000000000LL

static long long now_ns(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pipe_pingpong(double *ns)
{
	int to[2], from[2];
	if (pipe(to) || pipe(from))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		/* Keep only our ends, so the parent's close gives us EOF. */
		close(to[1]);
		close(from[0]);
		while (read(to[0], &c, 1) == 1)
			if (write(from[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	long long start = now_ns(), end = start, trips = 0;
	char c = 'p';
	while (end - start < BENCH_NS) {
		for (int i = 0; i < 100; i++)
			if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
				return -1;
		trips += 100;
		end = now_ns();
	}
	close(to[1]);
	close(from[0]);
	waitpid(pid, NULL, 0);
	*ns = (double)(end - start) / (double)trips;
	return 0;
}

static int fork_exit_wait(double *us)
{
	long long start = now_ns(), end = start, n = 0;
	while (end - start < BENCH_NS) {
		pid_t pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0)
			_exit(0);
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
			return -1;
		n++;
		end = now_ns();
	}
	*us = (double)(end - start) / (double)n / 1000.0;
	return 0;
}

int main(void)
{
	double v;
	int status = 0;
	if (pipe_pingpong(&v) == 0)
		printf("pipe_pingpong_ns %.0f ns\n", v);
	else
		status = 1;
	fflush(stdout);
	if (fork_exit_wait(&v) == 0)
		printf("fork_exit_wait_us %.1f us\n", v);
	else
		status = 1;
	return status;
}
