/*
 * /proc/locks and the lock: lines of /proc/PID/fdinfo/N.
 *
 * As fs/locks.c lock_get_status: one line per held lock,
 * "N: POSIX  ADVISORY  WRITE pid MAJ:MIN:ino start end" with "EOF" for a
 * lock to the end of the file, OFDLCK lines with pid -1, FLOCK lines with
 * "0 EOF"; MAJ:MIN are the st_dev of the file in hex.  fdinfo shows
 * "lock:\t" and the same line for the locks of that descriptor's owner
 * (show_fd_locks), numbered from 1.
 */
#include "test.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		CHECK(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(fd);
	return buf;
}

/* Whether /proc/locks has a line "K: <rest>" (any K). */
static int has_lock_line(const char *rest)
{
	char *text = slurp("/proc/locks");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = strchr(line, ':');
		if (p && p[1] == ' ' && strcmp(p + 2, rest) == 0)
			return 1;
	}
	return 0;
}

/* The file's "MAJ:MIN:ino" as lock_get_status prints it. */
static void ident(int fd, char *out, size_t len)
{
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	snprintf(out, len, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
		 (unsigned long)st.st_ino);
}

static long setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return syscall(SYS_fcntl, fd, cmd, &fl);
}

TEST(lines_for_posix_ofd_and_flock)
{
	const char *path = t_make_file("pl", "0123456789", 0600);
	const char *other = t_make_file("pl2", "x", 0600);
	int sync[2];
	CHECK_OK(pipe(sync));
	pid_t child = t_fork();
	if (child == 0) {
		int c = (int)CHECK_OK(open(path, O_RDWR));
		CHECK_RET(setlk(c, F_SETLK, F_WRLCK, 0, 10), 0);
		char buf[16];
		snprintf(buf, sizeof(buf), "%d", c);
		CHECK_RET(write(sync[1], buf, strlen(buf)), (long)strlen(buf));
		pause();
		_exit(0);
	}
	char cfd[16] = { 0 };
	CHECK(read(sync[0], cfd, sizeof(cfd) - 1) > 0);
	int b = (int)CHECK_OK(open(path, O_RDWR));
	CHECK_RET(setlk(b, F_OFD_SETLK, F_RDLCK, 20, 0), 0);
	int g = (int)CHECK_OK(open(other, O_RDONLY));
	CHECK_OK(flock(g, LOCK_EX));

	char id[64], gid[64], want[200];
	ident(b, id, sizeof(id));
	ident(g, gid, sizeof(gid));
	snprintf(want, sizeof(want), "POSIX  ADVISORY  WRITE %d %s 0 9", child, id);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);
	snprintf(want, sizeof(want), "OFDLCK ADVISORY  READ -1 %s 20 EOF", id);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);
	snprintf(want, sizeof(want), "FLOCK  ADVISORY  WRITE %d %s 0 EOF", getpid(), gid);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);

	/* Ordinals count the lines from 1. */
	char *text = slurp("/proc/locks");
	int n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, "->"))
			continue;
		n++;
		CHECK_EQ(atoi(line), n);
	}
	CHECK(n >= 3);

	/* fdinfo: each descriptor shows its owner's locks only. */
	char p[128], line[256];
	snprintf(p, sizeof(p), "/proc/%d/fdinfo/%s", child, cfd);
	snprintf(line, sizeof(line), "\nlock:\t1: POSIX  ADVISORY  WRITE %d %s 0 9\n", child, id);
	char *info = slurp(p);
	CHECK_MSG(strstr(info, line) != NULL, "%s has no %s: %s", p, line, info);
	CHECK(strstr(info, "lock:\t2:") == NULL);
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", b);
	snprintf(line, sizeof(line), "\nlock:\t1: OFDLCK ADVISORY  READ -1 %s 20 EOF\n", id);
	info = slurp(p);
	CHECK_MSG(strstr(info, line) != NULL, "%s has no %s: %s", p, line, info);
	CHECK(strstr(info, "lock:\t2:") == NULL);
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", g);
	snprintf(line, sizeof(line), "\nlock:\t1: FLOCK  ADVISORY  WRITE %d %s 0 EOF\n", getpid(), gid);
	info = slurp(p);
	CHECK_MSG(strstr(info, line) != NULL, "%s has no %s: %s", p, line, info);
	/* A descriptor of the file without locks of its own shows none. */
	int a = (int)CHECK_OK(open(path, O_RDONLY));
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", a);
	CHECK(strstr(slurp(p), "lock:") == NULL);

	/* Released locks leave. */
	kill(child, SIGKILL);
	t_wait_signal(child, SIGKILL);
	snprintf(want, sizeof(want), "POSIX  ADVISORY  WRITE %d %s 0 9", child, id);
	CHECK(!has_lock_line(want));
	close(b);
	snprintf(want, sizeof(want), "OFDLCK ADVISORY  READ -1 %s 20 EOF", id);
	CHECK(!has_lock_line(want));
	CHECK_OK(flock(g, LOCK_SH));
	snprintf(want, sizeof(want), "FLOCK  ADVISORY  READ %d %s 0 EOF", getpid(), gid);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);
	CHECK_OK(flock(g, LOCK_UN));
	CHECK(!has_lock_line(want));
	close(a);
	close(g);
	close(sync[0]);
	close(sync[1]);
}

