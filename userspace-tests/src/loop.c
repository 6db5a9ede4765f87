/*
 * Loop devices (drivers/block/loop.c): /dev/loop-control hands out free
 * devices, /dev/loopN binds to a backing file with LOOP_SET_FD or
 * LOOP_CONFIGURE, its I/O reaches the file at lo_offset within
 * lo_sizelimit, LOOP_GET/SET_STATUS(64) report and change that window, and
 * LOOP_CLR_FD or the last close of an autoclear device frees it again.
 * The block ioctls (BLKGETSIZE64 ...) report the window's size.
 *
 * Every device a sub-test binds is bound with LO_FLAGS_AUTOCLEAR where the
 * sub-test does not look at the flags, so a failed check leaves no device
 * bound once the program exits.
 */
#include "test.h"

#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#define CTL "/dev/loop-control"

/* A free device's index from /dev/loop-control. */
static int get_free(void)
{
	int ctl = (int)CHECK_OK(open(CTL, O_RDWR | O_CLOEXEC));
	int n = (int)CHECK_OK(ioctl(ctl, LOOP_CTL_GET_FREE));
	close(ctl);
	return n;
}

static const char *dev_path(int n)
{
	static char buf[4][32];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, sizeof(buf[0]), "/dev/loop%d", n);
	return b;
}

/* A file of `size` bytes in the scratch directory, byte i = i * 7 + seed. */
static const char *make_backing(const char *name, size_t size, int seed)
{
	const char *p = t_path(name);
	int fd = (int)CHECK_OK(open(p, O_RDWR | O_CREAT | O_TRUNC, 0600));
	char *buf = malloc(size);
	CHECK(buf != NULL);
	for (size_t i = 0; i < size; i++)
		buf[i] = (char)(i * 7 + (size_t)seed);
	CHECK_RET(write(fd, buf, size), (ssize_t)size);
	free(buf);
	close(fd);
	return p;
}

static char pattern(size_t i, int seed) { return (char)(i * 7 + (size_t)seed); }

/* Opens a free device and binds it to `file` (opened with `file_flags`),
 * then marks it autoclear; returns the device's descriptor. */
static int attach(const char *file, int file_flags, int *index)
{
	int n = get_free();
	int dev = (int)CHECK_OK(open(dev_path(n), O_RDWR | O_CLOEXEC));
	int ffd = (int)CHECK_OK(open(file, file_flags | O_CLOEXEC));
	CHECK_RET(ioctl(dev, LOOP_SET_FD, ffd), 0);
	close(ffd);
	struct loop_info64 info;
	memset(&info, 0, sizeof(info));
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	info.lo_flags |= LO_FLAGS_AUTOCLEAR;
	CHECK_RET(ioctl(dev, LOOP_SET_STATUS64, &info), 0);
	if (index)
		*index = n;
	return dev;
}

/* The device must be free: LOOP_GET_STATUS64 on a new open is ENXIO.
 * Linux may finish the last close's clear-out just after close(2)
 * returned, so a bound device is asked again for up to a second. */
static void check_free(int n)
{
	struct loop_info64 info;
	for (int tries = 0;; tries++) {
		int fd = (int)CHECK_OK(open(dev_path(n), O_RDONLY | O_CLOEXEC));
		errno = 0;
		long r = ioctl(fd, LOOP_GET_STATUS64, &info);
		int e = errno;
		close(fd);
		if (r == -1 && e == ENXIO)
			return;
		CHECK_MSG(r == 0 && tries < 100,
			  "LOOP_GET_STATUS64 on free loop%d returned %ld (errno %s)",
			  n, r, t_errname(e));
		t_sleep_ms(10);
	}
}

