/*
 * getdents64(2), through the raw system call (glibc's readdir hides its
 * errors and buffer handling).
 */
#include "test.h"

#include <dirent.h>
#include <stddef.h>

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define MAX_SEEN 128

struct listing {
	int n;
	char names[MAX_SEEN][64];
	unsigned char types[MAX_SEEN];
};

static long raw_getdents64(int fd, void *buf, size_t len)
{
	return syscall(SYS_getdents64, fd, buf, len);
}

/* Reads the whole directory `fd` with a buffer of `bufsize` bytes. */
static void list_dir(int fd, size_t bufsize, struct listing *out)
{
	char buf[4096] __attribute__((aligned(8)));
	CHECK(bufsize <= sizeof(buf));
	out->n = 0;
	for (int calls = 0; calls < 10000; calls++) {
		long n = raw_getdents64(fd, buf, bufsize);
		CHECK_MSG(n >= 0, "getdents64 failed: %s", t_errname(errno));
		if (n == 0)
			return;
		CHECK((size_t)n <= bufsize);
		for (long off = 0; off < n;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
			CHECK_MSG(d->d_reclen >= offsetof(struct dirent64_raw, d_name) + 2 &&
					  off + d->d_reclen <= n,
				  "bad d_reclen %u at offset %ld of %ld",
				  d->d_reclen, off, n);
			CHECK_MSG(d->d_reclen % 8 == 0, "d_reclen %u not 8-aligned",
				  d->d_reclen);
			size_t maxlen = d->d_reclen - offsetof(struct dirent64_raw, d_name);
			CHECK_MSG(memchr(d->d_name, '\0', maxlen) != NULL,
				  "d_name not terminated within its record");
			CHECK(d->d_ino != 0);
			CHECK(out->n < MAX_SEEN);
			snprintf(out->names[out->n], sizeof(out->names[0]), "%s",
				 d->d_name);
			out->types[out->n] = d->d_type;
			out->n++;
			off += d->d_reclen;
		}
	}
	t_fail("getdents64 never reached the end of the directory");
}

static int count(const struct listing *l, const char *name)
{
	int c = 0;
	for (int i = 0; i < l->n; i++)
		c += strcmp(l->names[i], name) == 0;
	return c;
}

static unsigned char type_of(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return l->types[i];
	return 0xff;
}

/* A fresh directory holding regular files f0..f<n-1> and a subdirectory. */
static int make_dir(const char *name, int nfiles)
{
	const char *d = t_path(name);
	CHECK_RET(mkdir(d, 0700), 0);
	char p[400];
	for (int i = 0; i < nfiles; i++) {
		snprintf(p, sizeof(p), "%s/f%d", d, i);
		int fd = (int)CHECK_OK(open(p, O_WRONLY | O_CREAT | O_EXCL, 0600));
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/sub", d);
	CHECK_RET(mkdir(p, 0700), 0);
	return (int)CHECK_OK(open(d, O_RDONLY | O_DIRECTORY));
}

TEST(lists_dot_dotdot_and_files)
{
	int fd = make_dir("small", 3);
	struct listing l;
	list_dir(fd, 4096, &l);
	CHECK_EQ(l.n, 6);
	CHECK_EQ(count(&l, "."), 1);
	CHECK_EQ(count(&l, ".."), 1);
	CHECK_EQ(count(&l, "f0"), 1);
	CHECK_EQ(count(&l, "f1"), 1);
	CHECK_EQ(count(&l, "f2"), 1);
	CHECK_EQ(count(&l, "sub"), 1);
	close(fd);
}

TEST(d_type)
{
	int fd = make_dir("types", 1);
	struct listing l;
	list_dir(fd, 4096, &l);
	/* DT_UNKNOWN is allowed by getdents64(2); a wrong type is not. */
	unsigned char t = type_of(&l, "f0");
	CHECK_MSG(t == DT_REG || t == DT_UNKNOWN, "d_type of a file is %u", t);
	t = type_of(&l, "sub");
	CHECK_MSG(t == DT_DIR || t == DT_UNKNOWN, "d_type of a dir is %u", t);
	t = type_of(&l, ".");
	CHECK_MSG(t == DT_DIR || t == DT_UNKNOWN, "d_type of . is %u", t);
	close(fd);
}

TEST(small_buffer_iterates_all_once)
{
	/* A buffer that holds a couple of entries: the directory offset must
	 * carry on across calls without losing or repeating entries. */
	int fd = make_dir("many", 60);
	struct listing l;
	list_dir(fd, 64, &l);
	CHECK_EQ(l.n, 63);
	char name[16];
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_MSG(count(&l, name) == 1, "%s listed %d times", name,
			  count(&l, name));
	}
	/* At the end, further calls keep returning 0. */
	char buf[256];
	CHECK_RET(raw_getdents64(fd, buf, sizeof(buf)), 0);
	/* Rewinding with lseek starts over. */
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	list_dir(fd, 4096, &l);
	CHECK_EQ(l.n, 63);
	close(fd);
}

TEST(sees_creation_and_removal)
{
	int fd = make_dir("change", 2);
	char p[400];
	snprintf(p, sizeof(p), "%s/new", t_path("change"));
	int f = (int)CHECK_OK(open(p, O_WRONLY | O_CREAT, 0600));
	close(f);
	snprintf(p, sizeof(p), "%s/f0", t_path("change"));
	CHECK_RET(unlink(p), 0);
	struct listing l;
	list_dir(fd, 4096, &l);
	CHECK_EQ(count(&l, "new"), 1);
	CHECK_EQ(count(&l, "f0"), 0);
	CHECK_EQ(count(&l, "f1"), 1);
	close(fd);
}

TEST(einval_buffer_too_small)
{
	int fd = make_dir("tiny", 1);
	char buf[16];
	/* Too small for even one entry. */
	CHECK_ERR(raw_getdents64(fd, buf, 1), EINVAL);
	CHECK_ERR(raw_getdents64(fd, buf, 0), EINVAL);
	/* The failed calls consumed nothing. */
	struct listing l;
	list_dir(fd, 4096, &l);
	CHECK_EQ(l.n, 4);
	close(fd);
}

TEST(errors)
{
	char buf[512];
	CHECK_ERR(raw_getdents64(-1, buf, sizeof(buf)), EBADF);
	int fd = (int)CHECK_OK(open(t_path("plain"), O_RDWR | O_CREAT, 0600));
	CHECK_ERR(raw_getdents64(fd, buf, sizeof(buf)), ENOTDIR);
	close(fd);
	int dfd = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(raw_getdents64(dfd, (void *)1, sizeof(buf)), EFAULT);
	close(dfd);
}
