/*
 * lseek(2) SEEK_DATA and SEEK_HOLE on tmpfs (the scratch directory) and on
 * the disk file system ($STARLING_TEST_DISK_TMP, default /var/tmp; those
 * sub-tests skip when it is tmpfs).  Data is written in whole 4 KiB pages,
 * so the answers are the same for every block size up to 4 KiB.
 */
#include "test.h"

#include <linux/falloc.h>
#include <sys/statfs.h>

#define PG 4096
#define FAR (1024 * 1024)

/* The directory each sub-test works in. */
static const char *dir_for(int disk)
{
	return disk ? t_disk_dir() : t_tmpdir();
}

/* A new empty file `name` in the tmpfs or disk directory. */
static int new_file(int disk, const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir_for(disk), name);
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	/* Gone when closed; the descriptor keeps it. */
	CHECK_RET(unlink(path), 0);
	return fd;
}

/* Writes `len` bytes of 'd' at `off`. */
static void put(int fd, off_t off, size_t len)
{
	static char page[4 * PG];
	memset(page, 'd', sizeof(page));
	while (len > 0) {
		size_t n = len < sizeof(page) ? len : sizeof(page);
		CHECK_RET(pwrite(fd, page, n, off), (ssize_t)n);
		off += (off_t)n;
		len -= n;
	}
}

static void errors(int disk)
{
	int fd = new_file(disk, "e");
	/* An empty file has neither data nor a hole before its end. */
	CHECK_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, 0, SEEK_HOLE), ENXIO);
	put(fd, 0, 100);
	CHECK_ERR(lseek(fd, 100, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, 100, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, 5000, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, 0, 5), EINVAL);
	/* A failed seek leaves the position alone. */
	CHECK_RET(lseek(fd, 7, SEEK_SET), 7);
	CHECK_ERR(lseek(fd, 200, SEEK_DATA), ENXIO);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 7);
	close(fd);
}

TEST(errors_tmpfs) { errors(0); }
TEST(errors_disk) { errors(1); }

TEST(pipes_and_directories)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_ERR(lseek(p[0], 0, SEEK_DATA), ESPIPE);
	CHECK_ERR(lseek(p[1], 0, SEEK_HOLE), ESPIPE);
	close(p[0]);
	close(p[1]);
}

static void no_holes(int disk)
{
	int fd = new_file(disk, "n");
	put(fd, 0, 10000);
	CHECK_RET(lseek(fd, 0, SEEK_DATA), 0);
	CHECK_RET(lseek(fd, 5, SEEK_DATA), 5);
	/* The end of the file is a hole; the position moves there. */
	CHECK_RET(lseek(fd, 0, SEEK_HOLE), 10000);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 10000);
	CHECK_RET(lseek(fd, 9999, SEEK_HOLE), 10000);
	close(fd);
}

TEST(no_holes_tmpfs) { no_holes(0); }
TEST(no_holes_disk) { no_holes(1); }

static void holes(int disk)
{
	int fd = new_file(disk, "h");
	put(fd, 0, PG);
	put(fd, FAR, PG);
	CHECK_RET(lseek(fd, 0, SEEK_DATA), 0);
	CHECK_RET(lseek(fd, 0, SEEK_HOLE), PG);
	CHECK_RET(lseek(fd, 100, SEEK_HOLE), PG);
	CHECK_RET(lseek(fd, PG, SEEK_DATA), FAR);
	CHECK_RET(lseek(fd, PG + 5, SEEK_DATA), FAR);
	CHECK_RET(lseek(fd, 2 * PG, SEEK_HOLE), 2 * PG);
	CHECK_RET(lseek(fd, FAR, SEEK_DATA), FAR);
	CHECK_RET(lseek(fd, FAR + 10, SEEK_DATA), FAR + 10);
	CHECK_RET(lseek(fd, FAR, SEEK_HOLE), FAR + PG);
	/* A hole at the end, after ftruncate grows the file. */
	CHECK_RET(ftruncate(fd, 4 * FAR), 0);
	CHECK_ERR(lseek(fd, FAR + PG, SEEK_DATA), ENXIO);
	CHECK_RET(lseek(fd, FAR + PG, SEEK_HOLE), FAR + PG);
	CHECK_RET(lseek(fd, FAR, SEEK_HOLE), FAR + PG);
	close(fd);
}

TEST(holes_tmpfs) { holes(0); }
TEST(holes_disk) { holes(1); }

static void punched(int disk)
{
	int fd = new_file(disk, "p");
	put(fd, 0, 3 * PG);
	CHECK_RET(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG), 0);
	CHECK_RET(lseek(fd, 0, SEEK_HOLE), PG);
	CHECK_RET(lseek(fd, PG, SEEK_DATA), 2 * PG);
	CHECK_RET(lseek(fd, 2 * PG, SEEK_HOLE), 3 * PG);
	close(fd);
}

TEST(punched_hole_tmpfs) { punched(0); }
TEST(punched_hole_disk) { punched(1); }

static void many_extents(int disk)
{
	/* 200 separate pages: more than one extent-map query returns. */
	int fd = new_file(disk, "m");
	for (int i = 0; i < 200; i++)
		put(fd, (off_t)i * 2 * PG, PG);
	off_t pos = 0;
	for (int i = 0; i < 200; i++) {
		CHECK_RET(lseek(fd, pos, SEEK_DATA), (off_t)i * 2 * PG);
		pos = lseek(fd, (off_t)i * 2 * PG, SEEK_HOLE);
		CHECK_EQ(pos, (off_t)(i * 2 + 1) * PG);
	}
	close(fd);
}

TEST(many_extents_tmpfs) { many_extents(0); }
TEST(many_extents_disk) { many_extents(1); }
