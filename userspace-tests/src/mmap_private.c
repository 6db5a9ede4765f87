/*
 * MAP_PRIVATE file mappings, on tmpfs ($TMPDIR) and on the disk file
 * system: pages come from the file until the mapping writes them (a later
 * write(2) shows through an untouched page, as on Linux), a store copies the
 * page (the file and other mappings never see it), SIGBUS for a page wholly
 * past the end of the file, copy-on-write across fork, mprotect, and
 * truncation (pages past the new end, copies included, raise SIGBUS).
 * Also MAP_SHARED tmpfs mappings across truncate and hole punching.
 */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096UL

static sigjmp_buf fault_jmp;
static volatile int fault_signal;

static void on_fault(int sig)
{
	fault_signal = sig;
	siglongjmp(fault_jmp, 1);
}

/* Reads *addr; returns the signal it raised (0 if none). */
static int probe(volatile char *addr)
{
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	fault_signal = 0;
	if (sigsetjmp(fault_jmp, 1) == 0) {
		char c = *addr;
		(void)c;
	}
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	return fault_signal;
}

/* A file of `pages` pages of `fill` in the directory of `where`. */
static int make(int disk, const char *name, size_t size, char fill)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/%s", disk ? t_disk_dir() : t_tmpdir(),
		 name);
	unlink(path);
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_RET(unlink(path), 0);
	char buf[PAGE];
	memset(buf, fill, sizeof(buf));
	for (size_t done = 0; done < size;) {
		size_t n = size - done < PAGE ? size - done : PAGE;
		CHECK_RET(pwrite(fd, buf, n, (off_t)done), (long)n);
		done += n;
	}
	return fd;
}

static char *map_private(int fd, size_t len, int prot)
{
	char *p = mmap(NULL, len, prot, MAP_PRIVATE, fd, 0);
	CHECK_MSG(p != MAP_FAILED, "mmap: %s", t_errname(errno));
	return p;
}

static char file_byte(int fd, off_t at)
{
	char c = 0;
	CHECK_RET(pread(fd, &c, 1, at), 1);
	return c;
}

