/*
 * mount(2) and umount2(2) for tmpfs and proc: options, visibility in
 * /proc/mounts and statfs, read-only mounts and remounts, permission and
 * argument errors.
 */
#include "test.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>

static const char *mnt_dir(const char *name)
{
	const char *d = t_path(name);
	CHECK_OK(mkdir(d, 0755));
	return d;
}

/* Whether /proc/self/mounts has a line for mount point `dir` of `type`. */
static int mounted(const char *dir, const char *type)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	CHECK(f != NULL);
	char src[256], mp[512], fst[64];
	int found = 0;
	while (fscanf(f, "%255s %511s %63s %*[^\n]", src, mp, fst) == 3)
		if (strcmp(mp, dir) == 0 && strcmp(fst, type) == 0)
			found = 1;
	fclose(f);
	return found;
}

TEST(tmpfs_with_options)
{
	const char *d = mnt_dir("tmpfs");
	CHECK_OK(mount("starling-test", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0710,uid=12,gid=34"));
	CHECK(mounted(d, "tmpfs"));
	struct stat st;
	CHECK_OK(stat(d, &st));
	CHECK_EQ(st.st_mode & 07777, 0710);
	CHECK_EQ(st.st_uid, 12);
	CHECK_EQ(st.st_gid, 34);
	struct statfs sf;
	CHECK_OK(statfs(d, &sf));
	CHECK_EQ((unsigned long)sf.f_type, 0x01021994UL); /* TMPFS_MAGIC */
	CHECK_EQ((long long)sf.f_blocks * sf.f_bsize, 1 << 20);
	/* A file made inside lives there and goes with the unmount. */
	char p[512];
	snprintf(p, sizeof(p), "%s/inside", d);
	int fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 0600));
	CHECK_RET(write(fd, "x", 1), 1);
	close(fd);
	CHECK_OK(umount2(d, 0));
	CHECK(!mounted(d, "tmpfs"));
	CHECK_ERR(access(p, F_OK), ENOENT);
}

/* The options field of mount point `dir` in /proc/self/mounts. */
static const char *mount_opts(const char *dir)
{
	static char opts[512];
	FILE *f = fopen("/proc/self/mounts", "r");
	CHECK(f != NULL);
	char src[256], mp[512], fst[64];
	opts[0] = '\0';
	while (fscanf(f, "%255s %511s %63s %511s %*[^\n]", src, mp, fst, opts) == 4)
		if (strcmp(mp, dir) == 0)
			break;
	fclose(f);
	return opts;
}

/* Every kind of change in directory `d` fails with EROFS. */
static void expect_read_only(const char *d)
{
	char p[512], q[512];
	snprintf(p, sizeof(p), "%s/file", d);
	snprintf(q, sizeof(q), "%s/new", d);
	CHECK_ERR(open(q, O_WRONLY | O_CREAT, 0600), EROFS);
	CHECK_ERR(open(p, O_WRONLY), EROFS);
	CHECK_ERR(mkdir(q, 0700), EROFS);
	CHECK_ERR(unlink(p), EROFS);
	CHECK_ERR(rename(p, q), EROFS);
	CHECK_ERR(chmod(p, 0600), EROFS);
	CHECK_ERR(symlink("x", q), EROFS);
	/* EROFS comes before any ownership rule, and access(W_OK) says so. */
	CHECK_ERR(chown(p, 65534, 65534), EROFS);
	CHECK_ERR(utimensat(AT_FDCWD, p, NULL, 0), EROFS);
	CHECK_ERR(access(p, W_OK), EROFS);
	CHECK_OK(access(p, R_OK));
	/* Reading is fine. */
	int fd = CHECK_OK(open(p, O_RDONLY));
	close(fd);
}

