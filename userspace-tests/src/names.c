/*
 * Name operations: renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE,
 * RENAME_WHITEOUT), rename's replacement rules, linkat (AT_SYMLINK_FOLLOW,
 * AT_EMPTY_PATH), symlinks (readlink, ELOOP), mkdir/rmdir/unlink errors and
 * sticky directories.  Everything happens in the scratch directory.
 */
#include "test.h"

#include <grp.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/statfs.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif

static long raw_renameat2(int olddir, const char *old, int newdir,
			  const char *new, unsigned flags)
{
	return syscall(SYS_renameat2, olddir, old, newdir, new, flags);
}

/* The first bytes of a file, as a string. */
static const char *contents(const char *path)
{
	static char buf[64];
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	ssize_t n = CHECK_OK(read(fd, buf, sizeof(buf) - 1));
	buf[n] = '\0';
	close(fd);
	return buf;
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	CHECK_RET(lstat(path, &st), 0);
	return st.st_ino;
}

static void drop_to_nobody(void)
{
	CHECK_RET(setgroups(0, NULL), 0);
	CHECK_RET(setgid(65534), 0);
	CHECK_RET(setuid(65534), 0);
}

TEST(rename_replaces)
{
	t_make_file("a", "A", 0644);
	t_make_file("b", "B", 0644);
	ino_t a = ino_of(t_path("a"));
	CHECK_RET(rename(t_path("a"), t_path("b")), 0);
	CHECK_ERR(access(t_path("a"), F_OK), ENOENT);
	CHECK_STREQ(contents(t_path("b")), "A");
	CHECK_EQ(ino_of(t_path("b")), a);
	/* Two names of one file: nothing happens, both stay. */
	CHECK_RET(link(t_path("b"), t_path("b2")), 0);
	CHECK_RET(rename(t_path("b"), t_path("b2")), 0);
	CHECK_RET(access(t_path("b"), F_OK), 0);
	CHECK_RET(access(t_path("b2"), F_OK), 0);
}

TEST(rename_type_rules)
{
	t_make_file("f", "F", 0644);
	CHECK_RET(mkdir(t_path("d"), 0755), 0);
	CHECK_RET(mkdir(t_path("full"), 0755), 0);
	t_make_file("full/x", "x", 0644);
	CHECK_RET(mkdir(t_path("empty"), 0755), 0);
	CHECK_ERR(rename(t_path("f"), t_path("d")), EISDIR);
	CHECK_ERR(rename(t_path("d"), t_path("f")), ENOTDIR);
	CHECK_ERR(rename(t_path("d"), t_path("full")), ENOTEMPTY);
	/* A directory into itself. */
	CHECK_ERR(rename(t_path("d"), t_path("d/sub")), EINVAL);
	CHECK_ERR(rename(t_path("missing"), t_path("z")), ENOENT);
	CHECK_ERR(rename(t_path("f"), t_path("missing/z")), ENOENT);
	CHECK_ERR(rename(t_path("f/x"), t_path("z")), ENOTDIR);
	/* An empty directory is replaced by a directory. */
	CHECK_RET(rename(t_path("d"), t_path("empty")), 0);
	CHECK_ERR(access(t_path("d"), F_OK), ENOENT);
	CHECK_RET(access(t_path("empty"), F_OK), 0);
}

TEST(renameat2_flags)
{
	t_make_file("p", "P", 0644);
	t_make_file("q", "Q", 0644);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("p"), AT_FDCWD, t_path("q"),
				8),
		  EINVAL);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("p"), AT_FDCWD, t_path("q"),
				RENAME_EXCHANGE | RENAME_NOREPLACE),
		  EINVAL);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("p"), AT_FDCWD, t_path("q"),
				RENAME_EXCHANGE | RENAME_WHITEOUT),
		  EINVAL);
	/* Nothing moved. */
	CHECK_STREQ(contents(t_path("p")), "P");
	CHECK_STREQ(contents(t_path("q")), "Q");
}

