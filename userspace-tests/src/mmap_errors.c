/*
 * mmap(2), mprotect(2) and munmap(2) argument checking: each error of the
 * man pages, and the order Linux checks them in when a call has several
 * faults (mm/mmap.c do_mmap, mm/mprotect.c do_mprotect_pkey); /dev/zero
 * mappings; MAP_GROWSDOWN stacks and PROT_GROWSDOWN.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#define MAP_HUGE_2MB_BITS (21UL << 26)
/* A flag bit no kernel defines. */
#define MAP_UNKNOWN 0x200000UL
#define PROT_SEM_BIT 0x8

/* An address in the kernel's half on every supported configuration. */
#define KERNEL_HALF (1UL << 63)

static void *raw_mmap(void *addr, size_t len, unsigned long prot,
		      unsigned long flags, long fd, long off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static long raw_mprotect(void *addr, size_t len, unsigned long prot)
{
	return syscall(SYS_mprotect, addr, len, prot);
}

static long raw_munmap(void *addr, size_t len)
{
	return syscall(SYS_munmap, addr, len);
}

static char *map_anon(size_t len, int prot)
{
	void *p = raw_mmap(NULL, len, prot, ANON, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap(%zu) failed: %s", len, t_errname(errno));
	return p;
}

/* A two-page file in the scratch directory, opened with `flags`. */
static int data_file(int flags)
{
	const char *path = t_path("data");
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		t_fail("create %s: %s", path, t_errname(errno));
	if (ftruncate(fd, 2 * PAGE) != 0)
		t_fail("ftruncate: %s", t_errname(errno));
	close(fd);
	fd = open(path, flags);
	if (fd < 0)
		t_fail("open %s: %s", path, t_errname(errno));
	return fd;
}

/* Forks a child that touches `addr` (write if `write`) and exits 0;
 * expects it to die of SIGSEGV when `segv`, to exit 0 otherwise. */
static void touch_in_child(void *addr, int write, int segv)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (write)
			*(volatile char *)addr = 1;
		else
			(void)*(volatile char *)addr;
		_exit(0);
	}
	if (segv)
		t_wait_signal(pid, SIGSEGV);
	else
		t_wait_exit(pid, 0);
}

/* ---- mmap ------------------------------------------------------------ */

TEST(ebadf_comes_before_length_and_type)
{
	/* ksys_mmap_pgoff looks the descriptor up before do_mmap checks the
	 * length or the mapping type (LTP mmap08 maps length 0). */
	int fd = data_file(O_RDWR);
	close(fd);
	CHECK_ERR(raw_mmap(NULL, 0, PROT_WRITE, MAP_SHARED, fd, 0), EBADF);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, 0, fd, 0), EBADF);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	/* An O_PATH descriptor is not a file to map. */
	int opath = (int)CHECK_OK(open(t_path("data"), O_PATH));
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, opath, 0),
		  EBADF);
	close(opath);
}

