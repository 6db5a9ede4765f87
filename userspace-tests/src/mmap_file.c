/*
 * Shared mappings of files on a disk file system (the ext4 root under
 * Starling): the mapping maps the file's page-cache pages, so stores through
 * it and read(2)/write(2) see the same bytes at once, across mappings,
 * processes and fork; msync and fsync write the pages back; pages wholly past
 * the end of the file raise SIGBUS, also after ftruncate shrinks a mapped
 * file; a read-only descriptor gives a mapping that can never become
 * writable (mmap(2), msync(2), ftruncate(2)).
 *
 * The files live under $STARLING_TEST_DISK_TMP (default /var/tmp), which must
 * not be tmpfs (/tmp and /dev/shm are; mmap_shared covers those).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/vfs.h>

#define PAGE 4096UL

static const char *disk_path(const char *name)
{
	static char buf[4][320];
	static int next;
	char *b = buf[next++ & 3];
	snprintf(b, sizeof(buf[0]), "%s/%s", t_disk_dir(), name);
	return b;
}

/* Creates `name` holding `size` bytes of the pattern byte (i * 7 + seed). */
static int make_file(const char *name, size_t size, int seed, int flags)
{
	const char *path = disk_path(name);
	unlink(path);
	int fd = open(path, flags | O_CREAT | O_TRUNC, 0600);
	CHECK_MSG(fd >= 0, "open %s: %s", path, t_errname(errno));
	static char chunk[PAGE];
	for (size_t done = 0; done < size;) {
		size_t n = size - done < PAGE ? size - done : PAGE;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)((done + i) * 7 + (size_t)seed);
		CHECK_RET(pwrite(fd, chunk, n, (off_t)done), (ssize_t)n);
		done += n;
	}
	return fd;
}

static char pattern(size_t offset, int seed)
{
	return (char)(offset * 7 + (size_t)seed);
}

static void *map_shared(int fd, size_t len, int prot, off_t offset)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, offset);
	CHECK_MSG(p != MAP_FAILED, "mmap: %s", t_errname(errno));
	return p;
}

TEST(mapping_shows_file_contents)
{
	int fd = make_file("contents", 3 * PAGE, 1, O_RDWR);
	char *p = map_shared(fd, 3 * PAGE, PROT_READ, 0);
	for (size_t i = 0; i < 3 * PAGE; i += 511)
		CHECK_EQ(p[i], pattern(i, 1));
	/* A mapping at a file offset starts at that page. */
	char *q = map_shared(fd, PAGE, PROT_READ, 2 * PAGE);
	CHECK_EQ(q[5], pattern(2 * PAGE + 5, 1));
	CHECK_RET(munmap(q, PAGE), 0);
	CHECK_RET(munmap(p, 3 * PAGE), 0);
	close(fd);
}

