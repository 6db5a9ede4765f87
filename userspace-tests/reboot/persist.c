/*
 * Data on the ext4 root survives a clean reboot.
 *
 * Built twice: persist_write (PERSIST_STAGE 1) fills /persist-test
 * on the first boot; persist_check (PERSIST_STAGE 2) checks every byte and
 * attribute on the second boot of the same disk image.  The host tooling
 * (platforms/tools/run-tests, phase <arch>-reboot) boots the image twice and
 * runs e2fsck on it in between.  Some files are fsync'd, others are left to
 * the clean shutdown that follows the exit of the command.
 */
#include "test.h"

#include <sys/sysmacros.h>

#ifndef PERSIST_STAGE
#error "build with -DPERSIST_STAGE=1 (write) or 2 (check)"
TEST(check_timestamp_nanoseconds)
{
	struct stat st;
	CHECK_RET(stat(p("small"), &st), 0);
	CHECK_EQ(st.st_mtim.tv_sec, 1234567890);
	CHECK_EQ(st.st_mtim.tv_nsec, 500000000);
}

#endif

#define ROOT "/persist-test"
#define MANY 300

/* The content of every pattern file: byte i of file `seed`. */
static unsigned char pattern(size_t i, int seed)
{
	return (unsigned char)(i * 7 + (i >> 12) + (size_t)seed * 13);
}

struct pfile {
	const char *name;
	size_t size;
	int seed;
	int fsync; /* fsync'd by the writer; else only the shutdown flushes */
};

static const struct pfile files[] = {
	{ ROOT "/big", 3 * 1024 * 1024 + 123, 1, 1 },
	{ ROOT "/unsynced", 200 * 1024 + 7, 2, 0 },
	{ ROOT "/small", 17, 3, 0 },
	{ ROOT "/tree/a/b/c/deep", 9000, 4, 0 },
	{ ROOT "/empty", 0, 5, 1 },
};

static const char *p(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ & 3];
	snprintf(b, sizeof(bufs[0]), ROOT "/%s", name);
	return b;
}

#if PERSIST_STAGE == 1

/* Writes `size` pattern bytes in uneven chunks. */
static void write_pattern(int fd, size_t size, int seed)
{
	unsigned char buf[5000];
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < sizeof(buf) - (off % 97) ?
				   size - off :
				   sizeof(buf) - (off % 97);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i, seed);
		CHECK_RET(write(fd, buf, n), (ssize_t)n);
		off += n;
	}
}

TEST(write_files)
{
	CHECK_RET(mkdir(ROOT, 0755), 0);
	CHECK_RET(mkdir(p("tree"), 0755), 0);
	CHECK_RET(mkdir(p("tree/a"), 0750), 0);
	CHECK_RET(mkdir(p("tree/a/b"), 0700), 0);
	CHECK_RET(mkdir(p("tree/a/b/c"), 0755), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct pfile *f = &files[i];
		int fd = (int)CHECK_OK(
			open(f->name, O_WRONLY | O_CREAT | O_EXCL, 0644));
		write_pattern(fd, f->size, f->seed);
		if (f->fsync)
			CHECK_RET(fsync(fd), 0);
		CHECK_RET(close(fd), 0);
	}
}

TEST(write_changes)
{
	/* Overwritten in the middle, truncated, appended, with a hole. */
	int fd = (int)CHECK_OK(open(p("patched"), O_RDWR | O_CREAT, 0644));
	write_pattern(fd, 65536, 6);
	CHECK_RET(pwrite(fd, "PATCH", 5, 40000), 5);
	CHECK_RET(close(fd), 0);
	fd = (int)CHECK_OK(open(p("truncated"), O_RDWR | O_CREAT, 0644));
	write_pattern(fd, 100000, 7);
	CHECK_RET(ftruncate(fd, 5000), 0);
	CHECK_RET(close(fd), 0);
	fd = (int)CHECK_OK(open(p("appended"), O_WRONLY | O_CREAT | O_APPEND, 0644));
	CHECK_RET(write(fd, "one,", 4), 4);
	CHECK_RET(write(fd, "two,", 4), 4);
	CHECK_RET(close(fd), 0);
	fd = (int)CHECK_OK(open(p("appended"), O_WRONLY | O_APPEND));
	CHECK_RET(write(fd, "three", 5), 5);
	CHECK_RET(close(fd), 0);
	fd = (int)CHECK_OK(open(p("sparse"), O_WRONLY | O_CREAT, 0644));
	CHECK_RET(write(fd, "head", 4), 4);
	CHECK_RET(pwrite(fd, "tail", 4, 5 * 1024 * 1024), 4);
	CHECK_RET(close(fd), 0);
}

