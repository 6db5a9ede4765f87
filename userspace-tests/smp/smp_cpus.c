/*
 * SMP: four busy processes run at the same time, each on its own CPU.
 *
 * Four children meet at a barrier in shared memory and then spin until all
 * four have seen every other one spinning at the same instant.  Each child
 * publishes the CPU it is running on (getcpu(2)) together with a sequence
 * number; the test passes when one snapshot shows all four children
 * spinning on four different CPUs.  No timing is involved: on a kernel that
 * runs the children on fewer CPUs (or one at a time) that snapshot never
 * exists and the test fails after its round limit.
 *
 * ipi_round_trip: /proc/starling/ipi sends a synchronous cross-CPU call to
 * every other CPU (the mechanism TLB shootdown relies on) and reports, per
 * CPU, whether it ran there.
 */
#include "test.h"

#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#define CHILDREN 4
#define ROUNDS 2000000L
/* Snapshots child 0 takes before giving up, and how long each waits for
 * the others' heartbeats (loop iterations, not time). */
#define ATTEMPTS 400
#define PATIENCE 50000

struct shared {
	atomic_int arrived;
	atomic_int done;
	atomic_int cpu[CHILDREN];
	atomic_long beat[CHILDREN];
	atomic_int found;
	int seen[CHILDREN];
};

static int getcpu_raw(void)
{
	unsigned int cpu = 0;
	CHECK_RET(syscall(SYS_getcpu, &cpu, NULL, NULL), 0);
	return (int)cpu;
}

static long online_cpus(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN);
}

/* Child i: spin, publishing (cpu, heartbeat); child 0 also looks for a
 * snapshot in which every child is alive on a distinct CPU. */
static void spin(struct shared *s, int i)
{
	atomic_fetch_add(&s->arrived, 1);
	while (atomic_load(&s->arrived) < CHILDREN)
		;
	int attempts = 0;
	for (long r = 0; r < ROUNDS && !atomic_load(&s->done); r++) {
		atomic_store(&s->cpu[i], getcpu_raw());
		atomic_fetch_add(&s->beat[i], 1);
		if (i != 0 || r % 256)
			continue;
		if (++attempts > ATTEMPTS)
			break;
		long before[CHILDREN];
		int cpus[CHILDREN];
		for (int k = 0; k < CHILDREN; k++) {
			before[k] = atomic_load(&s->beat[k]);
			cpus[k] = atomic_load(&s->cpu[k]);
		}
		/* Everyone must make progress while child 0 keeps spinning. */
		int alive = 0;
		for (long wait = 0; wait < PATIENCE && alive < CHILDREN; wait++) {
			alive = 1;
			for (int k = 1; k < CHILDREN; k++)
				alive += atomic_load(&s->beat[k]) != before[k];
		}
		int distinct = alive == CHILDREN;
		for (int a = 0; a < CHILDREN && distinct; a++)
			for (int b = a + 1; b < CHILDREN; b++)
				if (cpus[a] == cpus[b] || cpus[a] != atomic_load(&s->cpu[a]))
					distinct = 0;
		if (distinct) {
			for (int k = 0; k < CHILDREN; k++)
				s->seen[k] = cpus[k];
			atomic_store(&s->found, 1);
			atomic_store(&s->done, 1);
		}
	}
	atomic_store(&s->done, 1);
	_exit(0);
}

TEST(four_busy_processes_on_four_cpus)
{
	if (online_cpus() < CHILDREN)
		t_skip("%ld CPU(s) online, needs %d", online_cpus(), CHILDREN);
	struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	memset(s, 0, sizeof(*s));
	pid_t pids[CHILDREN];
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0)
			spin(s, i);
	}
	for (int i = 0; i < CHILDREN; i++)
		t_wait_exit(pids[i], 0);
	CHECK_MSG(atomic_load(&s->found),
		  "never saw the %d children spinning on %d distinct CPUs", CHILDREN,
		  CHILDREN);
	t_info("children ran on CPUs %d %d %d %d", s->seen[0], s->seen[1],
	       s->seen[2], s->seen[3]);
}

TEST(ipi_round_trip)
{
	long n = online_cpus();
	if (n < 2)
		t_skip("%ld CPU online, needs 2", n);
	struct utsname u;
	CHECK_RET(uname(&u), 0);
	if (!strstr(u.release, "-starling"))
		t_skip("/proc/starling/ipi is a Starling interface");
	FILE *f = fopen("/proc/starling/ipi", "r");
	CHECK_MSG(f != NULL, "open /proc/starling/ipi: %s", strerror(errno));
	char line[128];
	int ok = 0, lines = 0, from = -1;
	long cpus = -1;
	while (fgets(line, sizeof(line), f)) {
		int cpu;
		if (sscanf(line, "cpus %ld", &cpus) == 1 || sscanf(line, "from %d", &from) == 1)
			continue;
		lines++;
		CHECK_MSG(sscanf(line, "cpu %d ok", &cpu) == 1 && strstr(line, " ok"),
			  "IPI failed: %s", line);
		ok++;
	}
	fclose(f);
	CHECK_EQ(cpus, n);
	CHECK(from >= 0 && from < n);
	/* Every CPU but the sender answered. */
	CHECK_EQ(ok, n - 1);
	CHECK_EQ(lines, n - 1);
}