TEST(einval_offset_comes_first)
{
	/* The architecture entry checks the offset before anything else. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, -1, 1), EINVAL);
	CHECK_ERR(raw_mmap(NULL, 0, RW, ANON, -1, PAGE / 2), EINVAL);
}

TEST(einval_length_zero_and_type)
{
	int fd = data_file(O_RDWR);
	CHECK_ERR(raw_mmap(NULL, 0, RW, MAP_SHARED, fd, 0), EINVAL);
	/* Neither or a reserved MAP_TYPE value. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, 0, fd, 0), EINVAL);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, 0x04, fd, 0), EINVAL);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, 0x04 | MAP_ANONYMOUS, -1, 0),
		  EINVAL);
	/* MAP_SHARED_VALIDATE is for files only: do_mmap's anonymous
	 * switch has no case for it. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS,
			   -1, 0),
		  EINVAL);
	/* MAP_HUGETLB on a file that is not on hugetlbfs. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED | MAP_HUGETLB, fd, 0),
		  EINVAL);
	/* An anonymous MAP_HUGETLB of a size no MMU has. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, ANON | MAP_HUGETLB | (5UL << 26), -1,
			   0),
		  EINVAL);
	close(fd);
}

TEST(unknown_prot_bits_ignored)
{
	/* mmap looks at PROT_READ, PROT_WRITE and PROT_EXEC only. */
	char *p = raw_mmap(NULL, PAGE, RW | 0x10 | PROT_GROWSDOWN, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	CHECK_RET(raw_munmap(p, PAGE), 0);
}

TEST(shared_validate_flags)
{
	int fd = data_file(O_RDWR);
	/* Unknown flags: refused by MAP_SHARED_VALIDATE, ignored by
	 * MAP_SHARED and MAP_PRIVATE. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED_VALIDATE | MAP_UNKNOWN,
			   fd, 0),
		  EOPNOTSUPP);
	char *p = raw_mmap(NULL, PAGE, RW, MAP_SHARED | MAP_UNKNOWN, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(raw_munmap(p, PAGE), 0);
	p = raw_mmap(NULL, PAGE, RW, MAP_PRIVATE | MAP_UNKNOWN, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(raw_munmap(p, PAGE), 0);
	/* MAP_SYNC needs a DAX file; MAP_FIXED_NOREPLACE is not a legacy
	 * flag. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED_VALIDATE | MAP_SYNC, fd,
			   0),
		  EOPNOTSUPP);
	char *free_at = map_anon(PAGE, RW);
	CHECK_RET(raw_munmap(free_at, PAGE), 0);
	CHECK_ERR(raw_mmap(free_at, PAGE, RW,
			   MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, fd, 0),
		  EOPNOTSUPP);
	/* The legacy flags, and the huge-page size bits, are accepted. */
	p = raw_mmap(NULL, PAGE, RW,
		     MAP_SHARED_VALIDATE | MAP_NORESERVE | MAP_STACK |
			     MAP_POPULATE | MAP_DENYWRITE | MAP_EXECUTABLE |
			     MAP_UNINITIALIZED | MAP_HUGE_2MB_BITS,
		     fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 'v';
	CHECK_RET(raw_munmap(p, PAGE), 0);
	close(fd);
	/* EOPNOTSUPP comes before the open-mode check. */
	fd = data_file(O_RDONLY);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED_VALIDATE | MAP_UNKNOWN,
			   fd, 0),
		  EOPNOTSUPP);
	close(fd);
}

TEST(eacces_open_mode)
{
	int ro = data_file(O_RDONLY);
	int wo = data_file(O_WRONLY);
	/* A shared writable mapping needs a descriptor open for writing. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, ro, 0), EACCES);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED_VALIDATE, ro, 0),
		  EACCES);
	/* Every file mapping needs one open for reading. */
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, wo, 0), EACCES);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, wo, 0), EACCES);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
	/* A private mapping may be writable on a read-only descriptor. */
	char *p = raw_mmap(NULL, PAGE, RW, MAP_PRIVATE, ro, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 'x';
	CHECK_RET(raw_munmap(p, PAGE), 0);
	close(ro);
	close(wo);
}

TEST(mprotect_eacces_beyond_may_write)
{
	int ro = data_file(O_RDONLY);
	char *s = raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(s != MAP_FAILED);
	CHECK_ERR(raw_mprotect(s, PAGE, RW), EACCES);
	CHECK_ERR(raw_mprotect(s, PAGE, PROT_WRITE), EACCES);
	CHECK_RET(raw_mprotect(s, PAGE, PROT_READ | PROT_EXEC), 0);
	CHECK_RET(raw_mprotect(s, PAGE, PROT_NONE), 0);
	/* A private mapping of the same descriptor may become writable. */
	char *p = raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
	CHECK(p != MAP_FAILED);
	CHECK_RET(raw_mprotect(p, PAGE, RW), 0);
	p[1] = 'w';
	CHECK_RET(raw_munmap(s, PAGE), 0);
	CHECK_RET(raw_munmap(p, PAGE), 0);
	close(ro);
}

