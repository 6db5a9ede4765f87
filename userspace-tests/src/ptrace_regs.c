/*
 * ptrace(2), a stopped tracee's state: PEEKUSER/POKEUSER, the FP registers
 * (GETFPREGS/SETFPREGS and GETREGSET/SETREGSET NT_PRFPREG, a value set by
 * the tracer seen by the tracee), single steps (x86_64; EIO on riscv64),
 * PTRACE_PEEKSIGINFO (queued signals copied without dequeuing, SHARED, its
 * EINVAL/EFAULT cases) and /proc/PID/auxv as debuggers read it. Attach,
 * signals and events are in ptrace.c, syscall stops in ptrace_syscall.c.
 */
#include "test.h"
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include "ptrace_util.h"

#ifndef PTRACE_PEEKSIGINFO
#define PTRACE_PEEKSIGINFO 0x4209
#endif
#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

/* Debuggers relocate a PIE with AT_ENTRY from /proc/PID/auxv. */
TEST(proc_auxv)
{
	int fd = open("/proc/self/auxv", O_RDONLY);
	CHECK(fd >= 0);
	unsigned long v[128];
	ssize_t n = read(fd, v, sizeof(v));
	close(fd);
	CHECK(n > 0 && n % 16 == 0);
	int found = 0;
	for (ssize_t i = 0; i < n / 8; i += 2) {
		if (v[i] == AT_ENTRY) {
			CHECK_EQ(v[i + 1], getauxval(AT_ENTRY));
			found++;
		}
		if (v[i] == AT_PHDR) {
			CHECK_EQ(v[i + 1], getauxval(AT_PHDR));
			found++;
		}
	}
	CHECK_EQ(found, 2);
	CHECK_EQ(v[n / 8 - 2], AT_NULL);
}

/* struct ptrace_peeksiginfo_args (linux/ptrace.h). */
struct peek_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

static long peek(pid_t pid, uint64_t off, uint32_t flags, int32_t nr, void *buf)
{
	struct peek_args a = { off, flags, nr };
	return pt(PTRACE_PEEKSIGINFO, pid, &a, buf);
}

/*
 * Blocks SIGUSR1 and SIGRTMIN, queues SIGUSR1 to the thread and SIGRTMIN
 * twice (values 1 and 2) to the process, stops; once resumed, exits 0 if
 * all of them are still pending.
 */
static int queue_and_stop(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return 10;
	if (syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) != 0)
		return 11;
	for (int v = 1; v <= 2; v++)
		if (sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = v }) != 0)
			return 12;
	raise(SIGSTOP);
	sigset_t pending;
	sigpending(&pending);
	if (!sigismember(&pending, SIGUSR1) || !sigismember(&pending, SIGRTMIN))
		return 13;
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	/* Both SIGRTMIN instances are still queued, in order. */
	for (int v = 1; v <= 2; v++)
		if (sigtimedwait(&rt, &si, &zero) != SIGRTMIN || si.si_value.sival_int != v)
			return 14;
	return 0;
}

TEST(peeksiginfo)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		_exit(queue_and_stop());
	}
	expect_stop(pid, SIGSTOP);
	siginfo_t si[4];
	memset(si, 0, sizeof(si));
	/* The thread's queue: SIGUSR1 from tgkill. */
	CHECK_RET(peek(pid, 0, 0, 4, si), 1);
	CHECK_EQ(si[0].si_signo, SIGUSR1);
	CHECK_EQ(si[0].si_code, SI_TKILL);
	CHECK_EQ(si[0].si_pid, pid);
	/* The process's queue: both real-time instances, oldest first. */
	memset(si, 0, sizeof(si));
	CHECK_RET(peek(pid, 0, PTRACE_PEEKSIGINFO_SHARED, 4, si), 2);
	CHECK_EQ(si[0].si_signo, SIGRTMIN);
	CHECK_EQ(si[0].si_code, SI_QUEUE);
	CHECK_EQ(si[0].si_value.sival_int, 1);
	CHECK_EQ(si[1].si_signo, SIGRTMIN);
	CHECK_EQ(si[1].si_value.sival_int, 2);
	/* An offset, nr limiting the count, nothing past the end. */
	memset(si, 0, sizeof(si));
	CHECK_RET(peek(pid, 1, PTRACE_PEEKSIGINFO_SHARED, 4, si), 1);
	CHECK_EQ(si[0].si_value.sival_int, 2);
	CHECK_RET(peek(pid, 0, PTRACE_PEEKSIGINFO_SHARED, 1, si), 1);
	CHECK_EQ(si[0].si_value.sival_int, 1);
	CHECK_RET(peek(pid, 2, PTRACE_PEEKSIGINFO_SHARED, 4, si), 0);
	CHECK_RET(peek(pid, 0, 0, 0, si), 0);
	/* An offset past ULONG_MAX's reach would be 0; a huge one is too. */
	CHECK_RET(peek(pid, UINT64_MAX, 0, 4, si), 0);
	/* Unknown flags and a negative count, before the queue is looked at. */
	CHECK_ERR(peek(pid, 0, 2, 4, si), EINVAL);
	CHECK_ERR(peek(pid, 5, 2, 4, si), EINVAL);
	CHECK_ERR(peek(pid, 0, 0, -1, si), EINVAL);
	/* EFAULT for the arguments and for a buffer nothing could reach... */
	CHECK_ERR(pt(PTRACE_PEEKSIGINFO, pid, 8, si), EFAULT);
	CHECK_ERR(peek(pid, 0, 0, 4, (void *)8), EFAULT);
	/* ...but not when there is nothing to copy. */
	CHECK_RET(peek(pid, 3, 0, 4, (void *)8), 0);
	/* A buffer that ends after the first entry: one copied. */
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_OK(munmap(m + pg, pg));
	siginfo_t *last = (siginfo_t *)(m + pg - sizeof(siginfo_t));
	CHECK_RET(peek(pid, 0, PTRACE_PEEKSIGINFO_SHARED, 2, last), 1);
	CHECK_EQ(last->si_value.sival_int, 1);
	CHECK_OK(munmap(m, pg));
	/* Peeking took nothing off the queues: the tracee still has them. */
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 0);
}

