/*
 * pipe2(2) and pipe semantics from pipe(7): flags, blocking and
 * non-blocking I/O, end of file, EPIPE/SIGPIPE, and transfers between
 * processes.
 */
#include "test.h"

#include <limits.h>

static void raw_pipe2(int p[2], int flags)
{
	CHECK_RET(syscall(SYS_pipe2, p, flags), 0);
	CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
}

static void close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

TEST(data_flows_in_order)
{
	int p[2];
	raw_pipe2(p, 0);
	CHECK_RET(write(p[1], "abc", 3), 3);
	CHECK_RET(write(p[1], "def", 3), 3);
	char buf[8] = { 0 };
	CHECK_RET(read(p[0], buf, 2), 2);
	CHECK_RET(read(p[0], buf + 2, sizeof(buf) - 3), 4);
	CHECK_STREQ(buf, "abcdef");
	/* The ends are one-way. */
	CHECK_ERR(write(p[0], "x", 1), EBADF);
	CHECK_ERR(read(p[1], buf, 1), EBADF);
	close_pair(p);
}

TEST(flags_cloexec)
{
	int p[2];
	raw_pipe2(p, O_CLOEXEC);
	CHECK_RET(fcntl(p[0], F_GETFD), FD_CLOEXEC);
	CHECK_RET(fcntl(p[1], F_GETFD), FD_CLOEXEC);
	close_pair(p);
	raw_pipe2(p, 0);
	CHECK_RET(fcntl(p[0], F_GETFD), 0);
	CHECK_RET(fcntl(p[1], F_GETFD), 0);
	close_pair(p);
}

TEST(flags_nonblock_eagain)
{
	int p[2];
	raw_pipe2(p, O_NONBLOCK);
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK);
	char c;
	/* Empty pipe, writer open: EAGAIN rather than blocking. */
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	/* Fill it: eventually a write cannot proceed and fails with EAGAIN. */
	static char chunk[4096];
	long total = 0;
	for (;;) {
		ssize_t n = write(p[1], chunk, sizeof(chunk));
		if (n < 0) {
			CHECK_EQ(errno, EAGAIN);
			break;
		}
		total += n;
		CHECK_MSG(total <= 64L << 20, "pipe accepted 64 MiB without filling");
	}
	/* pipe(7): the capacity is at least one page. */
	CHECK(total >= 4096);
	CHECK_RET(read(p[0], chunk, sizeof(chunk)), (long)sizeof(chunk));
	close_pair(p);
}

TEST(flags_invalid)
{
	int p[2] = { -1, -1 };
	CHECK_ERR(syscall(SYS_pipe2, p, 0x4000000), EINVAL);
	CHECK_ERR(syscall(SYS_pipe2, p, O_RDWR), EINVAL);
	CHECK_ERR(syscall(SYS_pipe2, (int *)1, 0), EFAULT);
}

TEST(eof_when_writers_closed)
{
	int p[2];
	raw_pipe2(p, 0);
	CHECK_RET(write(p[1], "z", 1), 1);
	CHECK_RET(close(p[1]), 0);
	char c;
	/* Buffered data first, then end of file, repeatedly. */
	CHECK_RET(read(p[0], &c, 1), 1);
	CHECK_RET(read(p[0], &c, 1), 0);
	CHECK_RET(read(p[0], &c, 1), 0);
	close(p[0]);
}

TEST(eof_needs_every_writer_closed)
{
	/* A forked child holding a copy of the write end keeps the pipe
	 * open; its exit closes the last writer and the reader sees EOF. */
	int p[2], go[2];
	raw_pipe2(p, 0);
	raw_pipe2(go, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(p[0]);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(write(p[1], "k", 1) == 1 ? 0 : 2);
	}
	close(p[1]);
	close(go[0]);
	CHECK_RET(write(go[1], "g", 1), 1);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	CHECK_EQ(c, 'k');
	CHECK_RET(read(p[0], &c, 1), 0);
	t_wait_exit(pid, 0);
	close(p[0]);
	close(go[1]);
}