TEST(enodev_no_mmap_operation)
{
	int dir = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dir, 0), ENODEV);
	/* The open-mode checks come first. */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, dir, 0), EACCES);
	close(dir);
	int pfd[2];
	CHECK_OK(pipe(pfd));
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pfd[0], 0),
		  ENODEV);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pfd[1], 0),
		  EACCES);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, pfd[0], 0), EACCES);
	close(pfd[0]);
	close(pfd[1]);
	int null = (int)CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_PRIVATE, null, 0), ENODEV);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, null, 0), ENODEV);
	close(null);
	int st = (int)CHECK_OK(open("/proc/self/status", O_RDONLY));
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, st, 0), ENODEV);
	close(st);
}

TEST(dev_zero_mappings)
{
	int ro = (int)CHECK_OK(open("/dev/zero", O_RDONLY));
	/* Shared and read-only: may never become writable (LTP mprotect01). */
	char *s = raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(s != MAP_FAILED);
	CHECK_EQ(s[PAGE - 1], 0);
	CHECK_ERR(raw_mprotect(s, PAGE, RW), EACCES);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, ro, 0), EACCES);
	/* Private: zero-filled anonymous memory, writable. */
	char *p = raw_mmap(NULL, 2 * PAGE, RW, MAP_PRIVATE, ro, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[PAGE + 5], 0);
	p[PAGE + 5] = 7;
	CHECK_EQ(p[PAGE + 5], 7);
	close(ro);
	/* Shared and writable: one object, shared with a child. */
	int rw = (int)CHECK_OK(open("/dev/zero", O_RDWR));
	char *w = raw_mmap(NULL, PAGE, RW, MAP_SHARED, rw, 0);
	CHECK(w != MAP_FAILED);
	close(rw);
	pid_t pid = t_fork();
	if (pid == 0) {
		w[10] = 'c';
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(w[10], 'c');
	/* The mapping does not write to /dev/zero: a new one is zero. */
	rw = (int)CHECK_OK(open("/dev/zero", O_RDWR));
	char *w2 = raw_mmap(NULL, PAGE, RW, MAP_SHARED, rw, 0);
	CHECK(w2 != MAP_FAILED);
	CHECK_EQ(w2[10], 0);
	close(rw);
	raw_munmap(s, PAGE);
	raw_munmap(p, 2 * PAGE);
	raw_munmap(w, PAGE);
	raw_munmap(w2, PAGE);
}

TEST(eoverflow_offset)
{
	int fd = data_file(O_RDWR);
	/* A negative offset is a huge unsigned one: past what a regular
	 * file can hold (MAX_LFS_FILESIZE). */
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED, fd, -(long)PAGE),
		  EOVERFLOW);
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd,
			   -(long)PAGE),
		  EOVERFLOW);
	/* The last page below 2^63 is out, the one before it is in. */
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
			   0x7ffffffffffff000L),
		  EOVERFLOW);
	char *p = raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
			   0x7fffffffffffe000L);
	CHECK(p != MAP_FAILED);
	CHECK_RET(raw_munmap(p, PAGE), 0);
	/* EOVERFLOW comes before the type check and ENODEV. */
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, 0, fd, -(long)PAGE),
		  EOVERFLOW);
	close(fd);
	int dir = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dir,
			   -(long)PAGE),
		  EOVERFLOW);
	close(dir);
	/* Anonymous mappings ignore the offset. */
	p = raw_mmap(NULL, PAGE, RW, ANON, -1, -(long)PAGE);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	CHECK_RET(raw_munmap(p, PAGE), 0);
}

