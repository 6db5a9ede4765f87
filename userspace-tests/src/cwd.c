/*
 * getcwd(2), chdir(2), fchdir(2) and chroot(2).
 *
 * The raw getcwd returns the length of the path including its NUL (libc
 * returns the buffer pointer), so it is called directly.  Every sub-test
 * that changes directory runs in a child, leaving the parent's cwd alone.
 */
#include "test.h"

#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>

static long raw_getcwd(char *buf, size_t size)
{
	return syscall(SYS_getcwd, buf, size);
}

/*
 * The scratch directory as getcwd spells it, found by going there (its
 * name may pass through symbolic links, which getcwd resolves).
 */
static void real_tmpdir(char *out, size_t len)
{
	char saved[PATH_MAX];
	CHECK(raw_getcwd(saved, sizeof(saved)) > 0);
	CHECK_RET(chdir(t_tmpdir()), 0);
	long n = raw_getcwd(out, len);
	CHECK_RET(chdir(saved), 0);
	CHECK_MSG(n > 1 && out[0] == '/', "getcwd gave %ld \"%s\"", n, out);
	/* It ends in the scratch directory's own name. */
	const char *base = strrchr(t_tmpdir(), '/');
	size_t bl = strlen(base);
	CHECK_MSG((size_t)n > bl && strcmp(out + n - 1 - bl, base) == 0,
		  "getcwd \"%s\" does not end in \"%s\"", out, base);
}