/* A known double put into an FP register before the tracee stops, and the
 * one the tracer puts there instead. */
#define FP_IN 0x400921fb54442d18ULL  /* pi */
#define FP_OUT 0x4005bf0a8b145769ULL /* e */

#if defined(__x86_64__)
/* The FP register set (NT_PRFPREG): struct user_fpregs_struct, fxsave. */
typedef struct user_fpregs_struct fp_set;
#define FP_SET_SIZE 512

/* xmm7's low quadword in fxsave layout. */
static uint64_t *fp_word(fp_set *f)
{
	return (uint64_t *)&f->xmm_space[7 * 4];
}

/* Puts FP_IN in xmm7, stops with kill(SIGSTOP) (the syscall keeps xmm7),
 * then returns 0 if the tracer left FP_OUT there. */
static int fp_child(void)
{
	uint64_t in = FP_IN, out;
	long ret;
	__asm__ volatile("movq %[in], %%xmm7\n\t"
			 "syscall\n\t"
			 "movq %%xmm7, %[out]\n\t"
			 : [out] "=&r"(out), "=a"(ret)
			 : [in] "r"(in), "a"((long)SYS_kill), "D"((long)getpid()),
			   "S"((long)SIGSTOP)
			 : "rcx", "r11", "xmm7", "memory");
	return ret == 0 && out == FP_OUT ? 0 : 1;
}

static void fp_check_extra(fp_set *f)
{
	CHECK_EQ(f->mxcsr, 0x1f80);
}

static void fp_set_extra(fp_set *f)
{
	(void)f;
}
#elif defined(__riscv)
/* struct __riscv_d_ext_state, padded to the regset's 33 words. */
typedef struct {
	uint64_t f[32];
	uint32_t fcsr;
	uint32_t pad;
} fp_set;
#define FP_SET_SIZE 264

static uint64_t *fp_word(fp_set *f)
{
	return &f->f[9]; /* fs1 */
}

/* Puts FP_IN in fs1 and 0x41 (rounding mode RDN, NX) in fcsr, stops with
 * kill(SIGSTOP), then returns 0 if the tracer left FP_OUT and 0x30 (RTZ,
 * NV) there. */
static int fp_child(void)
{
	register long a0 __asm__("a0") = getpid();
	register long a1 __asm__("a1") = SIGSTOP;
	register long a7 __asm__("a7") = SYS_kill;
	uint64_t in = FP_IN, out, fcsr;
	__asm__ volatile("fmv.d.x fs1, %[in]\n\t"
			 "csrw fcsr, %[csr]\n\t"
			 "ecall\n\t"
			 "fmv.x.d %[out], fs1\n\t"
			 "frcsr %[fcsr]\n\t"
			 : [out] "=&r"(out), [fcsr] "=&r"(fcsr), "+r"(a0)
			 : [in] "r"(in), [csr] "r"(0x41L), "r"(a1), "r"(a7)
			 : "fs1", "memory");
	return a0 == 0 && out == FP_OUT && fcsr == 0x30 ? 0 : 1;
}

static void fp_check_extra(fp_set *f)
{
	CHECK_EQ(f->fcsr, 0x41);
	CHECK_EQ(f->pad, 0);
}

static void fp_set_extra(fp_set *f)
{
	f->fcsr = 0x30;
}
#endif

