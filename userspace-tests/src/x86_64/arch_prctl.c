/*
 * arch_prctl(2) on x86_64: ARCH_SET_FS / ARCH_GET_FS, the thread pointer
 * libc's TLS hangs off.
 *
 * While FS points at our own block, libc's TLS (errno included) is out of
 * reach, so those stretches use inline-asm system calls only, run in a
 * child, and put the original base back before any libc call.
 */
#include "test.h"

#include <asm/prctl.h>

static long asm_syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

static unsigned long read_fs0(void)
{
	unsigned long v;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

static unsigned long read_fs8(void)
{
	unsigned long v;
	__asm__ volatile("mov %%fs:8, %0" : "=r"(v));
	return v;
}

TEST(get_fs_is_libc_thread_pointer)
{
	unsigned long base = 0;
	CHECK_RET(syscall(SYS_arch_prctl, ARCH_GET_FS, &base), 0);
	CHECK(base != 0);
	/* glibc and musl keep a self-pointer at %fs:0. */
	CHECK_EQ(read_fs0(), base);
}

/* Results of the stretch run with our own FS base. */
struct fs_probe {
	long set_ret, get_ret, restore_ret;
	unsigned long got_base, fs0, fs8, fs0_after_sleep;
};

__attribute__((no_stack_protector)) static void
probe_own_fs(struct fs_probe *r, unsigned long *block)
{
	unsigned long orig = 0;
	asm_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&orig);
	r->set_ret = asm_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)block);
	r->fs0 = read_fs0();
	r->fs8 = read_fs8();
	r->get_ret = asm_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&r->got_base);
	/* Sleep so that the task is switched out and back in: the base is
	 * per-task state the kernel must save and restore. */
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	asm_syscall2(SYS_nanosleep, (long)&ts, 0);
	r->fs0_after_sleep = read_fs0();
	r->restore_ret = asm_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)orig);
}

TEST(set_fs_changes_thread_pointer)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		static unsigned long block[8];
		block[0] = (unsigned long)block;
		block[1] = 0x5151515151515151UL;
		struct fs_probe r;
		memset(&r, 0, sizeof(r));
		probe_own_fs(&r, block);
		CHECK_EQ(r.set_ret, 0);
		CHECK_EQ(r.get_ret, 0);
		CHECK_EQ(r.restore_ret, 0);
		CHECK_EQ(r.got_base, (unsigned long)block);
		CHECK_EQ(r.fs0, (unsigned long)block);
		CHECK_EQ(r.fs8, 0x5151515151515151UL);
		CHECK_EQ(r.fs0_after_sleep, (unsigned long)block);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(fork_child_keeps_fs)
{
	unsigned long base = 0;
	CHECK_RET(syscall(SYS_arch_prctl, ARCH_GET_FS, &base), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		unsigned long child = 0;
		CHECK_RET(syscall(SYS_arch_prctl, ARCH_GET_FS, &child), 0);
		CHECK_EQ(child, base);
		CHECK_EQ(read_fs0(), base);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(errors)
{
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)1), EFAULT);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_FS, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
	/* A base outside the user address space is refused and not set. */
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, 0x800000000000UL), EPERM);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, 0xffff800000000000UL), EPERM);
	unsigned long base = 0;
	CHECK_RET(syscall(SYS_arch_prctl, ARCH_GET_FS, &base), 0);
	CHECK_EQ(read_fs0(), base);
}
