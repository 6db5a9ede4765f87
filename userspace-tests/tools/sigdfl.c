/*
 * sigdfl PROGRAM [ARG...]: runs PROGRAM with every signal at its default
 * disposition and none blocked.
 *
 * Shells hand ignored signals down: busybox sh as a -c shell ignores
 * SIGQUIT itself and execs the last command of its string directly, so a
 * program started that way inherits SIGQUIT ignored (bash and ash
 * background jobs add SIGINT). Test suites such as LTP expect the
 * defaults (kill11 waits for a SIGQUIT death), so run-ltp starts each test
 * through this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sigdfl PROGRAM [ARG...]\n");
		return 2;
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL); /* libc-reserved ones fail: fine */
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "sigdfl: cannot run %s: %s\n", argv[1], strerror(errno));
	return 127;
}
