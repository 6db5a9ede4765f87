/*
 * Resource limits: getrlimit/setrlimit/prlimit64, their permission rules
 * and errors, inheritance across fork and execve, and enforcement of
 * RLIMIT_NOFILE (EMFILE) and RLIMIT_NPROC (EAGAIN).
 */
#include "test.h"

#include <sys/resource.h>

static struct rlimit get(int res)
{
	struct rlimit r;
	CHECK_RET(getrlimit(res, &r), 0);
	return r;
}

TEST(defaults_are_plausible)
{
	struct rlimit r = get(RLIMIT_NOFILE);
	CHECK(r.rlim_cur >= 64 && r.rlim_cur <= r.rlim_max);
	r = get(RLIMIT_STACK);
	CHECK(r.rlim_cur >= 128 * 1024);
	r = get(RLIMIT_AS);
	CHECK(r.rlim_cur <= r.rlim_max);
	r = get(RLIMIT_NPROC);
	CHECK(r.rlim_cur > 0);
}

TEST(set_and_report_every_resource)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int res[] = { RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE,
			      RLIMIT_AS, RLIMIT_MEMLOCK, RLIMIT_LOCKS, RLIMIT_MSGQUEUE };
		for (unsigned i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
			struct rlimit want = get(res[i]);
			/* Lower the soft limit (always allowed) and read it back. */
			if (want.rlim_cur == RLIM_INFINITY || want.rlim_cur > (1 << 20))
				want.rlim_cur = 1 << 20;
			else if (want.rlim_cur > 1)
				want.rlim_cur /= 2;
			CHECK_RET(setrlimit(res[i], &want), 0);
			struct rlimit got = get(res[i]);
			CHECK_EQ(got.rlim_cur, want.rlim_cur);
			CHECK_EQ(got.rlim_max, want.rlim_max);
		}
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(errors)
{
	struct rlimit r = get(RLIMIT_NOFILE);
	struct rlimit bad = { r.rlim_max, r.rlim_cur ? r.rlim_cur - 1 : 0 };
	if (bad.rlim_cur > bad.rlim_max)
		CHECK_ERR(setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	CHECK_ERR(syscall(SYS_prlimit64, 0, 1000, NULL, &r), EINVAL);
	CHECK_ERR(syscall(SYS_prlimit64, 0x3ffffff, RLIMIT_NOFILE, NULL, &r), ESRCH);
	CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8), EFAULT);
	CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (void *)8, NULL), EFAULT);
	/* NOFILE above nr_open. */
	struct rlimit huge = { 1 << 20, (1UL << 30) };
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &huge), EPERM);
}

TEST(prlimit_on_child_and_old_value)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	struct rlimit newl = { 77, 88 }, old;
	CHECK_RET(prlimit(pid, RLIMIT_CORE, &newl, &old), 0);
	struct rlimit got;
	CHECK_RET(prlimit(pid, RLIMIT_CORE, NULL, &got), 0);
	CHECK_EQ(got.rlim_cur, 77);
	CHECK_EQ(got.rlim_max, 88);
	/* Our own limit is untouched. */
	CHECK_RET(prlimit(0, RLIMIT_CORE, NULL, &got), 0);
	CHECK_EQ(got.rlim_cur, old.rlim_cur);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
}

