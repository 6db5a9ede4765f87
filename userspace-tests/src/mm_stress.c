/*
 * Shared-mapping stress: 8 processes each run 2,000 random operations on
 * shared memory objects (shared anonymous memory, /dev/shm files, one file
 * every process shares): mmap (also MAP_FIXED over a live mapping), partial
 * munmap that splits, mprotect of part of a mapping, mremap (grow, move,
 * MREMAP_FIXED), fork of a child that works on the inherited mappings and
 * exits. Each result is checked (value and errno), and stores through a
 * mapping must be what read(2) returns. On Starling the counters of
 * /proc/starling/mm must come back afterwards: registry records, mapped
 * objects and registries exactly, frames no higher. With the kernel's
 * mm-debug feature (make test) every one of these syscalls also re-checks
 * the registry invariant.
 */
/* 16,000 operations under TCG take about 25 s on riscv64 alone; a loaded
 * host can double that. */
#define T_SUBTEST_SECONDS 180
#include "test.h"

#include <sys/mman.h>
#include <sys/utsname.h>

#define PAGE 4096UL
#define WORKERS 8
#define OPS 2000
#define SLOTS 16
#define FILE_PAGES 16
#define CHILD_OPS 40
#define MAX_PAGES 32

struct slot {
	char *addr;
	size_t pages;
	int fd;       /* -1: shared anonymous memory */
	long pgoff;   /* page offset in the file */
	int writable; /* stores are allowed (see store_and_check) */
	unsigned char prot[MAX_PAGES]; /* per page */
};

static unsigned long long rng_state;

static unsigned long rnd(unsigned long n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned long)(rng_state >> 33) % n;
}

static struct slot slots[SLOTS];

/* The byte of each page this worker stores to: workers share one file. */
static size_t my_byte;

/* Whether every page of the slot has the same protection (one VMA). */
static int uniform(const struct slot *s)
{
	for (size_t i = 1; i < s->pages; i++)
		if (s->prot[i] != s->prot[0])
			return 0;
	return 1;
}

static int all_writable(const struct slot *s)
{
	for (size_t i = 0; i < s->pages; i++)
		if (!(s->prot[i] & PROT_WRITE))
			return 0;
	return 1;
}
static int files[3];

/* Checks that a store through the mapping is what pread returns. */
static void store_and_check(struct slot *s)
{
	if (!s->writable || s->pages == 0 || !all_writable(s))
		return;
	size_t page = rnd(s->pages);
	char token = (char)(1 + rnd(250));
	s->addr[page * PAGE + my_byte] = token;
	if (s->fd >= 0 && (long)page + s->pgoff < FILE_PAGES) {
		char c = 0;
		off_t at = (off_t)((page + s->pgoff) * PAGE + my_byte);
		CHECK_RET(pread(s->fd, &c, 1, at), 1);
		CHECK_MSG(c == token, "pread sees 0x%x, mapping wrote 0x%x",
			  (unsigned char)c, (unsigned char)token);
	} else {
		CHECK_EQ(s->addr[page * PAGE + my_byte], token);
	}
}

static void drop_slot(struct slot *s)
{
	if (s->addr)
		CHECK_RET(munmap(s->addr, s->pages * PAGE), 0);
	s->addr = NULL;
	s->pages = 0;
}

static void op_map(struct slot *s, int fixed)
{
	size_t pages = 1 + rnd(6);
	int anon = rnd(3) == 0;
	int fd = anon ? -1 : files[rnd(3)];
	long pgoff = anon ? 0 : (long)rnd(FILE_PAGES - pages);
	int prot = rnd(4) == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
	int flags = MAP_SHARED | (anon ? MAP_ANONYMOUS : 0);
	void *hint = NULL;
	if (fixed && s->addr && s->pages >= pages) {
		flags |= MAP_FIXED;
		hint = s->addr;
	}
	char *p = mmap(hint, pages * PAGE, prot, flags, fd,
		       (off_t)(pgoff * (long)PAGE));
	CHECK_MSG(p != MAP_FAILED, "mmap of %zu pages: %s", pages,
		  t_errname(errno));
	if (hint) {
		CHECK(p == hint);
		/* The tail of the old mapping stays; keep it unmapped. */
		if (s->pages > pages)
			CHECK_RET(munmap(p + pages * PAGE,
					 (s->pages - pages) * PAGE),
				  0);
	} else {
		drop_slot(s);
	}
	*s = (struct slot){ p, pages, fd, pgoff, 1, { 0 } };
	memset(s->prot, prot, sizeof(s->prot));
	store_and_check(s);
}

static struct slot *free_slot(void)
{
	for (int i = 0; i < SLOTS; i++)
		if (!slots[i].addr)
			return &slots[i];
	return NULL;
}

static void op_unmap_part(struct slot *s)
{
	if (s->pages < 2) {
		drop_slot(s);
		return;
	}
	size_t first = rnd(s->pages);
	size_t n = 1 + rnd(s->pages - first);
	CHECK_RET(munmap(s->addr + first * PAGE, n * PAGE), 0);
	size_t tail = s->pages - first - n;
	struct slot upper = *s;
	upper.addr = s->addr + (first + n) * PAGE;
	upper.pages = tail;
	upper.pgoff = s->pgoff + (long)(first + n);
	memmove(upper.prot, s->prot + first + n, tail);
	s->pages = first;
	if (first == 0)
		s->addr = NULL;
	if (tail) {
		struct slot *f = s->addr ? free_slot() : s;
		if (f)
			*f = upper;
		else
			CHECK_RET(munmap(upper.addr, tail * PAGE), 0);
	}
}

