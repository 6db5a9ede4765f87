/*
 * File I/O on regular files: openat(2), read(2), write(2), readv(2),
 * writev(2), close(2) and lseek(2), with their documented errors.
 * Files live in the scratch directory (t_tmpdir()).
 */
#include "test.h"

#include <grp.h>

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>

static int raw_openat(int dirfd, const char *path, int flags, int mode)
{
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

/* Creates `name` empty and returns an O_RDWR descriptor for it. */
static int create_rw(const char *name)
{
	const char *p = t_path(name);
	unlink(p);
	return (int)CHECK_OK(raw_openat(AT_FDCWD, p, O_RDWR | O_CREAT | O_EXCL, 0600));
}

TEST(write_then_read_back)
{
	int fd = create_rw("rw");
	CHECK_RET(write(fd, "hello, world", 12), 12);
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	char buf[32] = { 0 };
	CHECK_RET(read(fd, buf, sizeof(buf)), 12);
	CHECK(memcmp(buf, "hello, world", 12) == 0);
	/* At end of file, read returns 0. */
	CHECK_RET(read(fd, buf, sizeof(buf)), 0);
	/* A zero-length read or write does nothing and succeeds. */
	CHECK_RET(read(fd, buf, 0), 0);
	CHECK_RET(write(fd, buf, 0), 0);
	CHECK_RET(close(fd), 0);
}

TEST(read_advances_offset)
{
	int fd = create_rw("offset");
	CHECK_RET(write(fd, "0123456789", 10), 10);
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	char a[4] = { 0 }, b[4] = { 0 };
	CHECK_RET(read(fd, a, 3), 3);
	CHECK_RET(read(fd, b, 3), 3);
	CHECK(memcmp(a, "012", 3) == 0);
	CHECK(memcmp(b, "345", 3) == 0);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 6);
	close(fd);
}

TEST(lseek_whence)
{
	int fd = create_rw("seek");
	CHECK_RET(write(fd, "abcdefghij", 10), 10);
	CHECK_RET(lseek(fd, 2, SEEK_SET), 2);
	CHECK_RET(lseek(fd, 3, SEEK_CUR), 5);
	CHECK_RET(lseek(fd, -1, SEEK_CUR), 4);
	CHECK_RET(lseek(fd, 0, SEEK_END), 10);
	CHECK_RET(lseek(fd, -4, SEEK_END), 6);
	char c;
	CHECK_RET(read(fd, &c, 1), 1);
	CHECK_EQ(c, 'g');
	close(fd);
}

TEST(lseek_einval)
{
	int fd = create_rw("seek-einval");
	CHECK_RET(write(fd, "abc", 3), 3);
	/* A resulting negative offset is EINVAL and the offset is unchanged. */
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	CHECK_ERR(lseek(fd, -4, SEEK_END), EINVAL);
	CHECK_ERR(lseek(fd, -100, SEEK_CUR), EINVAL);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 3);
	/* An unknown whence is EINVAL. */
	CHECK_ERR(lseek(fd, 0, 77), EINVAL);
	close(fd);
}

TEST(lseek_espipe_on_pipe)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
	CHECK_ERR(lseek(p[1], 0, SEEK_CUR), ESPIPE);
	close(p[0]);
	close(p[1]);
}

TEST(seek_past_end_makes_hole)
{
	int fd = create_rw("hole");
	CHECK_RET(lseek(fd, 10000, SEEK_SET), 10000);
	/* Seeking alone does not change the size ... */
	CHECK_RET(lseek(fd, 0, SEEK_END), 0);
	CHECK_RET(lseek(fd, 10000, SEEK_SET), 10000);
	CHECK_RET(write(fd, "Z", 1), 1);
	/* ... writing there does, and the gap reads as zeros. */
	CHECK_RET(lseek(fd, 0, SEEK_END), 10001);
	char buf[10001];
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	size_t got = 0;
	while (got < sizeof(buf)) {
		ssize_t n = CHECK_OK(read(fd, buf + got, sizeof(buf) - got));
		CHECK(n > 0);
		got += (size_t)n;
	}
	for (int i = 0; i < 10000; i++)
		CHECK_MSG(buf[i] == 0, "hole byte %d is 0x%x", i,
			  (unsigned char)buf[i]);
	CHECK_EQ(buf[10000], 'Z');
	close(fd);
}

TEST(readv_writev)
{
	int fd = create_rw("vec");
	char a[] = "scatter", b[] = "-", c[] = "gather";
	struct iovec w[3] = { { a, 7 }, { b, 1 }, { c, 6 } };
	CHECK_RET(writev(fd, w, 3), 14);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 14);
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	char x[3] = { 0 }, y[20] = { 0 };
	/* A zero-length element in the middle is skipped. */
	struct iovec r[3] = { { x, 3 }, { NULL, 0 }, { y, sizeof(y) } };
	CHECK_RET(readv(fd, r, 3), 14);
	CHECK(memcmp(x, "sca", 3) == 0);
	CHECK(memcmp(y, "tter-gather", 11) == 0);
	close(fd);
}

