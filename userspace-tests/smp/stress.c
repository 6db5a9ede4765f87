/*
 * SMP stress: 8 processes × 2 threads, on every CPU, doing random
 * shared-memory, locking and sealing work against each other for
 * $STARLING_STRESS_SECONDS (default 20; `make stress` runs it for minutes):
 *
 *   - map a memfd all of them share, store, mprotect a page, unmap a part,
 *     then the rest (registry records split, merge and go);
 *   - mremap shared anonymous memory to a larger size (the object keeps
 *     its size) elsewhere;
 *   - fork a child that maps the shared memfd, stores and exits;
 *   - POSIX (F_SETLKW) and OFD (F_OFD_SETLKW) record locks and flock on one
 *     file, each taken and released;
 *   - a new sealable memfd mapped shared and writable: F_SEAL_WRITE must be
 *     EBUSY, after munmap it must succeed;
 *   - on Starling, F_ADD_SEALS_REVOKE with a forked child holding a writable
 *     mapping: the call counts it, the child still reads it.
 *
 * Every result is checked (a worker that sees a wrong one exits 1 with a
 * message). Under `make test` the kernel is built with mm-debug, so every
 * mm syscall re-checks the registry invariant (a violation panics). At the
 * end /proc/starling/mm's object and registry counts are back to their
 * baseline, /sys/kernel/warn_count has not moved and the kernel log has no
 * new soft-lockup report (the detector watches every CPU meanwhile). On
 * Linux (a check of the test) the revocation step is a plain seal and the
 * Starling files are not read.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "starling/memfd.h"

#define WORKERS 8
#define THREADS 2
#define PAGE 4096
#define SHARED_PAGES 16

struct stats {
	atomic_long ops;
	atomic_long forks;
	atomic_long locks;
	atomic_long seals;
	atomic_long revokes;
};

static struct stats *stats;
static int shared_memfd;
static const char *lock_path;
static long deadline_ms;
static int starling;
/* Per worker process: forks versus op_seal's mapping window. */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A wrong result in a worker thread: report and end the whole worker. */
#define EXPECT(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "stress: %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, " (errno %s)\n", t_errname(errno));    \
			_exit(1);                                              \
		}                                                              \
	} while (0)

static unsigned long next_rand(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void op_shared_map(unsigned long *seed)
{
	unsigned long first = next_rand(seed) % (SHARED_PAGES - 4);
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       shared_memfd, (off_t)(first * PAGE));
	EXPECT(p != MAP_FAILED, "mmap of the shared memfd");
	for (int i = 0; i < 4; i++)
		p[i * PAGE + (next_rand(seed) % 64)] = (char)i;
	EXPECT(mprotect(p + PAGE, PAGE, PROT_READ) == 0, "mprotect");
	EXPECT(munmap(p, PAGE) == 0, "partial munmap");
	EXPECT(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect back");
	EXPECT(munmap(p + PAGE, 3 * PAGE) == 0, "munmap of the rest");
}

static void op_remap(unsigned long *seed)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	EXPECT(p != MAP_FAILED, "mmap shared anonymous");
	p[0] = 'a';
	p[PAGE] = 'b';
	size_t size = (2 + next_rand(seed) % 6) * PAGE;
	char *q = mremap(p, 2 * PAGE, size, MREMAP_MAYMOVE);
	EXPECT(q != MAP_FAILED, "mremap");
	EXPECT(q[0] == 'a' && q[PAGE] == 'b', "contents after mremap");
	/* The object stays 2 pages (beyond it: SIGBUS, as on Linux). */
	q[2 * PAGE - 1] = 'c';
	EXPECT(munmap(q, size) == 0, "munmap after mremap");
}

static void op_fork(void)
{
	pthread_mutex_lock(&fork_lock);
	pid_t pid = fork();
	pthread_mutex_unlock(&fork_lock);
	EXPECT(pid >= 0, "fork");
	if (pid == 0) {
		char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       shared_memfd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		p[100] = 1;
		_exit(munmap(p, PAGE) == 0 ? 0 : 3);
	}
	int status;
	EXPECT(waitpid(pid, &status, 0) == pid, "waitpid");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	atomic_fetch_add(&stats->forks, 1);
}

