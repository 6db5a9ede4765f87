/*
 * openat2(2): struct open_how size and flag checking, and the RESOLVE_*
 * walk rules: NO_XDEV, NO_MAGICLINKS, NO_SYMLINKS, BENEATH, IN_ROOT,
 * CACHED; O_CREAT, O_EXCL and O_TMPFILE through it.
 */
#include "test.h"

#include <linux/openat2.h>

static long do_openat2(int dfd, const char *path, void *how, size_t size)
{
	return syscall(SYS_openat2, dfd, path, how, size);
}

static long open2(int dfd, const char *path, unsigned long long flags,
		  unsigned long long mode, unsigned long long resolve)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
	return do_openat2(dfd, path, &how, sizeof(how));
}

static ino_t ino_of_fd(int fd)
{
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	return st.st_ino;
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	CHECK_OK(stat(path, &st));
	return st.st_ino;
}

/*
 * The scratch tree:  sub/file, file, lnk -> file, dlnk -> sub,
 * esc -> ../.., abs -> /sub/file, dot -> .., and a directory fd to it.
 */
static int tree(void)
{
	const char *d = t_tmpdir();
	mkdir(t_path("sub"), 0755);
	t_make_file("sub/file", "in sub", 0644);
	t_make_file("file", "top", 0644);
	unlink(t_path("lnk"));
	CHECK_OK(symlink("file", t_path("lnk")));
	unlink(t_path("dlnk"));
	CHECK_OK(symlink("sub", t_path("dlnk")));
	unlink(t_path("esc"));
	CHECK_OK(symlink("../..", t_path("esc")));
	unlink(t_path("abs"));
	CHECK_OK(symlink("/sub/file", t_path("abs")));
	return CHECK_OK(open(d, O_RDONLY | O_DIRECTORY));
}

TEST(size_rules)
{
	int dfd = tree();
	struct {
		struct open_how how;
		char pad[16];
	} big = { { .flags = O_RDONLY }, { 0 } };
	/* Shorter than the first version: EINVAL. */
	CHECK_ERR(do_openat2(dfd, "file", &big, 0), EINVAL);
	CHECK_ERR(do_openat2(dfd, "file", &big, 23), EINVAL);
	/* Longer with zeros past the known fields: fine. */
	int fd = CHECK_OK(do_openat2(dfd, "file", &big, sizeof(big)));
	close(fd);
	/* ... with a nonzero byte there: E2BIG. */
	big.pad[15] = 1;
	CHECK_ERR(do_openat2(dfd, "file", &big, sizeof(big)), E2BIG);
	/* More than a page: E2BIG before reading. */
	CHECK_ERR(do_openat2(dfd, "file", &big, 4097), E2BIG);
	/* An unreadable structure: EFAULT. */
	CHECK_ERR(do_openat2(dfd, "file", (void *)8, sizeof(struct open_how)), EFAULT);
	close(dfd);
}

