/*
 * fstat(2) and newfstatat(2) through the raw system calls (libc may route
 * fstat through fstatat or statx; the kernel's own calls are tested here).
 * The kernel's struct stat layout is the libc one on both architectures.
 */
#include "test.h"

static long raw_fstat(int fd, struct stat *st)
{
	return syscall(SYS_fstat, fd, st);
}

static long raw_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return syscall(SYS_newfstatat, dirfd, path, st, flags);
}

/* A file of `len` bytes created with `mode` under umask 022. */
static int make(const char *name, mode_t mode, size_t len)
{
	const char *p = t_path(name);
	unlink(p);
	mode_t old = umask(022);
	int fd = (int)CHECK_OK(open(p, O_RDWR | O_CREAT | O_EXCL, mode));
	umask(old);
	char buf[256];
	memset(buf, 'x', sizeof(buf));
	while (len > 0) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		CHECK_RET(write(fd, buf, n), (long)n);
		len -= n;
	}
	return fd;
}

TEST(fstat_regular_file)
{
	int fd = make("reg", 0664, 300);
	struct stat st;
	memset(&st, 0xff, sizeof(st));
	CHECK_RET(raw_fstat(fd, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	/* The umask (022) removed group write from 0664. */
	CHECK_EQ(st.st_mode & 07777, 0644);
	CHECK_EQ(st.st_size, 300);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(st.st_gid, getegid());
	CHECK(st.st_ino != 0);
	CHECK(st.st_blksize > 0);
	close(fd);
}

TEST(fstat_size_follows_writes)
{
	int fd = make("grow", 0600, 0);
	struct stat st;
	CHECK_RET(raw_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 0);
	CHECK_RET(write(fd, "12345", 5), 5);
	CHECK_RET(raw_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 5);
	CHECK_RET(lseek(fd, 4095, SEEK_SET), 4095);
	CHECK_RET(write(fd, "!", 1), 1);
	CHECK_RET(raw_fstat(fd, &st), 0);
	CHECK_EQ(st.st_size, 4096);
	close(fd);
}

TEST(fstatat_path_matches_fstat)
{
	int fd = make("same", 0600, 17);
	struct stat a, b;
	CHECK_RET(raw_fstat(fd, &a), 0);
	CHECK_RET(raw_fstatat(AT_FDCWD, t_path("same"), &b, 0), 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_dev, b.st_dev);
	CHECK_EQ(b.st_size, 17);
	CHECK_EQ(a.st_mode, b.st_mode);
	/* Relative to a directory descriptor. */
	int dfd = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	memset(&b, 0, sizeof(b));
	CHECK_RET(raw_fstatat(dfd, "same", &b, 0), 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	close(dfd);
	close(fd);
}

TEST(fstatat_directory)
{
	struct stat st;
	CHECK_RET(raw_fstatat(AT_FDCWD, t_tmpdir(), &st, 0), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK(st.st_nlink >= 2);
	CHECK_RET(raw_fstatat(AT_FDCWD, "/", &st, 0), 0);
	CHECK(S_ISDIR(st.st_mode));
}

TEST(empty_path)
{
	/* AT_EMPTY_PATH with "" describes dirfd itself (glibc implements
	 * fstat this way); without the flag "" is ENOENT. */
	int fd = make("empty", 0600, 9);
	struct stat a, b;
	CHECK_RET(raw_fstat(fd, &a), 0);
	CHECK_RET(raw_fstatat(fd, "", &b, AT_EMPTY_PATH), 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(b.st_size, 9);
	CHECK_ERR(raw_fstatat(fd, "", &b, 0), ENOENT);
	close(fd);
}

TEST(symlink_nofollow_accepted)
{
	/* On a non-link AT_SYMLINK_NOFOLLOW changes nothing. */
	int fd = make("nofollow", 0600, 3);
	close(fd);
	struct stat st;
	CHECK_RET(raw_fstatat(AT_FDCWD, t_path("nofollow"), &st,
			      AT_SYMLINK_NOFOLLOW), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 3);
}

TEST(symlink_nofollow_on_link)
{
	int fd = make("target", 0600, 1234);
	close(fd);
	const char *link = t_path("link");
	unlink(link);
	CHECK_RET(symlink("target", link), 0);
	struct stat st;
	CHECK_RET(raw_fstatat(AT_FDCWD, link, &st, 0), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 1234);
	CHECK_RET(raw_fstatat(AT_FDCWD, link, &st, AT_SYMLINK_NOFOLLOW), 0);
	CHECK(S_ISLNK(st.st_mode));
	/* A symbolic link's size is the length of its target. */
	CHECK_EQ(st.st_size, strlen("target"));
}

TEST(fstat_pipe_is_fifo)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	struct stat st;
	CHECK_RET(raw_fstat(p[0], &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
	close(p[0]);
	close(p[1]);
}

TEST(errors)
{
	int fd = make("err", 0600, 1);
	struct stat st;
	char p[400];
	CHECK_ERR(raw_fstat(-1, &st), EBADF);
	CHECK_ERR(raw_fstat(fd, NULL), EFAULT);
	CHECK_ERR(raw_fstat(fd, (struct stat *)1), EFAULT);
	CHECK_ERR(raw_fstatat(AT_FDCWD, t_path("missing"), &st, 0), ENOENT);
	snprintf(p, sizeof(p), "%s/x", t_path("err"));
	CHECK_ERR(raw_fstatat(AT_FDCWD, p, &st, 0), ENOTDIR);
	CHECK_ERR(raw_fstatat(AT_FDCWD, (const char *)1, &st, 0), EFAULT);
	CHECK_ERR(raw_fstatat(AT_FDCWD, t_path("err"), (struct stat *)1, 0),
		  EFAULT);
	CHECK_ERR(raw_fstatat(-1, "relative", &st, 0), EBADF);
	CHECK_ERR(raw_fstatat(fd, "relative", &st, 0), ENOTDIR);
	/* Flags outside the documented set are EINVAL. */
	CHECK_ERR(raw_fstatat(AT_FDCWD, t_path("err"), &st, 0x10000000), EINVAL);
	close(fd);
}

static long raw_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx)
{
	return syscall(SYS_statx, dirfd, path, flags, mask, stx);
}

TEST(statx_matches_fstat)
{
	int fd = make("sx", 0640, 1234);
	struct stat st;
	CHECK_RET(raw_fstat(fd, &st), 0);
	struct statx stx;
	memset(&stx, 0xa5, sizeof(stx));
	CHECK_RET(raw_statx(AT_FDCWD, t_path("sx"), 0, STATX_BASIC_STATS, &stx), 0);
	CHECK_EQ(stx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
	CHECK_EQ(stx.stx_mode, st.st_mode);
	CHECK_EQ(stx.stx_size, 1234);
	CHECK_EQ(stx.stx_ino, st.st_ino);
	CHECK_EQ(stx.stx_nlink, 1);
	CHECK_EQ(stx.stx_uid, st.st_uid);
	CHECK_EQ(stx.stx_blksize, st.st_blksize);
	CHECK_EQ(stx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	/* AT_EMPTY_PATH on the descriptor gives the same. */
	struct statx by_fd;
	CHECK_RET(raw_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &by_fd), 0);
	CHECK_EQ(by_fd.stx_ino, stx.stx_ino);
	/* Sync modes alone are fine. */
	CHECK_RET(raw_statx(AT_FDCWD, t_path("sx"), AT_STATX_FORCE_SYNC, 0, &stx), 0);
	CHECK_RET(raw_statx(AT_FDCWD, t_path("sx"), AT_STATX_DONT_SYNC, 0, &stx), 0);
	close(fd);
}

TEST(statx_errors)
{
	int fd = make("sxe", 0600, 1);
	struct statx stx;
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_ERR(raw_statx(-1, "relative", 0, 0, &stx), EBADF);
	CHECK_ERR(raw_statx(AT_FDCWD, (const char *)1, 0, 0, &stx), EFAULT);
	CHECK_ERR(raw_statx(AT_FDCWD, t_path("sxe"), 0, 0, (struct statx *)1), EFAULT);
	CHECK_ERR(raw_statx(AT_FDCWD, t_path("sxe"), -1, 0, &stx), EINVAL);
	CHECK_ERR(raw_statx(AT_FDCWD, t_path("sxe"), AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, 0, &stx),
		  EINVAL);
	CHECK_ERR(raw_statx(AT_FDCWD, t_path("sxe"), 0, 0x80000000u, &stx), EINVAL);
	CHECK_ERR(raw_statx(AT_FDCWD, "", 0, 0, &stx), ENOENT);
	CHECK_ERR(raw_statx(fd, "relative", 0, 0, &stx), ENOTDIR);
	CHECK_ERR(raw_statx(AT_FDCWD, longname, 0, 0, &stx), ENAMETOOLONG);
	close(fd);
}

TEST(statx_mount_root_and_id)
{
	struct statx root, proc, self, file;
	CHECK_RET(raw_statx(AT_FDCWD, "/", 0, STATX_BASIC_STATS | STATX_MNT_ID, &root), 0);
	CHECK_RET(raw_statx(AT_FDCWD, "/proc", 0, STATX_BASIC_STATS | STATX_MNT_ID, &proc), 0);
	CHECK_RET(raw_statx(AT_FDCWD, "/proc/self/status", 0, STATX_BASIC_STATS | STATX_MNT_ID, &self), 0);
	int fd = make("sxm", 0600, 1);
	close(fd);
	CHECK_RET(raw_statx(AT_FDCWD, t_path("sxm"), 0, STATX_BASIC_STATS, &file), 0);
	/* The mask always says whether MOUNT_ROOT is known; mount roots have it. */
	CHECK(root.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
	CHECK(root.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	CHECK(proc.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	CHECK(file.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
	CHECK(!(file.stx_attributes & STATX_ATTR_MOUNT_ROOT));
	CHECK(!(self.stx_attributes & STATX_ATTR_MOUNT_ROOT));
	/* Mount ids: one per mount. */
	CHECK(root.stx_mask & STATX_MNT_ID);
	CHECK(proc.stx_mask & STATX_MNT_ID);
	CHECK_EQ(proc.stx_mnt_id, self.stx_mnt_id);
	CHECK(proc.stx_mnt_id != root.stx_mnt_id);
}
