/*
 * Helpers shared by the ptrace tests: the raw syscall (glibc's wrapper
 * returns the PEEK* word itself; the syscall stores it through `data`),
 * a wait for a ptrace-stop and a child that traces itself.
 */
#ifndef PTRACE_UTIL_H
#define PTRACE_UTIL_H

#define pt(req, pid, addr, data)                                               \
	syscall(SYS_ptrace, (long)(req), (long)(pid), (long)(addr), (long)(data))

/* Waits (__WALL) for `pid` to stop with WSTOPSIG `sig`; returns the status. */
#define expect_stop(pid, sig) pt_expect_stop((pid), (sig), __FILE__, __LINE__)

T_HELPER int pt_expect_stop(pid_t pid, int sig, const char *file, int line)
{
	int st = 0;
	pid_t r;
	do
		r = waitpid(pid, &st, __WALL);
	while (r < 0 && errno == EINTR);
	if (r != pid || !WIFSTOPPED(st) || WSTOPSIG(st) != sig) {
		t_result("FAIL", file, line,
			 "waitpid(%d) = %d status 0x%x, expected a stop with signal %d",
			 (int)pid, (int)r, st, sig);
		t_bail();
	}
	return st;
}

/* A child that traces itself, stops with SIGSTOP and then runs `body`. */
T_HELPER pid_t traced_child(int (*body)(void))
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		raise(SIGSTOP);
		_exit(body());
	}
	expect_stop(pid, SIGSTOP);
	return pid;
}

/* In a child: waits until the parent writes a byte to the pipe `go`. */
T_HELPER void wait_for_go(int go[2])
{
	char c;
	close(go[1]);
	while (read(go[0], &c, 1) != 1)
		;
}

T_HELPER int exit_seven(void)
{
	return 7;
}

#endif
