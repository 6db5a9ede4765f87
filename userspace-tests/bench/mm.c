/*
 * Benchmark: address-space operations as the number of VMAs grows.
 *
 *   munmap_page_ns_vmas_N       munmap of one page (one VMA) in an address
 *                               space of N VMAs, N = 100, 1000, 10000
 *   mmap_touch_munmap_ns_vmas_N mmap of one anonymous page, one store,
 *                               munmap, in an address space of N VMAs
 *   mmap_touch_munmap_16p_ns    the same with 16 pages, all touched
 *   munmap_scaling_10000_vs_100 ratio of the 10000- and 100-VMA munmap times
 *
 * N VMAs are made by reserving N pages PROT_NONE and making every other one
 * PROT_READ (neighbours with different protections never merge). Prints
 * "name value unit" lines; see include/bench.h and run-bench. A fixed
 * number of operations per metric (400; 10 with STARLING_BENCH_QUICK).
 */
#include "bench.h"

#include <sys/mman.h>

#define PAGE 4096UL
#define now_ns bench_now_ns

/* Reserves `n` pages split into `n` VMAs; returns the base. */
static char *make_vmas(size_t n)
{
	char *base = mmap(NULL, n * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (size_t i = 1; i < n; i += 2)
		if (mprotect(base + i * PAGE, PAGE, PROT_READ))
			return NULL;
	return base;
}

/* munmap of one page each time, `ops` times, from the middle outwards;
 * each page is mapped back (not timed) so the count stays at n. */
static double munmap_page(char *base, size_t n, int ops)
{
	long long total = 0;
	for (int i = 0; i < ops; i++) {
		char *p = base + (n / 4 + (size_t)i % (n / 2)) * PAGE;
		int prot = (((size_t)(p - base) / PAGE) % 2) ? PROT_READ
							      : PROT_NONE;
		long long t0 = now_ns();
		if (munmap(p, PAGE))
			return -1;
		total += now_ns() - t0;
		if (mmap(p, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) != p)
			return -1;
	}
	return (double)total / ops;
}

static double mmap_touch_munmap(size_t pages, int ops)
{
	long long t0 = now_ns();
	for (int i = 0; i < ops; i++) {
		char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		for (size_t j = 0; j < pages; j++)
			p[j * PAGE] = 1;
		if (munmap(p, pages * PAGE))
			return -1;
	}
	return (double)(now_ns() - t0) / ops;
}

int main(void)
{
	static const size_t counts[] = { 100, 1000, 10000 };
	double first = 0, last = 0;
	int ops = bench_quick() ? 10 : 400;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		size_t n = counts[c];
		char unmap_name[64], loop_name[64];
		snprintf(unmap_name, sizeof(unmap_name), "munmap_page_ns_vmas_%zu", n);
		snprintf(loop_name, sizeof(loop_name), "mmap_touch_munmap_ns_vmas_%zu", n);
		if (!bench_want(unmap_name) && !bench_want(loop_name))
			continue;
		char *base = make_vmas(n);
		if (!base) {
			fprintf(stderr, "mm: cannot make %zu VMAs\n", n);
			return 1;
		}
		/* STARLING_BENCH_ONLY (a profile): the one metric, repeated
		 * for the budget. */
		int repeat = getenv("STARLING_BENCH_ONLY") && *getenv("STARLING_BENCH_ONLY");
		long long t0 = bench_now_ns();
		double ns = 0, loop = 0;
		do {
			if (bench_want(unmap_name))
				ns = munmap_page(base, n, ops);
			if (bench_want(loop_name))
				loop = mmap_touch_munmap(1, ops);
		} while (repeat && bench_now_ns() - t0 < bench_budget_ns());
		if (ns < 0 || loop < 0) {
			fprintf(stderr, "mm: an operation failed at %zu VMAs\n",
				n);
			return 1;
		}
		if (bench_want(unmap_name))
			printf("%s %.0f ns\n", unmap_name, ns);
		if (bench_want(loop_name))
			printf("%s %.0f ns\n", loop_name, loop);
		fflush(stdout);
		if (c == 0)
			first = ns;
		last = ns;
		munmap(base, n * PAGE);
	}
	if (getenv("STARLING_BENCH_ONLY") && *getenv("STARLING_BENCH_ONLY"))
		return 0;
	double big = mmap_touch_munmap(16, ops / 2);
	if (big < 0)
		return 1;
	printf("mmap_touch_munmap_16p_ns %.0f ns\n", big);
	printf("munmap_scaling_10000_vs_100 %.2f ratio\n", last / first);
	return 0;
}
