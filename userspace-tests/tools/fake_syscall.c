/*
 * fake_syscall - run a program under a "wrong kernel" for one system call.
 *
 *   fake_syscall NAME RESULT COND -- PROGRAM [ARGS...]
 *
 * Installs a seccomp filter that makes system call NAME return RESULT
 * without running it whenever COND holds, then executes PROGRAM.
 *   RESULT  "ok" (the call returns 0) or an errno name such as EINVAL
 *   COND    "always", "argN=K" (argument N's low 32 bits equal K) or
 *           "arg0=arg1" (the two first arguments are equal)
 *
 * Used by mutation-check on an x86_64 Linux host to show that each test
 * fails when the kernel gives a plausible wrong answer.  Not a guest test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "fake_syscall is for x86_64 hosts"
#endif

static const struct {
	const char *name;
	int nr;
} syscalls[] = {
#define S(x) { #x, SYS_##x }
	S(brk), S(clock_gettime), S(clock_nanosleep), S(close), S(dup3),
	S(epoll_create1), S(epoll_ctl), S(epoll_pwait), S(epoll_pwait2),
	S(execve), S(fcntl), S(ftruncate), S(getcwd), S(getdents64),
	S(getitimer), S(ioctl), S(kill), S(linkat), S(lseek), S(madvise),
	S(mincore), S(mlock), S(mlock2), S(mlockall), S(mmap),
	S(mprotect), S(msync), S(munmap), S(nanosleep), S(newfstatat),
	S(openat), S(openat2), S(pipe2), S(poll), S(ppoll), S(read),
	S(rt_sigaction), S(rt_sigprocmask), S(setitimer), S(setpgid),
	S(setsid), S(splice), S(tee), S(timer_create), S(timer_getoverrun),
	S(timer_settime), S(uname), S(wait4), S(write),
#undef S
};

static const struct {
	const char *name;
	int value;
} errnos[] = {
#define E(x) { #x, x }
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EBADF), E(ECHILD),
	E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EEXIST), E(ENOTDIR),
	E(EISDIR), E(EINVAL), E(ENOTTY), E(ESPIPE), E(EPIPE), E(ERANGE),
	E(ENOSYS), E(ENOEXEC), E(ENODEV), E(EXDEV), E(ELOOP), E(EOPNOTSUPP),
#undef E
};

static int lookup_syscall(const char *name)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (strcmp(syscalls[i].name, name) == 0)
			return syscalls[i].nr;
	if (name[0] >= '0' && name[0] <= '9')
		return atoi(name);
	return -1;
}

static int lookup_errno(const char *name)
{
	if (strcmp(name, "ok") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].value;
	return -1;
}

#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: %s NAME RESULT COND -- PROGRAM [ARGS...]\n",
			argv[0]);
		return 2;
	}
	int nr = lookup_syscall(argv[1]);
	int err = lookup_errno(argv[2]);
	if (nr < 0 || err < 0) {
		fprintf(stderr, "fake_syscall: unknown syscall or result\n");
		return 2;
	}
	const unsigned int fake = SECCOMP_RET_ERRNO | (unsigned int)err;
	struct sock_filter prog[16];
	int n = 0;
	/* Native x86_64 calls only; everything else runs normally. */
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 AUDIT_ARCH_X86_64, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 (unsigned int)nr, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	const char *cond = argv[3];
	unsigned int argi;
	long k;
	if (strcmp(cond, "always") == 0) {
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, fake);
	} else if (strcmp(cond, "arg0=arg1") == 0) {
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0));
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, fake);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	} else if (sscanf(cond, "arg%u=%li", &argi, &k) == 2 && argi < 6) {
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(argi));
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							 (unsigned int)k, 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, fake);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	} else {
		fprintf(stderr, "fake_syscall: bad condition %s\n", cond);
		return 2;
	}
	struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
		perror("fake_syscall: seccomp");
		return 2;
	}
	execv(argv[5], argv + 5);
	perror("fake_syscall: execv");
	return 127;
}
