/*
 * uname(2): the identity the kernel reports.
 *
 * Starling reports itself as Linux so that programs checking the kernel
 * version keep working: sysname "Linux", a release of the 6.x line, marked
 * with a "-starling" suffix (the suffix lets tests and users tell it apart).
 */

#include "test.h"

#include <sys/personality.h>
#include <sys/utsname.h>

#if defined(__x86_64__)
#define EXPECTED_MACHINE "x86_64"
#elif defined(__riscv) && __riscv_xlen == 64
#define EXPECTED_MACHINE "riscv64"
#else
#error "unsupported architecture"
#endif

/* Fills `u` via the raw syscall; the sentinel shows fields never written. */
static void get_uname(struct utsname *u)
{
	memset(u, 0x5a, sizeof(*u));
	CHECK_RET(syscall(SYS_uname, u), 0);
	/* Every field is a NUL-terminated string within its array. */
	CHECK(memchr(u->sysname, '\0', sizeof(u->sysname)) != NULL);
	CHECK(memchr(u->nodename, '\0', sizeof(u->nodename)) != NULL);
	CHECK(memchr(u->release, '\0', sizeof(u->release)) != NULL);
	CHECK(memchr(u->version, '\0', sizeof(u->version)) != NULL);
	CHECK(memchr(u->machine, '\0', sizeof(u->machine)) != NULL);
}

TEST(sysname_linux)
{
	struct utsname u;
	get_uname(&u);
	CHECK_STREQ(u.sysname, "Linux");
}

TEST(release_6x)
{
	struct utsname u;
	get_uname(&u);
	/* "6.<minor>": programs parse the leading numbers. */
	CHECK_MSG(strncmp(u.release, "6.", 2) == 0 && u.release[2] >= '0' &&
			  u.release[2] <= '9',
		  "release \"%s\" does not start with \"6.<digit>\"", u.release);
}

TEST(release_starling_suffix)
{
	struct utsname u;
	get_uname(&u);
	size_t n = strlen(u.release);
	const char *suffix = "-starling";
	size_t s = strlen(suffix);
	CHECK_MSG(n > s && strcmp(u.release + n - s, suffix) == 0,
		  "release \"%s\" does not end in \"%s\"", u.release, suffix);
}

TEST(machine)
{
	struct utsname u;
	get_uname(&u);
	CHECK_STREQ(u.machine, EXPECTED_MACHINE);
}

TEST(nodename_and_version_set)
{
	struct utsname u;
	get_uname(&u);
	CHECK_MSG(u.nodename[0] != '\0', "empty nodename");
	CHECK_MSG(u.version[0] != '\0', "empty version");
}

TEST(libc_agrees)
{
	struct utsname raw, lib;
	get_uname(&raw);
	memset(&lib, 0, sizeof(lib));
	CHECK_RET(uname(&lib), 0);
	CHECK_STREQ(lib.sysname, raw.sysname);
	CHECK_STREQ(lib.release, raw.release);
}

TEST(efault)
{
	CHECK_ERR(syscall(SYS_uname, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_uname, (void *)1), EFAULT);
}

TEST(personality_query_and_set)
{
	/* personality(0xffffffff) only queries; a set returns the old one. */
	int old = CHECK_OK(personality(0xffffffff));
	CHECK_RET(old & 0xff, PER_LINUX);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(personality(PER_LINUX | UNAME26), old);
		CHECK_RET(personality(0xffffffff), PER_LINUX | UNAME26);
		/* Inherited by a child. */
		pid_t c = t_fork();
		if (c == 0)
			_exit(personality(0xffffffff) == (PER_LINUX | UNAME26) ? 0 : 1);
		t_wait_exit(c, 0);
		CHECK_RET(personality(old), PER_LINUX | UNAME26);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The child's change did not reach the parent. */
	CHECK_RET(personality(0xffffffff), old);
}

TEST(uname26_release)
{
	/* kernel/sys.c override_release: UNAME26 reports 2.6.(60 + minor)
	 * with the release's non-numeric suffix; nothing else changes. */
	struct utsname real, old26;
	CHECK_OK(uname(&real));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(personality(PER_LINUX | UNAME26));
		CHECK_OK(uname(&old26));
		unsigned major, minor;
		char rest[65] = "";
		CHECK(sscanf(real.release, "%u.%u.%*u%64s", &major, &minor, rest) >= 2);
		char want[80];
		snprintf(want, sizeof(want), "2.6.%u%s", 60 + minor, rest);
		if (strcmp(old26.release, want) != 0)
			t_fail("UNAME26 release \"%s\", want \"%s\"", old26.release, want);
		CHECK(strcmp(old26.sysname, real.sysname) == 0);
		CHECK(strcmp(old26.version, real.version) == 0);
		/* Bytes after the string stay zero (CVE-2012-0957). */
		for (size_t i = strlen(old26.release); i < sizeof(old26.release); i++)
			CHECK(old26.release[i] == 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