TEST(root)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chdir("/"), 0);
		char buf[16];
		memset(buf, 'x', sizeof(buf));
		CHECK_RET(raw_getcwd(buf, sizeof(buf)), 2);
		CHECK_STREQ(buf, "/");
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(chdir_then_getcwd)
{
	char want[PATH_MAX];
	real_tmpdir(want, sizeof(want));
	CHECK_RET(mkdir(t_path("sub"), 0700), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chdir(t_path("sub")), 0);
		char buf[PATH_MAX];
		long n = raw_getcwd(buf, sizeof(buf));
		char expect[PATH_MAX + 8];
		snprintf(expect, sizeof(expect), "%s/sub", want);
		CHECK_STREQ(buf, expect);
		CHECK_EQ(n, strlen(expect) + 1);
		/* Relative paths now resolve against the new directory. */
		int fd = (int)CHECK_OK(open("here", O_WRONLY | O_CREAT, 0600));
		close(fd);
		CHECK_RET(access(t_path("sub/here"), F_OK), 0);
		/* ".." goes back up. */
		CHECK_RET(chdir(".."), 0);
		CHECK_EQ(raw_getcwd(buf, sizeof(buf)), strlen(want) + 1);
		CHECK_STREQ(buf, want);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(cwd_is_per_process)
{
	char before[PATH_MAX], after[PATH_MAX];
	CHECK(raw_getcwd(before, sizeof(before)) > 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chdir("/"), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK(raw_getcwd(after, sizeof(after)) > 0);
	CHECK_STREQ(after, before);
}

TEST(getcwd_erange)
{
	char want[PATH_MAX];
	real_tmpdir(want, sizeof(want));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chdir(t_tmpdir()), 0);
		size_t need = strlen(want) + 1;
		char buf[PATH_MAX];
		/* One byte short (no room for the NUL) is too small. */
		CHECK_ERR(raw_getcwd(buf, need - 1), ERANGE);
		CHECK_ERR(raw_getcwd(buf, 1), ERANGE);
		/* Exactly enough works. */
		CHECK_RET(raw_getcwd(buf, need), (long)need);
		/* libc getcwd reports the same errno. */
		errno = 0;
		CHECK(getcwd(buf, 2) == NULL);
		CHECK_EQ(errno, ERANGE);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(getcwd_efault)
{
	CHECK_ERR(raw_getcwd((char *)1, 4096), EFAULT);
	CHECK_ERR(raw_getcwd(NULL, 4096), EFAULT);
}

TEST(chdir_errors)
{
	const char *file = t_make_file("file", "x", 0600);
	char p[400];
	CHECK_ERR(chdir(t_path("missing")), ENOENT);
	CHECK_ERR(chdir(""), ENOENT);
	CHECK_ERR(chdir(file), ENOTDIR);
	snprintf(p, sizeof(p), "%s/deeper", file);
	CHECK_ERR(chdir(p), ENOTDIR);
	CHECK_ERR(syscall(SYS_chdir, (const char *)1), EFAULT);
	/* Failures leave the working directory where it was. */
	char a[PATH_MAX], b[PATH_MAX];
	CHECK(raw_getcwd(a, sizeof(a)) > 0);
	CHECK_ERR(chdir(t_path("missing")), ENOENT);
	CHECK(raw_getcwd(b, sizeof(b)) > 0);
	CHECK_STREQ(a, b);
}

TEST(fchdir)
{
	char want[PATH_MAX];
	real_tmpdir(want, sizeof(want));
	pid_t pid = t_fork();
	if (pid == 0) {
		int fd = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
		CHECK_RET(chdir("/"), 0);
		CHECK_RET(fchdir(fd), 0);
		char buf[PATH_MAX];
		CHECK(raw_getcwd(buf, sizeof(buf)) > 0);
		CHECK_STREQ(buf, want);
		int f = (int)CHECK_OK(open(t_path("file2"), O_WRONLY | O_CREAT, 0600));
		CHECK_ERR(fchdir(f), ENOTDIR);
		CHECK_ERR(fchdir(-1), EBADF);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* Runs the rest of a child as an unprivileged user (uid and gid 65534). */
static void drop_to_nobody(void)
{
	CHECK_RET(setgroups(0, NULL), 0);
	CHECK_RET(setgid(65534), 0);
	CHECK_RET(setuid(65534), 0);
}

TEST(chdir_needs_search_permission)
{
	/* The scratch directory is 0700: open it to the other user. */
	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	CHECK_RET(mkdir(t_path("noexec"), 0755), 0);
	CHECK_RET(mkdir(t_path("noexec/inner"), 0755), 0);
	CHECK_RET(chmod(t_path("noexec"), 0644), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		int fd = (int)CHECK_OK(open(t_path("noexec"), O_RDONLY | O_DIRECTORY));
		drop_to_nobody();
		/* The directory itself, and one on the way, must be searchable. */
		CHECK_ERR(chdir(t_path("noexec")), EACCES);
		CHECK_ERR(chdir(t_path("noexec/inner")), EACCES);
		CHECK_ERR(fchdir(fd), EACCES);
		CHECK_RET(chdir(t_tmpdir()), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* Root is not held back by the mode bits. */
	pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chdir(t_path("noexec/inner")), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(chroot_errors)
{
	const char *file = t_make_file("file", "x", 0600);
	char p[400];
	CHECK_ERR(chroot(t_path("missing")), ENOENT);
	CHECK_ERR(chroot(""), ENOENT);
	CHECK_ERR(chroot(file), ENOTDIR);
	snprintf(p, sizeof(p), "%s/deeper", file);
	CHECK_ERR(chroot(p), ENOTDIR);
	CHECK_ERR(syscall(SYS_chroot, (const char *)1), EFAULT);
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_ERR(chroot(longname), ENAMETOOLONG);

	CHECK_RET(chmod(t_tmpdir(), 0755), 0);
	CHECK_RET(mkdir(t_path("open"), 0755), 0);
	CHECK_RET(mkdir(t_path("shut"), 0700), 0);
	CHECK_RET(mkdir(t_path("shut/in"), 0755), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		/* Without CAP_SYS_CHROOT: EPERM, but lookup errors come first. */
		CHECK_ERR(chroot(t_path("open")), EPERM);
		CHECK_ERR(chroot(t_path("shut/in")), EACCES);
		CHECK_ERR(chroot(t_path("missing")), ENOENT);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* Builds <tmp>/<name> with a file "f" ("hello") and a directory "sub". */
static const char *make_jail(const char *name)
{
	static char jail[320];
	char p[400];
	snprintf(jail, sizeof(jail), "%s", t_path(name));
	CHECK_RET(mkdir(jail, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub", jail);
	CHECK_RET(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/f", name);
	t_make_file(p, "hello", 0644);
	if (access(t_path("outside"), F_OK) != 0)
		t_make_file("outside", "out", 0644);
	return jail;
}

TEST(chroot_confines_paths)
{
	const char *jail = make_jail("jail1");
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chroot(jail), 0);
		CHECK_RET(chdir("/"), 0);
		char buf[16] = { 0 };
		int fd = (int)CHECK_OK(open("/f", O_RDONLY));
		CHECK_RET(read(fd, buf, sizeof(buf)), 5);
		CHECK_STREQ(buf, "hello");
		close(fd);
		/* ".." at the new root stays there. */
		struct stat root, up, upup;
		CHECK_RET(stat("/", &root), 0);
		CHECK_RET(stat("/..", &up), 0);
		CHECK_RET(stat("/sub/../../..", &upup), 0);
		CHECK_EQ(up.st_ino, root.st_ino);
		CHECK_EQ(upup.st_ino, root.st_ino);
		CHECK_RET(access("/sub/../f", R_OK), 0);
		/* Names outside the jail are gone. */
		CHECK_ERR(access("/outside", F_OK), ENOENT);
		CHECK_ERR(access("../outside", F_OK), ENOENT);
		/* getcwd and chdir speak the jail's paths. */
		CHECK_RET(chdir("/sub"), 0);
		char cwd[PATH_MAX];
		CHECK_RET(raw_getcwd(cwd, sizeof(cwd)), 5);
		CHECK_STREQ(cwd, "/sub");
		/* A child inherits the root. */
		pid_t c = t_fork();
		if (c == 0) {
			CHECK_RET(access("/f", R_OK), 0);
			CHECK_ERR(access("/outside", F_OK), ENOENT);
			_exit(0);
		}
		t_wait_exit(c, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The parent's root is unchanged. */
	CHECK_RET(access(t_path("outside"), F_OK), 0);
}

TEST(chroot_keeps_cwd_outside)
{
	const char *jail = make_jail("jail2");
	char outside[PATH_MAX];
	real_tmpdir(outside, sizeof(outside));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(chdir(t_tmpdir()), 0);
		CHECK_RET(chroot(jail), 0);
		/*
		 * The current directory is left where it was: outside the new
		 * root, so getcwd marks it unreachable and relative names still
		 * resolve there.
		 */
		char cwd[PATH_MAX];
		long n = raw_getcwd(cwd, sizeof(cwd));
		char want[PATH_MAX + 16];
		snprintf(want, sizeof(want), "(unreachable)%s", outside);
		CHECK_STREQ(cwd, want);
		CHECK_EQ(n, (long)strlen(want) + 1);
		errno = 0;
		CHECK(getcwd(cwd, sizeof(cwd)) == NULL);
		CHECK_EQ(errno, ENOENT);
		CHECK_RET(access("outside", R_OK), 0);
		CHECK_RET(chdir("/"), 0);
		CHECK_RET(raw_getcwd(cwd, sizeof(cwd)), 2);
		CHECK_STREQ(cwd, "/");
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(chroot_proc_links)
{
	const char *jail = make_jail("jail3");
	int ready[2];
	CHECK_RET(pipe(ready), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(ready[0]);
		int proc = open("/proc", O_RDONLY | O_DIRECTORY);
		if (proc < 0)
			t_skip("no /proc");
		CHECK_RET(chroot(jail), 0);
		CHECK_RET(chdir("/sub"), 0);
		int fd = (int)CHECK_OK(open("/f", O_RDONLY));
		char link[64], buf[PATH_MAX];
		/* Links read from inside show paths below the new root. */
		snprintf(link, sizeof(link), "self/fd/%d", fd);
		ssize_t n = CHECK_OK(readlinkat(proc, link, buf, sizeof(buf) - 1));
		buf[n] = '\0';
		CHECK_STREQ(buf, "/f");
		n = CHECK_OK(readlinkat(proc, "self/cwd", buf, sizeof(buf) - 1));
		buf[n] = '\0';
		CHECK_STREQ(buf, "/sub");
		n = CHECK_OK(readlinkat(proc, "self/root", buf, sizeof(buf) - 1));
		buf[n] = '\0';
		CHECK_STREQ(buf, "/");
		/* Let the parent look from outside, then wait to be killed. */
		char fdbyte = (char)fd;
		CHECK_RET(write(ready[1], &fdbyte, 1), 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1) {
		/* The child failed or skipped: report that. */
		t_wait_exit(pid, 0);
		t_fail("child ended without reporting");
	}
	close(ready[0]);
	/* From outside, the same links show the global paths. */
	char link[64], buf[PATH_MAX], want[PATH_MAX + 8], jailpath[PATH_MAX];
	CHECK(realpath(jail, jailpath) != NULL);
	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STREQ(buf, jailpath);
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "%s/sub", jailpath);
	CHECK_STREQ(buf, want);
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, (int)c);
	n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "%s/f", jailpath);
	CHECK_STREQ(buf, want);
	kill(pid, SIGKILL);
	t_wait_signal(pid, SIGKILL);
}

TEST(chroot_mounts_file)
{
	/* /proc/self/mounts lists only mounts below the root, by their paths
	 * from there. */
	const char *jail = make_jail("jail4");
	pid_t pid = t_fork();
	if (pid == 0) {
		(void)unshare(CLONE_NEWNS);
		int proc = open("/proc", O_RDONLY | O_DIRECTORY);
		if (proc < 0)
			t_skip("no /proc");
		CHECK_RET(chroot(jail), 0);
		CHECK_RET(mount("jailfs", "/sub", "tmpfs", 0, NULL), 0);
		int fd = (int)CHECK_OK(openat(proc, "self/mounts", O_RDONLY));
		char text[4096];
		ssize_t n = CHECK_OK(read(fd, text, sizeof(text) - 1));
		text[n] = '\0';
		close(fd);
		CHECK_MSG(strncmp(text, "jailfs /sub tmpfs ", 18) == 0 && !strchr(text, '\n')[1],
			  "mounts: \"%s\"", text);
		CHECK_RET(umount("/sub"), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
