/*
 * The program the gdb check debugs (platforms/tools/check-gdb,
 * docs/debugging.md), also an ordinary test: a memfd mapped shared by a
 * parent and by its child, then a second memfd_create.
 *
 * The parent creates "gdb-probe" (8 KiB, seals SHRINK|GROW) and maps it
 * read-write; the forked child ("gdb_child") inherits that mapping and adds
 * a read-only one of the second page. Once the child has mapped, the
 * parent logs "gdb_target: mappings ready parent=P child=C" through
 * /dev/kmsg and calls memfd_create("gdb-marker"): the check stops in that
 * call and compares starling-ps, -vmas, -memfd and -dmesg with these
 * facts. Run alone, the program checks that data written through one
 * mapping is seen through the others.
 */

#include "test.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#define PAGE 4096

TEST(memfd_shared_parent_child)
{
	int fd = CHECK_OK(syscall(SYS_memfd_create, "gdb-probe", MFD_ALLOW_SEALING));
	CHECK_RET(ftruncate(fd, 2 * PAGE), 0);
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	strcpy(p + PAGE, "parent");

	int to_child[2], to_parent[2];
	CHECK_RET(pipe(to_child), 0);
	CHECK_RET(pipe(to_parent), 0);
	pid_t child = t_fork();
	if (child == 0) {
		CHECK_RET(prctl(PR_SET_NAME, "gdb_child"), 0);
		char *q = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
		CHECK(q != MAP_FAILED);
		CHECK_STREQ(q, "parent");
		CHECK_RET(write(to_parent[1], "m", 1), 1);
		char c;
		CHECK_RET(read(to_child[0], &c, 1), 1);
		/* The parent's store, seen through both of the child's mappings. */
		CHECK_STREQ(q, "marker");
		CHECK_STREQ(p + PAGE, "marker");
		_exit(0);
	}
	char c;
	CHECK_RET(read(to_parent[0], &c, 1), 1);

	char line[128];
	int n = snprintf(line, sizeof(line), "<6>gdb_target: mappings ready parent=%d child=%d\n",
			 (int)getpid(), (int)child);
	int kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (kmsg >= 0) {
		CHECK_RET(write(kmsg, line, (size_t)n), n);
		close(kmsg);
	}
	t_info("parent=%d child=%d", (int)getpid(), (int)child);

	/* Where the gdb check stops. */
	int marker = CHECK_OK(syscall(SYS_memfd_create, "gdb-marker", 0));
	close(marker);

	strcpy(p + PAGE, "marker");
	CHECK_RET(write(to_child[1], "g", 1), 1);
	t_wait_exit(child, 0);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}
