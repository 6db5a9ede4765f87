/*
 * ioctl(2) on the console terminal: TCGETS, TCSETS, TIOCGWINSZ,
 * TIOCGPGRP, TIOCSPGRP (ioctl_tty(2)), and ENOTTY on non-terminals; job
 * control: SIGTTIN/SIGTTOU for background readers, writers (TOSTOP) and
 * settings changes, EIO when ignored or orphaned.
 *
 * The terminal is $STARLING_TTY if set, else standard input if it is a
 * terminal, else /dev/console.  TIOCSPGRP needs a session whose controlling
 * terminal it is: a child starts a new session and takes the terminal with
 * TIOCSCTTY.  If another session already controls it, the child takes it
 * over (root only) when STARLING_TTY_STEAL=1, which run-all sets for the
 * guest; otherwise that sub-test is skipped, to leave a developer's own
 * terminal alone.
 */
#include "test.h"

#include <sys/ioctl.h>
#include <termios.h>

#define NO_SUCH_PID 0x3ffffff0

/* The kernel's struct termios for TCGETS/TCSETS (not libc's, which is
 * larger on glibc and converted by tcgetattr). */
struct kernel_termios {
	unsigned int c_iflag, c_oflag, c_cflag, c_lflag;
	unsigned char c_line;
	unsigned char c_cc[19];
};

static int open_tty(void)
{
	const char *env = getenv("STARLING_TTY");
	int fd;
	if (env && *env)
		fd = open(env, O_RDWR | O_NOCTTY);
	else if (isatty(0))
		fd = dup(0);
	else
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		t_fail("no console terminal (%s); set STARLING_TTY",
		       t_errname(errno));
	return fd;
}

TEST(tcgets)
{
	int fd = open_tty();
	struct kernel_termios t;
	memset(&t, 0xff, sizeof(t));
	CHECK_RET(ioctl(fd, TCGETS, &t), 0);
	/* Written by the kernel, and describing a terminal that can
	 * receive characters. */
	CHECK(t.c_cflag != 0xffffffffu && t.c_lflag != 0xffffffffu);
	CHECK(t.c_cflag & CREAD);
	CHECK(t.c_line != 0xff);
	/* isatty() is TCGETS underneath. */
	CHECK(isatty(fd));
	close(fd);
}

TEST(tcsets_roundtrip)
{
	int fd = open_tty();
	struct kernel_termios orig, t, back;
	CHECK_RET(ioctl(fd, TCGETS, &orig), 0);
	t = orig;
	/* VEOL2, an extra line delimiter that is normally unset (0). */
	t.c_cc[VEOL2] = orig.c_cc[VEOL2] == 0x1e ? 0x1d : 0x1e;
	t.c_lflag ^= ECHOCTL;
	CHECK_RET(ioctl(fd, TCSETS, &t), 0);
	memset(&back, 0, sizeof(back));
	CHECK_RET(ioctl(fd, TCGETS, &back), 0);
	CHECK_EQ(back.c_cc[VEOL2], t.c_cc[VEOL2]);
	CHECK_EQ(back.c_lflag & ECHOCTL, t.c_lflag & ECHOCTL);
	CHECK_RET(ioctl(fd, TCSETS, &orig), 0);
	CHECK_RET(ioctl(fd, TCGETS, &back), 0);
	CHECK_EQ(back.c_cc[VEOL2], orig.c_cc[VEOL2]);
	CHECK_EQ(back.c_lflag, orig.c_lflag);
	close(fd);
}

TEST(tiocgwinsz)
{
	int fd = open_tty();
	struct winsize w;
	memset(&w, 0xff, sizeof(w));
	CHECK_RET(ioctl(fd, TIOCGWINSZ, &w), 0);
	/* A serial console may report 0x0, but the kernel must fill it in. */
	CHECK(w.ws_row != 0xffff && w.ws_col != 0xffff);
	close(fd);
}

TEST(bad_pointer_efault)
{
	int fd = open_tty();
	CHECK_ERR(ioctl(fd, TCGETS, (void *)1), EFAULT);
	CHECK_ERR(ioctl(fd, TIOCGWINSZ, (void *)1), EFAULT);
	CHECK_ERR(ioctl(fd, TCSETS, (void *)1), EFAULT);
	close(fd);
}

