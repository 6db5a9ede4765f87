/*
 * Benchmark: cost of trivial system calls, entered with the raw syscall
 * instruction (no vDSO, no libc caching).
 *
 * Prints "name value unit" lines; see run-bench.  Each measurement runs for
 * about half a second of wall time and reports the mean.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NS 500000000LL

static long long now_ns(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Calls `nr` in batches until BENCH_NS elapsed; returns ns per call. */
static double per_call(long nr, long a0, long a1)
{
	long long start = now_ns(), end = start, calls = 0;
	while (end - start < BENCH_NS) {
		for (int i = 0; i < 1000; i++)
			syscall(nr, a0, a1);
		calls += 1000;
		end = now_ns();
	}
	return (double)(end - start) / (double)calls;
}

int main(void)
{
	struct timespec ts;
	printf("getpid_ns %.0f ns\n", per_call(SYS_getpid, 0, 0));
	printf("clock_gettime_ns %.0f ns\n",
	       per_call(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts));
	/* An unknown number: the cheapest possible round trip. */
	printf("enosys_ns %.0f ns\n", per_call(1000, 0, 0));
	return 0;
}
