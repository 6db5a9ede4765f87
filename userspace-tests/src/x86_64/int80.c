/*
 * int80 - `int $0x80` in a 64-bit process is the i386 syscall gate, never a
 * second way into the x86_64 table. Linux with IA32 emulation runs the
 * i386 call (umask here, number 60); Linux without it, and Starling, which
 * has no i386 table, raise #GP: SIGSEGV with si_code SI_KERNEL and rip at
 * the int instruction. What must not happen is x86_64 syscall 60, exit,
 * with rdi as its status (the fuzzer's 32-bit calls ran that way).
 */
#include "test.h"

/* i386 umask(022) through int $0x80, with rdi = 77 for an x86_64 exit. */
static long int80_umask(void)
{
	long ret;
	register long rdi __asm__("rdi") = 77;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(60L), "b"(022L), "r"(rdi)
			 : "memory", "rcx", "r11");
	return ret;
}

TEST(int80_is_not_the_x86_64_table)
{
	pid_t pid;
	int st;

	pid = CHECK_OK(fork());
	if (pid == 0) {
		long ret = int80_umask();
		/* With IA32 emulation: the previous umask. */
		_exit(ret >= 0 && ret <= 0777 ? 0 : 1);
	}
	CHECK_OK(waitpid(pid, &st, 0));
	CHECK_MSG(!(WIFEXITED(st) && WEXITSTATUS(st) == 77), "int $0x80 ran x86_64 exit(77)");
	if (WIFSIGNALED(st))
		CHECK_EQ(WTERMSIG(st), SIGSEGV);
	else
		CHECK_EQ(WEXITSTATUS(st), 0);
}

static volatile sig_atomic_t seen_code = -1;
static volatile unsigned long seen_ip;

static void on_segv(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	(void)sig;
	seen_code = si->si_code;
	seen_ip = uc->uc_mcontext.gregs[REG_RIP];
	/* Step over the two-byte instruction so the program goes on. */
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

TEST(int80_segv_points_at_the_instruction)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	unsigned long at;

	if (!on_starling())
		t_skip("Linux runs i386 calls when built with IA32 emulation");
	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
	__asm__ volatile("lea 0f(%%rip), %0\n\t"
			 "0: int $0x80"
			 : "=&r"(at)
			 : "a"(20L)
			 : "memory", "rcx", "r11");
	signal(SIGSEGV, SIG_DFL);
	CHECK_EQ(seen_code, SI_KERNEL);
	CHECK_EQ(seen_ip, at);
}
