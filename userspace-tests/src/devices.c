/*
 * The character devices in /dev: null, zero, full, random, urandom, tty;
 * device numbers and modes; device nodes made with mknod reach the same
 * devices; FIFOs made with mknod.
 */
#include "test.h"

#include <sys/sysmacros.h>

static void check_node(const char *path, unsigned maj, unsigned min, mode_t mode)
{
	struct stat st;
	CHECK_RET(stat(path, &st), 0);
	CHECK_MSG(S_ISCHR(st.st_mode), "%s is not a character device", path);
	CHECK_MSG(major(st.st_rdev) == maj && minor(st.st_rdev) == min,
		  "%s is %u:%u, expected %u:%u", path, major(st.st_rdev),
		  minor(st.st_rdev), maj, min);
	CHECK_MSG((st.st_mode & 0777) == mode, "%s has mode %o, expected %o", path,
		  st.st_mode & 0777, mode);
}

TEST(nodes)
{
	check_node("/dev/null", 1, 3, 0666);
	check_node("/dev/zero", 1, 5, 0666);
	check_node("/dev/full", 1, 7, 0666);
	check_node("/dev/random", 1, 8, 0666);
	check_node("/dev/urandom", 1, 9, 0666);
	check_node("/dev/tty", 5, 0, 0666);
	struct stat st;
	CHECK_RET(stat("/dev/console", &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 5);
	CHECK_EQ(minor(st.st_rdev), 1);
}

/* Reads and writes of /dev/null at `path`. */
static void null_behaviour(const char *path)
{
	int fd = (int)CHECK_OK(open(path, O_RDWR));
	char buf[16] = "unchanged";
	CHECK_RET(read(fd, buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "unchanged");
	CHECK_RET(write(fd, "gone", 4), 4);
	CHECK_RET(write(fd, buf, 0), 0);
	/* Seeks succeed and report 0. */
	CHECK_RET(lseek(fd, 100, SEEK_SET), 0);
	CHECK_RET(pwrite(fd, "x", 1, 1000), 1);
	close(fd);
}

TEST(null) { null_behaviour("/dev/null"); }

TEST(zero)
{
	int fd = (int)CHECK_OK(open("/dev/zero", O_RDWR));
	char buf[100000];
	memset(buf, 'x', sizeof(buf));
	CHECK_RET(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0);
	/* Writes are discarded. */
	CHECK_RET(write(fd, "abc", 3), 3);
	close(fd);
}

TEST(full)
{
	int fd = (int)CHECK_OK(open("/dev/full", O_RDWR));
	CHECK_ERR(write(fd, "a", 1), ENOSPC);
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	CHECK_RET(read(fd, buf, sizeof(buf)), 64);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(buf[63], 0);
	close(fd);
}

TEST(random_devices)
{
	const char *names[] = { "/dev/random", "/dev/urandom" };
	for (int n = 0; n < 2; n++) {
		int fd = (int)CHECK_OK(open(names[n], O_RDONLY));
		unsigned char a[64], b[64];
		CHECK_RET(read(fd, a, sizeof(a)), 64);
		CHECK_RET(read(fd, b, sizeof(b)), 64);
		CHECK_MSG(memcmp(a, b, sizeof(a)) != 0, "%s repeated itself", names[n]);
		int zeros = 0;
		for (size_t i = 0; i < sizeof(a); i++)
			zeros += a[i] == 0;
		CHECK_MSG(zeros < 16, "%s: %d zero bytes of 64", names[n], zeros);
		close(fd);
	}
	/* Writing adds to the pool: allowed for anyone who can open it. */
	int fd = (int)CHECK_OK(open("/dev/urandom", O_WRONLY));
	CHECK_RET(write(fd, "seed", 4), 4);
	close(fd);
}

TEST(mknod_device_nodes)
{
	/* A node elsewhere with the same numbers is the same device. */
	CHECK_RET(mknod(t_path("mynull"), S_IFCHR | 0666, makedev(1, 3)), 0);
	null_behaviour(t_path("mynull"));
	CHECK_RET(mknod(t_path("myzero"), S_IFCHR | 0666, makedev(1, 5)), 0);
	int fd = (int)CHECK_OK(open(t_path("myzero"), O_RDONLY));
	char c = 'x';
	CHECK_RET(read(fd, &c, 1), 1);
	CHECK_EQ(c, 0);
	close(fd);
	/* Numbers no driver owns: ENXIO on open. */
	CHECK_RET(mknod(t_path("nodev"), S_IFCHR | 0666, makedev(250, 250)), 0);
	CHECK_ERR(open(t_path("nodev"), O_RDONLY), ENXIO);
	/* mknod errors. */
	CHECK_ERR(mknod(t_path("mynull"), S_IFCHR | 0666, makedev(1, 3)), EEXIST);
	CHECK_ERR(mknod(t_path("bad"), 0170000 | 0666, 0), EINVAL);
	CHECK_ERR(mknod(t_path("missing/x"), S_IFIFO | 0666, 0), ENOENT);
	/* Only privileged callers make device nodes; FIFOs anyone. */
	CHECK_RET(chmod(t_tmpdir(), 0777), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setgid(65534), 0);
		CHECK_RET(setuid(65534), 0);
		CHECK_ERR(mknod(t_path("u_dev"), S_IFCHR | 0666, makedev(1, 3)), EPERM);
		CHECK_RET(mknod(t_path("u_fifo"), S_IFIFO | 0666, 0), 0);
		CHECK_RET(mknod(t_path("u_reg"), S_IFREG | 0666, 0), 0);
		struct stat st;
		CHECK_RET(stat(t_path("u_fifo"), &st), 0);
		CHECK(S_ISFIFO(st.st_mode));
		CHECK_RET(stat(t_path("u_reg"), &st), 0);
		CHECK(S_ISREG(st.st_mode));
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(dev_tty_without_a_controlling_terminal)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		/* A new session has no controlling terminal: ENXIO. */
		CHECK(setsid() > 0);
		CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