TEST(fixed_address_checks)
{
	char *p = map_anon(2 * PAGE, RW);
	p[0] = 'k';
	/* Unaligned MAP_FIXED and MAP_FIXED_NOREPLACE addresses. */
	CHECK_ERR(raw_mmap(p + 1, PAGE, RW, ANON | MAP_FIXED, -1, 0), EINVAL);
	CHECK_ERR(raw_mmap(p + 1, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0),
		  EINVAL);
	/* Past the user address space is ENOMEM, checked before the
	 * alignment. */
	CHECK_ERR(raw_mmap((void *)(KERNEL_HALF + 1), PAGE, RW,
			   ANON | MAP_FIXED, -1, 0),
		  ENOMEM);
	/* A length that cannot fit anywhere. */
	CHECK_ERR(raw_mmap(NULL, KERNEL_HALF, RW, ANON, -1, 0), ENOMEM);
	CHECK_ERR(raw_mmap(p, -PAGE, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
	/* None of the failures touched the mapping. */
	CHECK_EQ(p[0], 'k');
	CHECK_RET(raw_munmap(p, 2 * PAGE), 0);
}

TEST(eexist_fixed_noreplace)
{
	char *p = map_anon(2 * PAGE, RW);
	p[PAGE] = 'e';
	CHECK_ERR(raw_mmap(p + PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1,
			   0),
		  EEXIST);
	/* EEXIST comes before the mapping-type and open-mode checks. */
	CHECK_ERR(raw_mmap(p, PAGE, RW, MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			   0),
		  EEXIST);
	int ro = data_file(O_RDONLY);
	CHECK_ERR(raw_mmap(p, PAGE, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, ro,
			   0),
		  EEXIST);
	close(ro);
	CHECK_EQ(p[PAGE], 'e');
	/* A failed MAP_FIXED leaves the old mapping in place. */
	CHECK_ERR(raw_mmap(p, PAGE, RW, MAP_FIXED, -1, 0), EBADF);
	int wo = data_file(O_WRONLY);
	CHECK_ERR(raw_mmap(p, 2 * PAGE, RW, MAP_SHARED | MAP_FIXED, wo, 0),
		  EACCES);
	close(wo);
	CHECK_EQ(p[PAGE], 'e');
	/* A free range is mapped exactly there. */
	CHECK_RET(raw_munmap(p + PAGE, PAGE), 0);
	CHECK(raw_mmap(p + PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) ==
	      p + PAGE);
	CHECK_RET(raw_munmap(p, 2 * PAGE), 0);
}

TEST(hint_rounded_down)
{
	char *p = map_anon(3 * PAGE, RW);
	CHECK_RET(raw_munmap(p, 3 * PAGE), 0);
	/* round_hint_to_min: an unaligned hint is rounded down. */
	char *q = raw_mmap(p + PAGE + 123, PAGE, RW, ANON, -1, 0);
	CHECK(q == p + PAGE);
	CHECK_RET(raw_munmap(q, PAGE), 0);
}

TEST(map_32bit_below_2g)
{
#ifdef __x86_64__
	/* x86_64: MAP_32BIT mappings lie in the low 2 GiB. */
	char *p = raw_mmap(NULL, 4 * PAGE, RW, ANON | MAP_32BIT, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_MSG((unsigned long)p + 4 * PAGE <= 0x80000000UL,
		  "MAP_32BIT mapping at %p", (void *)p);
	p[0] = 1;
	char *q = raw_mmap(NULL, PAGE, RW, ANON | MAP_32BIT, -1, 0);
	CHECK(q != MAP_FAILED && q != p);
	CHECK((unsigned long)q + PAGE <= 0x80000000UL);
	/* A length that cannot fit below 2 GiB. */
	CHECK_ERR(raw_mmap(NULL, 0x80000000UL + PAGE, RW, ANON | MAP_32BIT, -1,
			   0),
		  ENOMEM);
	CHECK_RET(raw_munmap(p, 4 * PAGE), 0);
	CHECK_RET(raw_munmap(q, PAGE), 0);
#else
	t_skip("MAP_32BIT is x86_64 only");
#endif
}

TEST(eperm_below_mmap_min_addr)
{
	/* Without CAP_SYS_RAWIO nothing maps at address 0. */
	pid_t pid = t_fork();
	if (pid == 0) {
		if (getuid() == 0 && setuid(65534) != 0)
			t_fail("setuid: %s", t_errname(errno));
		CHECK_ERR(raw_mmap(NULL, PAGE, RW, ANON | MAP_FIXED, -1, 0),
			  EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(root_maps_below_mmap_min_addr)
{
	/* With CAP_SYS_RAWIO a fixed mapping may lie below mmap_min_addr. */
	if (getuid() != 0)
		t_skip("needs root");
	void *low = (void *)PAGE;
	char *p = raw_mmap(low, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK_MSG(p == low, "mmap at %p: %p (%s)", low, (void *)p,
		  t_errname(errno));
	p[0] = 'z';
	CHECK_EQ(p[0], 'z');
	CHECK_RET(raw_munmap(p, PAGE), 0);
}

TEST(noexec_mount)
{
	if (getuid() != 0)
		t_skip("mounting needs root");
	const char *dir = t_path("nx");
	CHECK_OK(mkdir(dir, 0700));
	if (mount("tmpfs", dir, "tmpfs", MS_NOEXEC, NULL) != 0)
		t_skip("cannot mount tmpfs: %s", t_errname(errno));
	char path[512];
	snprintf(path, sizeof(path), "%s/f", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0700);
	int ok = fd >= 0 && ftruncate(fd, PAGE) == 0;
	void *x = MAP_FAILED, *r = MAP_FAILED, *s = MAP_FAILED;
	int ex_err = 0, sx_err = 0, mp_ret = 0, mp_err = 0;
	if (ok) {
		errno = 0;
		x = raw_mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd,
			     0);
		ex_err = errno;
		errno = 0;
		s = raw_mmap(NULL, PAGE, PROT_EXEC, MAP_SHARED, fd, 0);
		sx_err = errno;
		r = raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r != MAP_FAILED) {
			errno = 0;
			mp_ret = (int)raw_mprotect(r, PAGE,
						   PROT_READ | PROT_EXEC);
			mp_err = errno;
		}
		close(fd);
	}
	if (r != MAP_FAILED)
		raw_munmap(r, PAGE);
	umount(dir);
	rmdir(dir);
	CHECK(ok);
	/* PROT_EXEC on a noexec mount is EPERM; a mapping made without it
	 * may never gain it (VM_MAYEXEC) and mprotect says EACCES. */
	CHECK_MSG(x == MAP_FAILED && ex_err == EPERM,
		  "private exec mapping: %p, %s", x, t_errname(ex_err));
	CHECK_MSG(s == MAP_FAILED && sx_err == EPERM,
		  "shared exec mapping: %p, %s", s, t_errname(sx_err));
	CHECK(r != MAP_FAILED);
	CHECK_MSG(mp_ret == -1 && mp_err == EACCES, "mprotect: %d, %s", mp_ret,
		  t_errname(mp_err));
}

/* The permission field ("rwxp") of the /proc/self/maps line of the VMA
 * starting at `addr`, or "" if there is none. */
static const char *maps_perms(void *addr)
{
	static char perms[8];
	char want[32], line[512];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	perms[0] = '\0';
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		t_fail("open /proc/self/maps: %s", t_errname(errno));
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0) {
			sscanf(line, "%*s %7s", perms);
			break;
		}
	fclose(f);
	return perms;
}

TEST(read_implies_exec_personality)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(personality(READ_IMPLIES_EXEC));
		char *p = map_anon(2 * PAGE, PROT_READ);
		CHECK_STREQ(maps_perms(p), "r-xp");
		CHECK_RET(raw_mprotect(p, 2 * PAGE, RW), 0);
		CHECK_STREQ(maps_perms(p), "rwxp");
		CHECK_RET(raw_mprotect(p + PAGE, PAGE, PROT_READ), 0);
		CHECK_STREQ(maps_perms(p + PAGE), "r-xp");
		/* Without PROT_READ nothing is added. */
		CHECK_RET(raw_mprotect(p, PAGE, PROT_WRITE), 0);
		CHECK_STREQ(maps_perms(p), "-w-p");
		char *w = map_anon(PAGE, PROT_WRITE);
		CHECK_STREQ(maps_perms(w), "-w-p");
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* ---- MAP_GROWSDOWN ----------------------------------------------------- */

/* A 2-page MAP_GROWSDOWN mapping with 300 free pages below it. */
static char *growsdown_region(void)
{
	size_t reserve = 302 * PAGE;
	char *base = map_anon(reserve, PROT_NONE);
	CHECK_RET(raw_munmap(base, reserve), 0);
	char *top = base + reserve - 2 * PAGE;
	char *g = raw_mmap(top, 2 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN,
			   -1, 0);
	CHECK(g == top);
	return g;
}

TEST(growsdown_only_private_anonymous)
{
	int fd = data_file(O_RDWR);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_SHARED | MAP_GROWSDOWN, fd, 0),
		  EINVAL);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0),
		  EINVAL);
	close(fd);
	CHECK_ERR(raw_mmap(NULL, PAGE, RW,
			   MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0),
		  EINVAL);
	char *g = growsdown_region();
	CHECK_RET(raw_munmap(g, 2 * PAGE), 0);
}

