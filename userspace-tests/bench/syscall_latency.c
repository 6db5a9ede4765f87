/*
 * Benchmark: cost of small system calls, entered with the raw syscall
 * instruction (no vDSO, no libc caching).
 *
 *   getppid_ns          the null system call (lmbench's "null syscall")
 *   getpid_ns, clock_gettime_ns, enosys_ns (an unknown number)
 *   read_devnull_ns     read of 1 byte from /dev/null
 *   write_devnull_ns    write of 1 byte to /dev/null
 *   open_close_ns       open + close of a file in /tmp
 *   stat_ns             stat of that file
 *   fcntl_lock_ns       F_SETLK of a write lock on one byte, then F_UNLCK
 *
 * Prints "name value unit" lines (see include/bench.h and run-bench); each
 * metric is the mean over its time budget.
 */
#include "bench.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

struct call {
	long nr, a0, a1, a2;
};

static int raw_call(void *arg)
{
	const struct call *c = arg;
	syscall(c->nr, c->a0, c->a1, c->a2);
	return 0;
}

static int checked_call(void *arg)
{
	const struct call *c = arg;
	return syscall(c->nr, c->a0, c->a1, c->a2) < 0;
}

static const char *file_path;

static int open_close(void *arg)
{
	(void)arg;
	int fd = open(file_path, O_RDONLY);
	return fd < 0 || close(fd);
}

static int do_stat(void *arg)
{
	(void)arg;
	struct stat st;
	return stat(file_path, &st);
}

static int lock_unlock(void *arg)
{
	int fd = *(int *)arg;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	if (fcntl(fd, F_SETLK, &fl))
		return 1;
	fl.l_type = F_UNLCK;
	return fcntl(fd, F_SETLK, &fl) != 0;
}

int main(void)
{
	const char *p = "syscall_latency";
	int status = 0;
	struct timespec ts;
	char byte = 0;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/bench-syscall.%d", (int)getpid());
	file_path = path;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int null = open("/dev/null", O_RDWR);
	if (fd < 0 || null < 0 || write(fd, "x", 1) != 1) {
		fprintf(stderr, "%s: cannot create %s or open /dev/null\n", p, path);
		return 1;
	}

	struct call c = { SYS_getppid, 0, 0, 0 };
	bench_report(p, "getppid_ns", bench_loop(raw_call, &c, 1000), 1, "ns", &status);
	c = (struct call){ SYS_getpid, 0, 0, 0 };
	bench_report(p, "getpid_ns", bench_loop(raw_call, &c, 1000), 1, "ns", &status);
	c = (struct call){ SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0 };
	bench_report(p, "clock_gettime_ns", bench_loop(raw_call, &c, 1000), 1, "ns", &status);
	c = (struct call){ 1000, 0, 0, 0 };
	bench_report(p, "enosys_ns", bench_loop(raw_call, &c, 1000), 1, "ns", &status);
	/* read of /dev/null returns 0 (end of file), which is success. */
	c = (struct call){ SYS_read, null, (long)&byte, 1 };
	bench_report(p, "read_devnull_ns", bench_loop(checked_call, &c, 1000), 1, "ns", &status);
	c = (struct call){ SYS_write, null, (long)&byte, 1 };
	bench_report(p, "write_devnull_ns", bench_loop(checked_call, &c, 1000), 1, "ns", &status);
	bench_report(p, "open_close_ns", bench_loop(open_close, NULL, 100), 1, "ns", &status);
	bench_report(p, "stat_ns", bench_loop(do_stat, NULL, 100), 1, "ns", &status);
	bench_report(p, "fcntl_lock_ns", bench_loop(lock_unlock, &fd, 100), 1, "ns", &status);
	close(fd);
	close(null);
	unlink(path);
	return status;
}