TEST(nodes)
{
	struct stat st;
	CHECK_RET(stat(CTL, &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 10);
	CHECK_EQ(minor(st.st_rdev), 237);
	CHECK_EQ(st.st_mode & 0007, 0);
	CHECK_RET(stat("/dev/loop0", &st), 0);
	CHECK(S_ISBLK(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 7);
	CHECK_EQ(minor(st.st_rdev), 0);
	CHECK_EQ(st.st_mode & 0007, 0);
	/* fstat of an open device reports the node, too. */
	int n = get_free();
	int fd = (int)CHECK_OK(open(dev_path(n), O_RDONLY));
	CHECK_RET(fstat(fd, &st), 0);
	CHECK(S_ISBLK(st.st_mode));
	CHECK_EQ(st.st_rdev, makedev(7, n));
	close(fd);
}

TEST(get_free_is_unbound)
{
	int n = get_free();
	CHECK(n >= 0);
	struct stat st;
	CHECK_RET(stat(dev_path(n), &st), 0);
	CHECK(S_ISBLK(st.st_mode));
	CHECK_EQ(st.st_rdev, makedev(7, n));
	int fd = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	struct loop_info info;
	struct loop_info64 info64;
	CHECK_ERR(ioctl(fd, LOOP_GET_STATUS, &info), ENXIO);
	CHECK_ERR(ioctl(fd, LOOP_GET_STATUS64, &info64), ENXIO);
	memset(&info64, 0, sizeof(info64));
	CHECK_ERR(ioctl(fd, LOOP_SET_STATUS64, &info64), ENXIO);
	CHECK_ERR(ioctl(fd, LOOP_CLR_FD, 0), ENXIO);
	CHECK_ERR(ioctl(fd, LOOP_SET_CAPACITY, 0), ENXIO);
	/* An unbound device is empty: reads end at once. */
	uint64_t size = 1;
	CHECK_RET(ioctl(fd, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 0);
	char c;
	CHECK_RET(read(fd, &c, 1), 0);
	close(fd);
	/* Nothing bound it, so it is still the free one. */
	CHECK_EQ(get_free(), n);
}

TEST(data_both_ways)
{
	const char *file = make_backing("rw.img", 65536, 1);
	int n;
	int dev = attach(file, O_RDWR, &n);
	uint64_t size = 0;
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 65536);
	unsigned long sectors = 0;
	CHECK_RET(ioctl(dev, BLKGETSIZE, &sectors), 0);
	CHECK_EQ(sectors, 128);
	int ssz = 0;
	CHECK_RET(ioctl(dev, BLKSSZGET, &ssz), 0);
	CHECK_EQ(ssz, 512);
	unsigned int pbsz = 0;
	CHECK_RET(ioctl(dev, BLKPBSZGET, &pbsz), 0);
	CHECK_EQ(pbsz, 512);
	int ro = -1;
	CHECK_RET(ioctl(dev, BLKROGET, &ro), 0);
	CHECK_EQ(ro, 0);
	/* The soft block size: doubled up to the page size while the size is
	 * a multiple (set_init_blocksize). */
	int bsz = 0;
	CHECK_RET(ioctl(dev, BLKBSZGET, &bsz), 0);
	CHECK_EQ(bsz, 4096);
	unsigned short max_sectors = 0;
	CHECK_RET(ioctl(dev, BLKSECTGET, &max_sectors), 0);
	CHECK(max_sectors > 0);

	/* The file's bytes through the device. */
	char buf[4096];
	CHECK_RET(pread(dev, buf, sizeof(buf), 8192), (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], pattern(8192 + i, 1));
	CHECK_RET(lseek(dev, 0, SEEK_END), 65536);
	CHECK_RET(read(dev, buf, 1), 0);
	/* A block device's position stays inside it (fixed_size_llseek). */
	CHECK_ERR(lseek(dev, 65537, SEEK_SET), EINVAL);
	CHECK_ERR(lseek(dev, 1, SEEK_END), EINVAL);
	CHECK_RET(lseek(dev, 0, SEEK_CUR), 65536);
	CHECK_RET(pread(dev, buf, sizeof(buf), 65536 - 100), 100);
	CHECK_RET(pread(dev, buf, sizeof(buf), 1 << 20), 0);

	/* Written through the device, seen in the file. */
	memset(buf, 'D', sizeof(buf));
	CHECK_RET(lseek(dev, 4096, SEEK_SET), 4096);
	CHECK_RET(write(dev, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	CHECK_RET(lseek(dev, 0, SEEK_CUR), 8192);
	CHECK_RET(fsync(dev), 0);
	int ffd = (int)CHECK_OK(open(file, O_RDWR));
	char back[4096];
	CHECK_RET(pread(ffd, back, sizeof(back), 4096), (ssize_t)sizeof(back));
	CHECK(memcmp(back, buf, sizeof(buf)) == 0);

	/* Written to the file, seen through the device (after BLKFLSBUF drops
	 * what Linux cached of the device). */
	CHECK_RET(pwrite(ffd, "file-side", 9, 30000), 9);
	CHECK_RET(ioctl(dev, BLKFLSBUF, 0), 0);
	char got[9];
	CHECK_RET(pread(dev, got, 9, 30000), 9);
	CHECK(memcmp(got, "file-side", 9) == 0);

	/* Writes stop at the end of the device. */
	CHECK_ERR(pwrite(dev, "x", 1, 65536), ENOSPC);
	CHECK_RET(pwrite(dev, "tail!", 5, 65536 - 2), 2);
	CHECK_RET(fsync(dev), 0);
	struct stat st;
	CHECK_RET(fstat(ffd, &st), 0);
	CHECK_EQ(st.st_size, 65536);
	close(ffd);
	close(dev);
	/* Autoclear: the last close freed it. */
	check_free(n);
}

TEST(status64_fields)
{
	const char *file = make_backing("st.img", 16384, 2);
	struct stat fst;
	CHECK_RET(stat(file, &fst), 0);
	int n = get_free();
	int dev = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	int ffd = (int)CHECK_OK(open(file, O_RDWR));
	CHECK_RET(ioctl(dev, LOOP_SET_FD, ffd), 0);
	close(ffd);

	struct loop_info64 info;
	memset(&info, 0xaa, sizeof(info));
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_number, n);
	CHECK_EQ(info.lo_offset, 0);
	CHECK_EQ(info.lo_sizelimit, 0);
	CHECK_EQ(info.lo_flags & (LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR), 0);
	CHECK_EQ(info.lo_inode, fst.st_ino);
	CHECK_EQ(info.lo_device, fst.st_dev);
	CHECK_EQ(info.lo_file_name[0], 0);
	CHECK_EQ(info.lo_encrypt_key_size, 0);

	memset(&info, 0, sizeof(info));
	info.lo_offset = 4096;
	info.lo_sizelimit = 8192;
	info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_READ_ONLY;
	strcpy((char *)info.lo_file_name, "backing-name");
	CHECK_RET(ioctl(dev, LOOP_SET_STATUS64, &info), 0);
	memset(&info, 0, sizeof(info));
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_offset, 4096);
	CHECK_EQ(info.lo_sizelimit, 8192);
	CHECK_STREQ((char *)info.lo_file_name, "backing-name");
	/* AUTOCLEAR is settable; READ_ONLY is not (LOOP_SET_STATUS_SETTABLE_FLAGS). */
	CHECK_EQ(info.lo_flags & (LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR),
		 LO_FLAGS_AUTOCLEAR);

	/* The old structure shows the same window. */
	struct loop_info old;
	memset(&old, 0, sizeof(old));
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS, &old), 0);
	CHECK_EQ(old.lo_number, n);
	CHECK_EQ(old.lo_offset, 4096);
	CHECK_STREQ(old.lo_name, "backing-name");
	CHECK_EQ(old.lo_inode, fst.st_ino);

	/* The window: byte 0 of the device is byte 4096 of the file. */
	uint64_t size = 0;
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 8192);
	char buf[8192];
	CHECK_RET(pread(dev, buf, sizeof(buf), 0), 8192);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], pattern(4096 + i, 2));
	CHECK_RET(pread(dev, buf, 1, 8192), 0);
	CHECK_ERR(pwrite(dev, "x", 1, 8192), ENOSPC);

	/* LOOP_SET_STATUS (old) sets the offset and clears the size limit. */
	memset(&old, 0, sizeof(old));
	old.lo_offset = 512;
	old.lo_flags = LO_FLAGS_AUTOCLEAR;
	strcpy(old.lo_name, "old-name");
	CHECK_RET(ioctl(dev, LOOP_SET_STATUS, &old), 0);
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_offset, 512);
	CHECK_EQ(info.lo_sizelimit, 0);
	CHECK_STREQ((char *)info.lo_file_name, "old-name");
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 16384 - 512);
	close(dev);
	check_free(n);
}

