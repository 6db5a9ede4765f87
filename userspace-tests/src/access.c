/*
 * access(2), faccessat(2) and faccessat2(2): the real ids versus
 * AT_EACCESS, supplementary groups, root's execute rule, and the errors.
 */
#include "test.h"

#include <grp.h>

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static long raw_faccessat2(int dirfd, const char *path, int mode, int flags)
{
	return syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

/* A file `name` owned by uid:gid with `mode`; returns its path. */
static const char *owned_file(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	const char *p = t_make_file(name, "x", 0600);
	CHECK_RET(chown(p, uid, gid), 0);
	CHECK_RET(chmod(p, mode), 0);
	return p;
}

TEST(errors)
{
	const char *f = t_make_file("f", "x", 0644);
	CHECK_ERR(access(f, 8), EINVAL);
	CHECK_ERR(raw_faccessat2(AT_FDCWD, f, R_OK, 0x4), EINVAL);
	CHECK_ERR(access(t_path("missing"), F_OK), ENOENT);
	char p[400];
	snprintf(p, sizeof(p), "%s/below", f);
	CHECK_ERR(access(p, F_OK), ENOTDIR);
	CHECK_ERR(syscall(SYS_faccessat, AT_FDCWD, (const char *)1, F_OK), EFAULT);
	CHECK_ERR(raw_faccessat2(-1, "relative", F_OK, 0), EBADF);
	/* AT_EMPTY_PATH checks the descriptor's file. */
	int fd = (int)CHECK_OK(open(f, O_RDONLY));
	CHECK_RET(raw_faccessat2(fd, "", R_OK, AT_EMPTY_PATH), 0);
	CHECK_ERR(raw_faccessat2(fd, "", R_OK, 0), ENOENT);
	close(fd);
}

TEST(root_execute_needs_an_x_bit)
{
	const char *f = owned_file("plain", 1234, 1234, 0644);
	CHECK_RET(access(f, R_OK | W_OK), 0);
	CHECK_ERR(access(f, X_OK), EACCES);
	CHECK_RET(chmod(f, 0001), 0);
	CHECK_RET(access(f, X_OK), 0);
	CHECK_RET(chmod(f, 0000), 0);
	CHECK_RET(access(f, R_OK | W_OK), 0);
	/* A directory is searchable for root whatever its bits. */
	CHECK_RET(mkdir(t_path("d"), 0), 0);
	CHECK_RET(access(t_path("d"), X_OK | R_OK), 0);
}

TEST(real_ids_unless_eaccess)
{
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	const char *rootonly = owned_file("rootonly", 0, 0, 0600);
	const char *nobodys = owned_file("nobodys", 65534, 65534, 0600);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* Real uid 0, effective (and fs) uid 65534. */
		CHECK_RET(setresuid(0, 65534, 0), 0);
		CHECK_RET(access(rootonly, R_OK), 0);
		CHECK_ERR(raw_faccessat2(AT_FDCWD, rootonly, R_OK, AT_EACCESS), EACCES);
		CHECK_RET(raw_faccessat2(AT_FDCWD, nobodys, R_OK | W_OK, AT_EACCESS), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		/* Real uid 65534, effective uid 0. */
		CHECK_RET(setresuid(65534, 0, 0), 0);
		CHECK_ERR(access(rootonly, R_OK), EACCES);
		CHECK_RET(access(nobodys, R_OK | W_OK), 0);
		CHECK_RET(raw_faccessat2(AT_FDCWD, rootonly, R_OK, AT_EACCESS), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(owner_group_other_classes)
{
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	/* The owner class decides for the owner, even if others may more. */
	const char *mine = owned_file("mine", 65534, 4321, 0077);
	const char *group = owned_file("group", 0, 4321, 0640);
	const char *other = owned_file("other", 0, 0, 0604);
	pid_t pid = t_fork();
	if (pid == 0) {
		gid_t groups[] = { 4321 };
		CHECK_RET(setgroups(1, groups), 0);
		CHECK_RET(setgid(65534), 0);
		CHECK_RET(setuid(65534), 0);
		CHECK_ERR(access(mine, R_OK), EACCES);
		/* A supplementary group gives the group class. */
		CHECK_RET(access(group, R_OK), 0);
		CHECK_ERR(access(group, W_OK), EACCES);
		CHECK_RET(access(other, R_OK), 0);
		CHECK_ERR(access(other, W_OK), EACCES);
		CHECK_ERR(access(other, X_OK), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		/* Without the group: other class. */
		CHECK_RET(setgroups(0, NULL), 0);
		CHECK_RET(setgid(65534), 0);
		CHECK_RET(setuid(65534), 0);
		CHECK_ERR(access(group, R_OK), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(walk_uses_the_same_ids)
{
	/* The directories on the way are searched with the ids the check
	 * uses: real ones for access, effective ones for AT_EACCESS. */
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	CHECK_RET(mkdir(t_path("rootdir"), 0700), 0);
	const char *f = owned_file("rootdir/f", 65534, 65534, 0666);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* Real 65534, effective root: access walks as 65534. */
		CHECK_RET(setresuid(65534, 0, 0), 0);
		CHECK_ERR(access(f, F_OK), EACCES);
		CHECK_RET(raw_faccessat2(AT_FDCWD, f, R_OK, AT_EACCESS), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		/* Real root, effective 65534: the other way round. */
		CHECK_RET(setresuid(0, 65534, 0), 0);
		CHECK_RET(access(f, R_OK), 0);
		CHECK_ERR(raw_faccessat2(AT_FDCWD, f, F_OK, AT_EACCESS), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