TEST(flag_checks)
{
	int dfd = tree();
	/* Unknown flags, unknown resolve bits, BENEATH with IN_ROOT. */
	CHECK_ERR(open2(dfd, "file", 1ULL << 40, 0, 0), EINVAL);
	CHECK_ERR(open2(dfd, "file", O_RDONLY, 0, 0x40), EINVAL);
	CHECK_ERR(open2(dfd, "file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
	/* A mode without O_CREAT or O_TMPFILE; bits outside 07777. */
	CHECK_ERR(open2(dfd, "file", O_RDONLY, 0644, 0), EINVAL);
	CHECK_ERR(open2(dfd, "new", O_RDWR | O_CREAT, 010644, 0), EINVAL);
	/* O_DIRECTORY with O_CREAT; O_PATH with other flags. */
	CHECK_ERR(open2(dfd, "new", O_RDWR | O_CREAT | O_DIRECTORY, 0644, 0), EINVAL);
	CHECK_ERR(open2(dfd, "file", O_PATH | O_RDWR, 0, 0), EINVAL);
	int fd = CHECK_OK(open2(dfd, "file", O_PATH | O_CLOEXEC, 0, 0));
	close(fd);
	CHECK_ERR(access(t_path("new"), F_OK), ENOENT);
	/* Bad descriptors and paths. */
	CHECK_ERR(open2(999, "file", O_RDONLY, 0, 0), EBADF);
	int file = CHECK_OK(open(t_path("file"), O_RDONLY));
	CHECK_ERR(open2(file, "x", O_RDONLY, 0, 0), ENOTDIR);
	close(file);
	CHECK_ERR(open2(dfd, "", O_RDONLY, 0, 0), ENOENT);
	CHECK_ERR(open2(dfd, "missing", O_RDONLY, 0, 0), ENOENT);
	close(dfd);
}

TEST(plain_open_and_create)
{
	int dfd = tree();
	int fd = CHECK_OK(open2(dfd, "sub/file", O_RDONLY, 0, 0));
	char buf[16] = { 0 };
	CHECK_RET(read(fd, buf, sizeof(buf)), 6);
	CHECK(memcmp(buf, "in sub", 6) == 0);
	close(fd);
	unlink(t_path("created"));
	fd = CHECK_OK(open2(dfd, "created", O_RDWR | O_CREAT | O_EXCL, 0600, 0));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	close(fd);
	CHECK_ERR(open2(dfd, "created", O_RDWR | O_CREAT | O_EXCL, 0600, 0), EEXIST);
	/* O_CREAT | O_EXCL does not follow a last symlink. */
	CHECK_ERR(open2(dfd, "lnk", O_RDWR | O_CREAT | O_EXCL, 0600, 0), EEXIST);
	/* A trailing slash names a directory: O_CREAT there is EISDIR. */
	CHECK_ERR(open2(dfd, "newdir/", O_RDWR | O_CREAT, 0600, 0), EISDIR);
	/* O_NOFOLLOW on a symlink: ELOOP, O_PATH opens the link. */
	CHECK_ERR(open2(dfd, "lnk", O_RDONLY | O_NOFOLLOW, 0, 0), ELOOP);
	fd = CHECK_OK(open2(dfd, "lnk", O_PATH | O_NOFOLLOW, 0, 0));
	CHECK_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	CHECK(S_ISLNK(st.st_mode));
	close(fd);
	CHECK_OK(unlink(t_path("created")));
	close(dfd);
}

TEST(no_symlinks)
{
	int dfd = tree();
	CHECK_ERR(open2(dfd, "lnk", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK_ERR(open2(dfd, "dlnk/file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	int fd = CHECK_OK(open2(dfd, "sub/file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
	close(fd);
	/* A last symlink that is not followed is fine. */
	fd = CHECK_OK(open2(dfd, "lnk", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS));
	close(fd);
	/* Magic links are symlinks too. */
	int f = CHECK_OK(open(t_path("file"), O_RDONLY));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
	CHECK_ERR(open2(AT_FDCWD, proc, O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	close(f);
	close(dfd);
}

TEST(no_magiclinks)
{
	int dfd = tree();
	int f = CHECK_OK(open(t_path("file"), O_RDONLY));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
	CHECK_ERR(open2(AT_FDCWD, proc, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	/* Without the flag the link leads to the open file itself. */
	int g = CHECK_OK(open2(AT_FDCWD, proc, O_RDONLY, 0, 0));
	CHECK_EQ(ino_of_fd(g), ino_of_fd(f));
	close(g);
	/* /proc/PID/exe, cwd and root are magic links too. */
	CHECK_ERR(open2(AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	CHECK_ERR(open2(AT_FDCWD, "/proc/self/cwd", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	CHECK_ERR(open2(AT_FDCWD, "/proc/self/root", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	g = CHECK_OK(open2(AT_FDCWD, "/proc/self/cwd", O_RDONLY | O_DIRECTORY, 0, 0));
	close(g);
	/* Ordinary symlinks are allowed. */
	g = CHECK_OK(open2(dfd, "lnk", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS));
	CHECK_EQ(ino_of_fd(g), ino_of_fd(f));
	close(g);
	close(f);
	close(dfd);
}

TEST(beneath)
{
	int dfd = tree();
	int fd = CHECK_OK(open2(dfd, "sub/file", O_RDONLY, 0, RESOLVE_BENEATH));
	close(fd);
	fd = CHECK_OK(open2(dfd, "sub/..", O_RDONLY, 0, RESOLVE_BENEATH));
	CHECK_EQ(ino_of_fd(fd), ino_of_fd(dfd));
	close(fd);
	fd = CHECK_OK(open2(dfd, "dlnk/file", O_RDONLY, 0, RESOLVE_BENEATH));
	close(fd);
	/* Escapes: "..", an absolute path, symlinks that leave. */
	CHECK_ERR(open2(dfd, "..", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open2(dfd, "sub/../..", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open2(dfd, t_path("file"), O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open2(dfd, "esc", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(open2(dfd, "abs", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	int f = CHECK_OK(open(t_path("file"), O_RDONLY));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
	CHECK_ERR(open2(AT_FDCWD, proc, O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	close(f);
	close(dfd);
}

TEST(in_root)
{
	int dfd = tree();
	ino_t want = ino_of(t_path("sub/file"));
	int fd = CHECK_OK(open2(dfd, "/sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT));
	CHECK_EQ(ino_of_fd(fd), want);
	close(fd);
	/* ".." stops at the root. */
	fd = CHECK_OK(open2(dfd, "../../../sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT));
	CHECK_EQ(ino_of_fd(fd), want);
	close(fd);
	fd = CHECK_OK(open2(dfd, "..", O_RDONLY, 0, RESOLVE_IN_ROOT));
	CHECK_EQ(ino_of_fd(fd), ino_of_fd(dfd));
	close(fd);
	/* Absolute symlinks resolve under it; escaping ones stay in. */
	fd = CHECK_OK(open2(dfd, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT));
	CHECK_EQ(ino_of_fd(fd), want);
	close(fd);
	fd = CHECK_OK(open2(dfd, "esc/sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT));
	CHECK_EQ(ino_of_fd(fd), want);
	close(fd);
	/* Magic links cannot be used. */
	int f = CHECK_OK(open(t_path("file"), O_RDONLY));
	int pfd = CHECK_OK(open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
	char name[16];
	snprintf(name, sizeof(name), "%d", f);
	CHECK_ERR(open2(pfd, name, O_RDONLY, 0, RESOLVE_IN_ROOT), EXDEV);
	close(pfd);
	close(f);
	close(dfd);
}

TEST(no_xdev)
{
	/* Into /proc, a mount of its own, and back out with "..". */
	CHECK_ERR(open2(AT_FDCWD, "/proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	int proc = CHECK_OK(open("/proc", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(open2(proc, "..", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	/* Inside one mount, and an absolute path the caller gave, are fine. */
	int fd = CHECK_OK(open2(proc, "self/status", O_RDONLY, 0, RESOLVE_NO_XDEV));
	close(fd);
	fd = CHECK_OK(open2(proc, "/", O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_XDEV));
	CHECK_EQ(ino_of_fd(fd), ino_of("/"));
	close(fd);
	close(proc);
	int dfd = tree();
	fd = CHECK_OK(open2(dfd, "dlnk/file", O_RDONLY, 0, RESOLVE_NO_XDEV));
	close(fd);
	close(dfd);
}

TEST(cached)
{
	int dfd = tree();
	/* Creating, truncating or O_TMPFILE never comes from the cache. */
	CHECK_ERR(open2(dfd, "file", O_RDWR | O_CREAT, 0600, RESOLVE_CACHED), EAGAIN);
	CHECK_ERR(open2(dfd, "file", O_RDWR | O_TRUNC, 0, RESOLVE_CACHED), EAGAIN);
	CHECK_ERR(open2(dfd, ".", O_TMPFILE | O_RDWR, 0600, RESOLVE_CACHED), EAGAIN);
	/* A name just looked up is in the cache. */
	CHECK_OK(access(t_path("sub/file"), F_OK));
	int fd = CHECK_OK(open2(dfd, "sub/file", O_RDONLY, 0, RESOLVE_CACHED));
	close(fd);
	close(dfd);
}

TEST(tmpfile)
{
	int dfd = tree();
	int fd = CHECK_OK(open2(dfd, ".", O_TMPFILE | O_RDWR, 0600, 0));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_nlink, 0);
	close(fd);
	CHECK_ERR(open2(dfd, ".", O_TMPFILE | O_RDONLY, 0600, 0), EINVAL);
	CHECK_ERR(open2(dfd, "file", O_TMPFILE | O_RDWR, 0600, 0), ENOTDIR);
	close(dfd);
}
