/*
 * System V message queues: msgget, msgsnd, msgrcv, msgctl (msgget(2),
 * msgop(2), msgctl(2)) with Linux's errnos in its order of checks:
 * keys and IPC_CREAT/IPC_EXCL, the size and type rules, a full queue
 * (EAGAIN or blocking), the msgtyp selections, MSG_EXCEPT, MSG_NOERROR,
 * E2BIG, ENOMSG, blocking receives woken by another process, EINTR after
 * a handler (never restarted), EIDRM on removal, msqid_ds fields,
 * IPC_SET's CAP_SYS_RESOURCE rule, IPC_INFO/MSG_INFO, MSG_STAT(_ANY),
 * permissions for another user, /proc/sysvipc/msg and kernel.msg*.
 */
#include "test.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <grp.h>
#include <limits.h>

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct tmsg {
	long mtype;
	char mtext[256];
};

/* A key of this test run: distinct per process and per use. */
static key_t test_key(int n)
{
	return (key_t)(0x4d590000 ^ (getpid() << 4) ^ n);
}

static int new_queue(void)
{
	return (int)CHECK_OK(msgget(IPC_PRIVATE, 0600));
}

static void rm_queue(int id)
{
	CHECK_RET(msgctl(id, IPC_RMID, NULL), 0);
}

static struct msqid_ds stat_of(int id)
{
	struct msqid_ds ds;
	memset(&ds, 0xa5, sizeof(ds));
	CHECK_RET(msgctl(id, IPC_STAT, &ds), 0);
	return ds;
}

static int send_str(int id, long type, const char *s, int flg)
{
	struct tmsg m = { .mtype = type };
	size_t n = strlen(s);
	memcpy(m.mtext, s, n);
	return msgsnd(id, &m, n, flg);
}

static void write_long(const char *path, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	CHECK_RET(t_write_str(path, buf), (long)strlen(buf));
}

/* Becomes uid and gid 65534 with no supplementary groups (no caps). */
static void drop_to_nobody(void)
{
	CHECK_RET(setgroups(0, NULL), 0);
	CHECK_RET(setresgid(65534, 65534, 65534), 0);
	CHECK_RET(setresuid(65534, 65534, 65534), 0);
}

