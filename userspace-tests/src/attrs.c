/*
 * File attributes: chmod/fchmod/fchmodat, chown/fchown/lchown/fchownat,
 * utimensat (UTIME_NOW, UTIME_OMIT, AT_SYMLINK_NOFOLLOW, permission rules),
 * truncate/ftruncate, statfs/fstatfs, and the sync family.
 */
#include "test.h"

#include <grp.h>
#include <sys/statfs.h>
#include <sys/vfs.h>

/* t_make_file, with the path kept (t_path's buffers rotate). */
static const char *make(const char *name, const char *data, mode_t mode)
{
	return strdup(t_make_file(name, data, mode));
}

static struct stat st_of(const char *path)
{
	struct stat st;
	CHECK_RET(lstat(path, &st), 0);
	return st;
}

static void become(uid_t uid, gid_t gid)
{
	CHECK_RET(setgroups(0, NULL), 0);
	CHECK_RET(setgid(gid), 0);
	CHECK_RET(setuid(uid), 0);
}

TEST(chmod_family)
{
	const char *f = make("f", "x", 0644);
	CHECK_RET(chmod(f, 0600), 0);
	CHECK_EQ(st_of(f).st_mode & 07777, 0600);
	/* Only the permission and special bits are taken. */
	CHECK_RET(chmod(f, S_IFDIR | 0640), 0);
	CHECK(S_ISREG(st_of(f).st_mode));
	CHECK_EQ(st_of(f).st_mode & 07777, 0640);
	int fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_RET(fchmod(fd, 0604), 0);
	CHECK_EQ(st_of(f).st_mode & 07777, 0604);
	CHECK_ERR(fchmod(-1, 0600), EBADF);
	close(fd);
	int dir = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_RET(fchmodat(dir, "f", 0611, 0), 0);
	CHECK_EQ(st_of(f).st_mode & 07777, 0611);
	CHECK_ERR(fchmodat(dir, "missing", 0600, 0), ENOENT);
	/* fchmodat2 (452): only AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
	CHECK_ERR(syscall(452, dir, "f", 0600, 0x1), EINVAL);
	close(dir);
	CHECK_ERR(chmod(t_path("missing"), 0600), ENOENT);
	CHECK_ERR(chmod((const char *)1, 0600), EFAULT);
	/* chmod follows symlinks. */
	CHECK_RET(symlink("f", t_path("l")), 0);
	CHECK_RET(chmod(t_path("l"), 0644), 0);
	CHECK_EQ(st_of(f).st_mode & 07777, 0644);
}