TEST(read_only_and_remount)
{
	const char *d = mnt_dir("ro");
	CHECK_OK(mount("none", d, "tmpfs", 0, "size=1m"));
	char p[512];
	snprintf(p, sizeof(p), "%s/file", d);
	int fd = CHECK_OK(open(p, O_WRONLY | O_CREAT, 0644));
	/* Not while a description may still write there. */
	CHECK_ERR(mount(NULL, d, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), EBUSY);
	close(fd);
	/* Remounted read-only: EROFS for every change, "ro" in mounts. */
	CHECK_OK(mount(NULL, d, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL));
	expect_read_only(d);
	CHECK(strncmp(mount_opts(d), "ro,", 3) == 0);
	/* And back. */
	CHECK_OK(mount(NULL, d, "tmpfs", MS_REMOUNT, NULL));
	CHECK(strncmp(mount_opts(d), "rw,", 3) == 0);
	fd = CHECK_OK(open(p, O_WRONLY));
	CHECK_RET(write(fd, "w", 1), 1);
	close(fd);
	/* A remount needs the root of a mount; bad options are EINVAL. */
	CHECK_ERR(mount(NULL, t_tmpdir(), "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), EINVAL);
	CHECK_ERR(mount(NULL, d, "tmpfs", MS_REMOUNT, "bogus_option"), EINVAL);
	CHECK_OK(umount(d));
	/* Mounted read-only from the start. */
	CHECK_OK(mount("none", d, "tmpfs", MS_RDONLY, NULL));
	CHECK(strncmp(mount_opts(d), "ro,", 3) == 0);
	snprintf(p, sizeof(p), "%s/x", d);
	CHECK_ERR(open(p, O_WRONLY | O_CREAT, 0600), EROFS);
	CHECK_OK(umount(d));
}

TEST(dotdot_crosses_mounts)
{
	/* ".." from the root of a mount is the parent of its mount point;
	 * a mount point's inode is the mounted root's, not the directory's. */
	const char *d = strdup(mnt_dir("dd"));
	struct stat under, over, up, parent;
	CHECK_OK(stat(d, &under));
	CHECK_OK(stat(t_tmpdir(), &parent));
	CHECK_OK(mount("none", d, "tmpfs", 0, NULL));
	CHECK_OK(stat(d, &over));
	CHECK(over.st_dev != under.st_dev || over.st_ino != under.st_ino);
	char p[512];
	snprintf(p, sizeof(p), "%s/..", d);
	CHECK_OK(stat(p, &up));
	CHECK_EQ(up.st_dev, parent.st_dev);
	CHECK_EQ(up.st_ino, parent.st_ino);
	/* And from inside, through chdir. */
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(chdir(d));
		struct stat st;
		CHECK_OK(stat("..", &st));
		CHECK_EQ(st.st_ino, parent.st_ino);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_OK(umount(d));
	CHECK_OK(stat(d, &over));
	CHECK_EQ(over.st_ino, under.st_ino);
}

TEST(proc_instance)
{
	const char *d = mnt_dir("proc");
	CHECK_OK(mount("proc", d, "proc", 0, NULL));
	char p[512];
	snprintf(p, sizeof(p), "%s/self/status", d);
	CHECK_OK(access(p, R_OK));
	CHECK(mounted(d, "proc"));
	CHECK_OK(umount(d));
	CHECK_ERR(access(p, F_OK), ENOENT);
}

TEST(lazy_detach)
{
	const char *d = mnt_dir("lazy");
	CHECK_OK(mount("none", d, "tmpfs", 0, NULL));
	CHECK_OK(umount2(d, MNT_DETACH));
	CHECK(!mounted(d, "tmpfs"));
}

TEST(errors)
{
	const char *d = mnt_dir("err");
	/* Unknown type, bad options, missing or non-directory target. */
	CHECK_ERR(mount("none", d, "no-such-fs", 0, NULL), ENODEV);
	CHECK_ERR(mount("none", d, "tmpfs", 0, "bogus_option"), EINVAL);
	CHECK_ERR(mount("none", d, "tmpfs", 0, "size=abc"), EINVAL);
	CHECK_ERR(mount("none", t_path("missing"), "tmpfs", 0, NULL), ENOENT);
	const char *f = t_make_file("plain", "", 0644);
	CHECK_ERR(mount("none", f, "tmpfs", 0, NULL), ENOTDIR);
	CHECK_ERR(mount("none", (const char *)8, "tmpfs", 0, NULL), EFAULT);
	/* umount2: not a mount point, unknown flags, EXPIRE with DETACH. */
	CHECK_ERR(umount2(d, 0), EINVAL);
	CHECK_ERR(umount2(d, 0x100), EINVAL);
	CHECK_ERR(umount2(d, MNT_EXPIRE | MNT_DETACH), EINVAL);
	CHECK_ERR(umount2(t_path("missing"), 0), ENOENT);
	/* Without CAP_SYS_ADMIN: EPERM (once the target is found). */
	CHECK_OK(chmod(t_tmpdir(), 0755));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setuid(65534));
		CHECK_ERR(mount("none", d, "tmpfs", 0, NULL), EPERM);
		CHECK_ERR(umount2("/proc", 0), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(private_propagation_is_accepted)
{
	/* Every mount is private already; asking for it succeeds. In a child
	 * with its own mount namespace where the kernel has them (a Linux
	 * host keeps its propagation settings). */
	pid_t pid = t_fork();
	if (pid == 0) {
		(void)unshare(CLONE_NEWNS);
		CHECK_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		/* Two propagation types at once: EINVAL. */
		CHECK_ERR(mount(NULL, "/", NULL, MS_PRIVATE | MS_SLAVE, NULL), EINVAL);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
