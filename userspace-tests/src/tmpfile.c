/*
 * open(2) O_TMPFILE: an unnamed regular file (st_nlink 0) in a directory's
 * file system, given a name by linkat(2) with AT_EMPTY_PATH or through
 * /proc/self/fd/N with AT_SYMLINK_FOLLOW, never with O_EXCL; the flag
 * errors; the space freed on close. Run on the scratch directory, on
 * /dev/shm (tmpfs) and on the disk file system ($STARLING_TEST_DISK_TMP,
 * default /var/tmp; skipped if that is tmpfs).
 */
#include "test.h"

#include <dirent.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#define O_TMPFILE_ONLY (O_TMPFILE & ~O_DIRECTORY)

static char shm_dir[256];

/* A scratch directory in /dev/shm (made again if a test removed it). */
static const char *shm_tmpdir(void)
{
	snprintf(shm_dir, sizeof(shm_dir), "/dev/shm/tmpfile.%d", (int)getpid());
	if (mkdir(shm_dir, 0700) != 0 && errno != EEXIST)
		t_fail("cannot create %s: %s", shm_dir, t_errname(errno));
	return shm_dir;
}

static const char *in(const char *dir, const char *name)
{
	static char bufs[4][320];
	static int next;
	char *b = bufs[next++ & 3];
	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* Creates, writes, names (twice) and removes an O_TMPFILE file in `dir`. */
static void name_with_empty_path(const char *dir)
{
	int fd = CHECK_OK(open(dir, O_TMPFILE | O_RDWR, 0600));
	struct stat st, named;
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(st.st_size, 0);
	CHECK_RET(write(fd, "tmpdata", 7), 7);
	char buf[16] = { 0 };
	CHECK_RET(pread(fd, buf, sizeof(buf), 0), 7);
	CHECK(memcmp(buf, "tmpdata", 7) == 0);

	const char *name = in(dir, "named");
	unlink(name);
	CHECK_RET(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), 0);
	CHECK_OK(stat(name, &named));
	CHECK_EQ(named.st_ino, st.st_ino);
	CHECK_EQ(named.st_nlink, 1);
	CHECK_EQ(named.st_size, 7);
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	/* A name that exists: EEXIST. */
	CHECK_ERR(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), EEXIST);
	/* Once linked it is an ordinary file: more links are fine. */
	const char *name2 = in(dir, "named2");
	unlink(name2);
	CHECK_RET(linkat(fd, "", AT_FDCWD, name2, AT_EMPTY_PATH), 0);
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 2);
	int rd = CHECK_OK(open(name2, O_RDONLY));
	memset(buf, 0, sizeof(buf));
	CHECK_RET(read(rd, buf, sizeof(buf)), 7);
	CHECK(memcmp(buf, "tmpdata", 7) == 0);
	close(rd);
	CHECK_OK(unlink(name));
	CHECK_OK(unlink(name2));
	close(fd);
}

/* Names an O_TMPFILE file through /proc/self/fd/N. */
static void name_through_proc(const char *dir)
{
	int fd = CHECK_OK(open(dir, O_TMPFILE | O_WRONLY, 0640));
	CHECK_RET(write(fd, "x", 1), 1);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	const char *name = in(dir, "viaproc");
	unlink(name);
	CHECK_RET(linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW), 0);
	struct stat a, b;
	CHECK_OK(fstat(fd, &a));
	CHECK_OK(stat(name, &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(b.st_nlink, 1);
	CHECK_EQ(b.st_mode & 07777, 0640);
	CHECK_OK(unlink(name));
	close(fd);
}

/* O_EXCL: the file can never get a name. */
static void excl_is_never_linked(const char *dir)
{
	int fd = CHECK_OK(open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	const char *name = in(dir, "excl");
	unlink(name);
	CHECK_ERR(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), ENOENT);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK_ERR(linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW), ENOENT);
	CHECK_ERR(access(name, F_OK), ENOENT);
	close(fd);
}

/* A file unlinked while open cannot get its name back either. */
static void unlinked_file_is_enoent(const char *dir)
{
	const char *path = in(dir, "gone");
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_OK(unlink(path));
	CHECK_ERR(linkat(fd, "", AT_FDCWD, in(dir, "back"), AT_EMPTY_PATH), ENOENT);
	close(fd);
}