TEST(growsdown_mapping_grows_on_fault)
{
	char *g = growsdown_region();
	/* A touch below the mapping grows it (mmap18). */
	pid_t pid = t_fork();
	if (pid == 0) {
		for (int i = 1; i <= 8; i++)
			*(volatile char *)(g - i * PAGE) = (char)i;
		CHECK_EQ(*(volatile char *)(g - 8 * PAGE), 8);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	raw_munmap(g, 2 * PAGE);
}

TEST(growsdown_keeps_guard_gap)
{
	char *g = growsdown_region();
	/* An accessible mapping within the guard gap (256 pages) below
	 * stops the growth: the touch is SIGSEGV. */
	char *below = raw_mmap(g - 4 * PAGE, PAGE, RW, ANON | MAP_FIXED, -1, 0);
	CHECK(below == g - 4 * PAGE);
	touch_in_child(g - 2 * PAGE, 1, 1);
	raw_munmap(below, PAGE);
	raw_munmap(g, 2 * PAGE);
}

/* ---- mprotect ---------------------------------------------------------- */

TEST(mprotect_argument_checks)
{
	char *p = map_anon(2 * PAGE, RW);
	/* PROT_SEM is accepted; other unknown bits are not. */
	CHECK_RET(raw_mprotect(p, PAGE, RW | PROT_SEM_BIT), 0);
	CHECK_ERR(raw_mprotect(p, PAGE, RW | 0x10), EINVAL);
	CHECK_ERR(raw_mprotect(p, PAGE, RW | (1UL << 40)), EINVAL);
	/* PROT_GROWSDOWN needs a MAP_GROWSDOWN mapping; PROT_GROWSUP a
	 * VM_GROWSUP one, which these architectures do not have; both at
	 * once are EINVAL before anything else. */
	CHECK_ERR(raw_mprotect(p, PAGE, RW | PROT_GROWSDOWN), EINVAL);
	CHECK_ERR(raw_mprotect(p, PAGE, RW | PROT_GROWSUP), EINVAL);
	CHECK_ERR(raw_mprotect(p + 1, 0,
			       RW | PROT_GROWSUP | PROT_GROWSDOWN),
		  EINVAL);
	/* Alignment is checked before the zero length; the prot bits
	 * after it. */
	CHECK_ERR(raw_mprotect(p + 1, 0, RW), EINVAL);
	CHECK_RET(raw_mprotect(p, 0, 0x10), 0);
	CHECK_RET(raw_mprotect((void *)PAGE, 0, RW), 0);
	/* A range that wraps, or is unmapped, is ENOMEM; bad bits on an
	 * unmapped range are EINVAL. */
	CHECK_ERR(raw_mprotect(p, -PAGE, RW), ENOMEM);
	CHECK_ERR(raw_mprotect((void *)KERNEL_HALF, PAGE, RW), ENOMEM);
	CHECK_ERR(raw_mprotect((void *)KERNEL_HALF, PAGE, 0x10), EINVAL);
	CHECK_RET(raw_munmap(p, 2 * PAGE), 0);
}

TEST(mprotect_growsdown_extends_to_start)
{
	char *g = growsdown_region();
	g[0] = 1;
	/* Protecting the upper page with PROT_GROWSDOWN changes the whole
	 * mapping below it too. */
	CHECK_RET(raw_mprotect(g + PAGE, PAGE, PROT_READ | PROT_GROWSDOWN), 0);
	touch_in_child(g, 1, 1);
	touch_in_child(g, 0, 0);
	raw_munmap(g, 2 * PAGE);
}

TEST(mprotect_partial_before_hole)
{
	char *p = map_anon(3 * PAGE, RW);
	CHECK_RET(raw_munmap(p + PAGE, PAGE), 0);
	/* The VMA below the hole is changed before the hole is found. */
	CHECK_ERR(raw_mprotect(p, 3 * PAGE, PROT_READ), ENOMEM);
	touch_in_child(p, 1, 1);
	touch_in_child(p + 2 * PAGE, 1, 0);
	/* A range starting in the hole changes nothing. */
	CHECK_ERR(raw_mprotect(p + PAGE, 2 * PAGE, PROT_READ), ENOMEM);
	touch_in_child(p + 2 * PAGE, 1, 0);
	raw_munmap(p, 3 * PAGE);
}

TEST(mprotect_partial_before_eacces)
{
	/* [anonymous page][shared page of a read-only descriptor] */
	char *p = map_anon(2 * PAGE, PROT_READ);
	int ro = data_file(O_RDONLY);
	char *s = raw_mmap(p + PAGE, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED,
			   ro, 0);
	CHECK(s == p + PAGE);
	close(ro);
	CHECK_ERR(raw_mprotect(p, 2 * PAGE, RW), EACCES);
	/* The anonymous page became writable; the file page did not. */
	touch_in_child(p, 1, 0);
	touch_in_child(s, 1, 1);
	raw_munmap(p, 2 * PAGE);
}

/* ---- munmap ------------------------------------------------------------ */

TEST(munmap_einval)
{
	char *p = map_anon(PAGE, RW);
	CHECK_ERR(raw_munmap(p, 0), EINVAL);
	CHECK_ERR(raw_munmap(p + 1, PAGE), EINVAL);
	CHECK_ERR(raw_munmap(p, -PAGE), EINVAL);
	CHECK_ERR(raw_munmap((void *)KERNEL_HALF, PAGE), EINVAL);
	p[0] = 1;
	CHECK_RET(raw_munmap(p, PAGE), 0);
}

/* ---- msync ------------------------------------------------------------- */

TEST(msync_checks)
{
	char *p = map_anon(3 * PAGE, RW);
	CHECK_RET(raw_munmap(p + PAGE, PAGE), 0);
	/* Flags and alignment first; an empty range is then fine anywhere. */
	CHECK_ERR(msync(p + 1, PAGE, MS_SYNC), EINVAL);
	CHECK_ERR(msync(p, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK_ERR(msync(p, PAGE, 0x10), EINVAL);
	CHECK_RET(msync((void *)KERNEL_HALF, 0, MS_SYNC), 0);
	CHECK_ERR(msync(p, -PAGE, MS_SYNC), ENOMEM);
	/* A hole in the range is ENOMEM, whatever the flags. */
	CHECK_ERR(msync(p, 3 * PAGE, MS_SYNC), ENOMEM);
	CHECK_ERR(msync(p, 3 * PAGE, MS_ASYNC), ENOMEM);
	CHECK_ERR(msync(p, 3 * PAGE, MS_INVALIDATE), ENOMEM);
	CHECK_ERR(msync(p + PAGE, PAGE, MS_SYNC), ENOMEM);
	CHECK_RET(msync(p, PAGE, MS_SYNC), 0);
	CHECK_RET(msync(p + 2 * PAGE, PAGE, MS_ASYNC | MS_INVALIDATE), 0);
	raw_munmap(p, 3 * PAGE);
}
