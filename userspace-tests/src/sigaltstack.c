/*
 * sigaltstack(2) and SA_ONSTACK: the alternate signal stack, its reported
 * state, the errors, SS_AUTODISARM, uc_stack in the handler's ucontext, and
 * inheritance across fork and threads.
 */
#include "test.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define ALT_SIZE (64 * 1024)

static char alt_mem[ALT_SIZE] __attribute__((aligned(16)));

/* Recorded by handlers, checked after they returned. */
static volatile uintptr_t h_local;
static volatile int h_ss_flags;
static volatile uintptr_t h_uc_sp;
static volatile size_t h_uc_size;
static volatile int h_uc_flags;
static volatile int h_calls;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	volatile char here;
	stack_t cur;
	h_local = (uintptr_t)&here;
	h_ss_flags = -1;
	if (syscall(SYS_sigaltstack, NULL, &cur) == 0)
		h_ss_flags = cur.ss_flags;
	h_uc_sp = (uintptr_t)uc->uc_stack.ss_sp;
	h_uc_size = uc->uc_stack.ss_size;
	h_uc_flags = uc->uc_stack.ss_flags;
	h_calls++;
}

static void install(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | flags;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

static void set_alt(int flags)
{
	stack_t ss = { .ss_sp = alt_mem, .ss_size = ALT_SIZE, .ss_flags = flags };
	CHECK_OK(syscall(SYS_sigaltstack, &ss, NULL));
}

static void disable_alt(void)
{
	stack_t ss = { .ss_flags = SS_DISABLE };
	CHECK_OK(syscall(SYS_sigaltstack, &ss, NULL));
}

static int on_alt(uintptr_t p)
{
	return p > (uintptr_t)alt_mem && p <= (uintptr_t)alt_mem + ALT_SIZE;
}

TEST(initially_disabled)
{
	stack_t old;
	memset(&old, 0x55, sizeof(old));
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

TEST(set_and_query)
{
	set_alt(0);
	stack_t old;
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ((uintptr_t)old.ss_sp, (uintptr_t)alt_mem);
	CHECK_EQ(old.ss_size, ALT_SIZE);
	CHECK_EQ(old.ss_flags, 0);
	/* The old value comes back when a new one is set. */
	stack_t ss = { .ss_flags = SS_DISABLE }, prev;
	CHECK_RET(syscall(SYS_sigaltstack, &ss, &prev), 0);
	CHECK_EQ((uintptr_t)prev.ss_sp, (uintptr_t)alt_mem);
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

TEST(errors)
{
	stack_t ss = { .ss_sp = alt_mem, .ss_size = ALT_SIZE, .ss_flags = 0x10 };
	CHECK_ERR(syscall(SYS_sigaltstack, &ss, NULL), EINVAL);
	ss.ss_flags = 0;
	ss.ss_size = 1024; /* below the kernel's MINSIGSTKSZ (2048) */
	CHECK_ERR(syscall(SYS_sigaltstack, &ss, NULL), ENOMEM);
	CHECK_ERR(syscall(SYS_sigaltstack, (void *)8, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_sigaltstack, NULL, (void *)8), EFAULT);
	/* A failed call changed nothing. */
	stack_t old;
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

TEST(handler_runs_on_alternate_stack)
{
	install(SA_ONSTACK);
	set_alt(0);
	h_calls = 0;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(h_calls, 1);
	CHECK_MSG(on_alt(h_local), "handler local %#lx not on the alternate stack",
		  (unsigned long)h_local);
	CHECK_EQ(h_ss_flags, SS_ONSTACK);
	/* uc_stack describes the stack as it was when the signal came. */
	CHECK_EQ(h_uc_sp, (uintptr_t)alt_mem);
	CHECK_EQ(h_uc_size, ALT_SIZE);
	CHECK_EQ(h_uc_flags, 0);
	/* Back on the normal stack afterwards. */
	stack_t old;
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ(old.ss_flags, 0);
	disable_alt();
}

TEST(without_sa_onstack_uses_normal_stack)
{
	install(0);
	set_alt(0);
	h_calls = 0;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(h_calls, 1);
	CHECK(!on_alt(h_local));
	CHECK_EQ(h_ss_flags, 0);
	disable_alt();
}

static volatile int eperm_seen;

static void on_usr2(int sig)
{
	(void)sig;
	stack_t ss = { .ss_sp = alt_mem, .ss_size = ALT_SIZE, .ss_flags = 0 };
	errno = 0;
	long r = syscall(SYS_sigaltstack, &ss, NULL);
	eperm_seen = (r == -1 && errno == EPERM);
}

TEST(eperm_while_on_the_stack)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK;
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	set_alt(0);
	eperm_seen = 0;
	CHECK_OK(raise(SIGUSR2));
	CHECK_EQ(eperm_seen, 1);
	disable_alt();
}

TEST(autodisarm)
{
	install(SA_ONSTACK);
	set_alt((int)SS_AUTODISARM);
	stack_t old;
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ((unsigned)old.ss_flags, SS_AUTODISARM);
	h_calls = 0;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(h_calls, 1);
	CHECK(on_alt(h_local));
	/* Disarmed while the handler ran... */
	CHECK_EQ(h_ss_flags, SS_DISABLE);
	CHECK_EQ((unsigned)h_uc_flags, SS_AUTODISARM);
	/* ...and re-armed by sigreturn from uc_stack. */
	CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
	CHECK_EQ((unsigned)old.ss_flags, SS_AUTODISARM);
	CHECK_EQ((uintptr_t)old.ss_sp, (uintptr_t)alt_mem);
	disable_alt();
}

TEST(fork_inherits)
{
	set_alt(0);
	pid_t pid = t_fork();
	if (pid == 0) {
		stack_t old;
		CHECK_RET(syscall(SYS_sigaltstack, NULL, &old), 0);
		CHECK_EQ((uintptr_t)old.ss_sp, (uintptr_t)alt_mem);
		CHECK_EQ(old.ss_flags, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	disable_alt();
}

static void *thread_query(void *arg)
{
	stack_t *out = arg;
	syscall(SYS_sigaltstack, NULL, out);
	return NULL;
}

TEST(new_thread_starts_without)
{
	set_alt(0);
	/* glibc installs no alternate stack for new threads itself. */
	stack_t seen;
	memset(&seen, 0, sizeof(seen));
	pthread_t th;
	CHECK_RET(pthread_create(&th, NULL, thread_query, &seen), 0);
	CHECK_RET(pthread_join(th, NULL), 0);
	CHECK_EQ(seen.ss_flags, SS_DISABLE);
	disable_alt();
}

static void on_segv(int sig)
{
	(void)sig;
	_exit(42);
}

TEST(stack_overflow_handled_on_alternate_stack)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_segv;
		sa.sa_flags = SA_ONSTACK;
		CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
		set_alt(0);
		/* A fault with an unusable stack pointer: only the alternate
		 * stack can hold the handler's frame. */
#if defined(__x86_64__)
		__asm__ volatile("xor %%esp, %%esp\n\tpushq $0" ::: "memory");
#elif defined(__riscv)
		__asm__ volatile("li sp, 0\n\tsd zero, -8(sp)" ::: "memory");
#endif
		_exit(1);
	}
	t_wait_exit(pid, 42);
}

static char ro_alt[4 * 4096] __attribute__((aligned(4096)));
static volatile int segv_caught, usr1_ran;

static void count_segv(int sig)
{
	(void)sig;
	segv_caught++;
}

static void mark_usr1(int sig)
{
	(void)sig;
	usr1_ran = 1;
}

TEST(unwritable_frame_becomes_sigsegv)
{
	/* kernel/signal.c force_sigsegv: a frame that cannot be written for
	 * SIGUSR1 turns into SIGSEGV, which its own handler (on the normal
	 * stack) catches; the process lives on. */
	pid_t pid = t_fork();
	if (pid == 0) {
		stack_t ss = { .ss_sp = ro_alt, .ss_size = sizeof(ro_alt) };
		CHECK_OK(sigaltstack(&ss, NULL));
		CHECK_OK(mprotect(ro_alt, sizeof(ro_alt), PROT_READ));
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = count_segv;
		CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
		sa.sa_handler = mark_usr1;
		sa.sa_flags = SA_ONSTACK;
		CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
		CHECK_OK(raise(SIGUSR1));
		CHECK_EQ(segv_caught, 1);
		CHECK_EQ(usr1_ran, 0);
		/* The SIGUSR1 was consumed by the failed delivery. */
		sigset_t pend;
		CHECK_OK(sigpending(&pend));
		CHECK(!sigismember(&pend, SIGUSR1));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(unwritable_sigsegv_frame_is_fatal)
{
	/* Failing to deliver SIGSEGV itself kills with SIGSEGV, even though
	 * a handler is installed. */
	pid_t pid = t_fork();
	if (pid == 0) {
		stack_t ss = { .ss_sp = ro_alt, .ss_size = sizeof(ro_alt) };
		CHECK_OK(sigaltstack(&ss, NULL));
		CHECK_OK(mprotect(ro_alt, sizeof(ro_alt), PROT_READ));
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = count_segv;
		sa.sa_flags = SA_ONSTACK;
		CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
		struct rlimit none = { 0, 0 };
		CHECK_OK(setrlimit(RLIMIT_CORE, &none));
		raise(SIGSEGV);
		_exit(1);
	}
	t_wait_signal(pid, SIGSEGV);
}
