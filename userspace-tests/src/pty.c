/*
 * Pseudo-terminals (pty(7)): /dev/ptmx and /dev/pts/N through
 * posix_openpt/grantpt/unlockpt/ptsname, the locked slave, the line
 * discipline between the two ends (canonical input with echo, ONLCR,
 * raw mode), window size, a controlling terminal taken with TIOCSCTTY
 * and its signals (^C, SIGHUP at the master's close), and both ends'
 * hang-ups.
 */
#include "test.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

/* Opens a master and returns it; the slave's path goes to `name`. */
static int open_master(char *name, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 && (errno == ENOENT || errno == ENODEV))
		t_skip("no /dev/ptmx");
	CHECK_MSG(m >= 0, "posix_openpt: %s", t_errname(errno));
	CHECK_RET(grantpt(m), 0);
	CHECK_RET(unlockpt(m), 0);
	CHECK_RET(ptsname_r(m, name, len), 0);
	return m;
}

/* Reads what is there within a second (the other end may still be
 * writing), at most `len` - 1 bytes, NUL-terminated. */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 1000), 1);
	ssize_t n = CHECK_OK(read(fd, buf, len - 1));
	buf[n] = '\0';
	return n;
}

/*
 * Forks a child that starts a session on slave `name` (TIOCSCTTY), checks
 * it is the foreground group and that /dev/tty is that terminal, writes
 * "T" through /dev/tty and waits to be signalled. Returns once the "T"
 * can be read from master `m`.
 */
static pid_t session_on_slave(int m, const char *name)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		close(m);
		CHECK(setsid() > 0);
		int s = CHECK_OK(open(name, O_RDWR));
		CHECK_RET(ioctl(s, TIOCSCTTY, 0), 0);
		CHECK_EQ(tcgetpgrp(s), getpid());
		int t = CHECK_OK(open("/dev/tty", O_RDWR));
		CHECK_RET(write(t, "T", 1), 1);
		close(t);
		for (;;)
			pause();
	}
	struct pollfd p = { .fd = m, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 5000), 1);
	return pid;
}

TEST(open_and_names)
{
	char name[64];
	int m = open_master(name, sizeof(name));
	CHECK(strncmp(name, "/dev/pts/", 9) == 0);
	unsigned n;
	CHECK_RET(ioctl(m, TIOCGPTN, &n), 0);
	char want[64];
	snprintf(want, sizeof(want), "/dev/pts/%u", n);
	CHECK_STREQ(name, want);
	struct stat st;
	CHECK_RET(stat(name, &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 136);
	CHECK_EQ(minor(st.st_rdev), n);
	CHECK_EQ(st.st_uid, getuid());
	/* 0620 with gid=5 as usually mounted, 0600 by devpts' default. */
	CHECK((st.st_mode & 0777) == 0620 || (st.st_mode & 0777) == 0600);
	CHECK(isatty(m));
	/* The node goes with the master. */
	close(m);
	CHECK_ERR(stat(name, &st), ENOENT);
}

TEST(locked_slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		t_skip("no /dev/ptmx");
	unsigned n;
	CHECK_RET(ioctl(m, TIOCGPTN, &n), 0);
	char name[64];
	snprintf(name, sizeof(name), "/dev/pts/%u", n);
	int locked = 0;
	CHECK_RET(ioctl(m, TIOCGPTLCK, &locked), 0);
	CHECK_EQ(locked, 1);
	CHECK_ERR(open(name, O_RDWR | O_NOCTTY), EIO);
	CHECK_RET(unlockpt(m), 0);
	int s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	close(s);
	close(m);
}

TEST(canonical_input_and_echo)
{
	char name[64], buf[256];
	int m = open_master(name, sizeof(name));
	int s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	/* A line typed on the master reaches the slave whole, echoed back. */
	CHECK_RET(write(m, "hello\n", 6), 6);
	CHECK_RET(read_some(s, buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "hello\n");
	read_some(m, buf, sizeof(buf));
	CHECK_STREQ(buf, "hello\r\n");
	/* Erase works on the line being edited. */
	CHECK_RET(write(m, "abX\x7f" "c\n", 6), 6);
	CHECK_RET(read_some(s, buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "abc\n");
	/* Output of the slave reaches the master with ONLCR. */
	read_some(m, buf, sizeof(buf));
	CHECK_RET(write(s, "out\n", 4), 4);
	read_some(m, buf, sizeof(buf));
	CHECK_STREQ(buf, "out\r\n");
	close(s);
	close(m);
}

TEST(raw_mode_and_window_size)
{
	char name[64], buf[64];
	int m = open_master(name, sizeof(name));
	int s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	struct termios t;
	CHECK_RET(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	CHECK_RET(tcsetattr(s, TCSANOW, &t), 0);
	CHECK_RET(write(m, "x\r", 2), 2);
	CHECK_RET(read_some(s, buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "x\r", 2) == 0);
	/* No echo, no output processing. */
	CHECK_RET(write(s, "a\n", 2), 2);
	CHECK_RET(read_some(m, buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "a\n", 2) == 0);
	struct winsize ws = { .ws_row = 33, .ws_col = 101 };
	CHECK_RET(ioctl(m, TIOCSWINSZ, &ws), 0);
	struct winsize got;
	CHECK_RET(ioctl(s, TIOCGWINSZ, &got), 0);
	CHECK_EQ(got.ws_row, 33);
	CHECK_EQ(got.ws_col, 101);
	/* Nothing to read: EAGAIN without blocking. */
	int fl = fcntl(m, F_GETFL);
	CHECK_RET(fcntl(m, F_SETFL, fl | O_NONBLOCK), 0);
	CHECK_ERR(read(m, buf, sizeof(buf)), EAGAIN);
	close(s);
	close(m);
}

TEST(controlling_terminal_signals)
{
	char name[64];
	int m = open_master(name, sizeof(name));
	pid_t pid = session_on_slave(m, name);
	char buf[16];
	read_some(m, buf, sizeof(buf));
	CHECK_STREQ(buf, "T");
	/* ^C on the master is SIGINT for the foreground group. */
	CHECK_RET(write(m, "\x03", 1), 1);
	t_wait_signal(pid, SIGINT);
	close(m);
}

TEST(hangups)
{
	char name[64], buf[16];
	int m = open_master(name, sizeof(name));
	pid_t pid = session_on_slave(m, name);
	read_some(m, buf, sizeof(buf));
	/* The master's close hangs the session up: SIGHUP. */
	close(m);
	t_wait_signal(pid, SIGHUP);

	/* A slave left open after the master's close reads end of file and
	 * cannot write. */
	m = open_master(name, sizeof(name));
	int s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	close(m);
	CHECK_RET(read(s, buf, sizeof(buf)), 0);
	CHECK_ERR(write(s, "x", 1), EIO);
	close(s);

	/* The slave's last close: the master reads EIO and polls POLLHUP. */
	m = open_master(name, sizeof(name));
	s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	close(s);
	struct pollfd p = { .fd = m, .events = POLLIN };
	CHECK_RET(poll(&p, 1, 1000), 1);
	CHECK(p.revents & POLLHUP);
	CHECK_ERR(read(m, buf, sizeof(buf)), EIO);
	close(m);
}