TEST(store_visible_to_read)
{
	int fd = make_file("store", 2 * PAGE, 2, O_RDWR);
	char *p = map_shared(fd, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	memcpy(p + 100, "through-mapping", 15);
	memcpy(p + PAGE + 7, "second", 6);
	char buf[16] = { 0 };
	CHECK_RET(pread(fd, buf, 15, 100), 15);
	CHECK_STREQ(buf, "through-mapping");
	/* Another open file description of the same file sees it too. */
	int other = (int)CHECK_OK(open(disk_path("store"), O_RDONLY));
	memset(buf, 0, sizeof(buf));
	CHECK_RET(pread(other, buf, 6, (off_t)PAGE + 7), 6);
	CHECK_STREQ(buf, "second");
	/* Bytes around the store are the file's. */
	CHECK_RET(pread(other, buf, 1, 99), 1);
	CHECK_EQ(buf[0], pattern(99, 2));
	close(other);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

TEST(write_visible_through_mapping)
{
	int fd = make_file("write", 2 * PAGE, 3, O_RDWR);
	char *p = map_shared(fd, 2 * PAGE, PROT_READ, 0);
	/* Fault the pages in first, so the write must reach mapped pages. */
	CHECK_EQ(p[0], pattern(0, 3));
	CHECK_EQ(p[PAGE], pattern(PAGE, 3));
	CHECK_RET(pwrite(fd, "written", 7, (off_t)PAGE - 3), 7);
	CHECK(memcmp(p + PAGE - 3, "written", 7) == 0);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

TEST(two_mappings_share_pages)
{
	int fd = make_file("two", PAGE, 4, O_RDWR);
	volatile char *a = map_shared(fd, PAGE, PROT_READ | PROT_WRITE, 0);
	volatile char *b = map_shared(fd, PAGE, PROT_READ | PROT_WRITE, 0);
	CHECK(a != b);
	a[10] = 'x';
	CHECK_EQ(b[10], 'x');
	b[11] = 'y';
	CHECK_EQ(a[11], 'y');
	CHECK_RET(munmap((void *)a, PAGE), 0);
	CHECK_EQ(b[10], 'x');
	CHECK_RET(munmap((void *)b, PAGE), 0);
	close(fd);
}

TEST(shared_across_fork)
{
	int fd = make_file("fork", 2 * PAGE, 5, O_RDWR);
	volatile int *p = map_shared(fd, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	p[0] = 1; /* present and dirty before fork */
	pid_t pid = t_fork();
	if (pid == 0) {
		/* The inherited mapping, a page faulted before and one after fork. */
		CHECK_EQ(p[0], 1);
		p[0] = 2;
		p[PAGE / sizeof(int)] = 3;
		/* A mapping of its own, at another address. */
		volatile int *c = map_shared(fd, PAGE, PROT_READ | PROT_WRITE, 0);
		c[1] = 4;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 2);
	CHECK_EQ(p[PAGE / sizeof(int)], 3);
	CHECK_EQ(p[1], 4);
	int v = 0;
	CHECK_RET(pread(fd, &v, sizeof(v), (off_t)PAGE), (ssize_t)sizeof(v));
	CHECK_EQ(v, 3);
	CHECK_RET(munmap((void *)p, 2 * PAGE), 0);
	close(fd);
}

TEST(shared_between_processes)
{
	/* Two processes that map the file on their own share its pages. */
	int fd = make_file("procs", PAGE, 6, O_RDWR);
	close(fd);
	int go[2], done[2];
	CHECK_RET(pipe(go), 0);
	CHECK_RET(pipe(done), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		int cfd = (int)CHECK_OK(open(disk_path("procs"), O_RDWR));
		volatile char *c = map_shared(cfd, PAGE, PROT_READ | PROT_WRITE, 0);
		char x;
		CHECK_RET(read(go[0], &x, 1), 1);
		/* The parent's store is visible here, and ours there. */
		CHECK_EQ(c[20], 'P');
		c[21] = 'C';
		CHECK_RET(write(done[1], "", 1), 1);
		_exit(0);
	}
	int pfd = (int)CHECK_OK(open(disk_path("procs"), O_RDWR));
	volatile char *p = map_shared(pfd, PAGE, PROT_READ | PROT_WRITE, 0);
	p[20] = 'P';
	CHECK_RET(write(go[1], "", 1), 1);
	char x;
	CHECK_RET(read(done[0], &x, 1), 1);
	CHECK_EQ(p[21], 'C');
	t_wait_exit(pid, 0);
	CHECK_RET(munmap((void *)p, PAGE), 0);
	close(pfd);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

TEST(syscall_writes_into_mapping)
{
	/* read(2) into a shared mapping stores through it from the kernel. */
	int src[2];
	CHECK_RET(pipe(src), 0);
	int fd = make_file("kernelstore", PAGE, 7, O_RDWR);
	char *p = map_shared(fd, PAGE, PROT_READ | PROT_WRITE, 0);
	CHECK_RET(write(src[1], "from-pipe", 9), 9);
	CHECK_RET(read(src[0], p + 300, 9), 9);
	char buf[10] = { 0 };
	CHECK_RET(pread(fd, buf, 9, 300), 9);
	CHECK_STREQ(buf, "from-pipe");
	CHECK_RET(munmap(p, PAGE), 0);
	close(fd);
	close(src[0]);
	close(src[1]);
}

TEST(msync_writes_back)
{
	int fd = make_file("msync", 2 * PAGE, 8, O_RDWR);
	char *p = map_shared(fd, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	memcpy(p + 5, "sync", 4);
	CHECK_RET(msync(p, 2 * PAGE, MS_SYNC), 0);
	/* A store after writeback must be tracked again. */
	memcpy(p + 5, "SYNC", 4);
	memcpy(p + PAGE, "async", 5);
	CHECK_RET(msync(p + PAGE, PAGE, MS_ASYNC), 0);
	CHECK_RET(msync(p, 2 * PAGE, MS_SYNC | MS_INVALIDATE), 0);
	CHECK_RET(fsync(fd), 0);
	char buf[8] = { 0 };
	CHECK_RET(pread(fd, buf, 4, 5), 4);
	CHECK_STREQ(buf, "SYNC");
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

TEST(msync_errors)
{
	int fd = make_file("msyncerr", PAGE, 9, O_RDWR);
	char *p = map_shared(fd, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	CHECK_ERR(msync(p + 1, PAGE, MS_SYNC), EINVAL);
	CHECK_ERR(msync(p, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK_ERR(msync(p, PAGE, 0x80), EINVAL);
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	/* Part of the range is no longer mapped. */
	CHECK_ERR(msync(p, 2 * PAGE, MS_SYNC), ENOMEM);
	CHECK_RET(msync(p, PAGE, MS_SYNC), 0);
	CHECK_RET(munmap(p, PAGE), 0);
	close(fd);
}

TEST(remap_sees_stored_data)
{
	int fd = make_file("remap", 2 * PAGE, 10, O_RDWR);
	char *p = map_shared(fd, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	memcpy(p + PAGE + 40, "kept", 4);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
	/* No msync: the stores live in the page cache the next mapping maps. */
	fd = (int)CHECK_OK(open(disk_path("remap"), O_RDONLY));
	char *q = map_shared(fd, 2 * PAGE, PROT_READ, 0);
	CHECK(memcmp(q + PAGE + 40, "kept", 4) == 0);
	CHECK_EQ(q[PAGE + 39], pattern(PAGE + 39, 10));
	char buf[5] = { 0 };
	CHECK_RET(pread(fd, buf, 4, (off_t)PAGE + 40), 4);
	CHECK_STREQ(buf, "kept");
	CHECK_RET(munmap(q, 2 * PAGE), 0);
	close(fd);
}

static sigjmp_buf bus_jmp;
static volatile int bus_signal, bus_code;
static void *volatile bus_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	bus_signal = sig;
	bus_code = si->si_code;
	bus_addr = si->si_addr;
	siglongjmp(bus_jmp, 1);
}

/* Reads *addr; returns the signal it raised (0 if none). */
static int probe_read(volatile char *addr)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	bus_signal = 0;
	bus_code = 0;
	bus_addr = NULL;
	if (sigsetjmp(bus_jmp, 1) == 0) {
		char c = *addr;
		(void)c;
	}
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	return bus_signal;
}

TEST(sigbus_past_end_of_file)
{
	int fd = make_file("eof", PAGE + 100, 11, O_RDWR);
	volatile char *p = map_shared(fd, 3 * PAGE, PROT_READ | PROT_WRITE, 0);
	/* The partial last page maps; past the end it reads as zero. */
	CHECK_EQ(probe_read(p + PAGE + 99), 0);
	CHECK_EQ(p[PAGE + 99], pattern(PAGE + 99, 11));
	CHECK_EQ(p[PAGE + 100], 0);
	CHECK_EQ(p[2 * PAGE - 1], 0);
	/* A page wholly past the end raises SIGBUS. */
	CHECK_EQ(probe_read(p + 2 * PAGE + 8), SIGBUS);
	CHECK_EQ(bus_code, BUS_ADRERR);
	CHECK(bus_addr == (void *)(p + 2 * PAGE + 8));
	/* Growing the file makes the page valid. */
	CHECK_RET(ftruncate(fd, (off_t)(3 * PAGE)), 0);
	CHECK_EQ(probe_read(p + 2 * PAGE + 8), 0);
	CHECK_EQ(p[2 * PAGE + 8], 0);
	CHECK_RET(munmap((void *)p, 3 * PAGE), 0);
	close(fd);
}

TEST(truncate_unmaps_pages_past_end)
{
	int fd = make_file("trunc", 3 * PAGE, 12, O_RDWR);
	volatile char *p = map_shared(fd, 3 * PAGE, PROT_READ | PROT_WRITE, 0);
	/* Every page present (one of them dirty) before the truncate. */
	CHECK_EQ(p[0], pattern(0, 12));
	p[PAGE + 1] = 'd';
	CHECK_EQ(p[2 * PAGE], pattern(2 * PAGE, 12));
	CHECK_RET(ftruncate(fd, 100), 0);
	/* The pages past the new end are gone from the mapping ... */
	CHECK_EQ(probe_read(p + PAGE + 1), SIGBUS);
	CHECK_EQ(bus_code, BUS_ADRERR);
	CHECK_EQ(probe_read(p + 2 * PAGE), SIGBUS);
	/* ... the first stays, its tail past the end zeroed. */
	CHECK_EQ(probe_read(p + 99), 0);
	CHECK_EQ(p[99], pattern(99, 12));
	CHECK_EQ(p[100], 0);
	CHECK_EQ(p[PAGE - 1], 0);
	/* Extending again brings zero-filled pages, not the old data. */
	CHECK_RET(ftruncate(fd, (off_t)(2 * PAGE)), 0);
	CHECK_EQ(probe_read(p + PAGE + 1), 0);
	CHECK_EQ(p[PAGE + 1], 0);
	char c = 1;
	CHECK_RET(pread(fd, &c, 1, (off_t)PAGE + 1), 1);
	CHECK_EQ(c, 0);
	CHECK_RET(munmap((void *)p, 3 * PAGE), 0);
	close(fd);
}

TEST(truncate_seen_by_other_process)
{
	/* A child's mapping loses the truncated pages too. */
	int fd = make_file("trunc2", 2 * PAGE, 13, O_RDWR);
	volatile char *p = map_shared(fd, 2 * PAGE, PROT_READ, 0);
	CHECK_EQ(p[PAGE], pattern(PAGE, 13));
	int go[2], done[2];
	CHECK_RET(pipe(go), 0);
	CHECK_RET(pipe(done), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_EQ(p[PAGE], pattern(PAGE, 13)); /* present in the child */
		CHECK_RET(write(done[1], "", 1), 1);
		char x;
		CHECK_RET(read(go[0], &x, 1), 1);
		CHECK_EQ(probe_read(p + PAGE), SIGBUS);
		_exit(0);
	}
	char x;
	CHECK_RET(read(done[0], &x, 1), 1);
	CHECK_RET(ftruncate(fd, (off_t)PAGE), 0);
	CHECK_RET(write(go[1], "", 1), 1);
	t_wait_exit(pid, 0);
	CHECK_EQ(probe_read(p + PAGE), SIGBUS);
	CHECK_RET(munmap((void *)p, 2 * PAGE), 0);
	close(fd);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

TEST(read_only_descriptor)
{
	int rw = make_file("ro", PAGE, 14, O_RDWR);
	int fd = (int)CHECK_OK(open(disk_path("ro"), O_RDONLY));
	/* PROT_WRITE on a MAP_SHARED mapping needs a descriptor open for writing. */
	CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	/* A read-only shared mapping may never become writable ... */
	char *p = map_shared(fd, PAGE, PROT_READ, 0);
	CHECK_EQ(p[3], pattern(3, 14));
	CHECK_ERR(mprotect(p, PAGE, PROT_READ | PROT_WRITE), EACCES);
	/* ... even after the descriptor is gone. */
	close(fd);
	CHECK_ERR(mprotect(p, PAGE, PROT_WRITE), EACCES);
	CHECK_RET(mprotect(p, PAGE, PROT_NONE), 0);
	CHECK_RET(mprotect(p, PAGE, PROT_READ), 0);
	CHECK_EQ(p[3], pattern(3, 14));
	/* It still follows the file. */
	CHECK_RET(pwrite(rw, "Z", 1, 3), 1);
	CHECK_EQ(p[3], 'Z');
	CHECK_RET(munmap(p, PAGE), 0);
	close(rw);
}

TEST(write_only_descriptor)
{
	/* mmap(2): EACCES when the file is not open for reading. */
	int fd = make_file("wo", PAGE, 15, O_WRONLY);
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	close(fd);
}

TEST(mprotect_write_then_store)
{
	/* A mapping made writable later tracks its stores as well. */
	int fd = make_file("mprot", PAGE, 16, O_RDWR);
	char *p = map_shared(fd, PAGE, PROT_READ, 0);
	CHECK_EQ(p[0], pattern(0, 16));
	CHECK_RET(mprotect(p, PAGE, PROT_READ | PROT_WRITE), 0);
	p[1] = 'w';
	char c = 0;
	CHECK_RET(pread(fd, &c, 1, 1), 1);
	CHECK_EQ(c, 'w');
	CHECK_RET(msync(p, PAGE, MS_SYNC), 0);
	CHECK_RET(munmap(p, PAGE), 0);
	close(fd);
}

TEST(private_mapping_is_a_copy)
{
	int fd = make_file("private", PAGE, 17, O_RDWR);
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[2], pattern(2, 17));
	p[2] = 'p';
	char c = 0;
	CHECK_RET(pread(fd, &c, 1, 2), 1);
	CHECK_EQ(c, pattern(2, 17));
	/* A shared mapping of the same file does not see the private store. */
	char *s = map_shared(fd, PAGE, PROT_READ, 0);
	CHECK_EQ(s[2], pattern(2, 17));
	CHECK_RET(munmap(s, PAGE), 0);
	CHECK_RET(munmap(p, PAGE), 0);
	close(fd);
}

TEST(large_file_every_page)
{
	/* More pages than a small page cache holds at once, all dirtied. */
	const size_t pages = 768;
	int fd = make_file("large", 0, 19, O_RDWR);
	CHECK_RET(ftruncate(fd, (off_t)(pages * PAGE)), 0);
	char *p = map_shared(fd, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE + 1] = (char)(i * 3 + 1);
	for (size_t i = 0; i < pages; i++) {
		char c = 0;
		CHECK_RET(pread(fd, &c, 1, (off_t)(i * PAGE + 1)), 1);
		CHECK_MSG(c == (char)(i * 3 + 1), "page %zu: read %d", i, c);
		CHECK_MSG(p[i * PAGE + 1] == (char)(i * 3 + 1), "page %zu: mapped %d",
			  i, p[i * PAGE + 1]);
	}
	CHECK_RET(msync(p, pages * PAGE, MS_SYNC), 0);
	CHECK_RET(munmap(p, pages * PAGE), 0);
	close(fd);
}

TEST(unlinked_file_stays_mapped)
{
	int fd = make_file("unlinked", PAGE, 18, O_RDWR);
	char *p = map_shared(fd, PAGE, PROT_READ | PROT_WRITE, 0);
	CHECK_RET(unlink(disk_path("unlinked")), 0);
	close(fd);
	p[7] = 'u';
	CHECK_EQ(p[7], 'u');
	CHECK_EQ(p[8], pattern(8, 18));
	CHECK_RET(munmap(p, PAGE), 0);
}

