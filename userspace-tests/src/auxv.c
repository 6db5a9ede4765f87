/*
 * ELF loading: the initial stack (argv, envp, auxv) and the auxiliary vector.
 *
 * Built three ways (see the Makefile): static (auxv), static-PIE (auxv_pie,
 * EXPECT_PIE) and, on x86_64, static with musl (auxv_musl).  The values are
 * checked against the ELF image itself (__ehdr_start, _start) and the raw
 * syscalls, never just against libc, which copies them from the same place.
 * Reference: getauxval(3), execve(2), the System V ABI (initial process stack).
 */

#include "test.h"

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>

extern char **environ;
extern char _start[];
/* Defined by the linker at the ELF header when it is part of a load segment. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

static int count_args(void)
{
	int argc = 0;
	while (t_argv[argc])
		argc++;
	return argc;
}

/* The auxiliary vector sits on the stack right after envp's NULL. */
static ElfW(auxv_t) *stack_auxv(void)
{
	char **p = t_argv + count_args() + 1;
	while (*p)
		p++;
	return (ElfW(auxv_t) *)(p + 1);
}

/* Value of `type` found by walking the stack; fails if absent. */
static unsigned long stack_aux(unsigned long type)
{
	ElfW(auxv_t) *a = stack_auxv();
	for (int i = 0; i < 256 && a[i].a_type != AT_NULL; i++)
		if (a[i].a_type == type)
			return a[i].a_un.a_val;
	t_fail("auxv entry %lu missing from the initial stack", type);
}

/* Load bias: where the ELF header is minus where the file says it is. */
static unsigned long load_bias(void)
{
	const ElfW(Ehdr) *eh = &__ehdr_start;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			return (unsigned long)eh - ph[i].p_vaddr;
	t_fail("no PT_LOAD segment maps the ELF header");
}

TEST(argv_envp_layout)
{
	int argc = count_args();
	CHECK(argc >= 1);
	CHECK(t_argv[0][0] != '\0');
	/* argv[argc] is NULL and envp starts right after it. */
	CHECK(environ == t_argv + argc + 1);
	/* The pointers point at NUL-terminated strings above the vectors. */
	for (char **e = environ; *e; e++)
		CHECK((uintptr_t)*e > (uintptr_t)e);
}

TEST(auxv_terminated_and_matches_getauxval)
{
	static const unsigned long required[] = {
		AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM,
		AT_HWCAP, AT_CLKTCK, AT_UID, AT_EUID, AT_GID, AT_EGID,
		AT_SECURE,
	};
	ElfW(auxv_t) *a = stack_auxv();
	int n = 0;
	while (n < 256 && a[n].a_type != AT_NULL)
		n++;
	CHECK_MSG(n < 256, "auxv has no AT_NULL in its first 256 entries");
	for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
		int seen = 0;
		for (int i = 0; i < n; i++) {
			if (a[i].a_type != required[r])
				continue;
			seen++;
			/* glibc on x86_64 replaces AT_HWCAP with its own
			 * HWCAP_X86_* bits; at_hwcap checks the stack value. */
			if (required[r] != AT_HWCAP)
				CHECK_EQ(a[i].a_un.a_val,
					 getauxval(required[r]));
		}
		CHECK_MSG(seen == 1, "auxv type %lu appears %d times, expected once",
			  required[r], seen);
	}
}

TEST(at_phdr_phent_phnum)
{
	const ElfW(Ehdr) *eh = &__ehdr_start;
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
	CHECK_EQ(stack_aux(AT_PHENT), sizeof(ElfW(Phdr)));
	CHECK_EQ(stack_aux(AT_PHNUM), eh->e_phnum);
	CHECK_EQ(stack_aux(AT_PHDR), (unsigned long)eh + eh->e_phoff);
	/* The table AT_PHDR points at is readable and describes this image. */
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)stack_aux(AT_PHDR);
	int loads = 0, exec = 0;
	for (unsigned long i = 0; i < stack_aux(AT_PHNUM); i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		loads++;
		if (ph[i].p_flags & PF_X) {
			exec++;
			unsigned long lo = ph[i].p_vaddr + load_bias();
			CHECK((unsigned long)_start >= lo);
			CHECK((unsigned long)_start < lo + ph[i].p_memsz);
		}
	}
	CHECK(loads >= 1);
	CHECK(exec >= 1);
}