static void pages_follow_file_until_written(int disk)
{
	int fd = make(disk, "follow", 2 * PAGE, 'a');
	char *p = map_private(fd, 2 * PAGE, PROT_READ | PROT_WRITE);
	CHECK_EQ(p[0], 'a');
	CHECK_EQ(p[PAGE], 'a');
	/* An untouched page shows a later write(2). */
	CHECK_RET(pwrite(fd, "b", 1, 0), 1);
	CHECK_EQ(p[0], 'b');
	/* A store copies the page: the file keeps its byte. */
	p[1] = 'X';
	CHECK_EQ(file_byte(fd, 1), 'a');
	CHECK_EQ(p[0], 'b');
	/* The copy no longer follows the file; the other page still does. */
	CHECK_RET(pwrite(fd, "cc", 2, 0), 2);
	CHECK_EQ(p[0], 'b');
	CHECK_EQ(p[1], 'X');
	CHECK_RET(pwrite(fd, "d", 1, (off_t)PAGE), 1);
	CHECK_EQ(p[PAGE], 'd');
	/* Another private mapping sees the file, not the copy. */
	char *q = map_private(fd, PAGE, PROT_READ);
	CHECK_EQ(q[1], 'c');
	CHECK_RET(munmap(q, PAGE), 0);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

TEST(tmpfs_pages_follow_file_until_written)
{
	pages_follow_file_until_written(0);
}

TEST(disk_pages_follow_file_until_written)
{
	pages_follow_file_until_written(1);
}

static void sigbus_past_end(int disk)
{
	int fd = make(disk, "eof", PAGE + 100, 'e');
	volatile char *p = map_private(fd, 3 * PAGE, PROT_READ | PROT_WRITE);
	CHECK_EQ(p[PAGE + 99], 'e');
	/* The rest of the last page reads zero and takes stores. */
	CHECK_EQ(p[PAGE + 100], 0);
	p[2 * PAGE - 1] = 'z';
	CHECK_EQ(p[2 * PAGE - 1], 'z');
	CHECK_EQ(probe(p + 2 * PAGE + 5), SIGBUS);
	CHECK_RET(munmap((void *)p, 3 * PAGE), 0);
	close(fd);
}

TEST(tmpfs_sigbus_past_end)
{
	sigbus_past_end(0);
}

TEST(disk_sigbus_past_end)
{
	sigbus_past_end(1);
}

static void copy_on_write_across_fork(int disk)
{
	int fd = make(disk, "fork", 2 * PAGE, 'f');
	char *p = map_private(fd, 2 * PAGE, PROT_READ | PROT_WRITE);
	p[0] = 'P'; /* the parent's copy of page 0 */
	(void)p[PAGE]; /* page 1 is the file's */
	pid_t pid = t_fork();
	if (pid == 0) {
		if (p[0] != 'P' || p[PAGE] != 'f')
			_exit(1);
		p[0] = 'C';
		p[PAGE] = 'C';
		_exit(p[0] == 'C' && p[PAGE] == 'C' ? 0 : 2);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[0], 'P');
	CHECK_EQ(p[PAGE], 'f');
	CHECK_EQ(file_byte(fd, 0), 'f');
	CHECK_EQ(file_byte(fd, (off_t)PAGE), 'f');
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

TEST(tmpfs_copy_on_write_across_fork)
{
	copy_on_write_across_fork(0);
}

TEST(disk_copy_on_write_across_fork)
{
	copy_on_write_across_fork(1);
}

TEST(read_only_descriptor_may_write_privately)
{
	int fd = make(0, "rdonly", PAGE, 'r');
	char path[320];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = (int)CHECK_OK(open(path, O_RDONLY));
	char *p = map_private(ro, PAGE, PROT_READ);
	CHECK_EQ(p[0], 'r');
	/* mprotect may add write to a private mapping of any readable fd. */
	CHECK_RET(mprotect(p, PAGE, PROT_READ | PROT_WRITE), 0);
	p[0] = 'w';
	CHECK_EQ(file_byte(fd, 0), 'r');
	CHECK_RET(munmap(p, PAGE), 0);
	char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	CHECK(q != MAP_FAILED);
	q[1] = 'w';
	CHECK_EQ(file_byte(fd, 1), 'r');
	CHECK_RET(munmap(q, PAGE), 0);
	close(ro);
	close(fd);
}

static void truncate_discards_pages(int disk)
{
	int fd = make(disk, "trunc", 3 * PAGE, 't');
	volatile char *p = map_private(fd, 3 * PAGE, PROT_READ | PROT_WRITE);
	CHECK_EQ(p[0], 't');
	CHECK_EQ(p[2 * PAGE], 't');
	CHECK_RET(ftruncate(fd, 100), 0);
	/* The file's page past the end is gone from the mapping. */
	CHECK_EQ(probe(p + 2 * PAGE), SIGBUS);
	CHECK_EQ(probe(p + PAGE), SIGBUS);
	CHECK_EQ(p[99], 't');
	CHECK_RET(munmap((void *)p, 3 * PAGE), 0);
	close(fd);
}

TEST(tmpfs_truncate_discards_pages)
{
	truncate_discards_pages(0);
}

TEST(disk_truncate_discards_pages)
{
	truncate_discards_pages(1);
}

TEST(tmpfs_truncate_discards_private_copies)
{
	int fd = make(0, "cows", 2 * PAGE, 'k');
	volatile char *p = map_private(fd, 2 * PAGE, PROT_READ | PROT_WRITE);
	p[PAGE] = 'K'; /* a private copy of page 1 */
	CHECK_RET(ftruncate(fd, (off_t)PAGE), 0);
	CHECK_EQ(probe(p + PAGE), SIGBUS);
	CHECK_EQ(p[0], 'k');
	CHECK_RET(munmap((void *)p, 2 * PAGE), 0);
	close(fd);
}

TEST(tmpfs_shared_truncate_and_punch_hole)
{
	int fd = make(0, "shared", 4 * PAGE, 's');
	volatile char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(p[i * PAGE], 's');
	/* A punched page reads zero through the mapping at once. */
	CHECK_RET(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    (off_t)PAGE, (off_t)PAGE),
		  0);
	CHECK_EQ(p[PAGE], 0);
	CHECK_EQ(p[PAGE + 100], 0);
	p[PAGE] = 'n';
	CHECK_EQ(file_byte(fd, (off_t)PAGE), 'n');
	/* Truncated pages raise SIGBUS; growing again gives zeros. */
	CHECK_RET(ftruncate(fd, (off_t)(2 * PAGE)), 0);
	CHECK_EQ(probe(p + 3 * PAGE), SIGBUS);
	CHECK_EQ(probe(p + 2 * PAGE), SIGBUS);
	CHECK_RET(ftruncate(fd, (off_t)(4 * PAGE)), 0);
	CHECK_EQ(probe(p + 3 * PAGE), 0);
	CHECK_EQ(p[3 * PAGE], 0);
	CHECK_RET(munmap((void *)p, 4 * PAGE), 0);
	close(fd);
}