TEST(readv_writev_errors)
{
	int fd = create_rw("vec-err");
	struct iovec v = { "x", 1 };
	CHECK_ERR(syscall(SYS_writev, fd, &v, -1), EINVAL);
	CHECK_ERR(syscall(SYS_writev, fd, &v, 1025), EINVAL); /* > IOV_MAX */
	CHECK_ERR(syscall(SYS_writev, fd, (struct iovec *)1, 1), EFAULT);
	CHECK_ERR(syscall(SYS_readv, -1, &v, 1), EBADF);
	/* A vector with zero elements transfers nothing. */
	CHECK_RET(syscall(SYS_writev, fd, &v, 0), 0);
	close(fd);
}

TEST(ebadf)
{
	char c = 0;
	CHECK_ERR(read(-1, &c, 1), EBADF);
	CHECK_ERR(write(-1, &c, 1), EBADF);
	CHECK_ERR(close(-1), EBADF);
	CHECK_ERR(close(1000000), EBADF);
	int fd = create_rw("closed");
	CHECK_RET(close(fd), 0);
	/* Closed descriptors are dead. */
	CHECK_ERR(read(fd, &c, 1), EBADF);
	CHECK_ERR(close(fd), EBADF);
}

TEST(access_mode_enforced)
{
	int fd = create_rw("mode");
	CHECK_RET(write(fd, "data", 4), 4);
	close(fd);
	char c;
	int ro = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("mode"), O_RDONLY, 0));
	CHECK_ERR(write(ro, "x", 1), EBADF);
	CHECK_RET(read(ro, &c, 1), 1);
	close(ro);
	int wo = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("mode"), O_WRONLY, 0));
	CHECK_ERR(read(wo, &c, 1), EBADF);
	CHECK_RET(write(wo, "D", 1), 1);
	close(wo);
}

TEST(openat_errors)
{
	create_rw("exists");
	CHECK_ERR(raw_openat(AT_FDCWD, t_path("missing"), O_RDONLY, 0), ENOENT);
	CHECK_ERR(raw_openat(AT_FDCWD, t_path("exists"),
			     O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_ERR(raw_openat(AT_FDCWD, t_path("exists"),
			     O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
	char p[400];
	snprintf(p, sizeof(p), "%s/below", t_path("exists"));
	CHECK_ERR(raw_openat(AT_FDCWD, p, O_RDONLY, 0), ENOTDIR);
	CHECK_ERR(raw_openat(AT_FDCWD, t_tmpdir(), O_WRONLY, 0), EISDIR);
	CHECK_ERR(raw_openat(AT_FDCWD, "", O_RDONLY, 0), ENOENT);
	CHECK_ERR(raw_openat(AT_FDCWD, (const char *)1, O_RDONLY, 0), EFAULT);
	CHECK_ERR(raw_openat(-1, "relative", O_RDONLY, 0), EBADF);
}

TEST(openat_relative_to_dirfd)
{
	int fd = create_rw("rel");
	CHECK_RET(write(fd, "R", 1), 1);
	close(fd);
	int dfd = (int)CHECK_OK(raw_openat(AT_FDCWD, t_tmpdir(),
					   O_RDONLY | O_DIRECTORY, 0));
	int f = (int)CHECK_OK(raw_openat(dfd, "rel", O_RDONLY, 0));
	char c = 0;
	CHECK_RET(read(f, &c, 1), 1);
	CHECK_EQ(c, 'R');
	close(f);
	/* A dirfd that is not a directory: ENOTDIR for a relative path ... */
	int reg = (int)CHECK_OK(raw_openat(dfd, "rel", O_RDONLY, 0));
	CHECK_ERR(raw_openat(reg, "x", O_RDONLY, 0), ENOTDIR);
	/* ... but an absolute path ignores dirfd entirely. */
	f = (int)CHECK_OK(raw_openat(reg, t_path("rel"), O_RDONLY, 0));
	close(f);
	close(reg);
	close(dfd);
}

TEST(read_directory_eisdir)
{
	int dfd = (int)CHECK_OK(raw_openat(AT_FDCWD, t_tmpdir(),
					   O_RDONLY | O_DIRECTORY, 0));
	char c;
	CHECK_ERR(read(dfd, &c, 1), EISDIR);
	close(dfd);
}

TEST(o_trunc_and_o_append)
{
	int fd = create_rw("trunc");
	CHECK_RET(write(fd, "0123456789", 10), 10);
	close(fd);
	fd = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("trunc"), O_RDWR | O_TRUNC, 0));
	CHECK_RET(lseek(fd, 0, SEEK_END), 0);
	CHECK_RET(write(fd, "ab", 2), 2);
	close(fd);
	fd = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("trunc"), O_WRONLY | O_APPEND, 0));
	/* O_APPEND: every write goes to the end, whatever the offset. */
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	CHECK_RET(write(fd, "cd", 2), 2);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 4);
	close(fd);
	fd = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("trunc"), O_RDONLY, 0));
	char buf[8] = { 0 };
	CHECK_RET(read(fd, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "abcd");
	close(fd);
}

