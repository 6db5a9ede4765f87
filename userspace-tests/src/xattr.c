/*
 * The *xattr calls' argument and lookup checks. Whether a file system
 * stores attributes differs (Linux tmpfs and ext4 do: ENODATA for a
 * missing one; Starling's do not: EOPNOTSUPP), so only those two answers
 * are accepted for an existing file.
 */
#include "test.h"

#include <sys/xattr.h>

static void check_absent(long r)
{
	CHECK_EQ(r, -1);
	CHECK_MSG(errno == ENODATA || errno == EOPNOTSUPP, "errno %s", t_errname(errno));
}

TEST(lookup_errors)
{
	char buf[16];
	CHECK_ERR(getxattr(t_path("missing"), "user.x", buf, sizeof(buf)), ENOENT);
	CHECK_ERR(lgetxattr(t_path("missing"), "user.x", buf, sizeof(buf)), ENOENT);
	CHECK_ERR(listxattr(t_path("missing"), buf, sizeof(buf)), ENOENT);
	CHECK_ERR(removexattr(t_path("missing"), "user.x"), ENOENT);
	CHECK_ERR(setxattr(t_path("missing"), "user.x", "v", 1, 0), ENOENT);
	const char *f = t_make_file("plain", "", 0644);
	char p[400];
	snprintf(p, sizeof(p), "%s/below", f);
	CHECK_ERR(getxattr(p, "user.x", buf, sizeof(buf)), ENOTDIR);
	CHECK_ERR(getxattr((const char *)8, "user.x", buf, sizeof(buf)), EFAULT);
}

TEST(descriptor_errors)
{
	char buf[16];
	CHECK_ERR(fgetxattr(999, "user.x", buf, sizeof(buf)), EBADF);
	CHECK_ERR(flistxattr(-1, buf, sizeof(buf)), EBADF);
	/* An O_PATH descriptor is not good enough (fdget). */
	const char *f = t_make_file("opath", "", 0644);
	int fd = CHECK_OK(open(f, O_PATH));
	CHECK_ERR(fgetxattr(fd, "user.x", buf, sizeof(buf)), EBADF);
	CHECK_ERR(fsetxattr(fd, "user.x", "v", 1, 0), EBADF);
	CHECK_ERR(flistxattr(fd, buf, sizeof(buf)), EBADF);
	CHECK_ERR(fremovexattr(fd, "user.x"), EBADF);
	close(fd);
}

TEST(missing_attribute)
{
	char buf[16];
	const char *f = t_make_file("file", "", 0644);
	check_absent(getxattr(f, "user.starling-none", buf, sizeof(buf)));
	int fd = CHECK_OK(open(f, O_RDONLY));
	check_absent(fgetxattr(fd, "user.starling-none", buf, sizeof(buf)));
	close(fd);
}
