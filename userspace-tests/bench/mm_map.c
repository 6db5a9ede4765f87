/*
 * Benchmark: mapping, touching and unmapping memory; page-fault cost.
 *
 *   mmap_touch_munmap_4k_anon_ns   mmap of 4 KiB anonymous private memory,
 *                                  one store, munmap
 *   mmap_touch_munmap_1m_anon_us   the same with 1 MiB, a store to each page
 *   mmap_touch_munmap_4k_memfd_ns  MAP_SHARED of a 4 KiB memfd (its page
 *                                  already allocated), one store, munmap
 *   mmap_touch_munmap_1m_memfd_us  the same with a 1 MiB memfd
 *   pagefault_anon_ns              one write fault on fresh anonymous memory
 *                                  (zero-filled page), per page of 4 MiB
 *   pagefault_shared_file_ns       one read fault on a MAP_SHARED file in
 *                                  /tmp whose pages exist, per page of 4 MiB
 *
 * Prints "name value unit" lines (see include/bench.h and run-bench); each
 * metric is the mean over its time budget.
 */
#include "bench.h"

#include <fcntl.h>
#include <sys/mman.h>

#define FAULT_BYTES (4L << 20)

struct region {
	long bytes;
	int fd; /* -1: anonymous */
};

static int map_touch_unmap(void *arg)
{
	const struct region *r = arg;
	int flags = r->fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	volatile char *p = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, flags, r->fd, 0);
	if (p == MAP_FAILED)
		return 1;
	for (long off = 0; off < r->bytes; off += BENCH_PAGE)
		p[off] = 1;
	return munmap((void *)p, r->bytes) != 0;
}

/* A memfd of `bytes`, every page written once so it exists. */
static int filled_memfd(long bytes)
{
	int fd = (int)syscall(SYS_memfd_create, "bench", 0);
	if (fd < 0 || ftruncate(fd, bytes))
		return -1;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (long off = 0; off < bytes; off += BENCH_PAGE)
		p[off] = 1;
	munmap(p, bytes);
	return fd;
}

static double map_loop(long bytes, int memfd)
{
	struct region r = { bytes, -1 };
	if (memfd && (r.fd = filled_memfd(bytes)) < 0)
		return -1;
	double ns = bench_loop(map_touch_unmap, &r, bytes > BENCH_PAGE ? 1 : 50);
	if (r.fd >= 0)
		close(r.fd);
	return ns;
}

/* Faults on FAULT_BYTES of mapping, timed page by page in total; the
 * mmap and munmap around them are not counted. Returns ns per fault. */
static double fault_loop(int fd)
{
	long long budget = bench_budget_ns(), spent = 0, faults = 0, t0 = bench_now_ns();
	do {
		int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
		volatile char *p = mmap(NULL, FAULT_BYTES, PROT_READ | PROT_WRITE, flags, fd, 0);
		if (p == MAP_FAILED)
			return -1;
		char sink = 0;
		long long s = bench_now_ns();
		for (long off = 0; off < FAULT_BYTES; off += BENCH_PAGE) {
			if (fd < 0)
				p[off] = 1;
			else
				sink += p[off];
		}
		spent += bench_now_ns() - s;
		faults += FAULT_BYTES / BENCH_PAGE;
		(void)sink;
		if (munmap((void *)p, FAULT_BYTES))
			return -1;
	} while (bench_now_ns() - t0 < budget);
	return (double)spent / (double)faults;
}

static double shared_file_faults(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/bench-fault.%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	unlink(path);
	static char chunk[65536];
	for (long off = 0; off < FAULT_BYTES; off += (long)sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			return -1;
	double ns = fault_loop(fd);
	close(fd);
	return ns;
}

int main(void)
{
	const char *p = "mm_map";
	int status = 0;
	bench_report(p, "mmap_touch_munmap_4k_anon_ns", map_loop(BENCH_PAGE, 0), 1, "ns", &status);
	bench_report(p, "mmap_touch_munmap_1m_anon_us", map_loop(1L << 20, 0), 1000, "us", &status);
	bench_report(p, "mmap_touch_munmap_4k_memfd_ns", map_loop(BENCH_PAGE, 1), 1, "ns", &status);
	bench_report(p, "mmap_touch_munmap_1m_memfd_us", map_loop(1L << 20, 1), 1000, "us", &status);
	bench_report(p, "pagefault_anon_ns", fault_loop(-1), 1, "ns", &status);
	bench_report(p, "pagefault_shared_file_ns", shared_file_faults(), 1, "ns", &status);
	return status;
}