TEST(sizelimit_rounding)
{
	const char *file = make_backing("sz.img", 16384, 3);
	int n;
	int dev = attach(file, O_RDWR, &n);
	struct loop_info64 info;
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	/* The size counts whole 512-byte sectors of the window. */
	info.lo_offset = 100;
	info.lo_sizelimit = 5000;
	CHECK_RET(ioctl(dev, LOOP_SET_STATUS64, &info), 0);
	uint64_t size = 0;
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 4608);
	char c;
	CHECK_RET(pread(dev, &c, 1, 0), 1);
	CHECK_EQ(c, pattern(100, 3));
	/* A limit past the end of the file is the file's end. */
	info.lo_offset = 1024;
	info.lo_sizelimit = 1 << 20;
	CHECK_RET(ioctl(dev, LOOP_SET_STATUS64, &info), 0);
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 16384 - 1024);
	/* An offset past the end leaves nothing. */
	info.lo_offset = 1 << 20;
	info.lo_sizelimit = 0;
	CHECK_RET(ioctl(dev, LOOP_SET_STATUS64, &info), 0);
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 0);
	/* Offsets beyond LLONG_MAX overflow. */
	info.lo_offset = (uint64_t)1 << 63;
	CHECK_ERR(ioctl(dev, LOOP_SET_STATUS64, &info), EOVERFLOW);
	/* Encryption is gone: any type but NONE is EINVAL. */
	info.lo_offset = 0;
	info.lo_encrypt_type = LO_CRYPT_XOR;
	CHECK_ERR(ioctl(dev, LOOP_SET_STATUS64, &info), EINVAL);
	close(dev);
	check_free(n);
}

