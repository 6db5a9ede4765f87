/*
 * The shared-mapping registry as user space sees it: Starling lists, in
 * /proc/PID/fdinfo/N of a shared memory file, one line per VMA that maps
 * the file: "mapping:\t<pid>\t<start>-<end>\t<perms>\tmaywrite=<0|1>".
 * The lines must follow mmap, partial munmap, mprotect, mremap, fork and
 * exit exactly. Linux has no such lines: skipped there.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/utsname.h>

#define PAGE 4096UL

struct line {
	int pid;
	unsigned long start, end;
	char perms[5];
	int maywrite;
};

/* Reads the mapping lines of fdinfo of `fd`; returns how many. */
static int holders(int fd, struct line *out, int max)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int f = (int)CHECK_OK(open(path, O_RDONLY));
	long n = CHECK_OK(read(f, buf, sizeof(buf) - 1));
	close(f);
	buf[n] = 0;
	int count = 0;
	for (char *l = strstr(buf, "mapping:"); l; l = strstr(l + 1, "mapping:")) {
		CHECK(count < max);
		struct line *h = &out[count++];
		CHECK_EQ(sscanf(l, "mapping:\t%d\t%lx-%lx\t%4s\tmaywrite=%d", &h->pid,
				&h->start, &h->end, h->perms, &h->maywrite),
			 5);
	}
	return count;
}

/* The line for the mapping that starts at `start` (the test fails if
 * there is none). */
static struct line *at(struct line *l, int n, void *start)
{
	for (int i = 0; i < n; i++)
		if (l[i].start == (unsigned long)start)
			return &l[i];
	t_fail("no mapping line starts at %p", start);
	return &l[0];
}

static int shm_file(const char *tag, size_t pages)
{
	char path[96];
	snprintf(path, sizeof(path), "/dev/shm/mm_registry.%d.%s", getpid(), tag);
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_RET(unlink(path), 0);
	CHECK_RET(ftruncate(fd, (off_t)(pages * PAGE)), 0);
	return fd;
}

#define NEED_STARLING()                                                        \
	do {                                                                   \
		if (!on_starling())                                            \
			t_skip("fdinfo mapping lines are Starling's");        \
	} while (0)

TEST(mmap_munmap_and_split)
{
	NEED_STARLING();
	struct line l[8];
	int fd = shm_file("split", 4);
	CHECK_EQ(holders(fd, l, 8), 0);
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(holders(fd, l, 8), 1);
	CHECK_EQ(l[0].pid, getpid());
	CHECK_EQ(l[0].start, (unsigned long)p);
	CHECK_EQ(l[0].end, (unsigned long)(p + 4 * PAGE));
	CHECK_STREQ(l[0].perms, "rw-s");
	CHECK_EQ(l[0].maywrite, 1);
	/* Unmapping the second page splits the VMA: two records. */
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	int n = holders(fd, l, 8);
	CHECK_EQ(n, 2);
	CHECK_EQ(at(l, n, p)->end, (unsigned long)(p + PAGE));
	CHECK_EQ(at(l, n, p + 2 * PAGE)->end, (unsigned long)(p + 4 * PAGE));
	/* mprotect of one page of the upper part: three, one read-only. */
	CHECK_RET(mprotect(p + 3 * PAGE, PAGE, PROT_READ), 0);
	n = holders(fd, l, 8);
	CHECK_EQ(n, 3);
	CHECK_STREQ(at(l, n, p + 3 * PAGE)->perms, "r--s");
	CHECK_EQ(at(l, n, p + 3 * PAGE)->maywrite, 1);
	/* Back to read-write: the pieces merge again. */
	CHECK_RET(mprotect(p + 3 * PAGE, PAGE, PROT_READ | PROT_WRITE), 0);
	CHECK_EQ(holders(fd, l, 8), 2);
	CHECK_RET(munmap(p, 4 * PAGE), 0);
	CHECK_EQ(holders(fd, l, 8), 0);
	close(fd);
}

TEST(may_write_follows_the_descriptor)
{
	NEED_STARLING();
	struct line l[8];
	int fd = shm_file("maywrite", 1);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = (int)CHECK_OK(open(path, O_RDONLY));
	/* PROT_READ of an O_RDWR descriptor may still write (VM_MAYWRITE). */
	char *a = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	char *c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED && c != MAP_FAILED);
	int n = holders(fd, l, 8);
	CHECK_EQ(n, 3);
	CHECK_EQ(at(l, n, a)->maywrite, 1);
	CHECK_STREQ(at(l, n, a)->perms, "r--s");
	CHECK_EQ(at(l, n, b)->maywrite, 0);
	CHECK_STREQ(at(l, n, c)->perms, "rw-p");
	CHECK_EQ(at(l, n, c)->maywrite, 0);
	munmap(a, PAGE);
	munmap(b, PAGE);
	munmap(c, PAGE);
	CHECK_EQ(holders(fd, l, 8), 0);
	close(ro);
	close(fd);
}

TEST(mremap_moves_the_record)
{
	NEED_STARLING();
	struct line l[8];
	int fd = shm_file("mremap", 4);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	char *dst = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q = mremap(p, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(q == dst);
	CHECK_EQ(holders(fd, l, 8), 1);
	CHECK_EQ(l[0].start, (unsigned long)q);
	CHECK_EQ(l[0].end, (unsigned long)(q + 4 * PAGE));
	/* A zero old size makes a second mapping of the same pages. */
	char *dup = mremap(q, 0, PAGE, MREMAP_MAYMOVE);
	CHECK(dup != MAP_FAILED);
	CHECK_EQ(holders(fd, l, 8), 2);
	munmap(dup, PAGE);
	munmap(q, 4 * PAGE);
	CHECK_EQ(holders(fd, l, 8), 0);
	close(fd);
}

TEST(fork_and_exit)
{
	NEED_STARLING();
	struct line l[8];
	int fd = shm_file("fork", 1);
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	int go[2], ready[2];
	CHECK_RET(pipe(go), 0);
	CHECK_RET(pipe(ready), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	/* The child's copy is registered as the child's. */
	int n = holders(fd, l, 8);
	CHECK_EQ(n, 2);
	int mine = 0, child = 0;
	for (int i = 0; i < n; i++) {
		CHECK_EQ(l[i].start, (unsigned long)p);
		mine += l[i].pid == getpid();
		child += l[i].pid == pid;
	}
	CHECK_EQ(mine, 1);
	CHECK_EQ(child, 1);
	CHECK_RET(write(go[1], "g", 1), 1);
	t_wait_exit(pid, 0);
	/* The exited child's record is gone. */
	CHECK_EQ(holders(fd, l, 8), 1);
	CHECK_EQ(l[0].pid, getpid());
	munmap(p, PAGE);
	close(fd);
}