TEST(pwrite_with_o_append_appends)
{
	/* pwrite(2) BUGS: Linux appends for an O_APPEND descriptor whatever
	 * the offset, and the file position does not move. */
	int fd = CHECK_OK(open(t_path("app"), O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600));
	CHECK_RET(write(fd, "0123", 4), 4);
	CHECK_RET(lseek(fd, 1, SEEK_SET), 1);
	CHECK_RET(pwrite(fd, "ab", 2, 0), 2);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 1);
	char buf[8] = { 0 };
	CHECK_RET(pread(fd, buf, sizeof(buf), 0), 6);
	CHECK_STREQ(buf, "0123ab");
	close(fd);
}

TEST(lowest_free_descriptor)
{
	/* open returns the lowest-numbered descriptor not open. */
	int a = create_rw("low-a");
	int b = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("low-a"), O_RDONLY, 0));
	CHECK(b > a);
	close(a);
	int c = (int)CHECK_OK(raw_openat(AT_FDCWD, t_path("low-a"), O_RDONLY, 0));
	CHECK_EQ(c, a);
	close(b);
	close(c);
}

TEST(large_transfer)
{
	/* 1 MiB through one write and read, crossing many pages. */
	size_t len = 1 << 20;
	unsigned char *w = malloc(len), *r = malloc(len);
	CHECK(w && r);
	for (size_t i = 0; i < len; i++)
		w[i] = (unsigned char)(i * 7 + (i >> 12));
	int fd = create_rw("large");
	CHECK_RET(write(fd, w, len), (long)len);
	CHECK_RET(lseek(fd, 0, SEEK_SET), 0);
	size_t got = 0;
	while (got < len) {
		ssize_t n = CHECK_OK(read(fd, r + got, len - got));
		CHECK(n > 0);
		got += (size_t)n;
	}
	CHECK(memcmp(w, r, len) == 0);
	close(fd);
	free(w);
	free(r);
}

TEST(o_path_descriptor_limits)
{
	/* An O_PATH descriptor names a file without opening it: fchmod,
	 * fchown, ioctl and mmap refuse it with EBADF (fdget), read and write
	 * too; fstat works. */
	const char *p = t_make_file("opath", "data", 0644);
	int fd = CHECK_OK(open(p, O_PATH));
	char c;
	CHECK_ERR(read(fd, &c, 1), EBADF);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	CHECK_ERR(fchmod(fd, 0600), EBADF);
	CHECK_ERR(fchown(fd, 0, 0), EBADF);
	int n;
	CHECK_ERR(ioctl(fd, FIONREAD, &n), EBADF);
	CHECK_ERR(ioctl(fd, FIOCLEX), EBADF);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
	CHECK_EQ(errno, EBADF);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 4);
	close(fd);
}

TEST(o_noatime_owner_only)
{
	/* O_NOATIME: the owner or CAP_FOWNER, else EPERM. */
	CHECK_OK(chmod(t_tmpdir(), 0755));
	const char *p = t_make_file("noatime", "data", 0644);
	int fd = CHECK_OK(open(p, O_RDONLY | O_NOATIME));
	close(fd);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setuid(65534));
		CHECK_ERR(open(p, O_RDONLY | O_NOATIME), EPERM);
		/* Without the flag the world-readable file opens. */
		fd = CHECK_OK(open(p, O_RDONLY));
		close(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* Sets a file's access and modification times to `t` seconds. */
static void set_times(const char *p, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	CHECK_OK(utimensat(AT_FDCWD, p, ts, 0));
}

TEST(o_noatime_keeps_atime)
{
	/* touch_atime skips descriptions with O_NOATIME; with atime not newer
	 * than mtime, relatime would move it on any other read. */
	const char *p = t_make_file("keep_atime", "data", 0644);
	struct stat st;
	char c;
	set_times(p, 1000);
	int fd = CHECK_OK(open(p, O_RDONLY | O_NOATIME));
	CHECK_RET(read(fd, &c, 1), 1);
	CHECK_RET(pread(fd, &c, 1, 2), 1);
	close(fd);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_atime, 1000);
	/* Set with F_SETFL, too. */
	fd = CHECK_OK(open(p, O_RDONLY));
	CHECK_OK(fcntl(fd, F_SETFL, O_NOATIME));
	CHECK_RET(read(fd, &c, 1), 1);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_atime, 1000);
	/* Without the flag the read moves it. */
	CHECK_OK(fcntl(fd, F_SETFL, 0));
	CHECK_RET(read(fd, &c, 1), 1);
	close(fd);
	CHECK_OK(stat(p, &st));
	CHECK(st.st_atime != 1000);
}

