/*
 * Benchmark: the cost of Starling's F_ADD_SEALS_REVOKE.
 *
 *   revoke_us_maps_N_vmas_V   one F_ADD_SEALS_REVOKE of F_SEAL_WRITE on a
 *                             memfd with N writable shared mappings spread
 *                             over 16 processes, each of which also holds
 *                             V unrelated VMAs (N = 1, 64, 1024; V = 5000,
 *                             and V = 0 for N = 64 to compare); the
 *                             median of five runs
 *
 * The revocation walks the memfd's registry, so its cost should follow N
 * and not V. Prints "name value unit" lines; see run-bench. Nothing here
 * passes or fails on a timing. Skipped (no output) on kernels without the
 * command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define F_ADD_SEALS_REVOKE 1536
#define PROCS 16
#define PAGE 4096L

static long long now_ns(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A child: `unrelated` VMAs, then `maps` mappings of the memfd; reports
 * readiness on `ready` and waits to be killed. */
static void child(int fd, int maps, int unrelated, int ready)
{
	if (unrelated > 0) {
		char *base = mmap(NULL, (size_t)unrelated * PAGE, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base == MAP_FAILED)
			_exit(1);
		for (int i = 1; i < unrelated; i += 2)
			if (mprotect(base + (long)i * PAGE, PAGE, PROT_READ))
				_exit(1);
	}
	for (int i = 0; i < maps; i++) {
		/* A guard page between mappings keeps them separate VMAs. */
		char *p = mmap(NULL, 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED ||
		    mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != p)
			_exit(1);
		p[0] = 1;
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* One measurement; returns microseconds, or -1. */
static double measure(int mappings, int unrelated)
{
	int fd = (int)syscall(SYS_memfd_create, "bench", 2 /* MFD_ALLOW_SEALING */);
	if (fd < 0 || ftruncate(fd, PAGE))
		return -1;
	int pipefd[2];
	if (pipe(pipefd))
		return -1;
	pid_t pids[PROCS];
	for (int i = 0; i < PROCS; i++) {
		int maps = mappings / PROCS + (i < mappings % PROCS ? 1 : 0);
		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (pids[i] == 0)
			child(fd, maps, unrelated, pipefd[1]);
	}
	char c;
	for (int i = 0; i < PROCS; i++)
		if (read(pipefd[0], &c, 1) != 1)
			return -1;
	long long t0 = now_ns();
	long n = fcntl(fd, F_ADD_SEALS_REVOKE, 8 /* F_SEAL_WRITE */);
	long long t1 = now_ns();
	for (int i = 0; i < PROCS; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
	if (n != mappings) {
		fprintf(stderr, "seal_revoke: revoked %ld of %d mappings\n", n, mappings);
		return -1;
	}
	return (double)(t1 - t0) / 1000.0;
}

int main(void)
{
	int probe = (int)syscall(SYS_memfd_create, "probe", 2);
	if (probe < 0)
		return 0;
	if (fcntl(probe, F_ADD_SEALS_REVOKE, 0) < 0 && errno == EINVAL) {
		close(probe);
		return 0; /* not Starling */
	}
	close(probe);
	static const struct {
		int maps, unrelated;
	} cases[] = { { 1, 5000 }, { 64, 5000 }, { 1024, 5000 }, { 64, 0 } };
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The median of five runs. */
		double runs[5];
		for (int r = 0; r < 5; r++) {
			runs[r] = measure(cases[i].maps, cases[i].unrelated);
			if (runs[r] < 0) {
				fprintf(stderr, "seal_revoke: a run failed\n");
				return 1;
			}
			for (int k = r; k > 0 && runs[k] < runs[k - 1]; k--) {
				double t = runs[k];
				runs[k] = runs[k - 1];
				runs[k - 1] = t;
			}
		}
		double us = runs[2];
		printf("revoke_us_maps_%d_vmas_%d %.1f us\n", cases[i].maps, cases[i].unrelated, us);
		fflush(stdout);
	}
	return 0;
}