static void op_lock(unsigned long *seed, int fd, int ofd_fd)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)(next_rand(seed) % 64) * 16,
		.l_len = 16,
	};
	int cmd = next_rand(seed) % 2 ? F_SETLKW : F_OFD_SETLKW;
	int use = cmd == F_SETLKW ? fd : ofd_fd;
	EXPECT(fcntl(use, cmd, &fl) == 0, "lock");
	fl.l_type = F_UNLCK;
	EXPECT(fcntl(use, cmd, &fl) == 0, "unlock");
	EXPECT(flock(ofd_fd, LOCK_EX) == 0, "flock");
	EXPECT(flock(ofd_fd, LOCK_UN) == 0, "flock unlock");
	atomic_fetch_add(&stats->locks, 1);
}

static void op_seal(void)
{
	/* No fork by the other thread while the mapping exists: its child
	 * would hold the mapping too, and the seal would stay EBUSY. */
	pthread_mutex_lock(&fork_lock);
	int fd = (int)syscall(SYS_memfd_create, "stress-seal", MFD_ALLOW_SEALING);
	EXPECT(fd >= 0, "memfd_create");
	EXPECT(ftruncate(fd, 2 * PAGE) == 0, "ftruncate");
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "mmap");
	p[0] = 1;
	errno = 0;
	EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EBUSY,
	       "F_SEAL_WRITE with a writable mapping");
	EXPECT(munmap(p, 2 * PAGE) == 0, "munmap");
	pthread_mutex_unlock(&fork_lock);
	EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0, "F_SEAL_WRITE unmapped");
	close(fd);
	atomic_fetch_add(&stats->seals, 1);
}

static void op_revoke(void)
{
	int fd = (int)syscall(SYS_memfd_create, "stress-revoke", MFD_ALLOW_SEALING);
	EXPECT(fd >= 0, "memfd_create");
	EXPECT(ftruncate(fd, PAGE) == 0, "ftruncate");
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED, "mmap");
	p[7] = 42;
	int go[2];
	EXPECT(pipe(go) == 0, "pipe");
	pthread_mutex_lock(&fork_lock);
	pid_t pid = fork();
	pthread_mutex_unlock(&fork_lock);
	EXPECT(pid >= 0, "fork");
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		/* Read-only now, still readable. */
		_exit(p[7] == 42 ? 0 : 3);
	}
	close(go[0]);
	long n = fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE);
	EXPECT(n >= 2, "F_ADD_SEALS_REVOKE counted %ld mappings", n);
	EXPECT(write(go[1], "x", 1) == 1, "pipe write");
	close(go[1]);
	int status;
	EXPECT(waitpid(pid, &status, 0) == pid, "waitpid");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	EXPECT(p[7] == 42, "read after revocation");
	EXPECT(munmap(p, PAGE) == 0, "munmap");
	close(fd);
	atomic_fetch_add(&stats->revokes, 1);
}

static void *thread_main(void *arg)
{
	unsigned long seed = (unsigned long)arg * 0x9E3779B97F4A7C15UL + 1;
	int fd = open(lock_path, O_RDWR);
	int ofd_fd = open(lock_path, O_RDWR);
	EXPECT(fd >= 0 && ofd_fd >= 0, "open %s", lock_path);
	while (now_ms() < deadline_ms) {
		switch (next_rand(&seed) % 7) {
		case 0:
		case 1:
			op_shared_map(&seed);
			break;
		case 2:
			op_remap(&seed);
			break;
		case 3:
			op_fork();
			break;
		case 4:
			op_lock(&seed, fd, ofd_fd);
			break;
		case 5:
			op_seal();
			break;
		case 6:
			if (starling)
				op_revoke();
			else
				op_seal();
			break;
		}
		atomic_fetch_add(&stats->ops, 1);
	}
	close(fd);
	close(ofd_fd);
	return NULL;
}