TEST(fp_regset_round_trip)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		_exit(fp_child());
	}
	expect_stop(pid, SIGSTOP);
	_Static_assert(sizeof(fp_set) == FP_SET_SIZE, "NT_PRFPREG layout");
	fp_set f[2];
	memset(f, 0xa5, sizeof(f));
	/* A larger buffer: the set's size comes back, the rest is untouched. */
	struct iovec iov = { f, sizeof(f) };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, FP_SET_SIZE);
	CHECK_EQ(*fp_word(&f[0]), FP_IN);
	fp_check_extra(&f[0]);
	CHECK_EQ(((unsigned char *)&f[1])[0], 0xa5);
	/* A short read, and lengths that are not whole words. */
	uint64_t head[2];
	iov = (struct iovec){ head, sizeof(head) };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, sizeof(head));
	CHECK(memcmp(head, &f[0], sizeof(head)) == 0);
	iov = (struct iovec){ head, 12 };
	CHECK_ERR(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), EINVAL);
	CHECK_ERR(pt(PTRACE_SETREGSET, pid, NT_PRFPREG, &iov), EINVAL);
	iov = (struct iovec){ head, 4 };
	CHECK_ERR(pt(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov), EINVAL);
	/* The new value is what the tracee finds when it runs again. */
	*fp_word(&f[0]) = FP_OUT;
	fp_set_extra(&f[0]);
	iov = (struct iovec){ &f[0], FP_SET_SIZE };
	CHECK_RET(pt(PTRACE_SETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, FP_SET_SIZE);
	memset(&f[1], 0, sizeof(f[1]));
	iov = (struct iovec){ &f[1], FP_SET_SIZE };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(*fp_word(&f[1]), FP_OUT);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 0);
}

#if defined(__x86_64__)
/* 1 + 2 * 5 instructions from step_start to step_end. */
__asm__(".text\n"
	"step_start:\n"
	"	mov $5, %ecx\n"
	"1:	dec %ecx\n"
	"	jnz 1b\n"
	"step_end:\n"
	"	ud2\n");
extern char step_start[], step_end[];

TEST(singlestep)
{
	pid_t pid = traced_child(exit_seven);
	struct user_regs_struct saved, r;
	CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &saved), 0);
	r = saved;
	r.rip = (unsigned long)step_start;
	CHECK_RET(pt(PTRACE_SETREGS, pid, 0, &r), 0);
	int steps = 0;
	for (;;) {
		CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &r), 0);
		if (r.rip == (unsigned long)step_end || steps > 100)
			break;
		CHECK_RET(pt(PTRACE_SINGLESTEP, pid, 0, 0), 0);
		expect_stop(pid, SIGTRAP);
		steps++;
	}
	CHECK_EQ(steps, 11);
	CHECK_EQ(r.rcx & 0xffffffff, 0);
	CHECK_RET(pt(PTRACE_SETREGS, pid, 0, &saved), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}

TEST(peekuser_pokeuser)
{
	pid_t pid = traced_child(exit_seven);
	struct user_regs_struct r;
	CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &r), 0);
	long v = 0;
	size_t off = offsetof(struct user_regs_struct, rip);
	CHECK_RET(pt(PTRACE_PEEKUSER, pid, off, &v), 0);
	CHECK_EQ((unsigned long)v, r.rip);
	CHECK_ERR(pt(PTRACE_PEEKUSER, pid, 3, &v), EIO);
	CHECK_ERR(pt(PTRACE_PEEKUSER, pid, 4096, &v), EIO);
	off = offsetof(struct user_regs_struct, r12);
	CHECK_RET(pt(PTRACE_POKEUSER, pid, off, 0x5a5a), 0);
	CHECK_RET(pt(PTRACE_PEEKUSER, pid, off, &v), 0);
	CHECK_EQ(v, 0x5a5a);
	CHECK_RET(pt(PTRACE_POKEUSER, pid, off, r.r12), 0);
	/* A 64-bit tracee has Linux's user code selector. */
	CHECK_EQ(r.cs, 0x33);
	/* The x87/SSE state: defaults, and a change read back. */
	struct user_fpregs_struct fp;
	CHECK_RET(pt(PTRACE_GETFPREGS, pid, 0, &fp), 0);
	CHECK_EQ(fp.cwd, 0x37f);
	CHECK_EQ(fp.mxcsr, 0x1f80);
	fp.mxcsr = 0x1fc0;
	CHECK_RET(pt(PTRACE_SETFPREGS, pid, 0, &fp), 0);
	struct iovec iov = { &fp, sizeof(fp) };
	memset(&fp, 0, sizeof(fp));
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, sizeof(fp));
	CHECK_EQ(fp.mxcsr, 0x1fc0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}
#else
TEST(singlestep_unsupported)
{
	pid_t pid = traced_child(exit_seven);
	CHECK_ERR(pt(PTRACE_SINGLESTEP, pid, 0, 0), EIO);
	long v;
	CHECK_ERR(pt(PTRACE_PEEKUSER, pid, 0, &v), EIO);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}
#endif