TEST(enotty_on_non_terminals)
{
	struct kernel_termios t;
	struct winsize w;
	int fd = (int)CHECK_OK(open(t_path("plain"), O_RDWR | O_CREAT, 0600));
	CHECK_ERR(ioctl(fd, TCGETS, &t), ENOTTY);
	CHECK_ERR(ioctl(fd, TIOCGWINSZ, &w), ENOTTY);
	CHECK(!isatty(fd));
	CHECK_EQ(errno, ENOTTY);
	close(fd);
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(ioctl(p[0], TCGETS, &t), ENOTTY);
	close(p[0]);
	close(p[1]);
	CHECK_ERR(ioctl(-1, TCGETS, &t), EBADF);
	/* An unknown request on a terminal is ENOTTY too. */
	int tty = open_tty();
	CHECK_ERR(ioctl(tty, _IO('X', 0x7f), 0), ENOTTY);
	close(tty);
}

TEST(tiocgpgrp_needs_controlling_tty)
{
	/* In a new session the terminal is nobody's controlling terminal for
	 * us: TIOCGPGRP is ENOTTY. */
	int fd = open_tty();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setsid(), getpid());
		pid_t pg = 0;
		CHECK_ERR(ioctl(fd, TIOCGPGRP, &pg), ENOTTY);
		CHECK_ERR(ioctl(fd, TIOCSPGRP, &pg), ENOTTY);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(tiocspgrp_foreground_group)
{
	int fd = open_tty();
	/* A process group in our session, which the child below leaves. */
	int hold[2];
	CHECK_RET(pipe(hold), 0);
	pid_t outside = t_fork();
	if (outside == 0) {
		char c;
		close(hold[1]);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(hold[0]);
	CHECK_RET(setpgid(outside, outside), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setsid(), getpid());
		if (ioctl(fd, TIOCSCTTY, 0) != 0) {
			const char *steal = getenv("STARLING_TTY_STEAL");
			CHECK_MSG(errno == EPERM, "TIOCSCTTY: %s", t_errname(errno));
			if (!steal || strcmp(steal, "1") != 0)
				t_skip("the terminal belongs to another session "
				       "(STARLING_TTY_STEAL=1 takes it)");
			CHECK_RET(ioctl(fd, TIOCSCTTY, 1), 0);
		}
		/* Changing the foreground from the background would stop us
		 * with SIGTTOU unless it is ignored. */
		signal(SIGTTOU, SIG_IGN);
		pid_t fg = 0;
		CHECK_RET(ioctl(fd, TIOCGPGRP, &fg), 0);
		CHECK_EQ(fg, getpgrp());
		int p[2];
		CHECK_RET(pipe(p), 0);
		pid_t gc = fork();
		if (gc == 0) {
			char c;
			setpgid(0, 0);
			close(p[1]);
			while (read(p[0], &c, 1) > 0)
				;
			_exit(0);
		}
		CHECK(gc > 0);
		close(p[0]);
		CHECK_RET(setpgid(gc, gc), 0);
		CHECK_RET(ioctl(fd, TIOCSPGRP, &gc), 0);
		CHECK_RET(ioctl(fd, TIOCGPGRP, &fg), 0);
		CHECK_EQ(fg, gc);
		/* A group that does not exist, or lives in another session. */
		pid_t bad = NO_SUCH_PID;
		CHECK_ERR(ioctl(fd, TIOCSPGRP, &bad), ESRCH);
		CHECK_ERR(ioctl(fd, TIOCSPGRP, &outside), EPERM);
		bad = -1;
		CHECK_ERR(ioctl(fd, TIOCSPGRP, &bad), EINVAL);
		CHECK_ERR(ioctl(fd, TIOCSPGRP, (void *)1), EFAULT);
		/* Back to our own group. */
		pid_t me = getpgrp();
		CHECK_RET(ioctl(fd, TIOCSPGRP, &me), 0);
		CHECK_RET(ioctl(fd, TIOCGPGRP, &fg), 0);
		CHECK_EQ(fg, me);
		close(p[1]);
		waitpid(gc, NULL, 0);
		/* Give the terminal up before exiting. */
		signal(SIGHUP, SIG_IGN);
		ioctl(fd, TIOCNOTTY);
		_exit(0);
	}
	close(hold[1]);
	t_wait_exit(outside, 0);
	t_wait_exit(pid, 0);
	close(fd);
}

/* In a forked child: become a session leader controlling the terminal
 * (taking it over when STARLING_TTY_STEAL=1), as the foreground group. */
static void take_terminal(int fd)
{
	CHECK_RET(setsid(), getpid());
	if (ioctl(fd, TIOCSCTTY, 0) != 0) {
		const char *steal = getenv("STARLING_TTY_STEAL");
		CHECK_MSG(errno == EPERM, "TIOCSCTTY: %s", t_errname(errno));
		if (!steal || strcmp(steal, "1") != 0)
			t_skip("the terminal belongs to another session "
			       "(STARLING_TTY_STEAL=1 takes it)");
		CHECK_RET(ioctl(fd, TIOCSCTTY, 1), 0);
	}
}