TEST(split_and_merged_posix_locks)
{
	int fd = (int)CHECK_OK(open(t_make_file("pl3", "", 0600), O_RDWR));
	char id[64], want[200];
	ident(fd, id, sizeof(id));
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	CHECK_RET(setlk(fd, F_SETLK, F_UNLCK, 100, 50), 0);
	snprintf(want, sizeof(want), "POSIX  ADVISORY  WRITE %d %s 0 99", getpid(), id);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);
	snprintf(want, sizeof(want), "POSIX  ADVISORY  WRITE %d %s 150 EOF", getpid(), id);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);
	CHECK_RET(setlk(fd, F_SETLK, F_RDLCK, 100, 50), 0);
	snprintf(want, sizeof(want), "POSIX  ADVISORY  READ %d %s 100 149", getpid(), id);
	CHECK_MSG(has_lock_line(want), "no line \"%s\"", want);
	close(fd);
	CHECK(!has_lock_line(want));
}

/* The line after the one that is "K: <lock>", which must exist; "" if
 * it is the last. */
static const char *line_after(const char *lock, int *ordinal)
{
	static char next[256];
	char *text = slurp("/proc/locks");
	char *save = NULL;
	int found = 0;
	next[0] = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (found) {
			snprintf(next, sizeof(next), "%s", line);
			break;
		}
		char *p = strchr(line, ':');
		if (p && p[1] == ' ' && strcmp(p + 2, lock) == 0) {
			found = 1;
			*ordinal = atoi(line);
		}
	}
	CHECK_MSG(found, "no line \"%s\"", lock);
	return next;
}

TEST(blocked_requests_under_their_blocker)
{
	const char *path = t_make_file("pl4", "", 0600);
	int fd = (int)CHECK_OK(open(path, O_RDWR));
	char id[64], lock[200], want[220];
	ident(fd, id, sizeof(id));
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	pid_t w = t_fork();
	if (w == 0) {
		int c = (int)CHECK_OK(open(path, O_RDWR));
		CHECK_RET(setlk(c, F_SETLKW, F_RDLCK, 5, 10), 0);
		_exit(0);
	}
	t_wait_sleeping(w);
	snprintf(lock, sizeof(lock), "POSIX  ADVISORY  WRITE %d %s 0 9", getpid(), id);
	int n = 0;
	const char *next = line_after(lock, &n);
	snprintf(want, sizeof(want), "%d: -> POSIX  ADVISORY  READ %d %s 5 14", n, w, id);
	CHECK_MSG(strcmp(next, want) == 0, "after \"%s\": \"%s\", expected \"%s\"", lock, next, want);
	CHECK_RET(setlk(fd, F_SETLK, F_UNLCK, 0, 0), 0);
	t_wait_exit(w, 0);
	CHECK(!strstr(slurp("/proc/locks"), "-> POSIX  ADVISORY  READ"));

	/* flock: a shared request waiting for an exclusive lock. */
	CHECK_OK(flock(fd, LOCK_EX));
	w = t_fork();
	if (w == 0) {
		int c = (int)CHECK_OK(open(path, O_RDONLY));
		CHECK_OK(flock(c, LOCK_SH));
		_exit(0);
	}
	t_wait_sleeping(w);
	snprintf(lock, sizeof(lock), "FLOCK  ADVISORY  WRITE %d %s 0 EOF", getpid(), id);
	next = line_after(lock, &n);
	snprintf(want, sizeof(want), "%d: -> FLOCK  ADVISORY  READ %d %s 0 EOF", n, w, id);
	CHECK_MSG(strcmp(next, want) == 0, "after \"%s\": \"%s\", expected \"%s\"", lock, next, want);
	CHECK_OK(flock(fd, LOCK_UN));
	t_wait_exit(w, 0);
	close(fd);
}
