/*
 * SMP: live revocation races with writers on every CPU.
 *
 * Two child processes, each with two threads, store increasing values into
 * their own slots of a shared memfd mapping as fast as they can, on all
 * four CPUs. The parent adds F_SEAL_WRITE with Starling's
 * F_ADD_SEALS_REVOKE while they run, snapshots every slot right after the
 * call returns, and checks after a while that no slot changed: no store
 * may land after the call returns (a writer's next store dies with
 * SIGSEGV). Repeated many times. Linux has no such command: skipped there.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "starling/memfd.h"

#define PAGE 4096L
#define WRITERS 2
#define THREADS 2
#define RUNS 40

static volatile long *slots;
static atomic_int *started;

static void *writer(void *arg)
{
	volatile long *slot = &slots[(long)arg * 8];
	/* One store before reporting in, so every writer has stored before
	 * the revocation whatever the scheduler does afterwards. */
	*slot = 1;
	atomic_fetch_add(started, 1);
	for (long v = 2;; v++)
		*slot = v;
	return NULL;
}

static void run_once(int run)
{
	int fd = (int)syscall(SYS_memfd_create, "race", MFD_ALLOW_SEALING);
	CHECK(fd >= 0);
	CHECK_RET(ftruncate(fd, PAGE), 0);
	slots = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(slots != MAP_FAILED);
	started = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(started != MAP_FAILED);
	atomic_store(started, 0);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = t_fork();
		if (pids[w] == 0) {
			pthread_t t[THREADS];
			for (long i = 0; i < THREADS; i++)
				pthread_create(&t[i], NULL, writer, (void *)(long)(w * THREADS + i));
			for (;;)
				pause();
		}
	}
	while (atomic_load(started) < WRITERS * THREADS)
		sched_yield();
	/* Let them run a little (a different moment in each run). */
	for (volatile long spin = 0; spin < 20000L * (run % 7 + 1); spin++)
		;
	long n = fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE);
	long snap[WRITERS * THREADS];
	for (int i = 0; i < WRITERS * THREADS; i++)
		snap[i] = slots[i * 8];
	CHECK_MSG(n == 1 + WRITERS, "run %d: revoked %ld mappings", run, n);
	t_sleep_ms(30);
	for (int i = 0; i < WRITERS * THREADS; i++) {
		CHECK_MSG(slots[i * 8] == snap[i],
			  "run %d: slot %d changed after the call returned: %ld -> %ld", run, i,
			  snap[i], slots[i * 8]);
		CHECK_MSG(snap[i] > 0, "run %d: writer %d never stored", run, i);
	}
	for (int w = 0; w < WRITERS; w++)
		t_wait_signal(pids[w], SIGSEGV);
	munmap((void *)slots, PAGE);
	munmap(started, PAGE);
	close(fd);
}

TEST(no_store_lands_after_revocation)
{
	if (!on_starling())
		t_skip("F_ADD_SEALS_REVOKE is Starling's");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		t_skip("needs several CPUs");
	for (int run = 0; run < RUNS; run++)
		run_once(run);
}