TEST(set_capacity)
{
	const char *file = make_backing("cap.img", 8192, 4);
	int n;
	int dev = attach(file, O_RDWR, &n);
	uint64_t size = 0;
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 8192);
	CHECK_RET(truncate(file, 20480), 0);
	/* The size is taken when bound and on LOOP_SET_CAPACITY only. */
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 8192);
	CHECK_RET(ioctl(dev, LOOP_SET_CAPACITY, 0), 0);
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 20480);
	close(dev);
	check_free(n);
}

TEST(busy_and_clear)
{
	const char *file = make_backing("busy.img", 4096, 5);
	int n = get_free();
	int dev = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	int ffd = (int)CHECK_OK(open(file, O_RDWR));
	CHECK_RET(ioctl(dev, LOOP_SET_FD, ffd), 0);
	/* Bound devices are not handed out. */
	CHECK(get_free() != n);
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, ffd), EBUSY);
	/* A second opener: LOOP_CLR_FD only marks the device autoclear. */
	int dev2 = (int)CHECK_OK(open(dev_path(n), O_RDONLY));
	CHECK_RET(ioctl(dev, LOOP_CLR_FD, 0), 0);
	struct loop_info64 info;
	CHECK_RET(ioctl(dev2, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_flags & LO_FLAGS_AUTOCLEAR, LO_FLAGS_AUTOCLEAR);
	close(dev2);
	/* The only opener: the device runs down at once and is freed at close. */
	CHECK_RET(ioctl(dev, LOOP_CLR_FD, 0), 0);
	CHECK_ERR(ioctl(dev, LOOP_GET_STATUS64, &info), ENXIO);
	CHECK_ERR(ioctl(dev, LOOP_CLR_FD, 0), ENXIO);
	close(dev);
	check_free(n);
	/* Free again: it binds anew. */
	dev = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	CHECK_RET(ioctl(dev, LOOP_SET_FD, ffd), 0);
	CHECK_RET(ioctl(dev, LOOP_CLR_FD, 0), 0);
	close(dev);
	close(ffd);
	check_free(n);
}

