/*
 * Credentials and capabilities: setuid/setgid, setreuid/setregid,
 * setresuid/setresgid, setfsuid/setfsgid, getgroups/setgroups, capget and
 * capset, and how leaving uid 0 drops capabilities (credentials(7),
 * capabilities(7)).  Each sub-test changes ids in a child process only.
 */
#include "test.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>

static int capget_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return (int)syscall(SYS_capget, h, d);
}

static int capset_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return (int)syscall(SYS_capset, h, d);
}

/* The caller's effective and permitted sets (64 bits each). */
static void caps(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	CHECK_RET(capget_(&h, d), 0);
	*eff = d[0].effective | ((uint64_t)d[1].effective << 32);
	*perm = d[0].permitted | ((uint64_t)d[1].permitted << 32);
	*inh = d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
}

static void need_root(void)
{
	if (geteuid() != 0)
		t_skip("needs root");
}

TEST(root_has_full_capabilities)
{
	need_root();
	uint64_t e, p, i;
	caps(&e, &p, &i);
	/* The capabilities these tests rely on (a container may lack others). */
	uint64_t want = (1U << CAP_CHOWN) | (1U << CAP_KILL) | (1U << CAP_SETUID) |
			(1U << CAP_SETGID) | (1U << CAP_SETPCAP);
	CHECK_EQ(e & want, want);
	CHECK_EQ(e, p);
	CHECK_EQ(i, 0);
}

TEST(capget_versions_and_errors)
{
	struct __user_cap_header_struct h = { 0x12345678, 0 };
	struct __user_cap_data_struct d[2];
	/* An unknown version is answered with the preferred one. */
	CHECK_ERR(capget_(&h, d), EINVAL);
	CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
	/* A NULL data pointer only probes the version. */
	h.version = 0x12345678;
	CHECK_RET(capget_(&h, NULL), 0);
	CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
	h.version = _LINUX_CAPABILITY_VERSION_1;
	CHECK_RET(capget_(&h, d), 0);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = -1;
	CHECK_ERR(capget_(&h, d), EINVAL);
	h.pid = 0x3ffffff;
	CHECK_ERR(capget_(&h, d), ESRCH);
	h.pid = getpid();
	CHECK_RET(capget_(&h, d), 0);
	h.pid = 0;
	CHECK_ERR(capget_((void *)8, d), EFAULT);
	CHECK_ERR(capget_(&h, (void *)8), EFAULT);
}