static void op_protect(struct slot *s)
{
	size_t first = rnd(s->pages);
	size_t n = 1 + rnd(s->pages - first);
	int prot = rnd(2) ? PROT_READ : PROT_READ | PROT_WRITE;
	CHECK_RET(mprotect(s->addr + first * PAGE, n * PAGE, prot), 0);
	memset(s->prot + first, prot, n);
	store_and_check(s);
}

static void op_remap(struct slot *s)
{
	if (!uniform(s)) {
		/* Spanning two VMAs: EFAULT, as mremap(2) says. */
		if (s->pages > 1) {
			void *r = mremap(s->addr, s->pages * PAGE,
					 (s->pages + 1) * PAGE, MREMAP_MAYMOVE);
			CHECK(r == MAP_FAILED);
			CHECK_EQ(errno, EFAULT);
		}
		return;
	}
	size_t pages = s->pages + rnd(3);
	if (pages > MAX_PAGES)
		pages = s->pages;
	if (s->fd >= 0 && s->pgoff + (long)pages > FILE_PAGES)
		pages = s->pages;
	char *p;
	if (rnd(3) == 0) {
		/* MREMAP_FIXED onto a fresh reservation. */
		void *dst = mmap(NULL, pages * PAGE, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(dst != MAP_FAILED);
		p = mremap(s->addr, s->pages * PAGE, pages * PAGE,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		CHECK(p == dst);
	} else {
		p = mremap(s->addr, s->pages * PAGE, pages * PAGE,
			   MREMAP_MAYMOVE);
		CHECK_MSG(p != MAP_FAILED, "mremap: %s", t_errname(errno));
	}
	memset(s->prot + s->pages, s->prot[0], pages - s->pages);
	s->addr = p;
	s->pages = pages;
	if (s->fd < 0)
		/* Shared anonymous memory does not grow its object. */
		s->writable = 0;
	store_and_check(s);
}

static void run_ops(int n, int may_fork);

static void op_fork(void)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		run_ops(CHILD_OPS, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static void run_ops(int n, int may_fork)
{
	for (int i = 0; i < n; i++) {
		struct slot *s = &slots[rnd(SLOTS)];
		unsigned long what = rnd(100);
		if (!s->addr || what < 30) {
			op_map(s, 0);
		} else if (what < 35) {
			op_map(s, 1);
		} else if (what < 55) {
			op_unmap_part(s);
		} else if (what < 75) {
			op_protect(s);
		} else if (what < 92) {
			op_remap(s);
		} else if (what < 96 && may_fork) {
			op_fork();
		} else {
			store_and_check(s);
		}
	}
}

static void worker(int index, int shared_fd)
{
	rng_state = 0x5eed0000ULL + (unsigned long long)index;
	my_byte = 17 + 64 * (size_t)index;
	files[0] = shared_fd;
	for (int k = 1; k < 3; k++) {
		char name[64];
		snprintf(name, sizeof(name), "/dev/shm/mm_stress.%d.%d",
			 getpid(), k);
		files[k] = (int)CHECK_OK(open(name, O_RDWR | O_CREAT | O_EXCL,
					      0600));
		CHECK_RET(unlink(name), 0);
		CHECK_RET(ftruncate(files[k], FILE_PAGES * PAGE), 0);
	}
	run_ops(OPS, 1);
	/* Half the workers clean up, the others leave it to exit. */
	if (index % 2)
		for (int i = 0; i < SLOTS; i++)
			drop_slot(&slots[i]);
	_exit(0);
}

/* Reads /proc/starling/mm into `v` (5 counters); 0 on Linux, which has no
 * such file (on Starling it must be there). */
static int counters(long v[5])
{
	if (!on_starling())
		return 0;
	int fd = (int)CHECK_OK(open("/proc/starling/mm", O_RDONLY));
	char buf[512] = { 0 };
	long n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	CHECK_EQ(sscanf(buf,
			"mapped_objects %ld\nmap_records %ld\nregistries %ld\n"
			"user_frames %ld\nobject_pages %ld",
			&v[0], &v[1], &v[2], &v[3], &v[4]),
		 5);
	return 1;
}

TEST(eight_processes_random_shared_mapping_ops)
{
	long before[5] = { 0 }, after[5] = { 0 };
	/* Warm up what this process touches, then take the baseline once
	 * the counters are steady (what earlier programs left behind may
	 * still be going away). */
	int have = counters(before);
	for (int tries = 0; have && tries < 100; tries++) {
		long again[5];
		t_sleep_ms(50);
		counters(again);
		if (memcmp(again, before, sizeof(again)) == 0)
			break;
		memcpy(before, again, sizeof(again));
	}
	char name[64];
	snprintf(name, sizeof(name), "/dev/shm/mm_stress.%d", getpid());
	int shared_fd = (int)CHECK_OK(open(name, O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_RET(unlink(name), 0);
	CHECK_RET(ftruncate(shared_fd, FILE_PAGES * PAGE), 0);
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0)
			worker(i, shared_fd);
	}
	for (int i = 0; i < WORKERS; i++)
		t_wait_exit(pids[i], 0);
	close(shared_fd);
	if (!have)
		return; /* Linux has no /proc/starling/mm */
	counters(after);
	CHECK_MSG(after[0] == before[0], "mapped objects %ld -> %ld",
		  before[0], after[0]);
	CHECK_MSG(after[1] == before[1], "registry records %ld -> %ld",
		  before[1], after[1]);
	CHECK_MSG(after[2] == before[2], "registries %ld -> %ld", before[2],
		  after[2]);
	/* Frames and object pages are system-wide: programs that ran before
	 * may still be freeing theirs, so they may only go down. (Run alone,
	 * they come back exactly.) */
	CHECK_MSG(after[3] <= before[3], "user frames %ld -> %ld", before[3],
		  after[3]);
	CHECK_MSG(after[4] <= before[4], "object pages %ld -> %ld", before[4],
		  after[4]);
}