TEST(renameat2_noreplace)
{
	t_make_file("n1", "1", 0644);
	t_make_file("n2", "2", 0644);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("n1"), AT_FDCWD, t_path("n2"),
				RENAME_NOREPLACE),
		  EEXIST);
	CHECK_STREQ(contents(t_path("n2")), "2");
	CHECK_RET(raw_renameat2(AT_FDCWD, t_path("n1"), AT_FDCWD, t_path("n3"),
				RENAME_NOREPLACE),
		  0);
	CHECK_STREQ(contents(t_path("n3")), "1");
	CHECK_ERR(access(t_path("n1"), F_OK), ENOENT);
	/* EEXIST even for the same file under two names. */
	CHECK_RET(link(t_path("n3"), t_path("n4")), 0);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("n3"), AT_FDCWD, t_path("n4"),
				RENAME_NOREPLACE),
		  EEXIST);
}

TEST(renameat2_exchange)
{
	t_make_file("x1", "one", 0644);
	t_make_file("x2", "two", 0644);
	CHECK_RET(mkdir(t_path("xd"), 0755), 0);
	t_make_file("xd/inside", "in", 0644);
	ino_t i1 = ino_of(t_path("x1")), i2 = ino_of(t_path("x2"));
	CHECK_RET(raw_renameat2(AT_FDCWD, t_path("x1"), AT_FDCWD, t_path("x2"),
				RENAME_EXCHANGE),
		  0);
	CHECK_STREQ(contents(t_path("x1")), "two");
	CHECK_STREQ(contents(t_path("x2")), "one");
	CHECK_EQ(ino_of(t_path("x1")), i2);
	CHECK_EQ(ino_of(t_path("x2")), i1);
	/* A file and a (non-empty) directory swap too. */
	CHECK_RET(raw_renameat2(AT_FDCWD, t_path("x1"), AT_FDCWD, t_path("xd"),
				RENAME_EXCHANGE),
		  0);
	CHECK_STREQ(contents(t_path("xd")), "two");
	CHECK_STREQ(contents(t_path("x1/inside")), "in");
	/* Both names must exist. */
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("x2"), AT_FDCWD,
				t_path("nothing"), RENAME_EXCHANGE),
		  ENOENT);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("nothing"), AT_FDCWD,
				t_path("x2"), RENAME_EXCHANGE),
		  ENOENT);
	/* A directory cannot be swapped into its own subtree. */
	CHECK_RET(mkdir(t_path("x1/deep"), 0755), 0);
	CHECK_ERR(raw_renameat2(AT_FDCWD, t_path("x1"), AT_FDCWD,
				t_path("x1/deep"), RENAME_EXCHANGE),
		  EINVAL);
}

TEST(renameat2_dirfds)
{
	CHECK_RET(mkdir(t_path("da"), 0755), 0);
	CHECK_RET(mkdir(t_path("db"), 0755), 0);
	t_make_file("da/f", "from a", 0644);
	int a = (int)CHECK_OK(open(t_path("da"), O_RDONLY | O_DIRECTORY));
	int b = (int)CHECK_OK(open(t_path("db"), O_RDONLY | O_DIRECTORY));
	CHECK_RET(raw_renameat2(a, "f", b, "g", 0), 0);
	CHECK_STREQ(contents(t_path("db/g")), "from a");
	/* A path through a symlinked directory is walked, not folded. */
	CHECK_RET(symlink(t_path("db"), t_path("link")), 0);
	CHECK_RET(mkdir(t_path("db/inner"), 0755), 0);
	CHECK_RET(raw_renameat2(AT_FDCWD, t_path("link/inner/../g"), a, "back",
				0),
		  0);
	CHECK_STREQ(contents(t_path("da/back")), "from a");
	CHECK_ERR(raw_renameat2(a, "back", 999, "x", 0), EBADF);
	int f = (int)CHECK_OK(open(t_path("da/back"), O_RDONLY));
	CHECK_ERR(raw_renameat2(f, "x", b, "y", 0), ENOTDIR);
	close(f);
	close(a);
	close(b);
}

