/*
 * bench.h - the helpers every benchmark in bench/ shares.
 *
 * A benchmark prints one "name value unit" line per metric (run-bench,
 * platforms/tools/bench). Each metric runs its operation in batches until a
 * time budget is spent and reports the mean per operation, so a slow kernel
 * takes the same wall time as a fast one, only with fewer iterations.
 *
 * STARLING_BENCH_QUICK=1 (the bench_smoke test of `make test`) shrinks the
 * budget to a few milliseconds and lets programs skip their costliest
 * cases: it checks that every metric runs and prints a well-formed line,
 * not what it costs.
 *
 * For profiling one metric (platforms/tools/guest-profile):
 * STARLING_BENCH_ONLY=<name> measures and prints only the metrics reported
 * through bench_report with that name, and STARLING_BENCH_BUDGET_MS sets
 * the budget per metric.
 */
#ifndef STARLING_BENCH_H
#define STARLING_BENCH_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PAGE 4096L

/* CLOCK_MONOTONIC through the raw system call: no vDSO, which Starling
 * does not provide, so both kernels pay the same to read the clock. */
static inline long long bench_now_ns(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int bench_quick(void)
{
	const char *q = getenv("STARLING_BENCH_QUICK");
	return q && *q && *q != '0';
}

/* Wall time each metric may take: 0.3 s, 5 ms in quick mode, or
 * STARLING_BENCH_BUDGET_MS. */
static inline long long bench_budget_ns(void)
{
	const char *ms = getenv("STARLING_BENCH_BUDGET_MS");
	if (ms && atoll(ms) > 0)
		return atoll(ms) * 1000000LL;
	return bench_quick() ? 5000000LL : 300000000LL;
}

/* Whether metric `name` is to be measured (STARLING_BENCH_ONLY). */
static inline int bench_want(const char *name)
{
	const char *only = getenv("STARLING_BENCH_ONLY");
	return !only || !*only || strcmp(only, name) == 0;
}

/* Runs op(arg) in batches of `batch` until the budget is spent (at least
 * one batch); returns the mean ns per call, or -1 if a call returned
 * non-zero. */
static inline double bench_loop(int (*op)(void *), void *arg, int batch)
{
	long long budget = bench_budget_ns();
	long long start = bench_now_ns(), end = start, n = 0;
	do {
		for (int i = 0; i < batch; i++)
			if (op(arg))
				return -1;
		n += batch;
		end = bench_now_ns();
	} while (end - start < budget);
	return (double)(end - start) / (double)n;
}

/* Prints one metric, or a message on stderr and sets *status when the
 * measurement failed (value < 0). `scale` divides ns into `unit`. */
static inline void bench_print(const char *prog, const char *name, double ns, double scale,
			       const char *unit, int *status)
{
	if (ns < 0) {
		fprintf(stderr, "%s: %s failed\n", prog, name);
		*status = 1;
		return;
	}
	printf("%s %.*f %s\n", name, ns / scale < 100 ? 2 : 0, ns / scale, unit);
	fflush(stdout);
}

/* bench_print of the value `ns`, which is only evaluated (measured) when
 * bench_want(name). */
#define bench_report(prog, name, ns, scale, unit, status)                    \
	do {                                                                 \
		if (bench_want(name))                                        \
			bench_print(prog, name, ns, scale, unit, status);    \
	} while (0)

#endif