/* Whether capability `cap` is in the effective set (/proc/self/status). */
static int has_cap(int cap)
{
	char buf[4096] = { 0 };
	int fd = CHECK_OK(open("/proc/self/status", O_RDONLY));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	const char *p = strstr(buf, "CapEff:");
	CHECK(p != NULL);
	unsigned long long eff = strtoull(p + 7, NULL, 16);
	return (int)((eff >> cap) & 1);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* SIGALRM with SA_RESTART: msgsnd/msgrcv must still end with EINTR. */
static void arm_restarting_alarm(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	CHECK_RET(sigaction(SIGALRM, &sa, NULL), 0);
	CHECK_RET(ualarm(100000, 0), 0);
}

TEST(get_keys_and_flags)
{
	time_t before = time(NULL);
	key_t key = test_key(1);
	CHECK_ERR(msgget(key, 0600), ENOENT);
	int id = CHECK_OK(msgget(key, IPC_CREAT | 0640));
	CHECK_RET(msgget(key, 0), id);
	CHECK_RET(msgget(key, IPC_CREAT | 0600), id);
	CHECK_ERR(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	int priv = new_queue();
	int priv2 = new_queue();
	CHECK(priv != id && priv2 != priv && priv2 != id);
	rm_queue(priv);
	rm_queue(priv2);
	struct msqid_ds ds = stat_of(id);
	CHECK_EQ(ds.msg_perm.__key, key);
	CHECK_EQ(ds.msg_perm.mode, 0640);
	CHECK_EQ(ds.msg_perm.uid, geteuid());
	CHECK_EQ(ds.msg_perm.cuid, geteuid());
	CHECK_EQ(ds.msg_perm.gid, getegid());
	CHECK_EQ(ds.msg_qnum, 0);
	CHECK_EQ(ds.msg_cbytes, 0);
	CHECK_EQ(ds.msg_qbytes, t_read_long("/proc/sys/kernel/msgmnb"));
	CHECK_EQ(ds.msg_lspid, 0);
	CHECK_EQ(ds.msg_lrpid, 0);
	CHECK_EQ(ds.msg_stime, 0);
	CHECK_EQ(ds.msg_rtime, 0);
	CHECK(ds.msg_ctime >= before && ds.msg_ctime <= time(NULL));
	rm_queue(id);
	CHECK_ERR(msgget(key, 0600), ENOENT);
	/* The old identifier names nothing now. */
	CHECK_ERR(msgctl(id, IPC_STAT, &ds), EINVAL);
	CHECK_ERR(msgsnd(id, &(struct tmsg){ .mtype = 1 }, 1, 0), EINVAL);
}

TEST(msgmni_enospc)
{
	long old = t_read_long("/proc/sys/kernel/msgmni");
	struct msginfo info;
	CHECK_OK(msgctl(0, MSG_INFO, (struct msqid_ds *)&info));
	int used = info.msgpool;
	write_long("/proc/sys/kernel/msgmni", used + 1);
	int id = msgget(IPC_PRIVATE, 0600);
	int e = errno;
	int id2 = msgget(IPC_PRIVATE, 0600);
	int e2 = errno;
	write_long("/proc/sys/kernel/msgmni", old);
	if (id >= 0)
		rm_queue(id);
	if (id2 >= 0)
		rm_queue(id2);
	CHECK_MSG(id >= 0, "first msgget failed: %s", t_errname(e));
	CHECK_MSG(id2 == -1 && e2 == ENOSPC, "second msgget: %d %s", id2,
		  t_errname(e2));
	CHECK_ERR(t_write_str("/proc/sys/kernel/msgmni", "32769"), EINVAL);
	CHECK_ERR(t_write_str("/proc/sys/kernel/msgmni", "-1"), EINVAL);
	CHECK_EQ(t_read_long("/proc/sys/kernel/msgmni"), old);
}

TEST(send_size_and_type)
{
	int id = new_queue();
	long msgmax = t_read_long("/proc/sys/kernel/msgmax");
	char *big = calloc(1, (size_t)msgmax + 16);
	CHECK(big != NULL);
	*(long *)big = 1;
	CHECK_RET(msgsnd(id, big, (size_t)msgmax, 0), 0);
	CHECK_ERR(msgsnd(id, big, (size_t)msgmax + 1, 0), EINVAL);
	CHECK_ERR(msgsnd(id, big, (size_t)-1, 0), EINVAL);
	*(long *)big = 0;
	CHECK_ERR(msgsnd(id, big, 1, 0), EINVAL);
	*(long *)big = -5;
	CHECK_ERR(msgsnd(id, big, 1, 0), EINVAL);
	/* The type is read first: EFAULT before the size check. */
	CHECK_ERR(msgsnd(id, (void *)8, (size_t)msgmax + 1, 0), EFAULT);
	*(long *)big = 1;
	CHECK_ERR(msgsnd(-1, big, 1, 0), EINVAL);
	CHECK_ERR(msgsnd(id + 1, big, 1, 0), EINVAL);
	/* The text is copied before the queue is looked up. */
	CHECK_ERR(msgsnd(id + 1, (void *)8, 1, 0), EFAULT);
	free(big);
	struct msqid_ds ds = stat_of(id);
	CHECK_EQ(ds.msg_qnum, 1);
	CHECK_EQ(ds.msg_cbytes, msgmax);
	CHECK_EQ(ds.msg_lspid, getpid());
	CHECK(ds.msg_stime != 0);
	rm_queue(id);
}

TEST(full_queue_nowait)
{
	int id = new_queue();
	struct msqid_ds ds = stat_of(id);
	ds.msg_qbytes = 100;
	CHECK_RET(msgctl(id, IPC_SET, &ds), 0);
	CHECK_EQ(stat_of(id).msg_qbytes, 100);
	struct tmsg m = { .mtype = 1 };
	CHECK_RET(msgsnd(id, &m, 60, IPC_NOWAIT), 0);
	CHECK_ERR(msgsnd(id, &m, 60, IPC_NOWAIT), EAGAIN);
	CHECK_RET(msgsnd(id, &m, 40, IPC_NOWAIT), 0);
	CHECK_ERR(msgsnd(id, &m, 1, IPC_NOWAIT), EAGAIN);
	/* msg_qbytes also bounds the number of messages. */
	ds = stat_of(id);
	ds.msg_qbytes = 2;
	rm_queue(id);
	id = new_queue();
	ds = stat_of(id);
	ds.msg_qbytes = 2;
	CHECK_RET(msgctl(id, IPC_SET, &ds), 0);
	CHECK_RET(msgsnd(id, &m, 0, IPC_NOWAIT), 0);
	CHECK_RET(msgsnd(id, &m, 0, IPC_NOWAIT), 0);
	CHECK_ERR(msgsnd(id, &m, 0, IPC_NOWAIT), EAGAIN);
	CHECK_EQ(stat_of(id).msg_qnum, 2);
	rm_queue(id);
}

/* A queue holding one 60-byte message with room for 100 bytes. */
static int full_queue(void)
{
	int id = new_queue();
	struct msqid_ds ds = stat_of(id);
	ds.msg_qbytes = 100;
	CHECK_RET(msgctl(id, IPC_SET, &ds), 0);
	struct tmsg m = { .mtype = 1 };
	CHECK_RET(msgsnd(id, &m, 60, 0), 0);
	return id;
}

TEST(send_blocks_until_room)
{
	int id = full_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(send_str(id, 2, "blocked-sender-message-that-is-long-"
				       "enough-to-not-fit",
				   0),
			  0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	CHECK_EQ(stat_of(id).msg_qnum, 1);
	struct tmsg r;
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), 1, 0), 60);
	t_wait_exit(pid, 0);
	struct msqid_ds ds = stat_of(id);
	CHECK_EQ(ds.msg_qnum, 1);
	CHECK_EQ(ds.msg_lspid, pid);
	CHECK_EQ(ds.msg_lrpid, getpid());
	rm_queue(id);
}

