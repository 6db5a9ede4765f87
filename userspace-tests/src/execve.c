/*
 * execve(2): argument and environment passing, error cases, and what an
 * exec keeps or resets (pid, close-on-exec descriptors, signal state).
 *
 * The program re-executes itself ("--child <mode> ...") to observe the new
 * image; the child mode exits 0 when what it sees is right, or a distinct
 * code (printing a "# " line) when not.
 */
#include "test.h"

#include <pthread.h>

extern char **environ;

/* glibc passes (argc, argv, envp) to constructors: check an argv-less
 * exec before main() would interpret the arguments. */
__attribute__((constructor)) static void empty_argv_child(int argc,
							  char **argv,
							  char **envp)
{
	(void)envp;
	if (!getenv("T_EXEC_EMPTY_ARGV"))
		return;
	_exit(argc == 1 && argv[0] && argv[0][0] == '\0' && !argv[1] ? 0 : 3);
}

/* The running-program side of etxtbsy_write_while_running: say so on
 * stdout (a pipe), then wait to be killed. */
__attribute__((constructor)) static void running_child(void)
{
	if (getenv("T_EXEC_CHAIN")) {
		/* Become a shell that reports and sleeps. */
		execl("/bin/sh", "sh", "-c", "echo r; exec sleep 30", (char *)NULL);
		_exit(127);
	}
	if (!getenv("T_EXEC_RUNNING"))
		return;
	if (write(1, "r", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

static const char *self(void)
{
	if (!strchr(t_argv[0], '/'))
		t_fail("argv[0] \"%s\" is not a path; run the test by path",
		       t_argv[0]);
	return t_argv[0];
}

/* Forks, and in the child execs self with "--child" + `args` and `envp`. */
static pid_t spawn_self(char *const args[], char *const envp[])
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)self();
	argv[n++] = "--child";
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = t_fork();
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	return pid;
}

static int child_fail(int code, const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "# exec child: %s\n", what);
	if (write(1, buf, (size_t)n) < 0)
		return code;
	return code;
}

/* Child side of argv_envp: the exact vectors given by the parent. */
static int child_args(int argc, char **argv)
{
	static const char *want_args[] = { "args", "one", "two words", "", NULL };
	static const char *want_env[] = { "FOO=bar", "EMPTY=", "X=1=2", NULL };
	int i;
	for (i = 0; want_args[i]; i++)
		if (i >= argc || strcmp(argv[i], want_args[i]) != 0)
			return child_fail(10 + i, "argv differs");
	if (argc != i || argv[argc] != NULL)
		return child_fail(20, "argc differs");
	for (i = 0; want_env[i]; i++)
		if (!environ[i] || strcmp(environ[i], want_env[i]) != 0)
			return child_fail(30 + i, "envp differs");
	if (environ[i] != NULL)
		return child_fail(40, "envp has extra entries");
	if (strcmp(getenv("FOO"), "bar") != 0)
		return child_fail(41, "getenv(FOO)");
	return 0;
}

/* Child side of cloexec_fds: argv = fd that must be closed, fd that must not. */
static int child_fds(char **argv)
{
	int closed_fd = atoi(argv[1]), open_fd = atoi(argv[2]);
	errno = 0;
	if (fcntl(closed_fd, F_GETFD) != -1 || errno != EBADF)
		return child_fail(10, "close-on-exec fd survived exec");
	int fl = fcntl(open_fd, F_GETFD);
	if (fl < 0)
		return child_fail(11, "inherited fd was closed");
	if (fl & FD_CLOEXEC)
		return child_fail(12, "inherited fd gained FD_CLOEXEC");
	/* The surviving descriptor is still the same pipe: write through it. */
	if (write(open_fd, "ok", 2) != 2)
		return child_fail(13, "write to inherited fd failed");
	return 0;
}

/* Child side of keeps_pid: argv[1] is the pid before exec. */
static int child_pid(char **argv)
{
	if (getpid() != atoi(argv[1]))
		return child_fail(10, "pid changed across exec");
	if (syscall(SYS_gettid) != getpid())
		return child_fail(11, "tid != pid after exec");
	if (getppid() != atoi(argv[2]))
		return child_fail(12, "parent changed across exec");
	return 0;
}