TEST(epipe_and_sigpipe)
{
	int p[2];
	raw_pipe2(p, 0);
	close(p[0]);
	/* Default disposition: the writer dies of SIGPIPE. */
	pid_t pid = t_fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		(void)write(p[1], "x", 1);
		_exit(0);
	}
	t_wait_signal(pid, SIGPIPE);
	/* Ignored: write fails with EPIPE. */
	pid = t_fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		CHECK_ERR(write(p[1], "x", 1), EPIPE);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* Blocked: EPIPE, and the SIGPIPE is left pending. */
	pid = t_fork();
	if (pid == 0) {
		sigset_t s, pend;
		sigemptyset(&s);
		sigaddset(&s, SIGPIPE);
		sigprocmask(SIG_BLOCK, &s, NULL);
		CHECK_ERR(write(p[1], "x", 1), EPIPE);
		CHECK_RET(sigpending(&pend), 0);
		CHECK(sigismember(&pend, SIGPIPE));
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(p[1]);
}

TEST(blocking_read_waits_for_writer)
{
	int p[2];
	raw_pipe2(p, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(p[0]);
		t_sleep_ms(100);
		_exit(write(p[1], "late", 4) == 4 ? 0 : 1);
	}
	close(p[1]);
	char buf[8] = { 0 };
	CHECK_RET(read(p[0], buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "late");
	t_wait_exit(pid, 0);
	close(p[0]);
}

TEST(blocking_write_waits_for_reader)
{
	/* More than any pipe buffer: the writer must block and resume as the
	 * reader drains, and every byte arrives in order. */
	int p[2];
	raw_pipe2(p, 0);
	const long total = 4L << 20;
	pid_t pid = t_fork();
	if (pid == 0) {
		close(p[0]);
		static unsigned char buf[65536 + 13];
		long sent = 0;
		while (sent < total) {
			long n = total - sent < (long)sizeof(buf) ? total - sent
								   : (long)sizeof(buf);
			for (long i = 0; i < n; i++)
				buf[i] = (unsigned char)((sent + i) % 251);
			ssize_t w = write(p[1], buf, (size_t)n);
			if (w <= 0)
				_exit(1);
			sent += w;
		}
		_exit(0);
	}
	close(p[1]);
	static unsigned char buf[3000];
	long got = 0;
	for (;;) {
		ssize_t n = CHECK_OK(read(p[0], buf, sizeof(buf)));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			CHECK_MSG(buf[i] == (unsigned char)((got + i) % 251),
				  "byte %ld is wrong", got + i);
		got += n;
	}
	CHECK_EQ(got, total);
	t_wait_exit(pid, 0);
	close(p[0]);
}

TEST(small_writes_are_atomic)
{
	/* pipe(7): writes of at most PIPE_BUF bytes are not interleaved. */
	int p[2];
	raw_pipe2(p, 0);
	enum { WRITERS = 3, RECORDS = 200, LEN = 512 };
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = t_fork();
		if (pids[w] == 0) {
			char rec[LEN];
			memset(rec, 'A' + w, sizeof(rec));
			for (int i = 0; i < RECORDS; i++)
				if (write(p[1], rec, sizeof(rec)) != LEN)
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	char rec[LEN];
	int records = 0;
	size_t have = 0;
	for (;;) {
		ssize_t n = CHECK_OK(read(p[0], rec + have, LEN - have));
		if (n == 0)
			break;
		have += (size_t)n;
		if (have < LEN)
			continue;
		for (int i = 1; i < LEN; i++)
			CHECK_MSG(rec[i] == rec[0], "record %d interleaved", records);
		records++;
		have = 0;
	}
	CHECK_EQ(have, 0);
	CHECK_EQ(records, WRITERS * RECORDS);
	for (int w = 0; w < WRITERS; w++)
		t_wait_exit(pids[w], 0);
	close(p[0]);
	CHECK(PIPE_BUF >= LEN);
}
