/*
 * Directory notification, from fcntl(2) F_NOTIFY and
 * Documentation/filesystems/dnotify.rst: directories only (ENOTDIR), no
 * events means "remove" (also on a non-directory), one-shot watches end
 * after their first event and DN_MULTISHOT ones do not, each DN_* event
 * from the operation that causes it (create, delete, modify, access,
 * attrib, rename inside one directory — not across), events on a
 * directory reaching both its own watch and its parent's, the F_SETSIG
 * signal with si_fd, plain SIGIO without it, and closing any descriptor of
 * the description removing the watch.
 */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#ifndef F_NOTIFY
#define F_NOTIFY 1026
#define DN_ACCESS 0x00000001
#define DN_MODIFY 0x00000002
#define DN_CREATE 0x00000004
#define DN_DELETE 0x00000008
#define DN_RENAME 0x00000010
#define DN_ATTRIB 0x00000020
#define DN_MULTISHOT 0x80000000
#endif

#define SIG (SIGRTMIN + 1)

/* Events seen per descriptor (si_fd), and the last si_code. */
static volatile int events[64];
static volatile int last_code;
static volatile int plain_sigio;

static void on_event(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (si->si_fd >= 0 && si->si_fd < 64)
		events[si->si_fd]++;
	last_code = si->si_code;
}

static void on_sigio(int sig)
{
	(void)sig;
	plain_sigio++;
}

static void reset(void)
{
	for (int i = 0; i < 64; i++)
		events[i] = 0;
	plain_sigio = 0;
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_event;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK_RET(sigaction(SIG, &sa, NULL), 0);
	struct sigaction io = { 0 };
	io.sa_handler = on_sigio;
	sigemptyset(&io.sa_mask);
	CHECK_RET(sigaction(SIGIO, &io, NULL), 0);
}

/* A watched directory: opened, F_SETSIG SIG, F_NOTIFY `mask`. */
static int watch(const char *dir, unsigned long mask)
{
	int fd = CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	CHECK(fd < 64);
	CHECK_RET(fcntl(fd, F_SETSIG, SIG), 0);
	CHECK_RET(fcntl(fd, F_NOTIFY, mask), 0);
	return fd;
}


TEST(directories_only)
{
	const char *f = t_make_file("plain", "x", 0644);
	int fd = CHECK_OK(open(f, O_RDONLY));
	CHECK_ERR(fcntl(fd, F_NOTIFY, DN_CREATE), ENOTDIR);
	/* Removing (no event bits) is fine on anything. */
	CHECK_RET(fcntl(fd, F_NOTIFY, 0), 0);
	CHECK_RET(fcntl(fd, F_NOTIFY, DN_MULTISHOT), 0);
	close(fd);
}

TEST(one_shot_and_multishot)
{
	reset();
	const char *dir = t_tmpdir();
	int once = watch(dir, DN_CREATE);
	int many = watch(dir, DN_CREATE | DN_DELETE | DN_MULTISHOT);
	t_make_file("a", "x", 0644);
	CHECK_EQ(events[once], 1);
	CHECK_EQ(events[many], 1);
	CHECK_EQ(last_code, POLL_MSG);
	t_make_file("b", "x", 0644);
	CHECK_EQ(events[once], 1);
	CHECK_EQ(events[many], 2);
	CHECK_RET(unlink(t_path("a")), 0);
	CHECK_EQ(events[many], 3);
	/* A mkdir is a create too; the watch not asking for DN_DELETE hears
	 * nothing of the unlink. */
	CHECK_RET(mkdir(t_path("sub"), 0755), 0);
	CHECK_EQ(events[many], 4);
	close(once);
	close(many);
}