static void worker(int index)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		EXPECT(pthread_create(&t[i], NULL, thread_main,
				      (void *)(long)(index * THREADS + i + 1)) == 0,
		       "pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	_exit(0);
}

/* /proc/starling/mm: mapped objects, registry records, registries. */
static void mm_counts(long v[3])
{
	char buf[512] = { 0 };
	int fd = (int)CHECK_OK(open("/proc/starling/mm", O_RDONLY));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	CHECK_EQ(sscanf(buf, "mapped_objects %ld\nmap_records %ld\nregistries %ld", &v[0],
			&v[1], &v[2]),
		 3);
}

static long lockup_reports(void)
{
	char *buf = t_kernel_log();
	long count = 0;
	for (char *p = strstr(buf, "soft lockup - CPU#"); p; p = strstr(p + 1, "soft lockup - CPU#"))
		count++;
	free(buf);
	return count;
}

TEST(processes_and_threads_on_every_cpu)
{
	starling = on_starling();
	if (starling && geteuid() != 0)
		t_skip("reads the kernel log as root");
	const char *env = getenv("STARLING_STRESS_SECONDS");
	long seconds = env ? atol(env) : 20;
	if (seconds <= 0)
		seconds = 20;
	alarm((unsigned int)seconds + 180);

	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	CHECK(stats != MAP_FAILED);
	/* The baseline includes the statistics page (a shared mapping). */
	long before[3] = { 0 }, after[3] = { 0 };
	if (starling)
		mm_counts(before);
	for (int tries = 0; starling && tries < 100; tries++) {
		long again[3];
		t_sleep_ms(50);
		mm_counts(again);
		if (memcmp(again, before, sizeof(again)) == 0)
			break;
		memcpy(before, again, sizeof(again));
	}
	long warns = t_read_long("/sys/kernel/warn_count");
	long lockups = starling ? lockup_reports() : 0;

	shared_memfd = (int)CHECK_OK(syscall(SYS_memfd_create, "stress-shared", 0));
	CHECK_RET(ftruncate(shared_memfd, SHARED_PAGES * PAGE), 0);
	lock_path = t_path("stress.lock");
	int lfd = (int)CHECK_OK(open(lock_path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_RET(ftruncate(lfd, 1024), 0);
	close(lfd);

	deadline_ms = now_ms() + seconds * 1000;
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		CHECK(pids[i] >= 0);
		if (pids[i] == 0)
			worker(i);
	}
	int bad = 0;
	for (int i = 0; i < WORKERS; i++) {
		int status;
		CHECK_RET(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			dprintf(1, "# worker %d ended with status %#x\n", i, status);
			bad++;
		}
	}
	close(shared_memfd);
	unlink(lock_path);
	dprintf(1, "# %ld s: %ld operations (%ld forks, %ld lock rounds, %ld seals, %ld revocations)\n",
		 seconds, atomic_load(&stats->ops), atomic_load(&stats->forks),
		 atomic_load(&stats->locks), atomic_load(&stats->seals),
		 atomic_load(&stats->revokes));
	CHECK_MSG(bad == 0, "%d workers failed", bad);
	CHECK(atomic_load(&stats->forks) > 0 && atomic_load(&stats->seals) > 0);
	CHECK(!starling || atomic_load(&stats->revokes) > 0);
	CHECK_EQ(t_read_long("/sys/kernel/warn_count"), warns);
	if (!starling)
		return; /* Linux: no /proc/starling/mm; its log is the host's */

	mm_counts(after);
	for (int tries = 0; tries < 100 && memcmp(after, before, sizeof(after)); tries++) {
		t_sleep_ms(50);
		mm_counts(after);
	}
	CHECK_MSG(after[0] == before[0], "mapped objects %ld -> %ld", before[0], after[0]);
	CHECK_MSG(after[1] == before[1], "registry records %ld -> %ld", before[1], after[1]);
	CHECK_MSG(after[2] == before[2], "registries %ld -> %ld", before[2], after[2]);
	CHECK_EQ(lockup_reports(), lockups);
}