TEST(raising_hard_limit_needs_privilege)
{
	if (geteuid() != 0)
		t_skip("needs root to drop privileges");
	pid_t pid = t_fork();
	if (pid == 0) {
		struct rlimit r = { 100, 200 };
		CHECK_RET(setrlimit(RLIMIT_NOFILE, &r), 0);
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		r.rlim_max = 300;
		CHECK_ERR(setrlimit(RLIMIT_NOFILE, &r), EPERM);
		r.rlim_max = 150;
		CHECK_RET(setrlimit(RLIMIT_NOFILE, &r), 0);
		/* Another user's process: EPERM. */
		CHECK_ERR(prlimit(getppid(), RLIMIT_NOFILE, NULL, &r), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(nofile_enforced)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct rlimit r = { 16, 16 };
		CHECK_RET(setrlimit(RLIMIT_NOFILE, &r), 0);
		int last = -1;
		for (;;) {
			int fd = open("/dev/null", O_RDONLY);
			if (fd < 0) {
				CHECK_EQ(errno, EMFILE);
				break;
			}
			last = fd;
		}
		CHECK_EQ(last, 15);
		CHECK_ERR(dup(0), EMFILE);
		CHECK_ERR(fcntl(0, F_DUPFD, 20), EINVAL);
		CHECK_ERR(dup2(0, 16), EBADF);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(nproc_enforced)
{
	if (geteuid() != 0)
		t_skip("needs root to switch to an unused uid");
	pid_t pid = t_fork();
	if (pid == 0) {
		struct rlimit r = { 3, 3 };
		CHECK_RET(setrlimit(RLIMIT_NPROC, &r), 0);
		CHECK_RET(setresuid(4321, 4321, 4321), 0);
		pid_t kids[3];
		int n = 0;
		for (; n < 3; n++) {
			kids[n] = fork();
			if (kids[n] == 0) {
				pause();
				_exit(0);
			}
			if (kids[n] < 0)
				break;
		}
		/* This process and two children use the three slots. */
		CHECK_EQ(n, 2);
		CHECK_EQ(errno, EAGAIN);
		for (int i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		for (int i = 0; i < n; i++)
			waitpid(kids[i], NULL, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(inherited_by_fork)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct rlimit r = { 12345, RLIM_INFINITY };
		CHECK_RET(setrlimit(RLIMIT_CORE, &r), 0);
		pid_t gc = fork();
		if (gc == 0) {
			struct rlimit g;
			getrlimit(RLIMIT_CORE, &g);
			_exit(g.rlim_cur == 12345 ? 0 : 1);
		}
		int st;
		CHECK_RET(waitpid(gc, &st, 0), gc);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(fsize_enforced)
{
	/* generic_write_check_limits: a write is cut at RLIMIT_FSIZE; at or
	 * past it EFBIG and SIGXFSZ. Pipes are not files: not limited. */
	pid_t pid = t_fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit r = { 10, RLIM_INFINITY };
		CHECK_OK(setrlimit(RLIMIT_FSIZE, &r));
		const char *p = t_path("fsize");
		int fd = CHECK_OK(open(p, O_RDWR | O_CREAT | O_TRUNC, 0600));
		const char *text = "abcdefghijklmnopqrstuvwxyz";
		CHECK_RET(write(fd, text, 26), 10);
		CHECK_ERR(write(fd, text, 1), EFBIG);
		CHECK_ERR(pwrite(fd, text, 1, 10), EFBIG);
		CHECK_RET(pwrite(fd, text, 4, 8), 2);
		/* Growing past it by truncation: EFBIG; shrinking is fine. */
		CHECK_ERR(ftruncate(fd, 11), EFBIG);
		CHECK_OK(ftruncate(fd, 4));
		CHECK_OK(ftruncate(fd, 10));
		int pp[2];
		CHECK_OK(pipe(pp));
		CHECK_RET(write(pp[1], text, 26), 26);
		close(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* Not ignored, SIGXFSZ kills (its default action dumps core; no core
	 * is wanted here). */
	pid = t_fork();
	if (pid == 0) {
		struct rlimit none = { 0, 0 };
		CHECK_OK(setrlimit(RLIMIT_CORE, &none));
		struct rlimit r = { 4, RLIM_INFINITY };
		CHECK_OK(setrlimit(RLIMIT_FSIZE, &r));
		int fd = CHECK_OK(open(t_path("fsize2"), O_WRONLY | O_CREAT | O_TRUNC, 0600));
		CHECK_RET(write(fd, "12345678", 8), 4);
		if (write(fd, "x", 1) >= 0)
			_exit(3);
		_exit(4);
	}
	t_wait_signal(pid, SIGXFSZ);
}

static int xcpu_pipe[2];

static void on_xcpu(int sig)
{
	(void)sig;
	if (write(xcpu_pipe[1], "x", 1) < 0)
		_exit(5);
}

TEST(cpu_limit_sigxcpu_then_sigkill)
{
	/* RLIMIT_CPU: SIGXCPU at the soft limit (1 s of CPU time), SIGKILL
	 * at the hard limit (2 s). */
	CHECK_OK(pipe(xcpu_pipe));
	pid_t pid = t_fork();
	if (pid == 0) {
		close(xcpu_pipe[0]);
		signal(SIGXCPU, on_xcpu);
		struct rlimit r = { 1, 2 };
		CHECK_OK(setrlimit(RLIMIT_CPU, &r));
		for (volatile unsigned long i = 0;; i++)
			;
	}
	close(xcpu_pipe[1]);
	t_wait_signal(pid, SIGKILL);
	char buf[8];
	CHECK(read(xcpu_pipe[0], buf, sizeof(buf)) >= 1);
	close(xcpu_pipe[0]);
}