/* Child side of signal_state: see the parent's setup in TEST(signal_state). */
static int child_signals(void)
{
	struct sigaction sa;
	if (sigaction(SIGUSR1, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		return child_fail(10, "caught signal not reset to SIG_DFL");
	if (sigaction(SIGUSR2, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN)
		return child_fail(11, "ignored signal not kept ignored");
	sigset_t mask;
	if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0)
		return child_fail(12, "sigprocmask failed");
	if (!sigismember(&mask, SIGINT))
		return child_fail(13, "signal mask not preserved");
	if (sigismember(&mask, SIGUSR1))
		return child_fail(14, "signal mask gained SIGUSR1");
	/* The pending SIGINT (blocked) survives exec too. */
	sigset_t pend;
	if (sigpending(&pend) != 0 || !sigismember(&pend, SIGINT))
		return child_fail(15, "pending signal lost across exec");
	return 0;
}

/* Child side of altstack_reset: no alternate signal stack after exec. */
static int child_altstack(void)
{
	stack_t ss;
	if (syscall(SYS_sigaltstack, NULL, &ss) != 0)
		return child_fail(10, "sigaltstack failed");
	if (ss.ss_flags != SS_DISABLE)
		return child_fail(11, "alternate stack survived exec");
	return 0;
}

int t_child_main(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	if (strcmp(argv[0], "args") == 0)
		return child_args(argc, argv);
	if (strcmp(argv[0], "fds") == 0 && argc == 3)
		return child_fds(argv);
	if (strcmp(argv[0], "pid") == 0 && argc == 3)
		return child_pid(argv);
	if (strcmp(argv[0], "signals") == 0)
		return child_signals();
	if (strcmp(argv[0], "altstack") == 0)
		return child_altstack();
	/* Started through a "#!<this program> --child" script: the script's
	 * path, then the arguments execve was given after argv[0]. */
	if (strstr(argv[0], "shebang-script"))
		return argc == 3 && strcmp(argv[1], "a") == 0 && strcmp(argv[2], "b c") == 0 ? 0 : 1;
	return 2;
}

TEST(argv_envp)
{
	char *args[] = { "args", "one", "two words", "", NULL };
	char *envp[] = { "FOO=bar", "EMPTY=", "X=1=2", NULL };
	pid_t pid = spawn_self(args, envp);
	t_wait_exit(pid, 0);
}

TEST(empty_envp)
{
	/* envp may be empty: the new image starts with no environment. */
	char *argv[] = { (char *)self(), "--child", "env-empty", NULL };
	char *envp[] = { NULL };
	pid_t pid = t_fork();
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	/* "env-empty" is an unknown child mode: exit 2 proves the exec ran. */
	t_wait_exit(pid, 2);
}

TEST(shebang_with_an_argument)
{
	/* binfmt_script: the interpreter, its one optional argument, the
	 * script's path, then argv[1..]; argv[0] is dropped. */
	char text[512];
	snprintf(text, sizeof(text), "#!%s --child\n", self());
	const char *script = t_make_file("shebang-script", text, 0755);
	char *argv[] = { "ignored", "a", "b c", NULL };
	char *envp[] = { NULL };
	pid_t pid = t_fork();
	if (pid == 0) {
		execve(script, argv, envp);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}

TEST(enoent)
{
	char *argv[] = { "nope", NULL };
	char *envp[] = { NULL };
	CHECK_ERR(execve("/nonexistent-dir/nonexistent", argv, envp), ENOENT);
	CHECK_ERR(execve(t_path("missing"), argv, envp), ENOENT);
	/* A path through a regular file is ENOTDIR. */
	char p[400];
	snprintf(p, sizeof(p), "%s/x", self());
	CHECK_ERR(execve(p, argv, envp), ENOTDIR);
}

TEST(eacces_not_executable)
{
	/* No execute bit for anyone: EACCES even for root. */
	const char *p = t_make_file("noexec", "#!/bin/sh\nexit 0\n", 0644);
	char *argv[] = { (char *)p, NULL };
	char *envp[] = { NULL };
	CHECK_ERR(execve(p, argv, envp), EACCES);
	/* A directory is not a regular file: EACCES. */
	CHECK_ERR(execve(t_tmpdir(), argv, envp), EACCES);
}

TEST(eacces_by_class)
{
	/* The x bit of the caller's class decides (owner, group, other):
	 * 0706 denies another user, 0705 lets it run the script. */
	CHECK_OK(chmod(t_tmpdir(), 0755));
	const char *p = t_make_file("owner-only", "#!/bin/sh\nexit 7\n", 0706);
	char *argv[] = { (char *)p, NULL };
	char *envp[] = { NULL };
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgid(65534));
		CHECK_OK(setuid(65534));
		CHECK_ERR(execve(p, argv, envp), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_OK(chmod(p, 0705));
	pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setgid(65534));
		CHECK_OK(setuid(65534));
		execve(p, argv, envp);
		_exit(127);
	}
	t_wait_exit(pid, 7);
}

TEST(etxtbsy_open_for_write)
{
	/* deny_write_access(): a file open for writing cannot be executed;
	 * once the writer is closed it can. */
	const char *p = t_make_file("busy", "#!/bin/sh\nexit 5\n", 0755);
	int fd = CHECK_OK(open(p, O_WRONLY));
	char *argv[] = { (char *)p, NULL };
	char *envp[] = { NULL };
	CHECK_ERR(execve(p, argv, envp), ETXTBSY);
	/* A read-only description does not count. */
	close(fd);
	fd = CHECK_OK(open(p, O_RDONLY));
	pid_t pid = t_fork();
	if (pid == 0) {
		execve(p, argv, envp);
		_exit(127);
	}
	t_wait_exit(pid, 5);
	close(fd);
}

TEST(etxtbsy_write_while_running)
{
	/* exe_file_deny_write_access: while a program runs, its file cannot
	 * be opened for writing (nor truncated by open); reading is fine, and
	 * writing works again once the program has gone. */
	const char *copy = strdup(t_path("running"));
	int in = CHECK_OK(open(self(), O_RDONLY));
	int out = CHECK_OK(open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755));
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		CHECK_RET(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	struct stat before;
	CHECK_OK(stat(copy, &before));
	int ready[2];
	CHECK_OK(pipe(ready));
	pid_t pid = t_fork();
	if (pid == 0) {
		dup2(ready[1], 1);
		char *argv[] = { (char *)copy, NULL };
		char *envp[] = { "T_EXEC_RUNNING=1", NULL };
		execve(copy, argv, envp);
		_exit(127);
	}
	close(ready[1]);
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	close(ready[0]);
	CHECK_ERR(open(copy, O_WRONLY), ETXTBSY);
	CHECK_ERR(open(copy, O_RDWR | O_TRUNC), ETXTBSY);
	struct stat during;
	CHECK_OK(stat(copy, &during));
	CHECK_EQ(during.st_size, before.st_size);
	int fd = CHECK_OK(open(copy, O_RDONLY));
	close(fd);
	kill(pid, SIGKILL);
	t_wait_signal(pid, SIGKILL);
	fd = CHECK_OK(open(copy, O_WRONLY));
	close(fd);
	/* A program that execs another releases its own file at once. */
	CHECK_OK(pipe(ready));
	pid = t_fork();
	if (pid == 0) {
		dup2(ready[1], 1);
		char *argv[] = { (char *)copy, NULL };
		char *envp[] = { "T_EXEC_CHAIN=1", NULL };
		execve(copy, argv, envp);
		_exit(127);
	}
	close(ready[1]);
	CHECK_RET(read(ready[0], &c, 1), 1);
	close(ready[0]);
	fd = CHECK_OK(open(copy, O_WRONLY));
	close(fd);
	kill(pid, SIGKILL);
	t_wait_signal(pid, SIGKILL);
}

TEST(empty_argv_becomes_empty_string)
{
	/* Since Linux 5.18 execve with argv == { NULL } gives the program
	 * argc == 1 and argv[0] == "". The child side is the constructor
	 * below, selected by the environment. */
	pid_t pid = t_fork();
	if (pid == 0) {
		char *argv[] = { NULL };
		char *envp[] = { "T_EXEC_EMPTY_ARGV=1", NULL };
		execve(self(), argv, envp);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}

TEST(enoexec_garbage)
{
	/* Executable, but neither ELF nor "#!": ENOEXEC. */
	static const char junk[] = "this is not a program\n\001\002\003\004";
	const char *p = t_make_file("garbage", junk, 0755);
	char *argv[] = { (char *)p, NULL };
	char *envp[] = { NULL };
	CHECK_ERR(execve(p, argv, envp), ENOEXEC);
	/* An ELF magic followed by nothing is not loadable either. */
	const char *q = t_make_file("truncated-elf", "\177ELF", 0755);
	argv[0] = (char *)q;
	CHECK_ERR(execve(q, argv, envp), ENOEXEC);
}

TEST(efault)
{
	/* In a child: a kernel that wrongly accepted these would replace us. */
	pid_t pid = t_fork();
	if (pid == 0) {
		char *argv[] = { "x", NULL };
		char *envp[] = { NULL };
		CHECK_ERR(syscall(SYS_execve, (const char *)1, argv, envp), EFAULT);
		char *bad_argv[] = { "x", (char *)1, NULL };
		CHECK_ERR(syscall(SYS_execve, self(), bad_argv, envp), EFAULT);
		CHECK_ERR(syscall(SYS_execve, self(), (char **)1, envp), EFAULT);
		char *bad_envp[] = { "A=b", (char *)1, NULL };
		CHECK_ERR(syscall(SYS_execve, self(), argv, bad_envp), EFAULT);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(cloexec_fds)
{
	int a[2], b[2];
	CHECK_RET(pipe2(a, O_CLOEXEC), 0);
	CHECK_RET(pipe(b), 0);
	/* Also set FD_CLOEXEC the other way, with F_SETFD, on a third fd. */
	int c = CHECK_OK(dup(b[0]));
	CHECK_RET(fcntl(c, F_SETFD, FD_CLOEXEC), 0);
	char s1[16], s2[16];
	snprintf(s1, sizeof(s1), "%d", a[1]);
	snprintf(s2, sizeof(s2), "%d", b[1]);
	char *args[] = { "fds", s1, s2, NULL };
	pid_t pid = spawn_self(args, environ);
	close(b[1]);
	t_wait_exit(pid, 0);
	char buf[4] = { 0 };
	CHECK_RET(read(b[0], buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "ok", 2) == 0);
	/* The child's copy of a[1] was closed at exec, the parent's was not. */
	CHECK_RET(fcntl(a[1], F_GETFD), FD_CLOEXEC);
	snprintf(s1, sizeof(s1), "%d", c);
	snprintf(s2, sizeof(s2), "%d", a[1]);
	/* Now the F_SETFD one must be gone and a[1] (flag cleared) kept. */
	CHECK_RET(fcntl(a[1], F_SETFD, 0), 0);
	pid = spawn_self(args, environ);
	t_wait_exit(pid, 0);
	CHECK_RET(read(a[0], buf, sizeof(buf)), 2);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(c);
}

TEST(keeps_pid)
{
	pid_t parent = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		char s1[16], s2[16];
		snprintf(s1, sizeof(s1), "%d", getpid());
		snprintf(s2, sizeof(s2), "%d", parent);
		char *argv[] = { (char *)self(), "--child", "pid", s1, s2, NULL };
		execve(argv[0], argv, environ);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(signal_state)
{
	/* execve(2): caught signals reset to default, ignored stay ignored,
	 * the mask and the pending set are preserved. */
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGUSR2, SIG_IGN);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGINT);
		sigprocmask(SIG_BLOCK, &m, NULL);
		kill(getpid(), SIGINT);
		char *argv[] = { (char *)self(), "--child", "signals", NULL };
		execve(argv[0], argv, environ);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}

TEST(exec_failure_keeps_process)
{
	/* A failed execve returns to the caller with its memory intact. */
	static volatile int marker = 1234;
	char *argv[] = { "x", NULL };
	char *envp[] = { NULL };
	CHECK_ERR(execve("/nonexistent-dir/x", argv, envp), ENOENT);
	CHECK_EQ(marker, 1234);
}

/* Arguments for a thread that execs "--child pid <pid> <ppid>". */
static char *exec_argv[6];
static char exec_pid[16], exec_ppid[16];

static void prepare_pid_exec(pid_t parent)
{
	snprintf(exec_pid, sizeof(exec_pid), "%d", getpid());
	snprintf(exec_ppid, sizeof(exec_ppid), "%d", parent);
	exec_argv[0] = (char *)self();
	exec_argv[1] = "--child";
	exec_argv[2] = "pid";
	exec_argv[3] = exec_pid;
	exec_argv[4] = exec_ppid;
	exec_argv[5] = NULL;
}

static void *exec_in_thread(void *arg)
{
	(void)arg;
	execve(exec_argv[0], exec_argv, environ);
	_exit(127);
}

static void *spin_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

TEST(exec_from_non_leader_thread)
{
	/* execve(2): the exec'ing thread takes over the process id, the
	 * other threads (the leader too) are gone, the parent is kept. */
	pid_t parent = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		prepare_pid_exec(parent);
		pthread_t th, other;
		pthread_create(&other, NULL, spin_forever, NULL);
		pthread_create(&th, NULL, exec_in_thread, NULL);
		for (;;)
			pause();
	}
	t_wait_exit(pid, 0);
}

TEST(exec_from_leader_kills_other_threads)
{
	pid_t parent = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		prepare_pid_exec(parent);
		pthread_t th[3];
		for (int i = 0; i < 3; i++)
			pthread_create(&th[i], NULL, spin_forever, NULL);
		execve(exec_argv[0], exec_argv, environ);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}

TEST(altstack_reset)
{
	static char alt[65536];
	pid_t pid = t_fork();
	if (pid == 0) {
		stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0 };
		CHECK_OK(syscall(SYS_sigaltstack, &ss, NULL));
		char *argv[] = { (char *)self(), "--child", "altstack", NULL };
		execve(argv[0], argv, environ);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}
