/*
 * fcntl(2) queries and hints: F_DUPFD_QUERY, F_CREATED_QUERY,
 * F_GET_RW_HINT/F_SET_RW_HINT, and the order of fcntl's own errors.
 *
 * As fs/fcntl.c: the descriptor is checked first (EBADF whatever the
 * command), an O_PATH descriptor takes only the duplication, descriptor
 * flag, F_GETFL and query commands (else EBADF), unknown commands are
 * EINVAL.  F_DUPFD_QUERY is 1 for a descriptor of the same open file
 * description; F_CREATED_QUERY is 1 for the open that created the file.
 * The write-lifetime hint belongs to the file (every open sees it), 0..5,
 * settable by the owner; the per-description hint commands Linux removed
 * are EINVAL.
 */
#include "test.h"

#include <sys/wait.h>

#ifndef F_DUPFD_QUERY
#define F_DUPFD_QUERY 1027
#endif
#ifndef F_CREATED_QUERY
#define F_CREATED_QUERY 1028
#endif
#ifndef F_GET_RW_HINT
#define F_GET_RW_HINT 1035
#define F_SET_RW_HINT 1036
#endif
#define F_GET_FILE_RW_HINT_OLD 1037
#define F_SET_FILE_RW_HINT_OLD 1038

static long fc(int fd, int cmd, long arg)
{
	return syscall(SYS_fcntl, fd, cmd, arg);
}