TEST(chmod_of_a_symlink)
{
	/* Linux 6.6: a symlink's mode cannot change (EOPNOTSUPP), also when
	 * reached through the magic link of an O_PATH descriptor. */
	const char *f = make("target", "x", 0644);
	CHECK_RET(symlink("target", t_path("sl")), 0);
	int fd = (int)CHECK_OK(open(t_path("sl"), O_PATH | O_NOFOLLOW));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK_ERR(chmod(proc, 0), EOPNOTSUPP);
	CHECK_ERR(fchmodat(AT_FDCWD, t_path("sl"), 0, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	CHECK_EQ(st_of(f).st_mode & 07777, 0644);
	close(fd);
}

TEST(chmod_needs_ownership)
{
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	const char *f = make("owned", "x", 0666);
	pid_t pid = t_fork();
	if (pid == 0) {
		become(65534, 65534);
		CHECK_ERR(chmod(f, 0777), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The owner may, and without the group loses set-group-ID. */
	CHECK_RET(chown(f, 65534, 0), 0);
	pid = t_fork();
	if (pid == 0) {
		become(65534, 65534);
		CHECK_RET(chmod(f, 02755), 0);
		CHECK_EQ(st_of(f).st_mode & 07777, 0755);
		CHECK_RET(chmod(f, 04755), 0);
		CHECK_EQ(st_of(f).st_mode & 07777, 04755);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(chown_family)
{
	const char *f = make("c", "x", 0644);
	CHECK_RET(chown(f, 1000, 2000), 0);
	CHECK_EQ(st_of(f).st_uid, 1000);
	CHECK_EQ(st_of(f).st_gid, 2000);
	/* -1 keeps a value. */
	CHECK_RET(chown(f, (uid_t)-1, 3000), 0);
	CHECK_EQ(st_of(f).st_uid, 1000);
	CHECK_EQ(st_of(f).st_gid, 3000);
	int fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_RET(fchown(fd, 1001, (gid_t)-1), 0);
	CHECK_EQ(st_of(f).st_uid, 1001);
	close(fd);
	/* lchown changes the link, chown its target. */
	CHECK_RET(symlink("c", t_path("cl")), 0);
	CHECK_RET(lchown(t_path("cl"), 1234, 1234), 0);
	CHECK_EQ(st_of(t_path("cl")).st_uid, 1234);
	CHECK_EQ(st_of(f).st_uid, 1001);
	CHECK_RET(fchownat(AT_FDCWD, t_path("cl"), 42, 42, AT_SYMLINK_NOFOLLOW), 0);
	CHECK_EQ(st_of(t_path("cl")).st_uid, 42);
	CHECK_RET(fchownat(AT_FDCWD, t_path("cl"), 43, 43, 0), 0);
	CHECK_EQ(st_of(f).st_uid, 43);
	CHECK_ERR(fchownat(AT_FDCWD, t_path("cl"), 0, 0, 0x2), EINVAL);
	CHECK_ERR(chown(t_path("missing"), 0, 0), ENOENT);
	/* A set-user-ID file loses the bit on chown. */
	CHECK_RET(chmod(f, 04755), 0);
	CHECK_RET(chown(f, 7, 7), 0);
	CHECK_EQ(st_of(f).st_mode & 07777, 0755);
}

TEST(chown_rules_for_users)
{
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	const char *f = make("u", "x", 0644);
	CHECK_RET(chown(f, 65534, 65534), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		gid_t groups[] = { 4444 };
		CHECK_RET(setgroups(1, groups), 0);
		CHECK_RET(setgid(65534), 0);
		CHECK_RET(setuid(65534), 0);
		/* The owner may not give the file away ... */
		CHECK_ERR(chown(f, 0, (gid_t)-1), EPERM);
		/* ... but may move it to a group it is in ... */
		CHECK_RET(chown(f, (uid_t)-1, 4444), 0);
		CHECK_EQ(st_of(f).st_gid, 4444);
		/* ... and not to another. */
		CHECK_ERR(chown(f, (uid_t)-1, 5555), EPERM);
		/* Naming its own uid is allowed. */
		CHECK_RET(chown(f, 65534, (gid_t)-1), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(utimensat_values)
{
	const char *f = make("t", "x", 0644);
	struct timespec ts[2] = { { 1000, 1 }, { 2000, 2 } };
	CHECK_RET(utimensat(AT_FDCWD, f, ts, 0), 0);
	struct stat st = st_of(f);
	CHECK_EQ(st.st_atim.tv_sec, 1000);
	CHECK_EQ(st.st_mtim.tv_sec, 2000);
	/* UTIME_OMIT keeps one, UTIME_NOW sets it to now. */
	struct timespec omit_now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	time_t before = time(NULL);
	CHECK_RET(utimensat(AT_FDCWD, f, omit_now, 0), 0);
	st = st_of(f);
	CHECK_EQ(st.st_atim.tv_sec, 1000);
	CHECK(st.st_mtim.tv_sec >= before - 1 && st.st_mtim.tv_sec <= time(NULL) + 1);
	/* NULL: both now. */
	CHECK_RET(utimensat(AT_FDCWD, f, NULL, 0), 0);
	CHECK(st_of(f).st_atim.tv_sec >= before - 1);
	/* futimens on a descriptor. */
	int fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_RET(futimens(fd, ts), 0);
	CHECK_EQ(st_of(f).st_mtim.tv_sec, 2000);
	close(fd);
	/* AT_SYMLINK_NOFOLLOW: the link itself. */
	CHECK_RET(symlink("t", t_path("tl")), 0);
	struct timespec lt[2] = { { 5000, 0 }, { 6000, 0 } };
	CHECK_RET(utimensat(AT_FDCWD, t_path("tl"), lt, AT_SYMLINK_NOFOLLOW), 0);
	CHECK_EQ(st_of(t_path("tl")).st_mtim.tv_sec, 6000);
	CHECK_EQ(st_of(f).st_mtim.tv_sec, 2000);
}

TEST(utimensat_errors)
{
	const char *f = make("te", "x", 0644);
	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	CHECK_ERR(utimensat(AT_FDCWD, f, bad, 0), EINVAL);
	struct timespec neg[2] = { { 0, -1 }, { 0, 0 } };
	CHECK_ERR(utimensat(AT_FDCWD, f, neg, 0), EINVAL);
	struct timespec ok[2] = { { 0, 0 }, { 0, 0 } };
	CHECK_ERR(utimensat(AT_FDCWD, f, ok, 0x4), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, t_path("missing"), ok, 0), ENOENT);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, f, (struct timespec *)1, 0), EFAULT);
	CHECK_ERR(utimensat(-1, "rel", ok, 0), EBADF);
	/* A NULL path works on a descriptor, not at AT_FDCWD. */
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, NULL, ok, 0), EFAULT);
}

TEST(utimensat_permissions)
{
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	const char *w = make("world", "x", 0666);
	const char *r = make("readonly", "x", 0644);
	pid_t pid = t_fork();
	if (pid == 0) {
		become(65534, 65534);
		/* "Now" needs write access; explicit times need ownership. */
		CHECK_RET(utimensat(AT_FDCWD, w, NULL, 0), 0);
		CHECK_ERR(utimensat(AT_FDCWD, r, NULL, 0), EACCES);
		struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
		CHECK_ERR(utimensat(AT_FDCWD, w, ts, 0), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(truncate_family)
{
	const char *f = make("tr", "0123456789", 0644);
	CHECK_RET(truncate(f, 4), 0);
	CHECK_EQ(st_of(f).st_size, 4);
	CHECK_RET(truncate(f, 100), 0);
	CHECK_EQ(st_of(f).st_size, 100);
	char buf[8];
	int fd = (int)CHECK_OK(open(f, O_RDWR));
	CHECK_RET(pread(fd, buf, 8, 2), 8);
	CHECK(memcmp(buf, "23\0\0\0\0\0\0", 8) == 0);
	CHECK_RET(ftruncate(fd, 1), 0);
	CHECK_EQ(st_of(f).st_size, 1);
	CHECK_ERR(ftruncate(fd, -1), EINVAL);
	CHECK_ERR(truncate(f, -1), EINVAL);
	close(fd);
	fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
	close(fd);
	CHECK_ERR(truncate(t_tmpdir(), 0), EISDIR);
	CHECK_ERR(truncate(t_path("missing"), 0), ENOENT);
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(ftruncate(p[1], 0), EINVAL);
	close(p[0]);
	close(p[1]);
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		become(65534, 65534);
		CHECK_ERR(truncate(f, 0), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(statfs_family)
{
	struct statfs a, b;
	CHECK_RET(statfs(t_tmpdir(), &a), 0);
	int fd = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_RET(fstatfs(fd, &b), 0);
	close(fd);
	CHECK_EQ(a.f_type, b.f_type);
	CHECK_EQ(a.f_bsize, b.f_bsize);
	CHECK(a.f_bsize > 0);
	CHECK(a.f_blocks >= a.f_bfree);
	CHECK(a.f_bfree >= a.f_bavail);
	CHECK(a.f_namelen == 255);
	/* The file systems by their magic numbers. */
	CHECK_RET(statfs("/proc", &a), 0);
	CHECK_EQ(a.f_type, 0x9fa0);
	CHECK_RET(statfs("/", &a), 0);
	CHECK_EQ(a.f_type, 0xef53);
	CHECK_RET(statfs("/dev/shm", &a), 0);
	CHECK_EQ(a.f_type, 0x01021994);
	CHECK_ERR(statfs(t_path("missing"), &a), ENOENT);
	CHECK_ERR(statfs(t_tmpdir(), (struct statfs *)1), EFAULT);
	CHECK_ERR(fstatfs(-1, &a), EBADF);
	/* A pipe is on pipefs. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(fstatfs(p[0], &a), 0);
	CHECK_EQ(a.f_type, 0x50495045);
	close(p[0]);
	close(p[1]);
}

TEST(sync_family)
{
	const char *f = make("s", "data", 0644);
	int fd = (int)CHECK_OK(open(f, O_RDWR));
	CHECK_RET(fsync(fd), 0);
	CHECK_RET(fdatasync(fd), 0);
	CHECK_RET(syncfs(fd), 0);
	sync();
	CHECK_ERR(fsync(-1), EBADF);
	CHECK_ERR(fdatasync(-1), EBADF);
	CHECK_ERR(syncfs(-1), EBADF);
	/* Pipes cannot be synced. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(fsync(p[0]), EINVAL);
	CHECK_ERR(fdatasync(p[1]), EINVAL);
	close(p[0]);
	close(p[1]);
	close(fd);
}

TEST(lookups_need_search_permission)
{
	/* A directory without search permission for others hides its
	 * names from stat, statfs, readlink, chmod and the rest: EACCES. */
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	CHECK_RET(mkdir(t_path("closed"), 0755), 0);
	const char *f = make("closed/f", "x", 0666);
	CHECK_RET(symlink("f", t_path("closed/l")), 0);
	CHECK_RET(chmod(t_path("closed"), 0754), 0);
	const char *l = strdup(t_path("closed/l"));
	pid_t pid = t_fork();
	if (pid == 0) {
		become(65534, 65534);
		struct stat st;
		struct statfs sfs;
		char buf[16];
		CHECK_ERR(stat(f, &st), EACCES);
		CHECK_ERR(lstat(l, &st), EACCES);
		CHECK_ERR(statfs(f, &sfs), EACCES);
		CHECK_ERR(readlink(l, buf, sizeof(buf)), EACCES);
		CHECK_ERR(chmod(f, 0600), EACCES);
		CHECK_ERR(chown(f, 65534, 65534), EACCES);
		CHECK_ERR(utimensat(AT_FDCWD, f, NULL, 0), EACCES);
		CHECK_ERR(truncate(f, 0), EACCES);
		/* The directory itself can still be listed (r) and stat'ed. */
		CHECK_RET(stat(t_path("closed"), &st), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(readlinkat_empty_path)
{
	CHECK_RET(symlink("target/of/link", t_path("rl")), 0);
	int fd = (int)CHECK_OK(open(t_path("rl"), O_PATH | O_NOFOLLOW));
	char buf[64];
	CHECK_RET(readlinkat(fd, "", buf, sizeof(buf)), 14);
	CHECK(memcmp(buf, "target/of/link", 14) == 0);
	close(fd);
	/* Any other descriptor: ENOENT. */
	const char *f = make("plainfile", "x", 0644);
	fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_ERR(readlinkat(fd, "", buf, sizeof(buf)), ENOENT);
	close(fd);
	CHECK_ERR(readlinkat(AT_FDCWD, "", buf, sizeof(buf)), ENOENT);
}
