/*
 * eventfd(2): the counter, EFD_SEMAPHORE, EFD_NONBLOCK/EFD_CLOEXEC, the
 * limits of the counter, readiness, blocking and its wake-up, and how
 * /proc shows the descriptor.
 */
#include "test.h"

#include <poll.h>
#include <sys/eventfd.h>

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	CHECK_RET(read(fd, &v, sizeof(v)), 8);
	return v;
}

static void wr(int fd, uint64_t v)
{
	CHECK_RET(write(fd, &v, sizeof(v)), 8);
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	CHECK_OK(poll(&p, 1, 0));
	return p.revents;
}

TEST(counter_adds_and_read_resets)
{
	int fd = CHECK_OK(eventfd(3, EFD_NONBLOCK));
	wr(fd, 5);
	wr(fd, 7);
	CHECK_EQ(rd(fd), 15);
	uint64_t v;
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	/* Adding 0 is allowed and changes nothing. */
	wr(fd, 0);
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	close(fd);
}

TEST(semaphore_reads_one_at_a_time)
{
	int fd = CHECK_OK(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
	CHECK_EQ(rd(fd), 1);
	CHECK_EQ(rd(fd), 1);
	uint64_t v;
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	close(fd);
}

TEST(einval_cases)
{
	CHECK_ERR(eventfd(0, 1 << 5), EINVAL);
	int fd = CHECK_OK(eventfd(0, EFD_NONBLOCK));
	uint32_t small = 1;
	CHECK_ERR(write(fd, &small, sizeof(small)), EINVAL);
	CHECK_ERR(read(fd, &small, sizeof(small)), EINVAL);
	uint64_t all = UINT64_MAX;
	CHECK_ERR(write(fd, &all, sizeof(all)), EINVAL);
	/* A write must be exactly 8 bytes; a longer read buffer is fine. */
	uint64_t two[2] = { 4, 99 };
	CHECK_ERR(write(fd, two, sizeof(two)), EINVAL);
	CHECK_RET(write(fd, two, 8), 8);
	CHECK_RET(read(fd, two, sizeof(two)), 8);
	CHECK_EQ(two[0], 4);
	close(fd);
}

TEST(counter_limit_and_readiness)
{
	int fd = CHECK_OK(eventfd(0, EFD_NONBLOCK));
	/* Empty: writable only. */
	CHECK_EQ(revents(fd), POLLOUT);
	wr(fd, UINT64_MAX - 1);
	/* Full: readable only; one more would overflow. */
	CHECK_EQ(revents(fd), POLLIN);
	uint64_t one = 1;
	CHECK_ERR(write(fd, &one, sizeof(one)), EAGAIN);
	CHECK_EQ(rd(fd), UINT64_MAX - 1);
	CHECK_EQ(revents(fd), POLLOUT);
	close(fd);
}

TEST(blocking_read_woken_by_write)
{
	int fd = CHECK_OK(eventfd(0, 0));
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		uint64_t v = 42;
		_exit(write(fd, &v, sizeof(v)) == 8 ? 0 : 1);
	}
	CHECK_EQ(rd(fd), 42);
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(blocking_write_woken_by_read)
{
	int fd = CHECK_OK(eventfd(0, 0));
	wr(fd, UINT64_MAX - 1);
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		uint64_t v;
		_exit(read(fd, &v, sizeof(v)) == 8 && v == UINT64_MAX - 1 ? 0 : 1);
	}
	/* Blocks until the child has emptied the counter. */
	wr(fd, 5);
	t_wait_exit(pid, 0);
	CHECK_EQ(rd(fd), 5);
	close(fd);
}

TEST(flags_and_proc)
{
	int fd = CHECK_OK(eventfd(9, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE));
	CHECK_RET(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int fl = CHECK_OK(fcntl(fd, F_GETFL));
	CHECK((fl & O_ACCMODE) == O_RDWR);
	CHECK(fl & O_NONBLOCK);
	char path[64], link[64] = { 0 };
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK_OK(readlink(path, link, sizeof(link) - 1));
	CHECK_STREQ(link, "anon_inode:[eventfd]");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int info = CHECK_OK(open(path, O_RDONLY));
	char text[512] = { 0 };
	CHECK_OK(read(info, text, sizeof(text) - 1));
	close(info);
	CHECK_MSG(strstr(text, "eventfd-count:                9\n") != NULL, "fdinfo: %s", text);
	CHECK_MSG(strstr(text, "eventfd-semaphore: 1\n") != NULL, "fdinfo: %s", text);
	close(fd);
}
