/*
 * ptrace(2) syscall-stops: PTRACE_SYSCALL with TRACESYSGOOD (SIGTRAP|0x80,
 * entry and exit alternating), PTRACE_GET_SYSCALL_INFO (op, arch, number,
 * arguments, return value), a syscall's result changed at its exit stop
 * through the registers (GETREGS/SETREGS on x86_64, GETREGSET/SETREGSET
 * NT_PRSTATUS on both), and a syscall skipped by setting its number to -1.
 */
#include "test.h"

#include <elf.h>
#include <linux/audit.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "ptrace_util.h"

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#define NREGS 27
#define REG_NR 15  /* orig_rax */
#define REG_RET 10 /* rax */
#elif defined(__riscv)
#define ARCH AUDIT_ARCH_RISCV64
#define NREGS 32
#define REG_NR 17  /* a7 */
#define REG_RET 10 /* a0 */
#endif

struct sc_info {
	uint8_t op;
	uint8_t reserved;
	uint16_t flags;
	uint32_t arch;
	uint64_t ip;
	uint64_t sp;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
	};
};

/* The marker syscalls the tracees make: getppid and kill(self, SIGKILL). */
static int getppid_body(void)
{
	return syscall(SYS_getppid) == 4242 ? 0 : 1;
}

static int kill_self_body(void)
{
	long r = syscall(SYS_kill, getpid(), SIGKILL);
	(void)r;
	return 0;
}

/* traced_child with TRACESYSGOOD set. */
static pid_t sysgood_child(int (*body)(void))
{
	pid_t pid = traced_child(body);
	CHECK_RET(pt(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD), 0);
	return pid;
}

static void get_regs(pid_t pid, unsigned long *regs)
{
	struct iovec iov = { regs, NREGS * sizeof(long) };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov), 0);
	CHECK_EQ(iov.iov_len, NREGS * sizeof(long));
}

static void set_regs(pid_t pid, unsigned long *regs)
{
	struct iovec iov = { regs, NREGS * sizeof(long) };
	CHECK_RET(pt(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov), 0);
}

/* Runs `pid` from syscall-stop to syscall-stop until the entry of `nr`;
 * returns its syscall info. */
static struct sc_info run_to_entry(pid_t pid, long nr)
{
	struct sc_info info;
	for (int i = 0; i < 200; i++) {
		CHECK_RET(pt(PTRACE_SYSCALL, pid, 0, 0), 0);
		int st = expect_stop(pid, SIGTRAP | 0x80);
		CHECK_EQ(st >> 16, 0);
		memset(&info, 0xff, sizeof(info));
		long n = pt(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info);
		CHECK(n > 0);
		CHECK_EQ(info.arch, ARCH);
		CHECK(info.op == PTRACE_SYSCALL_INFO_ENTRY || info.op == PTRACE_SYSCALL_INFO_EXIT);
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			CHECK_EQ(n, (long)offsetof(struct sc_info, entry.args) + 48);
			if ((long)info.entry.nr == nr)
				return info;
		} else {
			CHECK_EQ(n, (long)offsetof(struct sc_info, exit.is_error) + 1);
		}
	}
	t_fail("no entry stop for syscall %ld", nr);
}

TEST(entry_exit_info_and_result)
{
	pid_t pid = sysgood_child(getppid_body);
	struct sc_info info = run_to_entry(pid, SYS_getppid);
	CHECK(info.ip != 0 && info.sp != 0);
	unsigned long regs[NREGS];
	get_regs(pid, regs);
	CHECK_EQ(regs[REG_NR], (unsigned long)SYS_getppid);
#if defined(__x86_64__)
	/* rax reads -ENOSYS at the entry stop. */
	CHECK_EQ((long)regs[REG_RET], -ENOSYS);
#endif
	CHECK_RET(pt(PTRACE_SYSCALL, pid, 0, 0), 0);
	expect_stop(pid, SIGTRAP | 0x80);
	CHECK(pt(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) > 0);
	CHECK_EQ(info.op, PTRACE_SYSCALL_INFO_EXIT);
	CHECK_EQ(info.exit.rval, (int64_t)getpid());
	CHECK_EQ(info.exit.is_error, 0);
	/* Change the result the tracee sees. */
	get_regs(pid, regs);
	CHECK_EQ(regs[REG_RET], (unsigned long)getpid());
	regs[REG_RET] = 4242;
	set_regs(pid, regs);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 0);
}

TEST(skip_with_minus_one)
{
	pid_t pid = sysgood_child(kill_self_body);
	struct sc_info info = run_to_entry(pid, SYS_kill);
	CHECK_EQ(info.entry.args[0], (uint64_t)pid);
	CHECK_EQ(info.entry.args[1], (uint64_t)SIGKILL);
	unsigned long regs[NREGS];
	get_regs(pid, regs);
	regs[REG_NR] = (unsigned long)-1;
	set_regs(pid, regs);
	CHECK_RET(pt(PTRACE_SYSCALL, pid, 0, 0), 0);
	expect_stop(pid, SIGTRAP | 0x80);
	CHECK(pt(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) > 0);
	CHECK_EQ(info.op, PTRACE_SYSCALL_INFO_EXIT);
#if defined(__x86_64__)
	CHECK_EQ(info.exit.rval, -ENOSYS);
	CHECK_EQ(info.exit.is_error, 1);
#endif
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* The kill never happened. */
	t_wait_exit(pid, 0);
}

#if defined(__x86_64__)
TEST(getregs_setregs)
{
	pid_t pid = sysgood_child(getppid_body);
	run_to_entry(pid, SYS_getppid);
	CHECK_RET(pt(PTRACE_SYSCALL, pid, 0, 0), 0);
	expect_stop(pid, SIGTRAP | 0x80);
	struct user_regs_struct r;
	CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &r), 0);
	CHECK_EQ(r.orig_rax, (unsigned long)SYS_getppid);
	CHECK_EQ(r.rax, (unsigned long)getpid());
	r.rax = 4242;
	CHECK_RET(pt(PTRACE_SETREGS, pid, 0, &r), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 0);
}
#endif

TEST(regset_errors)
{
	pid_t pid = sysgood_child(getppid_body);
	unsigned long regs[NREGS];
	struct iovec iov = { regs, 8 };
	/* A short buffer gets the first words. */
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov), 0);
	CHECK_EQ(iov.iov_len, 8);
	iov.iov_len = sizeof(regs);
	CHECK_ERR(pt(PTRACE_GETREGSET, pid, 0x999, &iov), EINVAL);
	/* Outside a syscall-stop the info has op NONE. */
	struct sc_info info;
	long n = pt(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info);
	CHECK_EQ(n, (long)offsetof(struct sc_info, entry));
	CHECK_EQ(info.op, PTRACE_SYSCALL_INFO_NONE);
	CHECK_RET(pt(PTRACE_KILL, pid, 0, 0), 0);
	t_wait_signal(pid, SIGKILL);
}