TEST(renameat2_whiteout)
{
	/* Unprivileged callers may leave whiteouts since Linux 5.8. */
	CHECK_RET(chmod(t_tmpdir(), 0777), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		int fd = (int)CHECK_OK(
			open(t_path("w1"), O_WRONLY | O_CREAT, 0644));
		CHECK_RET(write(fd, "w", 1), 1);
		close(fd);
		CHECK_RET(raw_renameat2(AT_FDCWD, t_path("w1"), AT_FDCWD,
					t_path("w2"), RENAME_WHITEOUT),
			  0);
		CHECK_STREQ(contents(t_path("w2")), "w");
		/* The old name is now a 0:0 character device. */
		struct stat st;
		CHECK_RET(lstat(t_path("w1"), &st), 0);
		CHECK(S_ISCHR(st.st_mode));
		CHECK_EQ(st.st_rdev, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(link_rules)
{
	t_make_file("target", "T", 0644);
	CHECK_RET(link(t_path("target"), t_path("hard")), 0);
	struct stat st;
	CHECK_RET(stat(t_path("target"), &st), 0);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(ino_of(t_path("hard")), st.st_ino);
	CHECK_ERR(link(t_path("target"), t_path("hard")), EEXIST);
	CHECK_ERR(link(t_path("missing"), t_path("h2")), ENOENT);
	CHECK_RET(mkdir(t_path("ldir"), 0755), 0);
	CHECK_ERR(link(t_path("ldir"), t_path("h3")), EPERM);
	CHECK_ERR(linkat(AT_FDCWD, t_path("target"), AT_FDCWD, t_path("h4"),
			 0x8000),
		  EINVAL);
	CHECK_RET(unlink(t_path("hard")), 0);
	CHECK_RET(stat(t_path("target"), &st), 0);
	CHECK_EQ(st.st_nlink, 1);
}

TEST(linkat_symlink_follow)
{
	t_make_file("real", "R", 0644);
	CHECK_RET(symlink(t_path("real"), t_path("sym")), 0);
	/* Without AT_SYMLINK_FOLLOW the new name is another symlink. */
	CHECK_RET(linkat(AT_FDCWD, t_path("sym"), AT_FDCWD, t_path("l_nofollow"),
			 0),
		  0);
	struct stat st;
	CHECK_RET(lstat(t_path("l_nofollow"), &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_ino, ino_of(t_path("sym")));
	/* With it, the new name is the file. */
	CHECK_RET(linkat(AT_FDCWD, t_path("sym"), AT_FDCWD, t_path("l_follow"),
			 AT_SYMLINK_FOLLOW),
		  0);
	CHECK_RET(lstat(t_path("l_follow"), &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_ino, ino_of(t_path("real")));
	/* A dangling symlink links too, but not when followed. */
	CHECK_RET(symlink(t_path("gone"), t_path("dangling")), 0);
	CHECK_RET(linkat(AT_FDCWD, t_path("dangling"), AT_FDCWD,
			 t_path("l_dangling"), 0),
		  0);
	CHECK_ERR(linkat(AT_FDCWD, t_path("dangling"), AT_FDCWD,
			 t_path("l_dangling2"), AT_SYMLINK_FOLLOW),
		  ENOENT);
}

TEST(linkat_empty_path)
{
	t_make_file("byfd", "FD", 0644);
	int fd = (int)CHECK_OK(open(t_path("byfd"), O_RDONLY));
	/* Without AT_EMPTY_PATH an empty name is ENOENT. */
	CHECK_ERR(linkat(fd, "", AT_FDCWD, t_path("e1"), 0), ENOENT);
	CHECK_RET(linkat(fd, "", AT_FDCWD, t_path("e2"), AT_EMPTY_PATH), 0);
	CHECK_EQ(ino_of(t_path("e2")), ino_of(t_path("byfd")));
	CHECK_RET(chmod(t_tmpdir(), 0777), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/*
		 * Unprivileged, with a descriptor root opened: ENOENT (needs
		 * CAP_DAC_READ_SEARCH).  Its own descriptor it may link (Linux
		 * 6.10: the opener's credentials).
		 */
		drop_to_nobody();
		CHECK_ERR(linkat(fd, "", AT_FDCWD, t_path("e3"), AT_EMPTY_PATH),
			  ENOENT);
		int own = (int)CHECK_OK(
			open(t_path("mine"), O_RDWR | O_CREAT, 0600));
		CHECK_RET(linkat(own, "", AT_FDCWD, t_path("e4"), AT_EMPTY_PATH), 0);
		CHECK_EQ(ino_of(t_path("e4")), ino_of(t_path("mine")));
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(symlinks)
{
	char buf[PATH_MAX];
	CHECK_RET(symlink("some/where", t_path("s")), 0);
	CHECK_RET(readlink(t_path("s"), buf, sizeof(buf)), 10);
	/* Truncated silently, no NUL. */
	memset(buf, 'z', sizeof(buf));
	CHECK_RET(readlink(t_path("s"), buf, 4), 4);
	CHECK(memcmp(buf, "somez", 5) == 0);
	CHECK_ERR(readlink(t_path("s"), buf, 0), EINVAL);
	t_make_file("plain", "p", 0644);
	CHECK_ERR(readlink(t_path("plain"), buf, sizeof(buf)), EINVAL);
	CHECK_ERR(symlink("x", t_path("s")), EEXIST);
	CHECK_ERR(symlink("", t_path("s_empty")), ENOENT);
	/* A loop of two links: ELOOP. */
	CHECK_RET(symlink(t_path("loop2"), t_path("loop1")), 0);
	CHECK_RET(symlink(t_path("loop1"), t_path("loop2")), 0);
	CHECK_ERR(open(t_path("loop1"), O_RDONLY), ELOOP);
	/* O_NOFOLLOW on a symlink: ELOOP. */
	CHECK_ERR(open(t_path("s"), O_RDONLY | O_NOFOLLOW), ELOOP);
}

TEST(symlink_chain_limit)
{
	/* 40 links in a chain resolve; the 41st is ELOOP (MAXSYMLINKS). */
	t_make_file("end", "end", 0644);
	char prev[64] = "end", name[64];
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		CHECK_RET(symlink(prev, t_path(name)), 0);
		snprintf(prev, sizeof(prev), "%s", name);
	}
	CHECK_STREQ(contents(t_path("c40")), "end");
	CHECK_ERR(open(t_path("c41"), O_RDONLY), ELOOP);
}

TEST(mkdir_rmdir_unlink_errors)
{
	CHECK_ERR(unlink(""), ENOENT);
	CHECK_ERR(rmdir(""), ENOENT);
	CHECK_ERR(mkdir("", 0755), ENOENT);
	CHECK_RET(mkdir(t_path("m"), 0755), 0);
	CHECK_ERR(mkdir(t_path("m"), 0755), EEXIST);
	CHECK_ERR(mkdir(t_path("nope/m"), 0755), ENOENT);
	t_make_file("mf", "x", 0644);
	CHECK_ERR(mkdir(t_path("mf/sub"), 0755), ENOTDIR);
	CHECK_ERR(rmdir(t_path("mf")), ENOTDIR);
	CHECK_ERR(unlink(t_path("m")), EISDIR);
	CHECK_ERR(unlinkat(AT_FDCWD, t_path("m"), 0x1), EINVAL);
	CHECK_ERR(unlinkat(AT_FDCWD, t_path("mf"), AT_REMOVEDIR), ENOTDIR);
	t_make_file("m/child", "c", 0644);
	CHECK_ERR(rmdir(t_path("m")), ENOTEMPTY);
	CHECK_ERR(rmdir(t_path("m/.")), EINVAL);
	CHECK_RET(unlink(t_path("m/child")), 0);
	CHECK_RET(unlinkat(AT_FDCWD, t_path("m"), AT_REMOVEDIR), 0);
	CHECK_ERR(rmdir(t_path("m")), ENOENT);
	/* The mode is masked by the umask. */
	mode_t old = umask(022);
	CHECK_RET(mkdir(t_path("masked"), 0777), 0);
	umask(old);
	struct stat st;
	CHECK_RET(stat(t_path("masked"), &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0755);
}

TEST(sticky_directory)
{
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	CHECK_RET(mkdir(t_path("sticky"), 0777), 0);
	CHECK_RET(chmod(t_path("sticky"), 01777), 0);
	t_make_file("sticky/roots", "r", 0666);
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		/* Another user's file: no unlink, no rename away. */
		CHECK_ERR(unlink(t_path("sticky/roots")), EPERM);
		CHECK_ERR(rename(t_path("sticky/roots"), t_path("sticky/mine")),
			  EPERM);
		/* Its own files: fine. */
		int fd = (int)CHECK_OK(open(t_path("sticky/own"),
					    O_WRONLY | O_CREAT, 0644));
		close(fd);
		CHECK_RET(rename(t_path("sticky/own"), t_path("sticky/own2")),
			  0);
		CHECK_RET(unlink(t_path("sticky/own2")), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* Root may. */
	CHECK_RET(unlink(t_path("sticky/roots")), 0);
}

/* A fresh directory `tag` in the disk scratch directory. */
static const char *disk_dir(const char *tag)
{
	static char dir[320];
	snprintf(dir, sizeof(dir), "%s/%s", t_disk_dir(), tag);
	CHECK_RET(mkdir(dir, 0700), 0);
	return dir;
}

/* Creates `dir`/`name` holding `data`; returns its path (static, 3 in turn). */
static const char *disk_file(const char *dir, const char *name, const char *data)
{
	static char bufs[3][300];
	static int next;
	char *p = bufs[next++ % 3];
	snprintf(p, sizeof(bufs[0]), "%s/%s", dir, name);
	if (data) {
		int fd = (int)CHECK_OK(open(p, O_WRONLY | O_CREAT, 0644));
		CHECK_RET(write(fd, data, strlen(data)), (ssize_t)strlen(data));
		close(fd);
	}
	return p;
}

TEST(renameat2_on_disk)
{
	const char *dir = disk_dir("flags");
	const char *a = disk_file(dir, "a", "A");
	const char *b = disk_file(dir, "b", "B");
	const char *c = disk_file(dir, "c", NULL);
	CHECK_ERR(raw_renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE),
		  EEXIST);
	CHECK_RET(raw_renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE), 0);
	CHECK_STREQ(contents(a), "B");
	CHECK_STREQ(contents(b), "A");
	CHECK_RET(raw_renameat2(AT_FDCWD, a, AT_FDCWD, c, RENAME_NOREPLACE), 0);
	CHECK_STREQ(contents(c), "B");
	CHECK_ERR(access(a, F_OK), ENOENT);
	CHECK_RET(unlink(b), 0);
	CHECK_RET(unlink(c), 0);
	CHECK_RET(rmdir(dir), 0);
}

TEST(renameat2_whiteout_on_disk)
{
	const char *dir = disk_dir("whiteout");
	const char *a = disk_file(dir, "a", "A");
	const char *b = disk_file(dir, "b", NULL);
	CHECK_RET(raw_renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_WHITEOUT), 0);
	struct stat st;
	CHECK_RET(lstat(a, &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_rdev, 0);
	CHECK_RET(unlink(a), 0);
	CHECK_RET(unlink(b), 0);
	CHECK_RET(rmdir(dir), 0);
}
