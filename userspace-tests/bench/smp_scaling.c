/*
 * Benchmark: CPU-bound processes on several CPUs.
 *
 *   smp_cpus            CPUs online
 *   smp_one_child_ms    one child doing ~1 s of pure CPU work, alone
 *   smp_four_children_ms four such children at once (wall time)
 *   smp_scaling_ratio   four_children / one_child (4 on one CPU, ~1 ideal)
 *   smp_parallelism     children's CPU time / wall time (<= 1 on one CPU)
 *
 * Fastest of three rounds.  Under QEMU TCG the guest's vCPUs share the
 * host's cores, so the ratio depends on the host; compare runs on the same
 * machine only.  Prints "name value unit" lines; see include/bench.h and
 * run-bench.  With one CPU online it prints nothing (the ratio would only
 * say 4), except with STARLING_BENCH_QUICK, where it runs with 10 ms of
 * work and one round to check that it works.
 */
#include "bench.h"

#include <sys/resource.h>
#include <sys/wait.h>

#define CHILDREN 4
#define ROUNDS 3

static volatile unsigned long sink;

#define now_ns bench_now_ns

__attribute__((noipa)) static unsigned long work(unsigned long iters)
{
	unsigned long x = 88172645463325252UL;
	for (unsigned long i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static long long time_work(unsigned long iters)
{
	long long t0 = now_ns();
	sink += work(iters);
	return now_ns() - t0;
}

static long long tv_ns(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000000LL + tv->tv_usec * 1000LL;
}

int main(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int quick = bench_quick(), rounds = quick ? 1 : ROUNDS;
	if (ncpu < 2 && !quick)
		return 0;
	double target = quick ? 1e7 : 1e9;
	unsigned long iters = 1UL << 10;
	long long t;
	while ((t = time_work(iters)) < (long long)(target / 10) && iters < (1UL << 40))
		iters *= 2;
	iters = (unsigned long)((double)iters * target / (double)t);

	long long best_alone = -1, best_together = -1;
	double best_par = 0;
	for (int round = 0; round < rounds; round++) {
		long long alone = time_work(iters);
		long long t0 = now_ns();
		pid_t pids[CHILDREN];
		for (int i = 0; i < CHILDREN; i++) {
			pids[i] = fork();
			if (pids[i] < 0)
				return 1;
			if (pids[i] == 0)
				_exit(work(iters) == 0);
		}
		long long cpu = 0;
		for (int i = 0; i < CHILDREN; i++) {
			int st;
			struct rusage ru = { 0 };
			if (wait4(pids[i], &st, 0, &ru) != pids[i])
				return 1;
			cpu += tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
		}
		long long together = now_ns() - t0;
		if (best_alone < 0 || alone < best_alone)
			best_alone = alone;
		if (best_together < 0 || together < best_together)
			best_together = together;
		double par = (double)cpu / (double)together;
		if (par > best_par)
			best_par = par;
	}
	printf("smp_cpus %ld cpus\n", ncpu);
	printf("smp_one_child_ms %lld ms\n", best_alone / 1000000);
	printf("smp_four_children_ms %lld ms\n", best_together / 1000000);
	printf("smp_scaling_ratio %.2f x\n", (double)best_together / (double)best_alone);
	printf("smp_parallelism %.2f x\n", best_par);
	return 0;
}