TEST(send_interrupted_eintr)
{
	int id = full_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		arm_restarting_alarm();
		struct tmsg m = { .mtype = 1 };
		CHECK_ERR(msgsnd(id, &m, 60, 0), EINTR);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(stat_of(id).msg_qnum, 1);
	rm_queue(id);
}

TEST(send_removed_eidrm)
{
	int id = full_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		struct tmsg m = { .mtype = 1 };
		CHECK_ERR(msgsnd(id, &m, 60, 0), EIDRM);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	rm_queue(id);
	t_wait_exit(pid, 0);
}

TEST(receive_types)
{
	int id = new_queue();
	CHECK_RET(send_str(id, 3, "a3", 0), 0);
	CHECK_RET(send_str(id, 5, "b5", 0), 0);
	CHECK_RET(send_str(id, 2, "c2", 0), 0);
	CHECK_RET(send_str(id, 1, "d1", 0), 0);
	CHECK_RET(send_str(id, 2, "e2", 0), 0);
	CHECK_RET(send_str(id, 3, "f3", 0), 0);
	struct tmsg r;
	/* msgtyp > 0: the first of that type. */
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), 2, 0), 2);
	CHECK_EQ(r.mtype, 2);
	CHECK_STREQ(r.mtext, "c2");
	/* MSG_EXCEPT: the first of another type. */
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), 3, MSG_EXCEPT), 2);
	CHECK_STREQ(r.mtext, "b5");
	/* msgtyp < 0: the lowest type at or below |msgtyp|, first of those. */
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), -3, 0), 2);
	CHECK_STREQ(r.mtext, "d1");
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), -3, 0), 2);
	CHECK_STREQ(r.mtext, "e2");
	/* LONG_MIN is taken as "any type up to LONG_MAX". */
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), LONG_MIN, 0), 2);
	CHECK_STREQ(r.mtext, "a3");
	/* msgtyp 0: the first message. */
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), 0, 0), 2);
	CHECK_STREQ(r.mtext, "f3");
	CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 0, IPC_NOWAIT), ENOMSG);
	CHECK_RET(send_str(id, 4, "g4", 0), 0);
	CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 3, IPC_NOWAIT), ENOMSG);
	CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), -3, IPC_NOWAIT), ENOMSG);
	CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 4, MSG_EXCEPT | IPC_NOWAIT),
		  ENOMSG);
	CHECK_EQ(stat_of(id).msg_qnum, 1);
	rm_queue(id);
}