TEST(setgid_directory_group_inheritance)
{
	/* inode_init_owner: in a set-group-ID directory new files, FIFOs and
	 * symlinks take the directory's group, and new directories also its
	 * S_ISGID bit; elsewhere the creator's fsgid. */
	char d[320], p[400];
	snprintf(d, sizeof(d), "%s", t_path("sgid"));
	CHECK_OK(mkdir(d, 0755));
	CHECK_OK(chown(d, 0, 4321));
	CHECK_OK(chmod(d, 02775));
	struct stat st;
	snprintf(p, sizeof(p), "%s/file", d);
	int fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 0644));
	close(fd);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_gid, 4321);
	snprintf(p, sizeof(p), "%s/sub", d);
	CHECK_OK(mkdir(p, 0755));
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_gid, 4321);
	CHECK(st.st_mode & S_ISGID);
	snprintf(p, sizeof(p), "%s/fifo", d);
	CHECK_OK(mkfifo(p, 0644));
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_gid, 4321);
	snprintf(p, sizeof(p), "%s/link", d);
	CHECK_OK(symlink("file", p));
	CHECK_OK(lstat(p, &st));
	CHECK_EQ(st.st_gid, 4321);
	/* Without S_ISGID: the creator's group. */
	CHECK_OK(chmod(d, 0775));
	snprintf(p, sizeof(p), "%s/plain", d);
	fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 0644));
	close(fd);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_gid, getegid());
	/* The owner is the creator's fsuid/fsgid, also after setegid. */
	CHECK_OK(chmod(t_tmpdir(), 0755));
	CHECK_OK(chmod(d, 0777));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgid(65534));
		CHECK_OK(setreuid(-1, 65534));
		snprintf(p, sizeof(p), "%s/by-nobody", d);
		fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 0644));
		close(fd);
		CHECK_OK(stat(p, &st));
		CHECK_EQ(st.st_uid, 65534);
		CHECK_EQ(st.st_gid, 65534);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setgid_bit_stripped_outside_group)
{
	/* mode_strip_sgid: a new group-executable S_ISGID file in a set-group-ID
	 * directory keeps S_ISGID only if the creator is in the directory's
	 * group or has CAP_FSETID. */
	char d[320], p[400];
	snprintf(d, sizeof(d), "%s", t_path("sgid2"));
	CHECK_OK(mkdir(d, 0777));
	CHECK_OK(chown(d, 0, 4321));
	CHECK_OK(chmod(d, 02777));
	CHECK_OK(chmod(t_tmpdir(), 0755));
	struct stat st;
	/* Root (CAP_FSETID) keeps it. */
	mode_t old = umask(0);
	snprintf(p, sizeof(p), "%s/root", d);
	int fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 02755));
	close(fd);
	umask(old);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_mode & 07777, 02755);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgroups(0, NULL));
		CHECK_OK(setgid(65534));
		CHECK_OK(setuid(65534));
		umask(0);
		snprintf(p, sizeof(p), "%s/x", d);
		fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 02755));
		close(fd);
		CHECK_OK(stat(p, &st));
		CHECK_EQ(st.st_gid, 4321);
		CHECK_EQ(st.st_mode & 07777, 0755);
		/* Without group execute (mandatory-locking style) it stays. */
		snprintf(p, sizeof(p), "%s/nox", d);
		fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 02745));
		close(fd);
		CHECK_OK(stat(p, &st));
		CHECK_EQ(st.st_mode & 07777, 02745);
		/* The requested mode decides, before the umask. */
		umask(010);
		snprintf(p, sizeof(p), "%s/masked", d);
		fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 02775));
		close(fd);
		CHECK_OK(stat(p, &st));
		CHECK_EQ(st.st_mode & 07777, 0765);
		/* mknod strips it the same way. */
		umask(0);
		snprintf(p, sizeof(p), "%s/fifo", d);
		CHECK_OK(mknod(p, S_IFIFO | 02755, 0));
		CHECK_OK(stat(p, &st));
		CHECK_EQ(st.st_mode & 07777, 0755);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