TEST(capset_drops_and_cannot_regain)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		CHECK_RET(capget_(&h, d), 0);
		/* Drop CAP_CHOWN from effective only: allowed. */
		d[0].effective &= ~(1U << CAP_CHOWN);
		CHECK_RET(capset_(&h, d), 0);
		uint64_t e, p, i;
		caps(&e, &p, &i);
		CHECK_EQ(e & (1U << CAP_CHOWN), 0);
		CHECK(p & (1U << CAP_CHOWN));
		/* Back into effective from permitted: allowed. */
		d[0].effective |= 1U << CAP_CHOWN;
		CHECK_RET(capset_(&h, d), 0);
		/* Effective beyond permitted: EPERM. */
		d[0].permitted &= ~(1U << CAP_KILL);
		d[0].effective |= 1U << CAP_KILL;
		CHECK_ERR(capset_(&h, d), EPERM);
		/* Drop it from both: allowed; then it cannot come back. */
		d[0].effective &= ~(1U << CAP_KILL);
		CHECK_RET(capset_(&h, d), 0);
		d[0].permitted |= 1U << CAP_KILL;
		CHECK_ERR(capset_(&h, d), EPERM);
		/* Only oneself. */
		d[0].permitted &= ~(1U << CAP_KILL);
		h.pid = getppid();
		CHECK_ERR(capset_(&h, d), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setuid_drops_capabilities)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		uint64_t e, p, i;
		caps(&e, &p, &i);
		CHECK_EQ(e, 0);
		CHECK_EQ(p, 0);
		/* And with them the right to go back. */
		CHECK_ERR(setuid(0), EPERM);
		CHECK_ERR(setgroups(0, NULL), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(seteuid_keeps_permitted_and_restores)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresuid(-1, 1000, -1), 0);
		uint64_t e, p, i;
		caps(&e, &p, &i);
		CHECK_EQ(e, 0);
		CHECK(p != 0);
		/* The saved uid 0 lets it return, and effective comes back. */
		CHECK_RET(seteuid(0), 0);
		caps(&e, &p, &i);
		CHECK_EQ(e, p);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(keepcaps_keeps_permitted)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		uint64_t e, p, i;
		caps(&e, &p, &i);
		CHECK_EQ(e, 0);
		CHECK(p != 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setresuid_rules)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresuid(1000, 1001, 1002), 0);
		uid_t r, e, s;
		CHECK_RET(getresuid(&r, &e, &s), 0);
		CHECK_EQ(r, 1000);
		CHECK_EQ(e, 1001);
		CHECK_EQ(s, 1002);
		CHECK_EQ(setfsuid(-1), 1001); /* fsuid follows euid */
		/* Unprivileged: any of the three, nothing else. */
		CHECK_RET(setresuid(1002, 1000, 1001), 0);
		CHECK_ERR(setresuid(5, -1, -1), EPERM);
		CHECK_ERR(setuid(5), EPERM);
		CHECK_RET(setuid(1001), 0); /* saved uid: effective only */
		CHECK_RET(getresuid(&r, &e, &s), 0);
		CHECK_EQ(r, 1002);
		CHECK_EQ(e, 1001);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setreuid_saved_uid_rule)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		CHECK_ERR(setreuid(0, -1), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		/* Setting the real id makes the saved id the new effective one. */
		CHECK_RET(setreuid(1000, 2000), 0);
		uid_t r, e, s;
		CHECK_RET(getresuid(&r, &e, &s), 0);
		CHECK_EQ(r, 1000);
		CHECK_EQ(e, 2000);
		CHECK_EQ(s, 2000);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(gid_family)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresgid(100, 200, 300), 0);
		gid_t r, e, s;
		CHECK_RET(getresgid(&r, &e, &s), 0);
		CHECK_EQ(r, 100);
		CHECK_EQ(e, 200);
		CHECK_EQ(s, 300);
		CHECK_EQ(getgid(), 100);
		CHECK_EQ(getegid(), 200);
		CHECK_RET(setregid(300, -1), 0);
		CHECK_RET(setgid(7), 0); /* CAP_SETGID: all of them */
		CHECK_RET(getresgid(&r, &e, &s), 0);
		CHECK_EQ(r, 7);
		CHECK_EQ(s, 7);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setfsuid_returns_previous)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_EQ(setfsuid(1234), 0);
		CHECK_EQ(setfsuid(-1), 1234);
		CHECK_EQ(setfsgid(55), 0);
		CHECK_EQ(setfsgid(-1), 55);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(groups)
{
	need_root();
	pid_t pid = t_fork();
	if (pid == 0) {
		gid_t set[3] = { 10, 20, 30 };
		CHECK_RET(setgroups(3, set), 0);
		CHECK_RET(getgroups(0, NULL), 3);
		gid_t got[3];
		CHECK_RET(getgroups(3, got), 3);
		CHECK_EQ(got[0], 10);
		CHECK_EQ(got[2], 30);
		gid_t small[2];
		CHECK_ERR(getgroups(2, small), EINVAL);
		CHECK_ERR(syscall(SYS_getgroups, -1, small), EINVAL);
		CHECK_ERR(setgroups(3, (gid_t *)8), EFAULT);
		CHECK_ERR(setgroups(1 << 20, set), EINVAL);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(unprivileged_kill_needs_matching_uid)
{
	need_root();
	pid_t victim = t_fork();
	if (victim == 0) {
		pause();
		_exit(0);
	}
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		CHECK_ERR(kill(victim, SIGTERM), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_OK(kill(victim, SIGKILL));
	t_wait_signal(victim, SIGKILL);
}