TEST(receive_size_rules)
{
	int id = new_queue();
	CHECK_RET(send_str(id, 1, "0123456789", 0), 0);
	struct tmsg r;
	CHECK_ERR(msgrcv(id, &r, 5, 0, IPC_NOWAIT), E2BIG);
	CHECK_EQ(stat_of(id).msg_qnum, 1);
	memset(&r, 0, sizeof(r));
	CHECK_RET(msgrcv(id, &r, 5, 0, MSG_NOERROR | IPC_NOWAIT), 5);
	CHECK_STREQ(r.mtext, "01234");
	struct msqid_ds ds = stat_of(id);
	CHECK_EQ(ds.msg_qnum, 0);
	CHECK_EQ(ds.msg_cbytes, 0);
	CHECK_EQ(ds.msg_lrpid, getpid());
	CHECK(ds.msg_rtime != 0);
	CHECK_ERR(msgrcv(-1, &r, 5, 0, IPC_NOWAIT), EINVAL);
	CHECK_ERR(msgrcv(id, &r, (size_t)-1, 0, IPC_NOWAIT), EINVAL);
	CHECK_ERR(msgrcv(id + 1, &r, 5, 0, IPC_NOWAIT), EINVAL);
	CHECK_RET(send_str(id, 1, "xyz", 0), 0);
	CHECK_ERR(msgrcv(id, (void *)8, 5, 0, IPC_NOWAIT), EFAULT);
	rm_queue(id);
}

TEST(msg_copy)
{
	int id = new_queue();
	CHECK_RET(send_str(id, 1, "first", 0), 0);
	CHECK_RET(send_str(id, 2, "second", 0), 0);
	struct tmsg r;
	CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 0, MSG_COPY), EINVAL);
	CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 0,
			 MSG_COPY | MSG_EXCEPT | IPC_NOWAIT),
		  EINVAL);
	memset(&r, 0, sizeof(r));
	errno = 0;
	long n = msgrcv(id, &r, sizeof(r.mtext), 1, MSG_COPY | IPC_NOWAIT);
	if (n == -1 && errno == ENOSYS) {
		/* No CONFIG_CHECKPOINT_RESTORE (Starling's config.gz). */
		t_info("MSG_COPY: ENOSYS (no CONFIG_CHECKPOINT_RESTORE)");
	} else {
		CHECK_EQ(n, 6);
		CHECK_EQ(r.mtype, 2);
		CHECK_STREQ(r.mtext, "second");
		CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 2,
				 MSG_COPY | IPC_NOWAIT),
			  ENOMSG);
		CHECK_ERR(msgrcv(id, &r, 3, 0, MSG_COPY | IPC_NOWAIT), E2BIG);
	}
	CHECK_EQ(stat_of(id).msg_qnum, 2);
	rm_queue(id);
}

TEST(receive_blocks_until_match)
{
	int id = new_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		struct tmsg r;
		memset(&r, 0, sizeof(r));
		CHECK_RET(msgrcv(id, &r, sizeof(r.mtext), 7, 0), 5);
		CHECK_EQ(r.mtype, 7);
		CHECK_STREQ(r.mtext, "seven");
		_exit(0);
	}
	t_wait_sleeping(pid);
	CHECK_RET(send_str(id, 1, "one", 0), 0);
	t_sleep_ms(50);
	CHECK_EQ(t_proc_state(pid), 'S');
	CHECK_RET(send_str(id, 7, "seven", 0), 0);
	t_wait_exit(pid, 0);
	struct msqid_ds ds = stat_of(id);
	CHECK_EQ(ds.msg_qnum, 1);
	CHECK_EQ(ds.msg_lrpid, pid);
	CHECK_EQ(ds.msg_lspid, getpid());
	rm_queue(id);
}

TEST(receive_small_buffer_woken_e2big)
{
	int id = new_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		struct tmsg r;
		CHECK_ERR(msgrcv(id, &r, 2, 0, 0), E2BIG);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(20);
	CHECK_RET(send_str(id, 1, "too long", 0), 0);
	t_wait_exit(pid, 0);
	CHECK_EQ(stat_of(id).msg_qnum, 1);
	rm_queue(id);
}

TEST(receive_interrupted_eintr)
{
	int id = new_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		arm_restarting_alarm();
		struct tmsg r;
		CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 0, 0), EINTR);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	rm_queue(id);
}