TEST(at_entry_is_start)
{
	CHECK_EQ(stack_aux(AT_ENTRY), (unsigned long)_start);
	CHECK_EQ(stack_aux(AT_ENTRY), __ehdr_start.e_entry + load_bias());
}

TEST(load_address)
{
#ifdef EXPECT_PIE
	/* A static-PIE is ET_DYN and must be relocated away from address 0. */
	CHECK_EQ(__ehdr_start.e_type, ET_DYN);
	CHECK(load_bias() != 0);
	CHECK_EQ(load_bias() % 4096, 0);
#else
	/* A plain static executable is loaded exactly where it was linked. */
	CHECK_EQ(__ehdr_start.e_type, ET_EXEC);
	CHECK_EQ(load_bias(), 0);
#endif
}

TEST(at_pagesz)
{
	/* Both supported architectures run with 4 KiB base pages. */
	CHECK_EQ(stack_aux(AT_PAGESZ), 4096);
	CHECK_EQ(sysconf(_SC_PAGESIZE), 4096);
}

TEST(at_clktck)
{
	/* USER_HZ, the unit of times(2), is 100 on every Linux architecture. */
	CHECK_EQ(stack_aux(AT_CLKTCK), 100);
	CHECK_EQ(sysconf(_SC_CLK_TCK), 100);
}

TEST(at_ids_match_syscalls)
{
	CHECK_EQ(stack_aux(AT_UID), syscall(SYS_getuid));
	CHECK_EQ(stack_aux(AT_EUID), syscall(SYS_geteuid));
	CHECK_EQ(stack_aux(AT_GID), syscall(SYS_getgid));
	CHECK_EQ(stack_aux(AT_EGID), syscall(SYS_getegid));
	/* Not set-user-ID, so not a secure-mode execution. */
	CHECK_EQ(stack_aux(AT_SECURE), 0);
}

TEST(at_hwcap)
{
	unsigned long hw = stack_aux(AT_HWCAP);
#if defined(__x86_64__)
	/* AT_HWCAP is CPUID leaf 1 EDX; x86-64 implies FPU, CX8, CMOV, MMX,
	 * FXSR, SSE and SSE2, and the kernel may not claim bits the CPU lacks. */
	unsigned int eax = 1, ebx, ecx = 0, edx;
	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	unsigned long base = (1UL << 0) | (1UL << 8) | (1UL << 15) |
			     (1UL << 23) | (1UL << 24) | (1UL << 25) | (1UL << 26);
	CHECK_EQ(hw & base, base);
	CHECK_EQ(hw & ~(unsigned long)edx, 0);
#elif defined(__riscv)
	/* One bit per single-letter extension, bit ('x' - 'a'); this binary is
	 * built for rv64gc, so I, M, A, F, D and C must all be present. */
	const char *exts = "imafdc";
	for (const char *e = exts; *e; e++)
		CHECK_MSG(hw & (1UL << (*e - 'a')),
			  "AT_HWCAP 0x%lx lacks extension '%c'", hw, *e);
#endif
}

TEST(at_random_readable)
{
	const unsigned char *r = (const unsigned char *)stack_aux(AT_RANDOM);
	CHECK(r != NULL);
	/* 16 bytes of random data; all-zero has probability 2^-128. */
	int nonzero = 0;
	for (int i = 0; i < 16; i++)
		nonzero |= r[i];
	CHECK_MSG(nonzero, "AT_RANDOM bytes are all zero");
}

/* Child mode: prints this process's AT_RANDOM bytes on fd 1. */
int t_child_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const void *r = (const void *)getauxval(AT_RANDOM);
	if (!r)
		return 3;
	return write(1, r, 16) == 16 ? 0 : 4;
}

TEST(at_random_differs_per_exec)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		dup2(p[1], 1);
		char *args[] = { t_argv[0], "--child", NULL };
		execve(t_argv[0], args, environ);
		_exit(127);
	}
	close(p[1]);
	unsigned char theirs[16];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(theirs) &&
	       (n = read(p[0], theirs + got, sizeof(theirs) - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	t_wait_exit(pid, 0);
	CHECK_EQ(got, 16);
	CHECK_MSG(memcmp(theirs, (void *)stack_aux(AT_RANDOM), 16) != 0,
		  "two executions got the same AT_RANDOM bytes");
}