static void give_terminal_back(int fd)
{
	signal(SIGHUP, SIG_IGN);
	ioctl(fd, TIOCNOTTY);
}

/* Runs `job` in a background process group of a session that controls
 * the terminal and returns its wait status (WUNTRACED). */
static int run_background(int fd, void (*job)(int fd))
{
	int status = 0;
	pid_t gc = fork();
	if (gc == 0) {
		setpgid(0, 0);
		job(fd);
		_exit(0);
	}
	CHECK(gc > 0);
	CHECK_RET(setpgid(gc, gc), 0);
	CHECK_RET(waitpid(gc, &status, WUNTRACED), gc);
	if (WIFSTOPPED(status)) {
		kill(gc, SIGKILL);
		waitpid(gc, NULL, 0);
	}
	return status;
}

static void read_one(int fd)
{
	char c;
	ssize_t r = read(fd, &c, 1);
	_exit(r < 0 && errno == EIO ? 5 : 6);
}

static void write_one(int fd)
{
	/* A bare newline: harmless between the result lines. */
	ssize_t r = write(fd, "\n", 1);
	_exit(r == 1 ? 7 : 8);
}

TEST(background_read_stops_with_sigttin)
{
	int fd = open_tty();
	pid_t pid = t_fork();
	if (pid == 0) {
		take_terminal(fd);
		int st = run_background(fd, read_one);
		CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN, "status %#x", st);
		give_terminal_back(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

static void read_ignoring_sigttin(int fd)
{
	signal(SIGTTIN, SIG_IGN);
	read_one(fd);
}

TEST(background_read_eio_when_sigttin_ignored)
{
	int fd = open_tty();
	pid_t pid = t_fork();
	if (pid == 0) {
		take_terminal(fd);
		int st = run_background(fd, read_ignoring_sigttin);
		CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 5, "status %#x", st);
		give_terminal_back(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(background_write_stops_with_sigttou_under_tostop)
{
	int fd = open_tty();
	pid_t pid = t_fork();
	if (pid == 0) {
		take_terminal(fd);
		/* Without TOSTOP background output is allowed. */
		struct termios t;
		CHECK_RET(tcgetattr(fd, &t), 0);
		struct termios saved = t;
		t.c_lflag &= ~TOSTOP;
		CHECK_RET(tcsetattr(fd, TCSANOW, &t), 0);
		int st = run_background(fd, write_one);
		CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
		t.c_lflag |= TOSTOP;
		CHECK_RET(tcsetattr(fd, TCSANOW, &t), 0);
		st = run_background(fd, write_one);
		CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU, "status %#x", st);
		CHECK_RET(tcsetattr(fd, TCSANOW, &saved), 0);
		give_terminal_back(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

static void set_attr_from_background(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t) != 0)
		_exit(9);
	tcsetattr(fd, TCSANOW, &t);
	_exit(10);
}

TEST(background_tcsetattr_stops_with_sigttou)
{
	int fd = open_tty();
	pid_t pid = t_fork();
	if (pid == 0) {
		take_terminal(fd);
		int st = run_background(fd, set_attr_from_background);
		CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU, "status %#x", st);
		give_terminal_back(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(orphaned_background_read_eio)
{
	int fd = open_tty();
	pid_t pid = t_fork();
	if (pid == 0) {
		take_terminal(fd);
		int p[2];
		CHECK_RET(pipe(p), 0);
		pid_t mid = fork();
		if (mid == 0) {
			/* A new group whose only member's parent leaves: once
			 * orphaned, a read from the terminal fails with EIO. */
			setpgid(0, 0);
			pid_t gc = fork();
			if (gc == 0) {
				pid_t orig = getppid();
				for (int i = 0; i < 500 && getppid() == orig; i++)
					usleep(10000);
				char c;
				ssize_t r = read(fd, &c, 1);
				char res = (r < 0 && errno == EIO) ? 'E' : 'X';
				if (write(p[1], &res, 1) != 1)
					_exit(3);
				_exit(0);
			}
			_exit(0);
		}
		close(p[1]);
		int st;
		waitpid(mid, &st, 0);
		char res = 0;
		CHECK_RET(read(p[0], &res, 1), 1);
		CHECK_EQ(res, 'E');
		give_terminal_back(fd);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}
