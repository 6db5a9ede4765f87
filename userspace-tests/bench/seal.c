/*
 * Benchmark: adding F_SEAL_WRITE to a memfd mapped by other processes.
 *
 *   seal_write_ns_maps_N   F_ADD_SEALS of F_SEAL_WRITE on a memfd with N
 *                          writable shared mappings spread over 16
 *                          processes, N = 0, 1, 64, 1024. With N = 0 the
 *                          seal is added (a fresh memfd each time, made
 *                          outside the timing); with N > 0 both Linux and
 *                          Starling refuse with EBUSY (mm/memfd.c,
 *                          memfd_add_seals), so this is that path's cost.
 *   revoke_us_maps_N       Starling only: one F_ADD_SEALS_REVOKE of
 *                          F_SEAL_WRITE over the same N mappings (N = 0,
 *                          1, 64, 1024), which revokes them; the median of
 *                          three set-ups (one with STARLING_BENCH_QUICK).
 *
 * Prints "name value unit" lines (see include/bench.h and run-bench). The
 * revoke lines are absent on kernels without F_ADD_SEALS_REVOKE.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define F_ADD_SEALS_REVOKE 1536
#define PROCS 16
#define MFD_ALLOW_SEALING_ 2U

struct setup {
	int fd;
	int maps;
	pid_t pids[PROCS];
};

/* A child: `maps` writable shared mappings of fd, each its own VMA; says
 * so on `ready` and waits to be killed. */
static void child(int fd, int maps, int ready)
{
	for (int i = 0; i < maps; i++) {
		/* A guard page between mappings keeps them separate VMAs. */
		char *p = mmap(NULL, 2 * BENCH_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || mmap(p, BENCH_PAGE, PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_FIXED, fd, 0) != p)
			_exit(1);
		p[0] = 1;
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static int sealable_memfd(void)
{
	int fd = (int)syscall(SYS_memfd_create, "bench", MFD_ALLOW_SEALING_);
	if (fd >= 0 && ftruncate(fd, BENCH_PAGE)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int set_up(struct setup *s, int maps)
{
	int ready[2];
	s->maps = maps;
	s->fd = sealable_memfd();
	if (s->fd < 0 || pipe(ready))
		return -1;
	for (int i = 0; i < PROCS; i++) {
		s->pids[i] = fork();
		if (s->pids[i] < 0)
			return -1;
		if (s->pids[i] == 0)
			child(s->fd, maps / PROCS + (i < maps % PROCS ? 1 : 0), ready[1]);
	}
	char c;
	int ok = 0;
	for (int i = 0; i < PROCS; i++)
		ok += read(ready[0], &c, 1) == 1;
	close(ready[0]);
	close(ready[1]);
	return ok == PROCS ? 0 : -1;
}

static void tear_down(struct setup *s)
{
	for (int i = 0; i < PROCS; i++) {
		kill(s->pids[i], SIGKILL);
		waitpid(s->pids[i], NULL, 0);
	}
	close(s->fd);
}

static int seal_busy(void *arg)
{
	int fd = *(int *)arg;
	return !(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EBUSY);
}

/* N = 0: each seal on a fresh memfd; only the fcntl is timed. */
static double seal_unmapped(void)
{
	long long budget = bench_budget_ns(), spent = 0, n = 0, t0 = bench_now_ns();
	do {
		int fd = sealable_memfd();
		if (fd < 0)
			return -1;
		long long s = bench_now_ns();
		int r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
		spent += bench_now_ns() - s;
		close(fd);
		if (r)
			return -1;
		n++;
	} while (bench_now_ns() - t0 < budget);
	return (double)spent / (double)n;
}

static int has_revoke(void)
{
	int fd = sealable_memfd();
	int yes = fd >= 0 && !(fcntl(fd, F_ADD_SEALS_REVOKE, 0) < 0 && errno == EINVAL);
	if (fd >= 0)
		close(fd);
	return yes;
}

/* One revocation over a fresh set-up; returns ns, or -1. */
static double revoke_once(int maps)
{
	struct setup s;
	if (set_up(&s, maps))
		return -1;
	long long t0 = bench_now_ns();
	long n = fcntl(s.fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE);
	long long t1 = bench_now_ns();
	tear_down(&s);
	if (n != maps) {
		fprintf(stderr, "seal: revoked %ld of %d mappings\n", n, maps);
		return -1;
	}
	return (double)(t1 - t0);
}

int main(void)
{
	static const int counts[] = { 0, 1, 64, 1024 };
	const char *p = "seal";
	int status = 0;
	char name[64];
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		int maps = counts[i];
		double ns;
		snprintf(name, sizeof(name), "seal_write_ns_maps_%d", maps);
		if (!bench_want(name))
			continue;
		if (maps == 0) {
			ns = seal_unmapped();
		} else {
			struct setup s;
			ns = set_up(&s, maps) ? -1 : bench_loop(seal_busy, &s.fd, 10);
			tear_down(&s);
		}
		bench_report(p, name, ns, 1, "ns", &status);
	}
	if (!has_revoke())
		return status;
	int runs = bench_quick() ? 1 : 3;
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		double r[3];
		snprintf(name, sizeof(name), "revoke_us_maps_%d", counts[i]);
		if (!bench_want(name))
			continue;
		for (int k = 0; k < runs; k++) {
			r[k] = revoke_once(counts[i]);
			for (int j = k; j > 0 && r[j] < r[j - 1]; j--) {
				double t = r[j];
				r[j] = r[j - 1];
				r[j - 1] = t;
			}
		}
		bench_report(p, name, r[0] < 0 ? -1 : r[runs / 2], 1000, "us", &status);
	}
	return status;
}
