/*
 * oom - a program that asks for more memory than the machine has loses,
 * the kernel does not: touching anonymous memory past the end is ended
 * with SIGKILL (Linux's OOM killer), writes into a memfd stop with an
 * error, and afterwards the memory is free again and processes can be
 * made. Before user frames kept a reserve back for the kernel, the
 * process's own exit failed a kernel allocation and the kernel panicked
 * (found by make fuzz). Starling only: on a Linux host this would wake
 * the host's OOM killer.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>

static unsigned long total_mb(void)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return 0;
	return (unsigned long)(si.totalram / (1024 * 1024)) * si.mem_unit;
}

static unsigned long free_mb(void)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return 0;
	return (unsigned long)(si.freeram / (1024 * 1024)) * si.mem_unit;
}

/* A fork and an exit still work. */
static void check_fork(void)
{
	pid_t pid = CHECK_OK(fork());

	if (pid == 0)
		_exit(5);
	t_wait_exit(pid, 5);
}

TEST(anonymous_memory_past_the_end_is_killed)
{
	unsigned long mb = total_mb() + 64, before = free_mb();
	pid_t pid;
	int st;

	if (!on_starling())
		t_skip("would run the host out of memory");
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char *p = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		for (unsigned long off = 0; off < mb << 20; off += 4096)
			p[off] = 1;
		_exit(4);
	}
	CHECK_OK(waitpid(pid, &st, 0));
	CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the child touching %lu MiB ended with status %#x, not SIGKILL", mb, st);
	check_fork();
	/* Its memory came back (the reserve and other programs aside). */
	CHECK_MSG(free_mb() + 32 >= before, "free memory %lu MiB, %lu MiB before", free_mb(),
		  before);
}

TEST(memfd_writes_past_the_end_fail)
{
	static char buf[1 << 20];
	unsigned long mb = total_mb() + 64, before = free_mb();
	pid_t pid;

	if (!on_starling())
		t_skip("would run the host out of memory");
	memset(buf, 0x5a, sizeof(buf));
	/* In a child: while the memfd holds all memory, any process that
	 * needs a page is killed, the test itself included. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		unsigned long done = 0;
		int fd = memfd_create("oom", 0);

		if (fd < 0)
			_exit(2);
		for (; done < mb; done++) {
			if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				break;
		}
		if (done == mb)
			_exit(3);
		_exit(errno == ENOMEM || errno == ENOSPC ? 0 : 4);
	}
	/* 3: everything written; 4: another error than ENOMEM/ENOSPC. */
	t_wait_exit(pid, 0);
	check_fork();
	CHECK_MSG(free_mb() + 32 >= before, "free memory %lu MiB, %lu MiB before", free_mb(),
		  before);
}
