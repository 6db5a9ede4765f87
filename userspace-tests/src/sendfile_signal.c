/*
 * sendfile_signal - a long sendfile(2) stops at a signal with the bytes
 * it moved so far, as Linux's splice loop does
 * (fs/splice.c splice_from_pipe_next checks signal_pending "to make
 * process killable when there are always buffers available"). A memfd
 * sent into itself grows as it is read and never reaches its end: without
 * the check the copy ran until memory was gone, deaf to SIGALRM (found by
 * make fuzz: trinity's sendfile of 1.9 GB from a memfd into itself).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/time.h>

#define COUNT (512L << 20)

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A memfd of 1 MiB, its position at the end. */
static int grown_memfd(void)
{
	static char buf[1 << 20];
	int fd = CHECK_OK(memfd_create("sendfile_signal", 0));

	memset(buf, 0x33, sizeof(buf));
	CHECK_RET(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	return fd;
}

static void arm_alarm(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };

	alarms = 0;
	CHECK_OK(sigaction(SIGALRM, &sa, NULL));
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
}

TEST(sendfile_into_itself_stops_at_a_signal)
{
	off_t off = 0;
	ssize_t n;
	int fd = grown_memfd();

	arm_alarm();
	n = sendfile(fd, fd, &off, COUNT);
	signal(SIGALRM, SIG_DFL);
	CHECK_MSG(n > 0 && n < COUNT, "sendfile returned %zd of %ld", n, COUNT);
	CHECK_EQ(alarms, 1);
	CHECK_EQ(off, n);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), (1 << 20) + n);
	CHECK_OK(close(fd));
}