static void flag_errors(const char *dir)
{
	/* O_TMPFILE needs a write access mode, no O_CREAT, and its
	 * O_DIRECTORY bit. */
	CHECK_ERR(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
	CHECK_ERR(open(dir, O_TMPFILE | O_RDWR | O_CREAT, 0600), EINVAL);
	CHECK_ERR(open(dir, O_TMPFILE_ONLY | O_RDWR, 0600), EINVAL);
	/* open(2) with O_PATH drops every flag but O_DIRECTORY, O_NOFOLLOW
	 * and O_CLOEXEC: an O_PATH descriptor of the directory. */
	int pfd = CHECK_OK(open(dir, O_TMPFILE | O_WRONLY | O_PATH, 0600));
	struct stat st;
	CHECK_OK(fstat(pfd, &st));
	CHECK(S_ISDIR(st.st_mode));
	close(pfd);
	/* The path must be an existing directory. */
	CHECK_ERR(open(in(dir, "missing"), O_TMPFILE | O_RDWR, 0600), ENOENT);
	const char *file = in(dir, "plain");
	int fd = CHECK_OK(open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	close(fd);
	CHECK_ERR(open(file, O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	CHECK_OK(unlink(file));
}

/* Nothing with the new file shows up in the directory's name space. */
static void leaves_no_name(const char *dir)
{
	const char *sub = in(dir, "empty");
	CHECK_OK(mkdir(sub, 0700));
	int fd = CHECK_OK(open(sub, O_TMPFILE | O_RDWR | O_EXCL, 0600));
	CHECK_RET(write(fd, "abc", 3), 3);
	/* O_EXCL: no name at all, so the directory can be removed. */
	CHECK_OK(rmdir(sub));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3);
	close(fd);
}

TEST(scratch_dir)
{
	const char *d = t_tmpdir();
	name_with_empty_path(d);
	name_through_proc(d);
	excl_is_never_linked(d);
	unlinked_file_is_enoent(d);
	flag_errors(d);
	leaves_no_name(d);
}

TEST(dev_shm)
{
	const char *d = shm_tmpdir();
	name_with_empty_path(d);
	name_through_proc(d);
	excl_is_never_linked(d);
	unlinked_file_is_enoent(d);
	flag_errors(d);
	leaves_no_name(d);
	rmdir(d);
}

TEST(disk)
{
	const char *d = t_disk_dir();
	name_with_empty_path(d);
	name_through_proc(d);
	excl_is_never_linked(d);
	unlinked_file_is_enoent(d);
	flag_errors(d);
	leaves_no_name(d);
	rmdir(d);
}

TEST(directory_cannot_be_linked)
{
	int dfd = CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(linkat(dfd, "", AT_FDCWD, t_path("dirlink"), AT_EMPTY_PATH), EPERM);
	close(dfd);
	/* A pipe is on no mount of the target's: EXDEV. */
	int p[2];
	CHECK_OK(pipe(p));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p[0]);
	CHECK_ERR(linkat(AT_FDCWD, proc, AT_FDCWD, t_path("pipelink"), AT_SYMLINK_FOLLOW), EXDEV);
	close(p[0]);
	close(p[1]);
}

TEST(procfs_has_no_tmpfile)
{
	CHECK_ERR(open("/proc", O_TMPFILE | O_RDWR, 0600), EOPNOTSUPP);
}

TEST(space_freed_on_close)
{
	const char *d = shm_tmpdir();
	struct statvfs before, during, after;
	CHECK_OK(statvfs(d, &before));
	int fd = CHECK_OK(open(d, O_TMPFILE | O_RDWR, 0600));
	static char block[1 << 20];
	memset(block, 'z', sizeof(block));
	CHECK_RET(write(fd, block, sizeof(block)), (long)sizeof(block));
	CHECK_OK(statvfs(d, &during));
	unsigned long want = (sizeof(block) / before.f_frsize) / 2;
	CHECK_MSG(before.f_bfree >= during.f_bfree + want,
		  "free blocks %lu -> %lu after writing 1 MiB", before.f_bfree,
		  during.f_bfree);
	close(fd);
	CHECK_OK(statvfs(d, &after));
	CHECK_MSG(after.f_bfree >= during.f_bfree + want,
		  "free blocks %lu -> %lu after the close", during.f_bfree,
		  after.f_bfree);
	rmdir(d);
}