TEST(dupfd_query)
{
	const char *path = t_make_file("dq", "x", 0600);
	int a = (int)CHECK_OK(open(path, O_RDONLY));
	int b = (int)CHECK_OK(dup(a));
	int c = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_RET(fc(a, F_DUPFD_QUERY, a), 1);
	CHECK_RET(fc(a, F_DUPFD_QUERY, b), 1);
	CHECK_RET(fc(b, F_DUPFD_QUERY, a), 1);
	CHECK_RET(fc(a, F_DUPFD_QUERY, c), 0);
	CHECK_ERR(fc(a, F_DUPFD_QUERY, 999), EBADF);
	CHECK_ERR(fc(a, F_DUPFD_QUERY, -1), EBADF);
	CHECK_ERR(fc(999, F_DUPFD_QUERY, a), EBADF);
	/* A forked child's descriptors share the descriptions. */
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(fc(a, F_DUPFD_QUERY, b), 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* O_PATH descriptors may ask and be asked about. */
	int p = (int)CHECK_OK(open(path, O_PATH));
	CHECK_RET(fc(p, F_DUPFD_QUERY, a), 0);
	int q = (int)CHECK_OK(fcntl(p, F_DUPFD_CLOEXEC, 0));
	CHECK_RET(fc(p, F_DUPFD_QUERY, q), 1);
	close(a);
	close(b);
	close(c);
	close(p);
	close(q);
}

TEST(created_query)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/cq", t_tmpdir());
	unlink(path);
	int a = (int)CHECK_OK(open(path, O_RDWR | O_CREAT, 0600));
	CHECK_RET(fc(a, F_CREATED_QUERY, 0), 1);
	int d = (int)CHECK_OK(dup(a));
	CHECK_RET(fc(d, F_CREATED_QUERY, 0), 1);
	int b = (int)CHECK_OK(open(path, O_RDWR | O_CREAT, 0600));
	CHECK_RET(fc(b, F_CREATED_QUERY, 0), 0);
	int c = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_RET(fc(c, F_CREATED_QUERY, 0), 0);
	int p = (int)CHECK_OK(open(path, O_PATH));
	CHECK_RET(fc(p, F_CREATED_QUERY, 0), 0);
	CHECK_ERR(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_OK(unlink(path));
	int e = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_RET(fc(e, F_CREATED_QUERY, 0), 1);
	int fds[2];
	CHECK_OK(pipe(fds));
	CHECK_RET(fc(fds[0], F_CREATED_QUERY, 0), 0);
	CHECK_ERR(fc(999, F_CREATED_QUERY, 0), EBADF);
	close(fds[0]);
	close(fds[1]);
	close(a);
	close(b);
	close(c);
	close(d);
	close(e);
	close(p);
	unlink(path);
}

TEST(rw_hint)
{
	const char *path = t_make_file("hint", "x", 0600);
	int a = (int)CHECK_OK(open(path, O_RDWR));
	uint64_t h = 99;
	CHECK_RET(fc(a, F_GET_RW_HINT, (long)&h), 0);
	CHECK_EQ(h, 0);
	for (uint64_t v = 0; v <= 5; v++) {
		h = v;
		CHECK_RET(fc(a, F_SET_RW_HINT, (long)&h), 0);
		h = 99;
		CHECK_RET(fc(a, F_GET_RW_HINT, (long)&h), 0);
		CHECK_EQ(h, v);
	}
	h = 3;
	CHECK_RET(fc(a, F_SET_RW_HINT, (long)&h), 0);
	/* The hint is the file's: another open sees it. */
	int b = (int)CHECK_OK(open(path, O_RDONLY));
	h = 0;
	CHECK_RET(fc(b, F_GET_RW_HINT, (long)&h), 0);
	CHECK_EQ(h, 3);
	h = 6;
	CHECK_ERR(fc(a, F_SET_RW_HINT, (long)&h), EINVAL);
	h = (uint64_t)-1;
	CHECK_ERR(fc(a, F_SET_RW_HINT, (long)&h), EINVAL);
	CHECK_ERR(fc(a, F_SET_RW_HINT, 8), EFAULT);
	CHECK_ERR(fc(a, F_GET_RW_HINT, 8), EFAULT);
	h = 0;
	CHECK_RET(fc(b, F_GET_RW_HINT, (long)&h), 0);
	CHECK_EQ(h, 3);
	/* The per-description commands are gone. */
	CHECK_ERR(fc(a, F_GET_FILE_RW_HINT_OLD, (long)&h), EINVAL);
	CHECK_ERR(fc(a, F_SET_FILE_RW_HINT_OLD, (long)&h), EINVAL);
	if (geteuid() == 0) {
		/* Only the owner (or CAP_FOWNER) may set it; anyone may read. */
		pid_t pid = t_fork();
		if (pid == 0) {
			CHECK_OK(setresuid(1000, 1000, 1000));
			uint64_t v = 1;
			CHECK_ERR(fc(b, F_SET_RW_HINT, (long)&v), EPERM);
			/* EPERM comes before the copy. */
			CHECK_ERR(fc(b, F_SET_RW_HINT, 8), EPERM);
			CHECK_RET(fc(b, F_GET_RW_HINT, (long)&v), 0);
			CHECK_EQ(v, 3);
			_exit(0);
		}
		t_wait_exit(pid, 0);
	}
	close(a);
	close(b);
}

TEST(error_order)
{
	int fd = (int)CHECK_OK(open(t_make_file("eo", "x", 0600), O_RDWR));
	CHECK_ERR(fc(fd, 9999, 0), EINVAL);
	CHECK_ERR(fc(fd, -1, 0), EINVAL);
	/* A bad descriptor is EBADF whatever the command. */
	CHECK_ERR(fc(999, 9999, 0), EBADF);
	CHECK_ERR(fc(-1, F_GETFL, 0), EBADF);
	/* O_PATH: only some commands, else EBADF, unknown ones included. */
	int p = (int)CHECK_OK(open(t_path("eo"), O_PATH));
	CHECK_RET(fc(p, F_GETFL, 0) & O_PATH, O_PATH);
	CHECK_RET(fc(p, F_SETFD, FD_CLOEXEC), 0);
	CHECK_RET(fc(p, F_GETFD, 0), FD_CLOEXEC);
	CHECK_ERR(fc(p, F_SETFL, O_NONBLOCK), EBADF);
	CHECK_ERR(fc(p, F_SETOWN, getpid()), EBADF);
	CHECK_ERR(fc(p, F_GETOWN, 0), EBADF);
	CHECK_ERR(fc(p, F_GET_RW_HINT, 0), EBADF);
	CHECK_ERR(fc(p, 9999, 0), EBADF);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	CHECK_ERR(fc(p, F_GETLK, (long)&fl), EBADF);
	close(p);
	close(fd);
}

static void put(const char *path, const char *value)
{
	int fd = (int)CHECK_OK(open(path, O_WRONLY));
	CHECK_RET(write(fd, value, strlen(value)), (long)strlen(value));
	close(fd);
}

TEST(new_pipe_capped_by_pipe_max_size)
{
	/* alloc_pipe_info: without CAP_SYS_RESOURCE a new pipe gets at most
	 * pipe-max-size (LTP fcntl35). */
	if (geteuid() != 0)
		t_skip("needs root to set pipe-max-size");
	const char *max = "/proc/sys/fs/pipe-max-size";
	char old[32] = { 0 };
	int fd = (int)CHECK_OK(open(max, O_RDONLY));
	CHECK(read(fd, old, sizeof(old) - 1) > 0);
	close(fd);
	put(max, "4096\n");
	int p[2];
	CHECK_OK(pipe(p));
	long root_size = fc(p[0], F_GETPIPE_SZ, 0);
	close(p[0]);
	close(p[1]);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setresuid(1000, 1000, 1000));
		int q[2];
		CHECK_OK(pipe(q));
		CHECK_RET(fc(q[0], F_GETPIPE_SZ, 0), 4096);
		_exit(0);
	}
	int status = t_wait(pid);
	put(max, old);
	/* Root keeps 16 pages only with CAP_SYS_RESOURCE (bit 24), which a
	 * container's root may lack. */
	unsigned long long eff = 0;
	char line[128];
	FILE *st = fopen("/proc/self/status", "r");
	CHECK(st != NULL);
	while (fgets(line, sizeof(line), st))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(st);
	CHECK_EQ(root_size, (eff >> 24) & 1 ? 65536 : 4096);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}