TEST(write_names_and_attributes)
{
	int fd = (int)CHECK_OK(open(p("old"), O_WRONLY | O_CREAT, 0644));
	CHECK_RET(write(fd, "renamed", 7), 7);
	CHECK_RET(close(fd), 0);
	CHECK_RET(rename(p("old"), p("new")), 0);
	fd = (int)CHECK_OK(open(p("gone"), O_WRONLY | O_CREAT, 0644));
	CHECK_RET(close(fd), 0);
	CHECK_RET(unlink(p("gone")), 0);
	CHECK_RET(symlink("big", p("link")), 0);
	CHECK_RET(link(p("big"), p("big.hard")), 0);
	CHECK_RET(mkfifo(p("fifo"), 0620), 0);
	CHECK_RET(chmod(p("fifo"), 0620), 0);
	CHECK_RET(mknod(p("null"), S_IFCHR | 0666, makedev(1, 3)), 0);
	/* chown first: it clears S_ISUID. */
	CHECK_RET(chown(p("small"), 1234, 5678), 0);
	CHECK_RET(chmod(p("small"), 04751), 0);
	struct timespec times[2] = { { 1000000000, 250000000 },
				     { 1234567890, 500000000 } };
	CHECK_RET(utimensat(AT_FDCWD, p("small"), times, 0), 0);
	CHECK_RET(mkdir(p("many"), 0755), 0);
	for (int i = 0; i < MANY; i++) {
		char name[64];
		snprintf(name, sizeof(name), "many/file-with-a-longish-name-%04d", i);
		fd = (int)CHECK_OK(open(p(name), O_WRONLY | O_CREAT, 0644));
		CHECK_RET(write(fd, name, strlen(name)), (ssize_t)strlen(name));
		CHECK_RET(close(fd), 0);
	}
	for (int i = 0; i < MANY; i += 3) {
		char name[64];
		snprintf(name, sizeof(name), "many/file-with-a-longish-name-%04d", i);
		CHECK_RET(unlink(p(name)), 0);
	}
}

#else /* PERSIST_STAGE == 2 */

/* Checks that `path` holds exactly `size` pattern bytes of `seed`. */
static void check_pattern(const char *path, size_t size, int seed)
{
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	struct stat st;
	CHECK_RET(fstat(fd, &st), 0);
	CHECK_MSG((size_t)st.st_size == size, "%s: size %lld, expected %zu",
		  path, (long long)st.st_size, size);
	unsigned char buf[8192];
	size_t off = 0;
	for (;;) {
		ssize_t n = CHECK_OK(read(fd, buf, sizeof(buf)));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			CHECK_MSG(buf[i] == pattern(off + (size_t)i, seed),
				  "%s: byte %zu is %#x, expected %#x", path,
				  off + (size_t)i, buf[i],
				  pattern(off + (size_t)i, seed));
		off += (size_t)n;
	}
	CHECK_EQ(off, size);
	close(fd);
}

static void check_text(const char *path, const char *want)
{
	char buf[256];
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	ssize_t n = CHECK_OK(read(fd, buf, sizeof(buf) - 1));
	buf[n] = '\0';
	close(fd);
	CHECK_STREQ(buf, want);
}

TEST(check_files)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_pattern(files[i].name, files[i].size, files[i].seed);
	struct stat st;
	CHECK_RET(stat(p("tree/a"), &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0750);
	CHECK_RET(stat(p("tree/a/b"), &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0700);
}

TEST(check_changes)
{
	int fd = (int)CHECK_OK(open(p("patched"), O_RDONLY));
	unsigned char buf[65536];
	CHECK_RET(read(fd, buf, sizeof(buf)), 65536);
	close(fd);
	for (size_t i = 0; i < sizeof(buf); i++) {
		unsigned char want = i >= 40000 && i < 40005 ?
					     (unsigned char)"PATCH"[i - 40000] :
					     pattern(i, 6);
		CHECK_MSG(buf[i] == want, "patched: byte %zu is %#x, expected %#x",
			  i, buf[i], want);
	}
	check_pattern(p("truncated"), 5000, 7);
	check_text(p("appended"), "one,two,three");
	struct stat st;
	CHECK_RET(stat(p("sparse"), &st), 0);
	CHECK_EQ(st.st_size, 5 * 1024 * 1024 + 4);
	/* The hole was never written: far fewer blocks than the size. */
	CHECK_MSG(st.st_blocks < 1024, "sparse: %lld blocks", (long long)st.st_blocks);
	fd = (int)CHECK_OK(open(p("sparse"), O_RDONLY));
	char b[4];
	CHECK_RET(pread(fd, b, 4, 0), 4);
	CHECK(memcmp(b, "head", 4) == 0);
	CHECK_RET(pread(fd, b, 4, 1024 * 1024), 4);
	CHECK(memcmp(b, "\0\0\0\0", 4) == 0);
	CHECK_RET(pread(fd, b, 4, 5 * 1024 * 1024), 4);
	CHECK(memcmp(b, "tail", 4) == 0);
	close(fd);
}

TEST(check_names_and_attributes)
{
	check_text(p("new"), "renamed");
	CHECK_ERR(access(p("old"), F_OK), ENOENT);
	CHECK_ERR(access(p("gone"), F_OK), ENOENT);
	char target[64];
	CHECK_RET(readlink(p("link"), target, sizeof(target)), 3);
	CHECK(memcmp(target, "big", 3) == 0);
	struct stat st, st2;
	CHECK_RET(stat(p("big"), &st), 0);
	CHECK_RET(stat(p("big.hard"), &st2), 0);
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_RET(lstat(p("fifo"), &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0620);
	CHECK_RET(lstat(p("null"), &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), 3);
	CHECK_RET(stat(p("small"), &st), 0);
	CHECK_EQ(st.st_mode & 07777, 04751);
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 5678);
	CHECK_EQ(st.st_mtim.tv_sec, 1234567890);
	int present = 0;
	for (int i = 0; i < MANY; i++) {
		char name[64];
		snprintf(name, sizeof(name), "many/file-with-a-longish-name-%04d", i);
		if (i % 3 == 0) {
			CHECK_ERR(access(p(name), F_OK), ENOENT);
		} else {
			check_text(p(name), name);
			present++;
		}
	}
	CHECK_EQ(present, MANY - (MANY + 2) / 3);
}

TEST(check_timestamp_nanoseconds)
{
	struct stat st;
	CHECK_RET(stat(p("small"), &st), 0);
	CHECK_EQ(st.st_mtim.tv_sec, 1234567890);
	CHECK_EQ(st.st_mtim.tv_nsec, 500000000);
}

#endif