TEST(bad_backing)
{
	int n = get_free();
	int dev = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, -1), EBADF);
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, 9999), EBADF);
	/* Only regular files and block devices back a loop device. */
	int dir = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, dir), EINVAL);
	close(dir);
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, p[0]), EINVAL);
	close(p[0]);
	close(p[1]);
	int null = (int)CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, null), EINVAL);
	close(null);
	/* Not itself. */
	CHECK_ERR(ioctl(dev, LOOP_SET_FD, dev), EBADF);
	close(dev);
	check_free(n);
}

TEST(read_only)
{
	const char *file = make_backing("ro.img", 8192, 6);
	/* A backing file opened read-only makes a read-only device. */
	int n;
	int dev = attach(file, O_RDONLY, &n);
	struct loop_info64 info;
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_flags & LO_FLAGS_READ_ONLY, LO_FLAGS_READ_ONLY);
	int ro = 0;
	CHECK_RET(ioctl(dev, BLKROGET, &ro), 0);
	CHECK_EQ(ro, 1);
	CHECK_ERR(pwrite(dev, "x", 1, 0), EPERM);
	char c;
	CHECK_RET(pread(dev, &c, 1, 5), 1);
	CHECK_EQ(c, pattern(5, 6));
	close(dev);
	check_free(n);

	/* So does a device opened read-only. */
	n = get_free();
	dev = (int)CHECK_OK(open(dev_path(n), O_RDONLY));
	int ffd = (int)CHECK_OK(open(file, O_RDWR));
	CHECK_RET(ioctl(dev, LOOP_SET_FD, ffd), 0);
	close(ffd);
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_flags & LO_FLAGS_READ_ONLY, LO_FLAGS_READ_ONLY);
	CHECK_RET(ioctl(dev, LOOP_CLR_FD, 0), 0);
	close(dev);
	check_free(n);
}

TEST(configure)
{
	const char *file = make_backing("cfg.img", 16384, 7);
	int n = get_free();
	int dev = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	int ffd = (int)CHECK_OK(open(file, O_RDWR));
	struct loop_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (unsigned)ffd;
	cfg.info.lo_offset = 2048;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_READ_ONLY;
	strcpy((char *)cfg.info.lo_file_name, "configured");
	CHECK_RET(ioctl(dev, LOOP_CONFIGURE, &cfg), 0);
	struct loop_info64 info;
	CHECK_RET(ioctl(dev, LOOP_GET_STATUS64, &info), 0);
	CHECK_EQ(info.lo_offset, 2048);
	CHECK_EQ(info.lo_flags & (LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR),
		 LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR);
	CHECK_STREQ((char *)info.lo_file_name, "configured");
	uint64_t size = 0;
	CHECK_RET(ioctl(dev, BLKGETSIZE64, &size), 0);
	CHECK_EQ(size, 16384 - 2048);
	CHECK_ERR(pwrite(dev, "x", 1, 0), EPERM);
	CHECK_ERR(ioctl(dev, LOOP_CONFIGURE, &cfg), EBUSY);
	close(ffd);
	/* The descriptor is looked up first. */
	CHECK_ERR(ioctl(dev, LOOP_CONFIGURE, &cfg), EBADF);
	close(dev);
	check_free(n);

	/* Unknown flags are EINVAL; a bad pointer EFAULT. */
	dev = (int)CHECK_OK(open(dev_path(n), O_RDWR));
	ffd = (int)CHECK_OK(open(file, O_RDWR));
	cfg.fd = (unsigned)ffd;
	cfg.info.lo_flags = 0x100;
	CHECK_ERR(ioctl(dev, LOOP_CONFIGURE, &cfg), EINVAL);
	CHECK_ERR(ioctl(dev, LOOP_CONFIGURE, (void *)16), EFAULT);
	close(ffd);
	close(dev);
	check_free(n);
}

