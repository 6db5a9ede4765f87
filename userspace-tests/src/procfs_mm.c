/*
 * /proc/PID/smaps, smaps_rollup and pagemap in Linux's formats
 * (fs/proc/task_mmu.c): field names, order and column layout, Rss and Pss
 * as pages are touched and shared by fork, Private/Shared and Dirty,
 * VmFlags, the rollup as the sum of the VMAs, and pagemap's present,
 * exclusive and file bits, holes, EINVAL for unaligned reads.
 *
 * Each mapping checked sits between two PROT_NONE guard pages, so it is a
 * VMA of its own (no merging with a neighbour). Only anonymous memory is
 * counted: Linux fills private file pages lazily, Starling at mmap time.
 *
 * Everything here holds on Linux.
 */
#include "test.h"
#include "proc_text.h"

#include <linux/capability.h>
#include <sys/mman.h>

#define PG 4096UL

#define PM_PRESENT (1ULL << 63)
#define PM_FILE (1ULL << 61)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PFN ((1ULL << 55) - 1)

/* A VMA of `pages` pages with `prot` and `flags` (MAP_ANONYMOUS added),
 * between two PROT_NONE guard pages. */
static char *isolated(size_t pages, int prot, int flags)
{
	char *guard = mmap(NULL, (pages + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(guard != MAP_FAILED);
	char *p = mmap(guard + PG, pages * PG, prot, flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(p == guard + PG);
	return p;
}

static void unmap_isolated(char *p, size_t pages)
{
	CHECK_RET(munmap(p - PG, (pages + 2) * PG), 0);
}

/* Whether the line at `l` is a VMA header ("start-end perms ..."). */
static int is_header(const char *l, unsigned long *start, unsigned long *end)
{
	unsigned long s, e;
	char perms[8];
	if (sscanf(l, "%lx-%lx %7s", &s, &e, perms) != 3)
		return 0;
	if (start)
		*start = s;
	if (end)
		*end = e;
	return 1;
}

/* Copies the smaps block (header line and fields) of the VMA starting at
 * `addr` in `text` into `out`; 0 if there is none. */
static int find_block(const char *text, unsigned long addr, char *out, size_t size)
{
	const char *l = text;
	while (*l) {
		unsigned long s;
		if (is_header(l, &s, NULL) && s == addr) {
			const char *e = strchr(l, '\n');
			while (e && e[1] && !is_header(e + 1, NULL, NULL))
				e = strchr(e + 1, '\n');
			CHECK_MSG(e != NULL, "smaps does not end in a newline");
			size_t n = (size_t)(e + 1 - l);
			CHECK(n < size);
			memcpy(out, l, n);
			out[n] = '\0';
			return 1;
		}
		const char *nl = strchr(l, '\n');
		CHECK_MSG(nl != NULL, "smaps does not end in a newline");
		l = nl + 1;
	}
	return 0;
}

static char smaps_text[BIG];

/* The smaps block of the VMA starting at `p`, from `path`. */
static void block_of(const char *path, const void *p, char *out, size_t size)
{
	read_file(path, smaps_text, sizeof(smaps_text));
	CHECK_MSG(find_block(smaps_text, (unsigned long)p, out, size), "no VMA at %p in %s", p, path);
}

static void self_block(const void *p, char *out, size_t size)
{
	block_of("/proc/self/smaps", p, out, size);
}

/* A "Key:  N kB" field of a block, in kB. */
static long kb(const char *block, const char *key)
{
	const char *v = field(block, key);
	CHECK_MSG(v != NULL, "no \"%s:\" line", key);
	char *end;
	long n = strtol(v, &end, 10);
	CHECK_MSG(strncmp(end, " kB\n", 4) == 0, "\"%s:\" is not in kB", key);
	return n;
}

/* The "VmFlags:" line of a block, from the first code on. */
static void vmflags(const char *block, char *out, size_t size)
{
	const char *v = field(block, "VmFlags");
	CHECK_MSG(v != NULL, "no VmFlags line");
	size_t n = strcspn(v, "\n");
	CHECK(n < size);
	memcpy(out, v, n);
	out[n] = '\0';
}

static int has_flag(const char *flags, const char *code)
{
	for (const char *p = flags; *p; p += 3)
		if (p[0] == code[0] && p[1] == code[1])
			return 1;
	return 0;
}

/* The fields of a smaps block, in Linux's order (6.x __show_smap). */
static const char *const smaps_keys[] = {
	"Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty",
	"Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
	"Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
	"ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb",
	"Swap", "SwapPss", "Locked", "THPeligible", "VmFlags",
};

static const char *const rollup_keys[] = {
	"Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem",
	"Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
	"Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
	"ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb",
	"Swap", "SwapPss", "Locked",
};

#define NKEYS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Every "N kB" line of `text` is laid out as seq_put_decimal_ull_width
 * prints it: the label padded so the value ends in column 24. */
static void check_kb_columns(const char *text)
{
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		size_t n = strcspn(l, "\n");
		CHECK_MSG(l[n] == '\n', "text does not end in a newline");
		if (n > 3 && strncmp(l + n - 3, " kB", 3) == 0) {
			const char *colon = memchr(l, ':', n);
			CHECK_MSG(colon, "no colon in \"%.*s\"", (int)n, l);
			long v = strtol(colon + 1, NULL, 10);
			char want[128];
			int label = (int)(colon + 1 - l);
			snprintf(want, sizeof(want), "%.*s%*s%*ld kB", label, l,
				 label < 16 ? 16 - label : 0, "", label < 16 ? 8 : 24 - label, v);
			CHECK_MSG(strlen(want) == n && strncmp(want, l, n) == 0,
				  "\"%.*s\" is not laid out as \"%s\"", (int)n, l, want);
		}
	}
}

/* ---- smaps -------------------------------------------------------------- */

TEST(smaps_fields_in_linux_order_and_layout)
{
	char *p = isolated(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	static char block[4096];
	self_block(p, block, sizeof(block));
	check_order(block, smaps_keys, NKEYS(smaps_keys));
	check_kb_columns(block);
	CHECK_EQ(kb(block, "Size"), 16);
	CHECK_EQ(kb(block, "KernelPageSize"), 4);
	CHECK_EQ(kb(block, "MMUPageSize"), 4);
	long eligible = field_long(block, "THPeligible");
	CHECK(eligible == 0 || eligible == 1);
	char want[64];
	snprintf(want, sizeof(want), "\nTHPeligible:    %8ld\nVmFlags: ", eligible);
	CHECK_MSG(strstr(block, want) != NULL, "THPeligible is not a value in 8 columns");
	/* VmFlags: two-letter codes, each followed by a space. */
	const char *vf = strstr(block, "\nVmFlags: ");
	CHECK(vf != NULL);
	vf += strlen("\nVmFlags: ");
	size_t n = strcspn(vf, "\n");
	CHECK_MSG(n > 0 && n % 3 == 0, "VmFlags line \"%.*s\"", (int)n, vf);
	for (size_t i = 0; i < n; i += 3)
		CHECK_MSG(vf[i] >= 'a' && vf[i] <= 'z' && vf[i + 1] >= 'a' && vf[i + 1] <= 'z' &&
				  vf[i + 2] == ' ',
			  "VmFlags line \"%.*s\"", (int)n, vf);
	unmap_isolated(p, 4);
}

TEST(smaps_header_is_the_maps_line)
{
	char *p = isolated(2, PROT_READ, MAP_PRIVATE);
	static char block[4096], maps[BIG];
	self_block(p, block, sizeof(block));
	read_file("/proc/self/maps", maps, sizeof(maps));
	const char *line = maps;
	while (*line && strtoul(line, NULL, 16) != (unsigned long)p)
		line = strchr(line, '\n') + 1;
	CHECK(*line);
	size_t n = strcspn(line, "\n") + 1;
	CHECK_MSG(strncmp(block, line, n) == 0, "smaps header \"%.*s\" vs maps \"%.*s\"",
		  (int)strcspn(block, "\n"), block, (int)n - 1, line);
	/* The header is followed by Size at once. */
	CHECK(strncmp(block + n, "Size:", 5) == 0);
	unmap_isolated(p, 2);
}

TEST(smaps_rss_counts_touched_pages)
{
	char *p = isolated(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	static char block[4096];
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Size"), 16);
	CHECK_EQ(kb(block, "Rss"), 0);
	CHECK_EQ(kb(block, "Pss"), 0);
	CHECK_EQ(kb(block, "Anonymous"), 0);
	CHECK_EQ(kb(block, "Private_Dirty"), 0);

	p[0] = 1;
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Pss"), 4);
	CHECK_EQ(kb(block, "Pss_Dirty"), 4);
	CHECK_EQ(kb(block, "Private_Dirty"), 4);
	CHECK_EQ(kb(block, "Private_Clean"), 0);
	CHECK_EQ(kb(block, "Shared_Clean"), 0);
	CHECK_EQ(kb(block, "Shared_Dirty"), 0);
	CHECK_EQ(kb(block, "Anonymous"), 4);

	p[2 * PG + 5] = 1;
	p[2 * PG + 6] = 1;
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Size"), 16);
	CHECK_EQ(kb(block, "Rss"), 8);
	CHECK_EQ(kb(block, "Pss"), 8);
	CHECK_EQ(kb(block, "Private_Dirty"), 8);
	CHECK_EQ(kb(block, "Anonymous"), 8);
	CHECK_EQ(kb(block, "Swap"), 0);

	/* Unmapping a touched page takes it out; a split keeps the counts. */
	CHECK_RET(munmap(p, PG), 0);
	self_block(p + PG, block, sizeof(block));
	CHECK_EQ(kb(block, "Size"), 12);
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_RET(mprotect(p + 2 * PG, PG, PROT_READ), 0);
	self_block(p + 2 * PG, block, sizeof(block));
	CHECK_EQ(kb(block, "Size"), 4);
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Private_Dirty"), 4);
	unmap_isolated(p, 4);
}

TEST(smaps_populate_makes_pages_resident)
{
	char *p = isolated(3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	CHECK(mmap(p, 3 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, -1, 0) == p);
	static char block[4096];
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 12);
	CHECK_EQ(kb(block, "Anonymous"), 12);
	unmap_isolated(p, 3);
}

/* Pipes to step a forked child: the parent writes a byte to let it go on. */
struct steps {
	int go[2], done[2];
};

static void steps_init(struct steps *s)
{
	CHECK_RET(pipe(s->go), 0);
	CHECK_RET(pipe(s->done), 0);
}

static void step_signal(int fd)
{
	CHECK_RET(write(fd, "x", 1), 1);
}

static void step_wait(int fd)
{
	char c;
	CHECK_RET(read(fd, &c, 1), 1);
}

TEST(smaps_fork_shares_private_pages)
{
	char *p = isolated(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	p[0] = 1;
	p[PG] = 1;
	struct steps s;
	steps_init(&s);
	pid_t pid = t_fork();
	if (pid == 0) {
		static char cblock[4096];
		step_wait(s.go[0]);
		p[0] = 2; /* copy-on-write: page 0 becomes the child's own */
		self_block(p, cblock, sizeof(cblock));
		CHECK_EQ(kb(cblock, "Rss"), 8);
		CHECK_EQ(kb(cblock, "Private_Dirty"), 4);
		CHECK_EQ(kb(cblock, "Shared_Dirty"), 4);
		CHECK_EQ(kb(cblock, "Pss"), 6);
		step_signal(s.done[1]);
		step_wait(s.go[0]);
		_exit(0);
	}
	static char block[4096];
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 8);
	CHECK_EQ(kb(block, "Shared_Dirty"), 8);
	CHECK_EQ(kb(block, "Private_Dirty"), 0);
	CHECK_EQ(kb(block, "Private_Clean"), 0);
	CHECK_EQ(kb(block, "Pss"), 4);
	CHECK_EQ(kb(block, "Pss_Dirty"), 4);
	CHECK_EQ(kb(block, "Anonymous"), 8);
	/* The child's view through its pid. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	static char cblock[4096];
	block_of(path, p, cblock, sizeof(cblock));
	CHECK_EQ(kb(cblock, "Rss"), 8);
	CHECK_EQ(kb(cblock, "Shared_Dirty"), 8);
	CHECK_EQ(kb(cblock, "Pss"), 4);

	step_signal(s.go[1]);
	step_wait(s.done[0]);
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 8);
	CHECK_EQ(kb(block, "Private_Dirty"), 4);
	CHECK_EQ(kb(block, "Shared_Dirty"), 4);
	CHECK_EQ(kb(block, "Pss"), 6);
	step_signal(s.go[1]);
	t_wait_exit(pid, 0);
	/* The child is gone: everything is private again. */
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Private_Dirty"), 8);
	CHECK_EQ(kb(block, "Shared_Dirty"), 0);
	CHECK_EQ(kb(block, "Pss"), 8);
	unmap_isolated(p, 2);
}

TEST(smaps_shared_anonymous_memory)
{
	char *p = isolated(2, PROT_READ | PROT_WRITE, MAP_SHARED);
	static char block[4096];
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 0);
	p[0] = 1;
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Private_Dirty"), 4);
	/* Shared memory is not anonymous (shmem pages). */
	CHECK_EQ(kb(block, "Anonymous"), 0);
	char flags[128];
	vmflags(block, flags, sizeof(flags));
	CHECK_MSG(has_flag(flags, "sh") && has_flag(flags, "ms"), "VmFlags \"%s\"", flags);

	struct steps s;
	steps_init(&s);
	pid_t pid = t_fork();
	if (pid == 0) {
		volatile char c = p[0]; /* the child maps the page too */
		(void)c;
		step_signal(s.done[1]);
		step_wait(s.go[0]);
		_exit(0);
	}
	step_wait(s.done[0]);
	self_block(p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Shared_Dirty"), 4);
	CHECK_EQ(kb(block, "Private_Dirty"), 0);
	CHECK_EQ(kb(block, "Pss"), 2);
	step_signal(s.go[1]);
	t_wait_exit(pid, 0);
	unmap_isolated(p, 2);
}

/* Maps page 0 of the 2-page file `fd` twice and checks that it counts as
 * shared by the two page-table entries, and private again with one. */
static void check_file_page_mapped_twice(int fd)
{
	CHECK_RET(ftruncate(fd, 2 * PG), 0);
	char *a = isolated(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	char *b = isolated(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	CHECK(mmap(a, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == a);
	CHECK(mmap(b, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == b);
	static char block[4096];
	a[0] = 1;
	self_block(a, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Private_Dirty"), 4);
	CHECK_EQ(kb(block, "Anonymous"), 0);
	/* The same page through the second mapping: two entries map it. */
	b[1] = 1;
	CHECK_EQ(a[1], 1);
	self_block(a, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Shared_Dirty"), 4);
	CHECK_EQ(kb(block, "Private_Dirty"), 0);
	CHECK_EQ(kb(block, "Pss"), 2);
	self_block(b, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	CHECK_EQ(kb(block, "Shared_Dirty"), 4);
	CHECK_EQ(kb(block, "Pss"), 2);
	CHECK_RET(munmap(b, 2 * PG), 0);
	self_block(a, block, sizeof(block));
	/* Private again; clean or dirty depending on whether the unmap wrote
	 * the page back (Starling's munmap writes a disk file's dirty pages
	 * back, Linux leaves it to the flusher). */
	CHECK_EQ(kb(block, "Private_Dirty") + kb(block, "Private_Clean"), 4);
	CHECK_EQ(kb(block, "Shared_Dirty") + kb(block, "Shared_Clean"), 0);
	CHECK_EQ(kb(block, "Pss"), 4);
	unmap_isolated(a, 2);
	unmap_isolated(b, 2);
}

TEST(smaps_tmpfs_page_mapped_twice_is_shared)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/procfs_mm.%d", (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_RET(unlink(path), 0);
	check_file_page_mapped_twice(fd);
	close(fd);
}

TEST(smaps_disk_file_page_mapped_twice_is_shared)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/twice", t_disk_dir());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	check_file_page_mapped_twice(fd);
	close(fd);
	CHECK_RET(unlink(path), 0);
}

TEST(smaps_vmflags_from_protection)
{
	static char block[4096];
	char flags[128];

	char *p = isolated(1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	self_block(p, block, sizeof(block));
	vmflags(block, flags, sizeof(flags));
	CHECK_MSG(strncmp(flags, "rd wr mr mw me ", 15) == 0, "VmFlags \"%s\"", flags);
	CHECK_MSG(!has_flag(flags, "ex") && !has_flag(flags, "sh") && !has_flag(flags, "ms"),
		  "VmFlags \"%s\"", flags);
	unmap_isolated(p, 1);

	p = isolated(1, PROT_READ, MAP_PRIVATE);
	self_block(p, block, sizeof(block));
	vmflags(block, flags, sizeof(flags));
	CHECK_MSG(strncmp(flags, "rd mr mw me ", 12) == 0, "VmFlags \"%s\"", flags);
	unmap_isolated(p, 1);

	p = isolated(1, PROT_READ | PROT_EXEC, MAP_PRIVATE);
	self_block(p, block, sizeof(block));
	vmflags(block, flags, sizeof(flags));
	CHECK_MSG(strncmp(flags, "rd ex mr mw me ", 15) == 0, "VmFlags \"%s\"", flags);
	unmap_isolated(p, 1);

	p = isolated(1, PROT_READ | PROT_WRITE, MAP_SHARED);
	self_block(p, block, sizeof(block));
	vmflags(block, flags, sizeof(flags));
	CHECK_MSG(strncmp(flags, "rd wr sh mr mw me ms ", 21) == 0, "VmFlags \"%s\"", flags);
	unmap_isolated(p, 1);

	p = isolated(1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_GROWSDOWN);
	self_block(p, block, sizeof(block));
	vmflags(block, flags, sizeof(flags));
	CHECK_MSG(strncmp(flags, "rd wr mr mw me gd ", 18) == 0, "VmFlags \"%s\"", flags);
	unmap_isolated(p, 1);
}

TEST(smaps_of_threads_and_task_dirs)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/smaps", (int)gettid());
	char *p = isolated(1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	p[0] = 1;
	static char block[4096];
	block_of(path, p, block, sizeof(block));
	CHECK_EQ(kb(block, "Rss"), 4);
	unmap_isolated(p, 1);
}

/* ---- smaps_rollup -------------------------------------------------------- */

static char rollup_text[8192];

TEST(smaps_rollup_sums_the_vmas)
{
	static const char *const summed[] = {
		"Rss", "Shared_Clean", "Shared_Dirty", "Private_Clean",
		"Private_Dirty", "Anonymous", "Swap",
	};
	/* Something of each kind, touched, so the sums are not all zero. */
	char *a = isolated(3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	char *s = isolated(2, PROT_READ | PROT_WRITE, MAP_SHARED);
	a[0] = a[PG] = s[0] = 1;
	/* Both buffers are touched already: reading cannot change the counts. */
	memset(smaps_text, 1, sizeof(smaps_text));
	memset(rollup_text, 1, sizeof(rollup_text));
	read_file("/proc/self/smaps", smaps_text, sizeof(smaps_text));
	read_file("/proc/self/smaps_rollup", rollup_text, sizeof(rollup_text));

	check_order(rollup_text, rollup_keys, NKEYS(rollup_keys));
	CHECK(field(rollup_text, "VmFlags") == NULL);
	CHECK(field(rollup_text, "Size") == NULL);
	check_kb_columns(strchr(rollup_text, '\n') + 1);

	long sum[NKEYS(summed)] = { 0 }, pss = 0;
	int vmas = 0;
	unsigned long first = 0, last = 0;
	for (const char *l = smaps_text; *l; l = strchr(l, '\n') + 1) {
		unsigned long st, en;
		if (!is_header(l, &st, &en))
			continue;
		/* x86_64 Linux lists the [vsyscall] gate page in smaps but not
		 * in the rollup, which walks the VMA tree only. */
		if (st >= 0x800000000000UL)
			break;
		if (!vmas)
			first = st;
		last = en;
		vmas++;
		const char *next = strchr(l, '\n') + 1;
		const char *end = next;
		while (*end && !is_header(end, NULL, NULL))
			end = strchr(end, '\n') + 1;
		char one[4096];
		size_t n = (size_t)(end - l);
		CHECK(n < sizeof(one));
		memcpy(one, l, n);
		one[n] = '\0';
		for (int i = 0; i < NKEYS(summed); i++)
			sum[i] += kb(one, summed[i]);
		pss += kb(one, "Pss");
	}
	CHECK(vmas > 0);
	for (int i = 0; i < NKEYS(summed); i++)
		CHECK_MSG(kb(rollup_text, summed[i]) == sum[i], "rollup %s: %ld kB, sum of smaps %ld kB",
			  summed[i], kb(rollup_text, summed[i]), sum[i]);
	/* The rollup shifts the summed fixed-point Pss once; smaps per VMA. */
	long rpss = kb(rollup_text, "Pss");
	CHECK_MSG(rpss >= pss && rpss <= pss + vmas, "rollup Pss %ld, sum %ld", rpss, pss);
	long parts = kb(rollup_text, "Pss_Anon") + kb(rollup_text, "Pss_File") +
		     kb(rollup_text, "Pss_Shmem");
	CHECK_MSG(parts <= rpss && parts + 3 > rpss, "Pss %ld, parts %ld", rpss, parts);
	CHECK(kb(rollup_text, "Pss_Anon") >= 8);
	CHECK(kb(rollup_text, "Pss_Shmem") >= 4);

	/* Header: the span of all VMAs, no flags, then [rollup] at column 74. */
	char want[160];
	int n = snprintf(want, sizeof(want), "%08lx-%08lx ---p 00000000 00:00 0", first, last);
	while (n < 73)
		want[n++] = ' ';
	snprintf(want + n, sizeof(want) - (size_t)n, "[rollup]\n");
	CHECK_MSG(strncmp(rollup_text, want, strlen(want)) == 0, "header \"%.*s\", expected \"%.*s\"",
		  (int)strcspn(rollup_text, "\n"), rollup_text, (int)strlen(want) - 1, want);
	unmap_isolated(a, 3);
	unmap_isolated(s, 2);
}

/* ---- pagemap ------------------------------------------------------------- */

/* Whether the caller has CAP_SYS_ADMIN (bit 21 of CapEff). */
static int has_sys_admin(void)
{
	static char status[8192];
	read_file("/proc/self/status", status, sizeof(status));
	const char *v = field(status, "CapEff");
	CHECK(v != NULL);
	return (strtoull(v, NULL, 16) >> 21) & 1;
}

static void pagemap_entries(int fd, const void *p, uint64_t *out, size_t n)
{
	off_t off = (off_t)((unsigned long)p / PG * 8);
	CHECK_RET(pread(fd, out, n * 8, off), (long)(n * 8));
}

TEST(pagemap_present_after_touch)
{
	int fd = CHECK_OK(open("/proc/self/pagemap", O_RDONLY));
	char *p = isolated(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	uint64_t e[4];
	pagemap_entries(fd, p, e, 4);
	for (int i = 0; i < 4; i++)
		CHECK_MSG((e[i] & ~PM_SOFT_DIRTY) == 0, "untouched page %d: %#llx", i,
			  (unsigned long long)e[i]);
	p[PG] = 1;
	p[3 * PG] = 1;
	pagemap_entries(fd, p, e, 4);
	int admin = has_sys_admin();
	for (int i = 0; i < 4; i++) {
		if (i == 1 || i == 3) {
			CHECK_MSG(e[i] & PM_PRESENT, "page %d: %#llx", i, (unsigned long long)e[i]);
			CHECK_MSG(e[i] & PM_EXCLUSIVE, "page %d: %#llx", i, (unsigned long long)e[i]);
			CHECK_MSG(!(e[i] & PM_FILE), "page %d: %#llx", i, (unsigned long long)e[i]);
			if (admin)
				CHECK_MSG(e[i] & PM_PFN, "page %d has no PFN: %#llx", i,
					  (unsigned long long)e[i]);
			else
				CHECK_EQ(e[i] & PM_PFN, 0);
		} else {
			CHECK_MSG((e[i] & ~PM_SOFT_DIRTY) == 0, "page %d: %#llx", i,
				  (unsigned long long)e[i]);
		}
	}
	if (admin)
		CHECK((e[1] & PM_PFN) != (e[3] & PM_PFN));
	unmap_isolated(p, 4);
	close(fd);
}

TEST(pagemap_hides_pfn_without_sys_admin)
{
	if (!has_sys_admin())
		t_skip("needs CAP_SYS_ADMIN to drop it");
	char *p = isolated(1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	p[0] = 1;
	pid_t pid = t_fork();
	if (pid == 0) {
		p[0] = 2; /* a copy of its own: mapped once */
		/* Drop CAP_SYS_ADMIN from the effective set only. */
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		CHECK_RET(syscall(SYS_capget, &h, d), 0);
		d[0].effective &= ~(1U << CAP_SYS_ADMIN);
		CHECK_RET(syscall(SYS_capset, &h, d), 0);
		CHECK(!has_sys_admin());
		int fd = CHECK_OK(open("/proc/self/pagemap", O_RDONLY));
		uint64_t e;
		pagemap_entries(fd, p, &e, 1);
		CHECK_MSG((e & (PM_PRESENT | PM_EXCLUSIVE)) == (PM_PRESENT | PM_EXCLUSIVE),
			  "entry %#llx", (unsigned long long)e);
		CHECK_EQ(e & PM_PFN, 0);
		close(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	unmap_isolated(p, 1);
}

TEST(pagemap_populate_sets_present)
{
	/* LTP mmap12: MAP_POPULATE, then every page is present. */
	int fd = CHECK_OK(open("/proc/self/pagemap", O_RDONLY));
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK(p != MAP_FAILED);
	uint64_t e[8];
	pagemap_entries(fd, p, e, 8);
	for (int i = 0; i < 8; i++)
		CHECK_MSG(e[i] & PM_PRESENT, "page %d: %#llx", i, (unsigned long long)e[i]);
	CHECK_RET(munmap(p, 8 * PG), 0);
	close(fd);
}

TEST(pagemap_holes_and_shared_pages)
{
	int fd = CHECK_OK(open("/proc/self/pagemap", O_RDONLY));
	char *p = isolated(3, PROT_READ | PROT_WRITE, MAP_SHARED);
	p[0] = 1;
	p[2 * PG] = 1;
	CHECK_RET(munmap(p + 2 * PG, PG), 0); /* a hole in no VMA */
	uint64_t e[3];
	pagemap_entries(fd, p, e, 3);
	CHECK_MSG((e[0] & (PM_PRESENT | PM_FILE | PM_EXCLUSIVE)) == (PM_PRESENT | PM_FILE | PM_EXCLUSIVE),
		  "shared page: %#llx", (unsigned long long)e[0]);
	CHECK_MSG((e[1] & ~PM_SOFT_DIRTY) == 0, "untouched: %#llx", (unsigned long long)e[1]);
	CHECK_EQ(e[2], 0);

	/* Mapped twice (the child maps it too): no longer exclusive. */
	struct steps s;
	steps_init(&s);
	pid_t pid = t_fork();
	if (pid == 0) {
		volatile char c = p[0];
		(void)c;
		step_signal(s.done[1]);
		step_wait(s.go[0]);
		_exit(0);
	}
	step_wait(s.done[0]);
	pagemap_entries(fd, p, e, 1);
	CHECK_MSG((e[0] & (PM_PRESENT | PM_FILE | PM_EXCLUSIVE)) == (PM_PRESENT | PM_FILE),
		  "shared page mapped twice: %#llx", (unsigned long long)e[0]);
	/* The child's pagemap through its pid. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int cfd = CHECK_OK(open(path, O_RDONLY));
	pagemap_entries(cfd, p, e, 2);
	CHECK_MSG((e[0] & (PM_PRESENT | PM_FILE | PM_EXCLUSIVE)) == (PM_PRESENT | PM_FILE),
		  "child's entry: %#llx", (unsigned long long)e[0]);
	CHECK_MSG((e[1] & ~PM_SOFT_DIRTY) == 0, "child's untouched: %#llx", (unsigned long long)e[1]);
	close(cfd);
	step_signal(s.go[1]);
	t_wait_exit(pid, 0);
	CHECK_RET(munmap(p - PG, 3 * PG), 0);
	CHECK_RET(munmap(p + 3 * PG, PG), 0);
	close(fd);
}

TEST(pagemap_einval_for_unaligned_reads)
{
	int fd = CHECK_OK(open("/proc/self/pagemap", O_RDONLY));
	uint64_t e[2];
	CHECK_ERR(pread(fd, e, 8, 4), EINVAL);
	CHECK_ERR(pread(fd, e, 12, 8), EINVAL);
	CHECK_ERR(pread(fd, e, 7, 0), EINVAL);
	CHECK_RET(lseek(fd, 3, SEEK_SET), 3);
	CHECK_ERR(read(fd, e, 8), EINVAL);
	CHECK_RET(lseek(fd, 16, SEEK_SET), 16);
	CHECK_RET(read(fd, e, 16), 16);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 32);
	/* Page 0 lies in no VMA. */
	CHECK_RET(pread(fd, e, 8, 0), 8);
	CHECK_EQ(e[0], 0);
	close(fd);
	/* No write method: EINVAL (root may open the 0400 file for writing). */
	if (geteuid() == 0) {
		fd = CHECK_OK(open("/proc/self/pagemap", O_WRONLY));
		CHECK_ERR(write(fd, e, 8), EINVAL);
		close(fd);
	}
}

TEST(pagemap_large_reads_and_the_end)
{
	int fd = CHECK_OK(open("/proc/self/pagemap", O_RDONLY));
	char *p = isolated(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	p[3 * PG] = 1;
	/* A read spanning the kernel's internal chunks: 32768 entries that
	 * end with the mapping's last page. */
	enum { N = 32768 };
	static uint64_t e[N];
	memset(e, 0xff, sizeof(e));
	char *last = p + 3 * PG;
	off_t off = (off_t)((unsigned long)last / PG * 8) - (N - 1) * 8;
	CHECK_RET(pread(fd, e, sizeof(e), off), (long)sizeof(e));
	CHECK_MSG(e[N - 1] & PM_PRESENT, "last page: %#llx", (unsigned long long)e[N - 1]);
	for (int i = N - 4; i < N - 1; i++)
		CHECK_MSG((e[i] & ~PM_SOFT_DIRTY) == 0, "entry %d: %#llx", i, (unsigned long long)e[i]);
	/* Past the end of any user address space: end of file. */
	CHECK_RET(pread(fd, e, 8, (off_t)1 << 54), 0);
	unmap_isolated(p, 4);
	close(fd);
}