TEST(each_event_from_its_operation)
{
	reset();
	const char *dir = t_tmpdir();
	const char *file = t_make_file("data", "hello", 0644);
	int acc = watch(dir, DN_ACCESS | DN_MULTISHOT);
	int mod = watch(dir, DN_MODIFY | DN_MULTISHOT);
	int att = watch(dir, DN_ATTRIB | DN_MULTISHOT);
	int fd = CHECK_OK(open(file, O_RDWR));
	char buf[8];
	CHECK_RET(read(fd, buf, sizeof(buf)), 5);
	CHECK_EQ(events[acc], 1);
	CHECK_EQ(events[mod], 0);
	CHECK_RET(write(fd, "!", 1), 1);
	CHECK_EQ(events[mod], 1);
	CHECK_RET(ftruncate(fd, 2), 0);
	CHECK_EQ(events[mod], 2);
	/* Reading nothing (at the end) is no access. */
	CHECK_RET(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(events[acc], 1);
	CHECK_RET(fchmod(fd, 0600), 0);
	CHECK_EQ(events[att], 1);
	CHECK_RET(chmod(file, 0644), 0);
	CHECK_EQ(events[att], 2);
	CHECK_EQ(events[acc], 1);
	close(fd);
	close(acc);
	close(mod);
	close(att);
}

TEST(a_directory_and_its_parent)
{
	/* LTP fcntl38: chmod of a watched subdirectory reaches its own watch
	 * and its parent's. */
	reset();
	const char *dir = t_tmpdir();
	const char *sub = t_path("subdir");
	CHECK_RET(mkdir(sub, 0700), 0);
	int parent = watch(dir, DN_ATTRIB | DN_MULTISHOT);
	int self = watch(sub, DN_ATTRIB | DN_MULTISHOT);
	CHECK_RET(chmod(sub, 0755), 0);
	CHECK_EQ(events[parent], 1);
	CHECK_EQ(events[self], 1);
	close(parent);
	close(self);
}

TEST(renames)
{
	/* LTP fcntl39: DN_RENAME only for a rename inside one directory; a
	 * move to another is DN_DELETE here and DN_CREATE there. */
	reset();
	char a[512], b[512], f[600];
	snprintf(a, sizeof(a), "%s", t_path("ren-a"));
	snprintf(b, sizeof(b), "%s", t_path("ren-b"));
	snprintf(f, sizeof(f), "%s/f", a);
	CHECK_RET(mkdir(a, 0755), 0);
	CHECK_RET(mkdir(b, 0755), 0);
	int fd = CHECK_OK(open(f, O_WRONLY | O_CREAT, 0644));
	close(fd);
	int ren = watch(a, DN_RENAME | DN_MULTISHOT);
	int del = watch(a, DN_DELETE | DN_MULTISHOT);
	int cre = watch(b, DN_CREATE | DN_MULTISHOT);
	char from[600], to[600];
	snprintf(from, sizeof(from), "%s/f", a);
	snprintf(to, sizeof(to), "%s/g", a);
	CHECK_RET(rename(from, to), 0);
	CHECK_EQ(events[ren], 1);
	snprintf(from, sizeof(from), "%s/g", a);
	snprintf(to, sizeof(to), "%s/g", b);
	CHECK_RET(rename(from, to), 0);
	CHECK_EQ(events[ren], 1);
	CHECK_EQ(events[del], 2);
	CHECK_EQ(events[cre], 1);
	close(ren);
	close(del);
	close(cre);
}

TEST(plain_sigio_without_f_setsig)
{
	reset();
	const char *dir = t_tmpdir();
	int fd = CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	CHECK_RET(fcntl(fd, F_NOTIFY, DN_CREATE), 0);
	/* The watch made the caller the owner. */
	CHECK_EQ(fcntl(fd, F_GETOWN), getpid());
	t_make_file("x", "x", 0644);
	CHECK_EQ(plain_sigio, 1);
	CHECK_EQ(events[fd], 0);
	close(fd);
}

TEST(closing_a_descriptor_removes_the_watch)
{
	reset();
	const char *dir = t_tmpdir();
	int fd = watch(dir, DN_CREATE | DN_MULTISHOT);
	int dup_fd = CHECK_OK(dup(fd));
	/* dnotify_flush: any close of the description in this table. */
	close(dup_fd);
	t_make_file("y", "x", 0644);
	CHECK_EQ(events[fd], 0);
	/* Set again, then removed with F_NOTIFY 0. */
	CHECK_RET(fcntl(fd, F_NOTIFY, DN_CREATE | DN_MULTISHOT), 0);
	t_make_file("z", "x", 0644);
	CHECK_EQ(events[fd], 1);
	CHECK_RET(fcntl(fd, F_NOTIFY, 0), 0);
	t_make_file("w", "x", 0644);
	CHECK_EQ(events[fd], 1);
	close(fd);
}