TEST(bad_arguments)
{
	const char *file = make_backing("args.img", 4096, 8);
	int n;
	int dev = attach(file, O_RDWR, &n);
	CHECK_ERR(ioctl(dev, LOOP_GET_STATUS64, NULL), EINVAL);
	CHECK_ERR(ioctl(dev, LOOP_GET_STATUS, NULL), EINVAL);
	CHECK_ERR(ioctl(dev, LOOP_GET_STATUS64, (void *)16), EFAULT);
	CHECK_ERR(ioctl(dev, LOOP_SET_STATUS64, (void *)16), EFAULT);
	CHECK_ERR(ioctl(dev, BLKGETSIZE64, (void *)16), EFAULT);
	CHECK_ERR(ioctl(dev, BLKGETSIZE64, NULL), EFAULT);
	/* Unknown requests on a loop device are EINVAL (lo_simple_ioctl). */
	CHECK_ERR(ioctl(dev, _IO('L', 0x7f), 0), EINVAL);
	CHECK_ERR(ioctl(dev, 0x5401 /* TCGETS */, 0), EINVAL);
	close(dev);
	check_free(n);
	/* ... and ENOSYS on /dev/loop-control (loop_control_ioctl). */
	int ctl = (int)CHECK_OK(open(CTL, O_RDWR));
	CHECK_ERR(ioctl(ctl, _IO('L', 0x7f), 0), ENOSYS);
	CHECK_ERR(ioctl(ctl, LOOP_SET_FD, 0), ENOSYS);
	close(ctl);
}

TEST(ctl_add_remove)
{
	int ctl = (int)CHECK_OK(open(CTL, O_RDWR));
	/* Pick an index that does not exist yet. */
	int idx = -1;
	for (int i = 100; i < 200; i++) {
		long r = ioctl(ctl, LOOP_CTL_ADD, i);
		if (r >= 0) {
			CHECK_EQ(r, i);
			idx = i;
			break;
		}
		CHECK_MSG(errno == EEXIST, "LOOP_CTL_ADD(%d): %s", i, t_errname(errno));
	}
	CHECK(idx >= 0);
	CHECK_ERR(ioctl(ctl, LOOP_CTL_ADD, idx), EEXIST);
	struct stat st;
	CHECK_RET(stat(dev_path(idx), &st), 0);
	CHECK(S_ISBLK(st.st_mode));
	CHECK_EQ(st.st_rdev, makedev(7, idx));
	check_free(idx);
	/* An open device cannot go. */
	int dev = (int)CHECK_OK(open(dev_path(idx), O_RDWR));
	CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, idx), EBUSY);
	close(dev);
	CHECK_RET(ioctl(ctl, LOOP_CTL_REMOVE, idx), 0);
	CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, idx), ENODEV);
	CHECK_ERR(ioctl(ctl, LOOP_CTL_REMOVE, -1), EINVAL);
	/* Its node went with it, and its number opens nothing. */
	CHECK_ERR(stat(dev_path(idx), &st), ENOENT);
	close(ctl);
}

TEST(unknown_block_device)
{
	/* A block node whose number has no driver opens with ENXIO. */
	const char *p = t_path("blk");
	unlink(p);
	CHECK_RET(mknod(p, S_IFBLK | 0600, makedev(250, 77)), 0);
	CHECK_ERR(open(p, O_RDONLY), ENXIO);
	unlink(p);
}

