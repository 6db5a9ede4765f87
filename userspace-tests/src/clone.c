/*
 * clone(2) and clone3(2) flags: PARENT_SETTID, CHILD_SETTID,
 * CHILD_CLEARTID, PARENT, FILES, FS, VFORK with a new stack, SIGHAND rules,
 * and clone3's struct versions, exit_signal, set_tid, CLEAR_SIGHAND and
 * its errors.
 */
#include "test.h"

#include <linux/sched.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

static long clone3_(struct clone_args_v2 *a, size_t size)
{
	return syscall(SYS_clone3, a, size);
}

/* clone() with fork semantics through the raw syscall (no new stack). */
static long raw_clone(unsigned long flags, pid_t *ptid, pid_t *ctid)
{
#if defined(__x86_64__)
	return syscall(SYS_clone, flags, 0, ptid, ctid, 0);
#else
	return syscall(SYS_clone, flags, 0, ptid, 0, ctid);
#endif
}

TEST(clone3_like_fork)
{
	struct clone_args_v2 a;
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	long pid = clone3_(&a, 64);
	if (pid == 0)
		_exit(21);
	CHECK(pid > 0);
	t_wait_exit((pid_t)pid, 21);
}

TEST(clone3_exit_signal_zero_needs_wall)
{
	struct clone_args_v2 a;
	memset(&a, 0, sizeof(a));
	long pid = clone3_(&a, sizeof(a));
	if (pid == 0)
		_exit(3);
	CHECK(pid > 0);
	/* A child that sends no SIGCHLD is only waited for with __WALL. */
	int st;
	CHECK_ERR(waitpid((pid_t)pid, &st, WNOHANG), ECHILD);
	CHECK_RET(waitpid((pid_t)pid, &st, __WALL), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

TEST(clone3_settid_fields)
{
	pid_t ptid = 0;
	pid_t *ctid = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ctid != MAP_FAILED);
	struct clone_args_v2 a;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID;
	a.parent_tid = (uintptr_t)&ptid;
	a.child_tid = (uintptr_t)ctid;
	a.exit_signal = SIGCHLD;
	long pid = clone3_(&a, sizeof(a));
	if (pid == 0)
		_exit(*ctid == getpid() ? 0 : 1);
	CHECK(pid > 0);
	CHECK_EQ(ptid, pid);
	t_wait_exit((pid_t)pid, 0);
	munmap(ctid, 4096);
}

static volatile sig_atomic_t dummy;
static void handler(int sig)
{
	dummy = sig;
}

TEST(clone3_clear_sighand)
{
	signal(SIGUSR1, handler);
	signal(SIGUSR2, SIG_IGN);
	struct clone_args_v2 a;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_CLEAR_SIGHAND;
	a.exit_signal = SIGCHLD;
	long pid = clone3_(&a, sizeof(a));
	if (pid == 0) {
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		if (sa.sa_handler != SIG_DFL)
			_exit(1);
		sigaction(SIGUSR2, NULL, &sa);
		if (sa.sa_handler != SIG_IGN)
			_exit(2);
		_exit(0);
	}
	CHECK(pid > 0);
	t_wait_exit((pid_t)pid, 0);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	/* Incompatible with sharing the handlers. */
	a.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
	CHECK_ERR(clone3_(&a, sizeof(a)), EINVAL);
}

TEST(clone3_set_tid)
{
	if (geteuid() != 0)
		t_skip("needs CAP_SYS_ADMIN");
	/* Find a free pid above ours and ask for it. */
	pid_t want = 0;
	for (pid_t p = getpid() + 5000; p < getpid() + 6000; p++) {
		if (kill(p, 0) == -1 && errno == ESRCH) {
			want = p;
			break;
		}
	}
	if (want == 0)
		t_skip("no free pid found");
	struct clone_args_v2 a;
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	a.set_tid = (uintptr_t)&want;
	a.set_tid_size = 1;
	long pid = clone3_(&a, sizeof(a));
	if (pid == 0)
		_exit(getpid() == want ? 0 : 1);
	CHECK_EQ(pid, want);
	t_wait_exit((pid_t)pid, 0);
	/* A pid in use: EEXIST. */
	pid_t mine = getpid();
	a.set_tid = (uintptr_t)&mine;
	CHECK_ERR(clone3_(&a, sizeof(a)), EEXIST);
	/* set_tid without a size, or a size without the array: EINVAL. */
	a.set_tid_size = 0;
	CHECK_ERR(clone3_(&a, sizeof(a)), EINVAL);
	a.set_tid = 0;
	a.set_tid_size = 1;
	CHECK_ERR(clone3_(&a, sizeof(a)), EINVAL);
}

TEST(clone3_errors)
{
	struct {
		struct clone_args_v2 a;
		uint64_t extra;
	} big;
	memset(&big, 0, sizeof(big));
	big.a.exit_signal = SIGCHLD;
	CHECK_ERR(clone3_(&big.a, 63), EINVAL);
	CHECK_ERR(clone3_(&big.a, 8192), E2BIG);
	/* A larger struct is fine if the unknown tail is zero... */
	long pid = clone3_(&big.a, sizeof(big));
	if (pid == 0)
		_exit(0);
	CHECK(pid > 0);
	t_wait_exit((pid_t)pid, 0);
	/* ...and E2BIG if it is not. */
	big.extra = 1;
	CHECK_ERR(clone3_(&big.a, sizeof(big)), E2BIG);
	big.extra = 0;
	/* The exit signal lives in exit_signal, not in flags. */
	big.a.flags = SIGCHLD;
	CHECK_ERR(clone3_(&big.a, sizeof(big.a)), EINVAL);
	big.a.flags = 0;
	big.a.exit_signal = 0x100;
	CHECK_ERR(clone3_(&big.a, sizeof(big.a)), EINVAL);
	big.a.exit_signal = SIGCHLD;
	/* A stack needs a size and a size needs a stack. */
	big.a.stack = 4096;
	CHECK_ERR(clone3_(&big.a, sizeof(big.a)), EINVAL);
	big.a.stack = 0;
	big.a.stack_size = 4096;
	CHECK_ERR(clone3_(&big.a, sizeof(big.a)), EINVAL);
	big.a.stack_size = 0;
	CHECK_ERR(clone3_((void *)8, sizeof(big.a)), EFAULT);
	/* The flag rules clone(2) has. */
	big.a.flags = CLONE_SIGHAND;
	CHECK_ERR(clone3_(&big.a, sizeof(big.a)), EINVAL);
	big.a.flags = CLONE_THREAD | CLONE_VM;
	CHECK_ERR(clone3_(&big.a, sizeof(big.a)), EINVAL);
}

static char vfork_stack[64 * 1024] __attribute__((aligned(16)));
static _Atomic int vfork_child_ran;

static int vfork_child(void *arg)
{
	(void)arg;
	atomic_store(&vfork_child_ran, 1);
	_exit(9);
}

TEST(clone_vm_vfork_with_stack)
{
	atomic_store(&vfork_child_ran, 0);
	pid_t pid = clone(vfork_child, vfork_stack + sizeof(vfork_stack),
			  CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	/* CLONE_VFORK: the child already ran (and exited) when clone returns. */
	CHECK_EQ(atomic_load(&vfork_child_ran), 1);
	t_wait_exit(pid, 9);
}

TEST(clone_parent_settid_and_private_cleartid)
{
	pid_t ptid = 0;
	pid_t *ctid = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ctid != MAP_FAILED);
	*ctid = -1;
	long pid = raw_clone(CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, &ptid, ctid);
	if (pid == 0) {
		*ctid = getpid();
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ(ptid, pid);
	t_wait_exit((pid_t)pid, 0);
	/* CLONE_CHILD_CLEARTID acts only while another thread shares the
	 * child's memory; a process with its own memory leaves it alone. */
	CHECK_EQ(*ctid, pid);
	munmap(ctid, 4096);
}

TEST(clone_parent_makes_a_sibling)
{
	pid_t me = getpid();
	pid_t mid = t_fork();
	if (mid == 0) {
		long pid = raw_clone(CLONE_PARENT | SIGCHLD, NULL, NULL);
		if (pid == 0)
			_exit(getppid() == me ? 0 : 1);
		_exit(pid > 0 ? (int)(pid & 0x7f) : 99);
	}
	int st;
	CHECK_RET(waitpid(mid, &st, 0), mid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 99);
	/* The sibling is our child now: wait for any child left. */
	pid_t r = wait(&st);
	CHECK(r > 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(clone_files_shares_the_table)
{
	long pid = raw_clone(CLONE_FILES | SIGCHLD, NULL, NULL);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		_exit(fd);
	}
	CHECK(pid > 0);
	int st;
	CHECK_RET(waitpid((pid_t)pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	int fd = WEXITSTATUS(st);
	/* The descriptor the child opened exists here too. */
	CHECK_OK(fcntl(fd, F_GETFD));
	CHECK_OK(close(fd));
}

TEST(clone_fs_shares_cwd)
{
	char before[256];
	CHECK(getcwd(before, sizeof(before)) != NULL);
	long pid = raw_clone(CLONE_FS | SIGCHLD, NULL, NULL);
	if (pid == 0)
		_exit(chdir("/") == 0 ? 0 : 1);
	CHECK(pid > 0);
	t_wait_exit((pid_t)pid, 0);
	char after[256];
	CHECK(getcwd(after, sizeof(after)) != NULL);
	CHECK_STREQ(after, "/");
	CHECK_OK(chdir(before));
}