TEST(receive_removed_eidrm)
{
	int id = new_queue();
	pid_t pid = t_fork();
	if (pid == 0) {
		struct tmsg r;
		CHECK_ERR(msgrcv(id, &r, sizeof(r.mtext), 0, 0), EIDRM);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	rm_queue(id);
	t_wait_exit(pid, 0);
}

TEST(ctl_stat_commands)
{
	int id = new_queue();
	struct msqid_ds ds;
	int idx = id & 0x7fff;
	CHECK_RET(msgctl(idx, MSG_STAT, &ds), id);
	CHECK_RET(msgctl(idx, MSG_STAT_ANY, &ds), id);
	CHECK_EQ(ds.msg_perm.mode, 0600);
	CHECK_ERR(msgctl(-1, IPC_STAT, &ds), EINVAL);
	CHECK_ERR(msgctl(id, -1, &ds), EINVAL);
	CHECK_ERR(msgctl(id, 99, &ds), EINVAL);
	CHECK_ERR(msgctl(id, IPC_STAT, (void *)8), EFAULT);
	CHECK_ERR(msgctl(id, IPC_SET, (void *)8), EFAULT);
	/* IPC_SET: owner, group and mode bits; ctime. */
	ds = stat_of(id);
	ds.msg_perm.uid = 1234;
	ds.msg_perm.gid = 5678;
	ds.msg_perm.mode = 0644 | 01000;
	CHECK_RET(msgctl(id, IPC_SET, &ds), 0);
	ds = stat_of(id);
	CHECK_EQ(ds.msg_perm.uid, 1234);
	CHECK_EQ(ds.msg_perm.gid, 5678);
	CHECK_EQ(ds.msg_perm.cuid, geteuid());
	CHECK_EQ(ds.msg_perm.mode, 0644);
	ds.msg_perm.uid = (uid_t)-1;
	CHECK_ERR(msgctl(id, IPC_SET, &ds), EINVAL);
	rm_queue(id);
	CHECK_ERR(msgctl(idx, MSG_STAT, &ds), EINVAL);
}

TEST(ctl_info)
{
	int id = new_queue();
	CHECK_RET(send_str(id, 1, "12345", 0), 0);
	struct msginfo info;
	memset(&info, 0xa5, sizeof(info));
	int max = CHECK_OK(msgctl(0, IPC_INFO, (struct msqid_ds *)&info));
	CHECK(max >= (id & 0x7fff));
	CHECK_EQ(info.msgmax, t_read_long("/proc/sys/kernel/msgmax"));
	CHECK_EQ(info.msgmnb, t_read_long("/proc/sys/kernel/msgmnb"));
	CHECK_EQ(info.msgmni, t_read_long("/proc/sys/kernel/msgmni"));
	CHECK_EQ(info.msgssz, 16);
	CHECK_EQ(info.msgseg, 0xffff);
	CHECK_EQ(info.msgpool, 32000 * 16384 / 1024);
	CHECK_EQ(info.msgmap, 16384);
	CHECK_EQ(info.msgtql, 16384);
	memset(&info, 0xa5, sizeof(info));
	CHECK_OK(msgctl(0, MSG_INFO, (struct msqid_ds *)&info));
	CHECK(info.msgpool >= 1);
	CHECK(info.msgmap >= 1);
	CHECK(info.msgtql >= 5);
	CHECK_ERR(msgctl(0, IPC_INFO, (void *)8), EFAULT);
	rm_queue(id);
}

TEST(qbytes_above_msgmnb_needs_cap)
{
	int id = new_queue();
	long mnb = t_read_long("/proc/sys/kernel/msgmnb");
	struct msqid_ds ds = stat_of(id);
	ds.msg_perm.uid = 65534;
	CHECK_RET(msgctl(id, IPC_SET, &ds), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		struct msqid_ds d;
		/* Not readable for the owner (0600 by uid 65534: it is). */
		CHECK_RET(msgctl(id, IPC_STAT, &d), 0);
		d.msg_qbytes = mnb + 1;
		CHECK_ERR(msgctl(id, IPC_SET, &d), EPERM);
		d.msg_qbytes = mnb;
		CHECK_RET(msgctl(id, IPC_SET, &d), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	ds = stat_of(id);
	ds.msg_qbytes = mnb + 1;
	/* CAP_SYS_RESOURCE (24); a container's root may lack it. */
	if (has_cap(24)) {
		CHECK_RET(msgctl(id, IPC_SET, &ds), 0);
		CHECK_EQ(stat_of(id).msg_qbytes, mnb + 1);
	} else {
		CHECK_ERR(msgctl(id, IPC_SET, &ds), EPERM);
		CHECK_EQ(stat_of(id).msg_qbytes, mnb);
	}
	rm_queue(id);
}

TEST(other_user_permissions)
{
	key_t key = test_key(2);
	int id = CHECK_OK(msgget(key, IPC_CREAT | IPC_EXCL | 0600));
	int ro = CHECK_OK(msgget(test_key(3), IPC_CREAT | IPC_EXCL | 0644));
	CHECK_RET(send_str(ro, 1, "hi", 0), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		struct msqid_ds ds;
		struct tmsg m = { .mtype = 1 };
		CHECK_ERR(msgget(key, 0600), EACCES);
		CHECK_ERR(msgget(key, 0400), EACCES);
		/* No access asked for: the identifier. */
		CHECK_RET(msgget(key, 0), id);
		CHECK_ERR(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
		CHECK_ERR(msgsnd(id, &m, 1, IPC_NOWAIT), EACCES);
		CHECK_ERR(msgrcv(id, &m, 1, 0, IPC_NOWAIT), EACCES);
		CHECK_ERR(msgctl(id, IPC_STAT, &ds), EACCES);
		CHECK_ERR(msgctl(id & 0x7fff, MSG_STAT, &ds), EACCES);
		CHECK_RET(msgctl(id & 0x7fff, MSG_STAT_ANY, &ds), id);
		CHECK_ERR(msgctl(id, IPC_SET, &ds), EPERM);
		CHECK_ERR(msgctl(id, IPC_RMID, NULL), EPERM);
		/* 0644: readable, not writable. */
		CHECK_ERR(msgsnd(ro, &m, 1, IPC_NOWAIT), EACCES);
		CHECK_RET(msgrcv(ro, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 2);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	rm_queue(id);
	rm_queue(ro);
}

TEST(proc_sysvipc_msg)
{
	key_t key = test_key(4);
	int id = CHECK_OK(msgget(key, IPC_CREAT | IPC_EXCL | 0640));
	CHECK_RET(send_str(id, 1, "abcdef", 0), 0);
	CHECK_RET(send_str(id, 1, "gh", 0), 0);
	struct msqid_ds ds = stat_of(id);
	char want[256];
	snprintf(want, sizeof(want),
		 "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu "
		 "%10llu %10llu\n",
		 key, id, 0640, 8UL, 2UL, (unsigned)getpid(), 0u, geteuid(),
		 getegid(), geteuid(), getegid(),
		 (unsigned long long)ds.msg_stime, 0ULL,
		 (unsigned long long)ds.msg_ctime);
	char buf[65536];
	int fd = CHECK_OK(open("/proc/sysvipc/msg", O_RDONLY));
	ssize_t total = 0, n;
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	const char *header = "       key      msqid perms      cbytes       "
			     "qnum lspid lrpid   uid   gid  cuid  cgid      "
			     "stime      rtime      ctime\n";
	CHECK(strncmp(buf, header, strlen(header)) == 0);
	CHECK_MSG(strstr(buf, want) != NULL, "no line \"%s\" in %s", want,
		  buf);
	rm_queue(id);
}

TEST(msgmax_sysctl)
{
	long old = t_read_long("/proc/sys/kernel/msgmax");
	int id = new_queue();
	struct tmsg m = { .mtype = 1 };
	write_long("/proc/sys/kernel/msgmax", 10);
	errno = 0;
	int r1 = msgsnd(id, &m, 11, IPC_NOWAIT);
	int e1 = errno;
	int r2 = msgsnd(id, &m, 10, IPC_NOWAIT);
	write_long("/proc/sys/kernel/msgmax", old);
	CHECK_MSG(r1 == -1 && e1 == EINVAL, "11 bytes over msgmax 10: %d %s",
		  r1, t_errname(e1));
	CHECK_EQ(r2, 0);
	CHECK_ERR(t_write_str("/proc/sys/kernel/msgmax", "-1"), EINVAL);
	CHECK_ERR(t_write_str("/proc/sys/kernel/msgmnb", "-1"), EINVAL);
	long mnb = t_read_long("/proc/sys/kernel/msgmnb");
	write_long("/proc/sys/kernel/msgmnb", 1000);
	int id2 = msgget(IPC_PRIVATE, 0600);
	write_long("/proc/sys/kernel/msgmnb", mnb);
	CHECK(id2 >= 0);
	CHECK_EQ(stat_of(id2).msg_qbytes, 1000);
	rm_queue(id2);
	rm_queue(id);
}