TEST(unprivileged)
{
	const char *file = make_backing("priv.img", 4096, 9);
	int n;
	int rw = attach(file, O_RDWR, &n);
	int rdonly = (int)CHECK_OK(open(dev_path(n), O_RDONLY));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setgid(65534), 0);
		CHECK_RET(setuid(65534), 0);
		/* The nodes are root's only. */
		CHECK_ERR(open(CTL, O_RDWR), EACCES);
		CHECK_ERR(open(dev_path(n), O_RDONLY), EACCES);
		struct loop_info64 info;
		CHECK_RET(ioctl(rdonly, LOOP_GET_STATUS64, &info), 0);
		/* Changing the device needs it open for writing or CAP_SYS_ADMIN. */
		CHECK_ERR(ioctl(rdonly, LOOP_SET_STATUS64, &info), EPERM);
		CHECK_ERR(ioctl(rdonly, LOOP_SET_CAPACITY, 0), EPERM);
		CHECK_RET(ioctl(rw, LOOP_SET_STATUS64, &info), 0);
		CHECK_RET(ioctl(rw, LOOP_SET_CAPACITY, 0), 0);
		/* Dropping the device's cache and making it read-only are for
		 * CAP_SYS_ADMIN (EACCES). */
		CHECK_ERR(ioctl(rw, BLKFLSBUF, 0), EACCES);
		int on = 1;
		CHECK_ERR(ioctl(rw, BLKROSET, &on), EACCES);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(rdonly);
	close(rw);
	check_free(n);
}

/* Reads a sysfs attribute into `buf` without the newline. */
static void read_attr(const char *path, char *buf, size_t len)
{
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	ssize_t n = CHECK_OK(read(fd, buf, len - 1));
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

TEST(sysfs)
{
	const char *file = make_backing("sysfs.img", 8192, 10);
	char real[4096];
	CHECK(realpath(file, real) != NULL);
	int n;
	int dev = attach(file, O_RDWR, &n);
	char path[128], buf[4096];
	snprintf(path, sizeof(path), "/sys/block/loop%d/dev", n);
	read_attr(path, buf, sizeof(buf));
	char want[32];
	snprintf(want, sizeof(want), "7:%d", n);
	CHECK_STREQ(buf, want);
	snprintf(path, sizeof(path), "/sys/block/loop%d/size", n);
	read_attr(path, buf, sizeof(buf));
	CHECK_STREQ(buf, "16");
	snprintf(path, sizeof(path), "/sys/block/loop%d/loop/backing_file", n);
	read_attr(path, buf, sizeof(buf));
	CHECK_STREQ(buf, real);
	snprintf(path, sizeof(path), "/sys/devices/virtual/block/loop%d/loop/autoclear", n);
	read_attr(path, buf, sizeof(buf));
	CHECK_STREQ(buf, "1");
	close(dev);
	check_free(n);
	/* The loop/ attributes exist only while the device is bound. */
	snprintf(path, sizeof(path), "/sys/block/loop%d/loop/backing_file", n);
	CHECK_ERR(access(path, F_OK), ENOENT);
	snprintf(path, sizeof(path), "/sys/block/loop%d/dev", n);
	CHECK_RET(access(path, F_OK), 0);
}

TEST(blkroset)
{
	const char *file = make_backing("roset.img", 4096, 11);
	int n;
	int dev = attach(file, O_RDWR, &n);
	int on = 1, ro = 0;
	CHECK_RET(ioctl(dev, BLKROSET, &on), 0);
	CHECK_RET(ioctl(dev, BLKROGET, &ro), 0);
	CHECK_EQ(ro, 1);
	CHECK_ERR(pwrite(dev, "x", 1, 0), EPERM);
	on = 0;
	CHECK_RET(ioctl(dev, BLKROSET, &on), 0);
	CHECK_RET(ioctl(dev, BLKROGET, &ro), 0);
	CHECK_EQ(ro, 0);
	CHECK_RET(pwrite(dev, "x", 1, 0), 1);
	CHECK_ERR(ioctl(dev, BLKROSET, (void *)16), EFAULT);
	close(dev);
	check_free(n);
}
