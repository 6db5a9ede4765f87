/*
 * getcwd(2) and chdir(2).
 *
 * The raw getcwd returns the length of the path including its NUL (libc
 * returns the buffer pointer), so it is called directly.  Every sub-test
 * that changes directory runs in a child, leaving the parent's cwd alone.
 */
#include "test.h"

#include <limits.h>

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
