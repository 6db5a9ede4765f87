/*
 * Synchronous signals from user faults: SIGILL, SIGTRAP, SIGFPE (x86_64),
 * SIGSEGV from a privileged instruction (x86_64), their si_code and
 * si_addr, the default action (no "core dumped" bit: no core file is
 * written), and that a blocked or ignored fault signal still kills.
 */
#include "test.h"

#include <setjmp.h>
#include <ucontext.h>

static sigjmp_buf fault_jmp;
static volatile int f_signo, f_code;
static volatile uintptr_t f_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	f_signo = sig;
	f_code = si->si_code;
	f_addr = (uintptr_t)si->si_addr;
	siglongjmp(fault_jmp, 1);
}

static void catch_sig(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	CHECK_OK(sigaction(sig, &sa, NULL));
	f_signo = f_code = 0;
	f_addr = 0;
}

/* Labels give the address of the faulting instruction. */
extern char ill_insn[], brk_insn[], div_insn[], priv_insn[];

__attribute__((noinline)) static void do_illegal(void)
{
#if defined(__x86_64__)
	__asm__ volatile(".globl ill_insn\nill_insn: ud2");
#else
	__asm__ volatile(".globl ill_insn\nill_insn: .4byte 0");
#endif
}

__attribute__((noinline)) static void do_breakpoint(void)
{
#if defined(__x86_64__)
	__asm__ volatile(".globl brk_insn\nbrk_insn: int3");
#else
	__asm__ volatile(".globl brk_insn\nbrk_insn: ebreak");
#endif
}

TEST(sigill_illegal_instruction)
{
	catch_sig(SIGILL);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		do_illegal();
		t_fail("illegal instruction did not fault");
	}
	CHECK_EQ(f_signo, SIGILL);
#if defined(__x86_64__)
	CHECK_EQ(f_code, ILL_ILLOPN);
#else
	CHECK_EQ(f_code, ILL_ILLOPC);
#endif
	CHECK_EQ(f_addr, (uintptr_t)ill_insn);
	signal(SIGILL, SIG_DFL);
}

TEST(sigtrap_breakpoint)
{
	catch_sig(SIGTRAP);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		do_breakpoint();
		t_fail("breakpoint did not trap");
	}
	CHECK_EQ(f_signo, SIGTRAP);
#if defined(__x86_64__)
	/* int3 is reported like a kernel-sent signal on x86. */
	CHECK_EQ(f_code, SI_KERNEL);
#else
	CHECK_EQ(f_code, TRAP_BRKPT);
	CHECK_EQ(f_addr, (uintptr_t)brk_insn);
#endif
	signal(SIGTRAP, SIG_DFL);
}

#if defined(__x86_64__)
__attribute__((noinline)) static int do_divide(volatile int d)
{
	int q;
	__asm__ volatile("mov $1, %%eax\n\tcltd\n.globl div_insn\ndiv_insn: idivl %1"
			 : "=a"(q)
			 : "c"(d)
			 : "edx");
	return q;
}

TEST(sigfpe_divide_by_zero)
{
	catch_sig(SIGFPE);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		do_divide(0);
		t_fail("division by zero did not trap");
	}
	CHECK_EQ(f_signo, SIGFPE);
	CHECK_EQ(f_code, FPE_INTDIV);
	CHECK_EQ(f_addr, (uintptr_t)div_insn);
	signal(SIGFPE, SIG_DFL);
}

TEST(sigsegv_privileged_instruction)
{
	catch_sig(SIGSEGV);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		__asm__ volatile(".globl priv_insn\npriv_insn: hlt");
		t_fail("hlt did not fault");
	}
	CHECK_EQ(f_signo, SIGSEGV);
	CHECK_EQ(f_code, SI_KERNEL);
	CHECK_EQ(f_addr, 0);
	signal(SIGSEGV, SIG_DFL);
}
#else
TEST(division_by_zero_does_not_trap)
{
	volatile int d = 0;
	volatile int q = 7 / d;
	/* RISC-V defines x / 0 = -1 and raises nothing. */
	CHECK_EQ(q, -1);
}
#endif

TEST(default_action_kills_without_core_bit)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct { unsigned long cur, max; } rl = { 0, 0 };
		syscall(SYS_prlimit64, 0, 4 /* RLIMIT_CORE */, &rl, NULL);
		do_illegal();
		_exit(0);
	}
	int st;
	CHECK_RET(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGILL);
	CHECK(!WCOREDUMP(st));
}

TEST(blocked_fault_signal_still_kills)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct { unsigned long cur, max; } rl = { 0, 0 };
		syscall(SYS_prlimit64, 0, 4 /* RLIMIT_CORE */, &rl, NULL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGILL);
		sigprocmask(SIG_BLOCK, &set, NULL);
		do_illegal();
		_exit(0);
	}
	t_wait_signal(pid, SIGILL);
}

TEST(ignored_fault_signal_still_kills)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct { unsigned long cur, max; } rl = { 0, 0 };
		syscall(SYS_prlimit64, 0, 4 /* RLIMIT_CORE */, &rl, NULL);
		signal(SIGTRAP, SIG_IGN);
		do_breakpoint();
		_exit(0);
	}
	t_wait_signal(pid, SIGTRAP);
}
