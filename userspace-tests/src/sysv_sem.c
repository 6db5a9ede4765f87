/*
 * System V semaphores: semget, semop, semtimedop, semctl (semget(2),
 * semop(2), semctl(2)) with Linux's errnos in its order of checks: nsems
 * limits, atomic operation arrays (nothing applied when one blocks),
 * IPC_NOWAIT, blocking woken by increments and by zero, GETNCNT/GETZCNT
 * counting by the blocking operation, timeouts (EAGAIN) and bad
 * timespecs, EINTR after a handler (never restarted), EIDRM on removal,
 * ERANGE/E2BIG/EFBIG, SEM_UNDO applied at exit (clamped, cleared by
 * SETVAL, shared by threads, applied by unshare(CLONE_SYSVSEM)), the
 * semctl commands with union semun by value, permissions for another
 * user, /proc/sysvipc/sem and kernel.sem.
 */
#include "test.h"

#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static key_t test_key(int n)
{
	return (key_t)(0x53450000 ^ (getpid() << 4) ^ n);
}

static int new_array(int nsems)
{
	return (int)CHECK_OK(semget(IPC_PRIVATE, nsems, 0600));
}

static void rm_array(int id)
{
	CHECK_RET(semctl(id, 0, IPC_RMID), 0);
}

static int getval(int id, int num)
{
	return semctl(id, num, GETVAL);
}

static void setval(int id, int num, int val)
{
	CHECK_RET(semctl(id, num, SETVAL, (union semun){ .val = val }), 0);
}

static struct semid_ds stat_of(int id)
{
	struct semid_ds ds;
	memset(&ds, 0xa5, sizeof(ds));
	CHECK_RET(semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }), 0);
	return ds;
}

static int op1(int id, unsigned short num, short op, short flg)
{
	struct sembuf sb = { num, op, flg };
	return semop(id, &sb, 1);
}

static int read_sem_ctls(int v[4])
{
	char buf[128] = { 0 };
	int fd = CHECK_OK(open("/proc/sys/kernel/sem", O_RDONLY));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	return sscanf(buf, "%d %d %d %d", &v[0], &v[1], &v[2], &v[3]);
}

static void write_sem_ctls(const int v[4])
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%d %d %d %d", v[0], v[1], v[2], v[3]);
	CHECK_RET(t_write_str("/proc/sys/kernel/sem", buf), (long)strlen(buf));
}

static void drop_to_nobody(void)
{
	CHECK_RET(setgroups(0, NULL), 0);
	CHECK_RET(setresgid(65534, 65534, 65534), 0);
	CHECK_RET(setresuid(65534, 65534, 65534), 0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST(get_nsems_and_keys)
{
	int ctls[4];
	CHECK_EQ(read_sem_ctls(ctls), 4);
	CHECK_ERR(semget(IPC_PRIVATE, 0, 0600), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, -1, 0600), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, ctls[0] + 1, 0600), EINVAL);
	key_t key = test_key(1);
	CHECK_ERR(semget(key, 2, 0600), ENOENT);
	/* The nsems check comes before the key lookup. */
	CHECK_ERR(semget(key, -1, 0600), EINVAL);
	time_t before = time(NULL);
	int id = CHECK_OK(semget(key, 3, IPC_CREAT | 0640));
	CHECK_RET(semget(key, 3, 0), id);
	CHECK_RET(semget(key, 0, 0), id);
	CHECK_RET(semget(key, 2, IPC_CREAT | 0600), id);
	CHECK_ERR(semget(key, 4, 0), EINVAL);
	CHECK_ERR(semget(key, 3, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	/* EEXIST before the nsems comparison. */
	CHECK_ERR(semget(key, 4, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	struct semid_ds ds = stat_of(id);
	CHECK_EQ(ds.sem_perm.__key, key);
	CHECK_EQ(ds.sem_perm.mode, 0640);
	CHECK_EQ(ds.sem_perm.uid, geteuid());
	CHECK_EQ(ds.sem_perm.cuid, geteuid());
	CHECK_EQ(ds.sem_perm.gid, getegid());
	CHECK_EQ(ds.sem_nsems, 3);
	CHECK_EQ(ds.sem_otime, 0);
	CHECK(ds.sem_ctime >= before && ds.sem_ctime <= time(NULL));
	for (int i = 0; i < 3; i++) {
		CHECK_RET(getval(id, i), 0);
		CHECK_RET(semctl(id, i, GETPID), 0);
	}
	rm_array(id);
	CHECK_ERR(semget(key, 3, 0), ENOENT);
	CHECK_ERR(semctl(id, 0, GETVAL), EINVAL);
}

TEST(semmni_and_semmns_enospc)
{
	int old[4], v[4];
	CHECK_EQ(read_sem_ctls(old), 4);
	struct seminfo info;
	CHECK_OK(semctl(0, 0, SEM_INFO, (union semun){ .__buf = &info }));
	memcpy(v, old, sizeof(v));
	v[3] = info.semusz + 1;
	write_sem_ctls(v);
	int id = semget(IPC_PRIVATE, 1, 0600);
	int e = errno;
	int id2 = semget(IPC_PRIVATE, 1, 0600);
	int e2 = errno;
	write_sem_ctls(old);
	if (id >= 0)
		rm_array(id);
	if (id2 >= 0)
		rm_array(id2);
	CHECK_MSG(id >= 0, "first semget: %s", t_errname(e));
	CHECK_MSG(id2 == -1 && e2 == ENOSPC, "second semget: %d %s", id2,
		  t_errname(e2));
	/* semmns: the semaphores of all arrays. */
	memcpy(v, old, sizeof(v));
	v[1] = info.semaem + 4;
	write_sem_ctls(v);
	id = semget(IPC_PRIVATE, 4, 0600);
	e = errno;
	id2 = semget(IPC_PRIVATE, 1, 0600);
	e2 = errno;
	write_sem_ctls(old);
	if (id >= 0)
		rm_array(id);
	if (id2 >= 0)
		rm_array(id2);
	CHECK_MSG(id >= 0, "semget of 4: %s", t_errname(e));
	CHECK_MSG(id2 == -1 && e2 == ENOSPC, "semget over semmns: %d %s", id2,
		  t_errname(e2));
}

TEST(op_values_pid_times)
{
	int id = new_array(2);
	time_t before = time(NULL);
	CHECK_RET(op1(id, 0, 3, 0), 0);
	CHECK_RET(op1(id, 0, -1, 0), 0);
	CHECK_RET(getval(id, 0), 2);
	CHECK_RET(semctl(id, 0, GETPID), getpid());
	CHECK_RET(semctl(id, 1, GETPID), 0);
	struct semid_ds ds = stat_of(id);
	CHECK(ds.sem_otime >= before && ds.sem_otime <= time(NULL));
	/* Several operations on one semaphore apply in order. */
	struct sembuf sb[3] = { { 0, -2, 0 }, { 0, 5, 0 }, { 1, 0, 0 } };
	CHECK_RET(semop(id, sb, 3), 0);
	CHECK_RET(getval(id, 0), 5);
	/* A wait for zero alone also counts as an operation. */
	CHECK_RET(op1(id, 1, 0, 0), 0);
	CHECK_RET(semctl(id, 1, GETPID), getpid());
	rm_array(id);
}

TEST(op_errors)
{
	int ctls[4];
	CHECK_EQ(read_sem_ctls(ctls), 4);
	int id = new_array(2);
	struct sembuf sb[2] = { { 0, 1, 0 }, { 1, 1, 0 } };
	CHECK_ERR(semop(id, sb, 0), EINVAL);
	CHECK_ERR(semop(-1, sb, 1), EINVAL);
	CHECK_ERR(semop(id + 1, sb, 1), EINVAL);
	CHECK_ERR(semop(id, (void *)8, 1), EFAULT);
	CHECK_ERR(syscall(SYS_semtimedop, id, sb, (unsigned)ctls[2] + 1, NULL),
		  E2BIG);
	/* E2BIG is checked before the operations are read. */
	CHECK_ERR(syscall(SYS_semtimedop, id, (void *)8, (unsigned)ctls[2] + 1,
			  NULL),
		  E2BIG);
	struct sembuf far = { 2, 1, 0 };
	CHECK_ERR(semop(id, &far, 1), EFBIG);
	setval(id, 0, 32767);
	CHECK_ERR(op1(id, 0, 1, 0), ERANGE);
	CHECK_ERR(op1(id, 0, 1, IPC_NOWAIT), ERANGE);
	CHECK_RET(getval(id, 0), 32767);
	CHECK_ERR(semctl(id, 0, SETVAL, (union semun){ .val = 32768 }),
		  ERANGE);
	CHECK_ERR(semctl(id, 0, SETVAL, (union semun){ .val = -1 }), ERANGE);
	/* ERANGE comes before the identifier is looked up. */
	CHECK_ERR(semctl(id + 1, 0, SETVAL, (union semun){ .val = -1 }),
		  ERANGE);
	CHECK_ERR(semctl(id, 2, SETVAL, (union semun){ .val = 1 }), EINVAL);
	CHECK_ERR(semctl(id, -1, GETVAL), EINVAL);
	CHECK_ERR(semctl(id, 2, GETNCNT), EINVAL);
	rm_array(id);
}

TEST(op_atomic_and_nowait)
{
	int id = new_array(2);
	/* The increment is not applied when the decrement cannot go on. */
	struct sembuf sb[2] = { { 0, 1, 0 }, { 1, -1, IPC_NOWAIT } };
	CHECK_ERR(semop(id, sb, 2), EAGAIN);
	CHECK_RET(getval(id, 0), 0);
	CHECK_RET(semctl(id, 0, GETPID), 0);
	CHECK_ERR(op1(id, 0, -1, IPC_NOWAIT), EAGAIN);
	setval(id, 1, 1);
	CHECK_ERR(op1(id, 1, 0, IPC_NOWAIT), EAGAIN);
	/* ERANGE undoes the operations before it too. */
	setval(id, 1, 32767);
	struct sembuf sr[2] = { { 0, 2, 0 }, { 1, 1, 0 } };
	CHECK_ERR(semop(id, sr, 2), ERANGE);
	CHECK_RET(getval(id, 0), 0);
	rm_array(id);
}

TEST(blocked_decrement_woken_by_increment)
{
	int id = new_array(2);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(op1(id, 1, -2, 0), 0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(30);
	CHECK_RET(semctl(id, 1, GETNCNT), 1);
	CHECK_RET(semctl(id, 1, GETZCNT), 0);
	CHECK_RET(semctl(id, 0, GETNCNT), 0);
	/* One is not enough. */
	CHECK_RET(op1(id, 1, 1, 0), 0);
	t_sleep_ms(50);
	CHECK_EQ(t_proc_state(pid), 'S');
	CHECK_RET(semctl(id, 1, GETNCNT), 1);
	CHECK_RET(op1(id, 1, 1, 0), 0);
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 1), 0);
	CHECK_RET(semctl(id, 1, GETPID), pid);
	CHECK_RET(semctl(id, 1, GETNCNT), 0);
	rm_array(id);
}

TEST(blocked_zero_wait_woken)
{
	int id = new_array(1);
	setval(id, 0, 2);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(op1(id, 0, 0, 0), 0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(30);
	CHECK_RET(semctl(id, 0, GETZCNT), 1);
	CHECK_RET(semctl(id, 0, GETNCNT), 0);
	CHECK_RET(op1(id, 0, -1, 0), 0);
	t_sleep_ms(50);
	CHECK_EQ(t_proc_state(pid), 'S');
	/* SETVAL wakes waiters too. */
	setval(id, 0, 0);
	t_wait_exit(pid, 0);
	CHECK_RET(semctl(id, 0, GETZCNT), 0);
	rm_array(id);
}

TEST(blocked_array_counts_blocking_op)
{
	int id = new_array(2);
	setval(id, 0, 1);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* Blocks on semaphore 1 (the first that cannot go on). */
		struct sembuf sb[2] = { { 0, -1, 0 }, { 1, -1, 0 } };
		CHECK_RET(semop(id, sb, 2), 0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(30);
	CHECK_RET(semctl(id, 0, GETNCNT), 0);
	CHECK_RET(semctl(id, 1, GETNCNT), 1);
	/* Nothing was taken from semaphore 0 meanwhile. */
	CHECK_RET(getval(id, 0), 1);
	CHECK_RET(op1(id, 1, 1, 0), 0);
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 0), 0);
	CHECK_RET(getval(id, 1), 0);
	rm_array(id);
}

TEST(timedop_timeout_and_timespec)
{
	int id = new_array(1);
	struct sembuf sb = { 0, -1, 0 };
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	long long t0 = t_now_ns();
	CHECK_ERR(semtimedop(id, &sb, 1, &ts), EAGAIN);
	long long dt = t_now_ns() - t0;
	CHECK_MSG(dt >= 95LL * 1000 * 1000, "returned after %lld ns", dt);
	ts.tv_nsec = 1000000000;
	CHECK_ERR(semtimedop(id, &sb, 1, &ts), EINVAL);
	ts.tv_nsec = -1;
	CHECK_ERR(semtimedop(id, &sb, 1, &ts), EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	CHECK_ERR(semtimedop(id, &sb, 1, &ts), EINVAL);
	/* A bad timespec is reported before the identifier is looked up. */
	CHECK_ERR(semtimedop(id + 1, &sb, 1, &ts), EINVAL);
	CHECK_ERR(semtimedop(id, &sb, 1, (void *)8), EFAULT);
	/* A bad pointer is found before the count is checked. */
	CHECK_ERR(semtimedop(id, &sb, 0, (void *)8), EFAULT);
	/* A zero timeout that can go on succeeds. */
	setval(id, 0, 1);
	ts.tv_sec = 0;
	CHECK_RET(semtimedop(id, &sb, 1, &ts), 0);
	rm_array(id);
}

TEST(blocked_interrupted_eintr)
{
	int id = new_array(1);
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = SA_RESTART;
		CHECK_RET(sigaction(SIGALRM, &sa, NULL), 0);
		CHECK_RET(ualarm(100000, 0), 0);
		CHECK_ERR(op1(id, 0, -1, 0), EINTR);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(semctl(id, 0, GETNCNT), 0);
	rm_array(id);
}

TEST(blocked_removed_eidrm)
{
	int id = new_array(1);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_ERR(op1(id, 0, -1, 0), EIDRM);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	rm_array(id);
	t_wait_exit(pid, 0);
}

TEST(undo_at_exit)
{
	int id = new_array(2);
	setval(id, 1, 5);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(op1(id, 0, 3, SEM_UNDO), 0);
		CHECK_RET(op1(id, 1, -2, SEM_UNDO), 0);
		CHECK_RET(op1(id, 0, 1, 0), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 0), 1);
	CHECK_RET(getval(id, 1), 5);
	CHECK_RET(semctl(id, 0, GETPID), pid);
	/* The adjustment is clamped at 0. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid = t_fork();
	if (pid == 0) {
		close(p[0]);
		CHECK_RET(op1(id, 0, 2, SEM_UNDO), 0);
		CHECK_RET(write(p[1], "x", 1), 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	close(p[0]);
	CHECK_RET(getval(id, 0), 3);
	setval(id, 1, 7);
	CHECK_RET(op1(id, 0, -3, 0), 0);
	CHECK_RET(kill(pid, SIGKILL), 0);
	t_wait_signal(pid, SIGKILL);
	CHECK_RET(getval(id, 0), 0);
	CHECK_RET(getval(id, 1), 7);
	rm_array(id);
}

TEST(undo_cleared_by_setval_and_setall)
{
	int id = new_array(2);
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(p[0]);
		CHECK_RET(op1(id, 0, 2, SEM_UNDO), 0);
		CHECK_RET(op1(id, 1, 2, SEM_UNDO), 0);
		CHECK_RET(write(p[1], "x", 1), 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	close(p[0]);
	setval(id, 0, 4);
	CHECK_RET(kill(pid, SIGKILL), 0);
	t_wait_signal(pid, SIGKILL);
	CHECK_RET(getval(id, 0), 4);
	CHECK_RET(getval(id, 1), 0);
	rm_array(id);
}

/* The thread's SEM_UNDO belongs to the process's list (CLONE_SYSVSEM). */
static void *undo_thread(void *arg)
{
	int id = *(int *)arg;
	return (void *)(long)op1(id, 0, 1, SEM_UNDO);
}

TEST(undo_shared_by_threads)
{
	int id = new_array(1);
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t th;
		void *ret;
		CHECK_RET(pthread_create(&th, NULL, undo_thread, &id), 0);
		CHECK_RET(pthread_join(th, &ret), 0);
		CHECK_EQ((long)ret, 0);
		/* The thread is gone; the list lives on with the process. */
		CHECK_RET(getval(id, 0), 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 0), 0);
	rm_array(id);
}

TEST(unshare_sysvsem_applies_undo)
{
	int id = new_array(1);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(op1(id, 0, 2, SEM_UNDO), 0);
		CHECK_RET(getval(id, 0), 2);
		CHECK_RET(unshare(CLONE_SYSVSEM), 0);
		CHECK_RET(getval(id, 0), 0);
		CHECK_RET(op1(id, 0, 1, 0), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 0), 1);
	rm_array(id);
}

/* GETPID answers in the caller's PID namespace. */
TEST(getpid_in_pid_namespace)
{
	int id = new_array(1);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(unshare(CLONE_NEWPID), 0);
		pid_t g = fork();
		CHECK(g >= 0);
		if (g == 0) {
			if (op1(id, 0, 1, 0) != 0)
				_exit(2);
			_exit(semctl(id, 0, GETPID) == 1 ? 0 : 3);
		}
		t_wait_exit(g, 0);
		CHECK_RET(semctl(id, 0, GETPID), g);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 0), 1);
	rm_array(id);
}

TEST(undo_range)
{
	int id = new_array(1);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(op1(id, 0, 32767, SEM_UNDO), 0);
		CHECK_RET(op1(id, 0, -32767, 0), 0);
		/* semadj would reach -32769. */
		struct sembuf sb[2] = { { 0, 1, SEM_UNDO }, { 0, 1, SEM_UNDO } };
		CHECK_RET(semop(id, sb, 1), 0);
		CHECK_ERR(semop(id, sb, 2), ERANGE);
		CHECK_RET(getval(id, 0), 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(getval(id, 0), 0);
	rm_array(id);
}

TEST(ctl_all_and_stat)
{
	int id = new_array(3);
	unsigned short in[3] = { 1, 2, 3 }, out[3] = { 9, 9, 9 };
	CHECK_RET(semctl(id, 0, SETALL, (union semun){ .array = in }), 0);
	CHECK_RET(semctl(id, 0, GETALL, (union semun){ .array = out }), 0);
	CHECK(out[0] == 1 && out[1] == 2 && out[2] == 3);
	CHECK_RET(semctl(id, 2, GETPID), getpid());
	unsigned short bad[3] = { 1, 32768, 3 };
	CHECK_ERR(semctl(id, 0, SETALL, (union semun){ .array = bad }), ERANGE);
	CHECK_RET(getval(id, 0), 1);
	CHECK_ERR(semctl(id, 0, SETALL, (union semun){ .array = (void *)8 }),
		  EFAULT);
	CHECK_ERR(semctl(id, 0, GETALL, (union semun){ .array = (void *)8 }),
		  EFAULT);
	int idx = id & 0x7fff;
	struct semid_ds ds;
	CHECK_RET(semctl(idx, 0, SEM_STAT, (union semun){ .buf = &ds }), id);
	CHECK_RET(semctl(idx, 0, SEM_STAT_ANY, (union semun){ .buf = &ds }),
		  id);
	CHECK_EQ(ds.sem_nsems, 3);
	CHECK_ERR(semctl(id, 0, IPC_STAT, (union semun){ .buf = (void *)8 }),
		  EFAULT);
	CHECK_ERR(semctl(-1, 0, IPC_STAT, (union semun){ .buf = &ds }), EINVAL);
	CHECK_ERR(semctl(id, 0, 99), EINVAL);
	/* IPC_SET: owner, group, mode; ctime. */
	ds = stat_of(id);
	ds.sem_perm.uid = 1234;
	ds.sem_perm.gid = 5678;
	ds.sem_perm.mode = 0644 | 01000;
	CHECK_RET(semctl(id, 0, IPC_SET, (union semun){ .buf = &ds }), 0);
	ds = stat_of(id);
	CHECK_EQ(ds.sem_perm.uid, 1234);
	CHECK_EQ(ds.sem_perm.gid, 5678);
	CHECK_EQ(ds.sem_perm.mode, 0644);
	ds.sem_perm.gid = (gid_t)-1;
	CHECK_ERR(semctl(id, 0, IPC_SET, (union semun){ .buf = &ds }), EINVAL);
	CHECK_ERR(semctl(id, 0, IPC_SET, (union semun){ .buf = (void *)8 }),
		  EFAULT);
	rm_array(id);
	CHECK_ERR(semctl(idx, 0, SEM_STAT, (union semun){ .buf = &ds }), EINVAL);
	CHECK_ERR(semctl(id, 0, IPC_RMID), EINVAL);
}

TEST(ctl_info)
{
	int id = new_array(4);
	int ctls[4];
	CHECK_EQ(read_sem_ctls(ctls), 4);
	struct seminfo info;
	memset(&info, 0xa5, sizeof(info));
	int max = CHECK_OK(semctl(0, 0, IPC_INFO, (union semun){ .__buf = &info }));
	CHECK(max >= (id & 0x7fff));
	CHECK_EQ(info.semmsl, ctls[0]);
	CHECK_EQ(info.semmns, ctls[1]);
	CHECK_EQ(info.semopm, ctls[2]);
	CHECK_EQ(info.semmni, ctls[3]);
	CHECK_EQ(info.semvmx, 32767);
	CHECK_EQ(info.semaem, 32767);
	CHECK_EQ(info.semusz, 20);
	CHECK_EQ(info.semume, 500);
	CHECK_EQ(info.semmnu, 1024000000);
	CHECK_EQ(info.semmap, 1024000000);
	memset(&info, 0xa5, sizeof(info));
	CHECK_OK(semctl(0, 0, SEM_INFO, (union semun){ .__buf = &info }));
	CHECK(info.semusz >= 1);
	CHECK(info.semaem >= 4);
	CHECK_ERR(semctl(0, 0, IPC_INFO, (union semun){ .__buf = (void *)8 }),
		  EFAULT);
	rm_array(id);
}

TEST(other_user_permissions)
{
	key_t key = test_key(2);
	int id = CHECK_OK(semget(key, 1, IPC_CREAT | IPC_EXCL | 0600));
	int ro = CHECK_OK(semget(test_key(3), 1, IPC_CREAT | IPC_EXCL | 0644));
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		struct semid_ds ds;
		unsigned short v[1] = { 0 };
		CHECK_ERR(semget(key, 1, 0600), EACCES);
		CHECK_RET(semget(key, 1, 0), id);
		CHECK_ERR(getval(id, 0), EACCES);
		CHECK_ERR(semctl(id, 0, GETALL, (union semun){ .array = v }),
			  EACCES);
		CHECK_ERR(semctl(id, 0, SETVAL, (union semun){ .val = 1 }),
			  EACCES);
		CHECK_ERR(semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }),
			  EACCES);
		CHECK_RET(semctl(id & 0x7fff, 0, SEM_STAT_ANY,
				 (union semun){ .buf = &ds }),
			  id);
		CHECK_ERR(semctl(id, 0, IPC_SET, (union semun){ .buf = &ds }),
			  EPERM);
		CHECK_ERR(semctl(id, 0, IPC_RMID), EPERM);
		CHECK_ERR(op1(id, 0, 0, IPC_NOWAIT), EACCES);
		/* Read access: zero waits; write: changes. */
		CHECK_RET(op1(ro, 0, 0, IPC_NOWAIT), 0);
		CHECK_ERR(op1(ro, 0, 1, IPC_NOWAIT), EACCES);
		CHECK_RET(getval(ro, 0), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	rm_array(id);
	rm_array(ro);
}

TEST(proc_sysvipc_sem)
{
	key_t key = test_key(4);
	int id = CHECK_OK(semget(key, 5, IPC_CREAT | IPC_EXCL | 0640));
	CHECK_RET(op1(id, 1, 1, 0), 0);
	struct semid_ds ds = stat_of(id);
	char want[256];
	snprintf(want, sizeof(want),
		 "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n", key,
		 id, 0640, 5u, geteuid(), getegid(), geteuid(), getegid(),
		 (unsigned long long)ds.sem_otime,
		 (unsigned long long)ds.sem_ctime);
	char buf[65536];
	int fd = CHECK_OK(open("/proc/sysvipc/sem", O_RDONLY));
	ssize_t total = 0, n;
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	const char *header = "       key      semid perms      nsems   uid   "
			     "gid  cuid  cgid      otime      ctime\n";
	CHECK(strncmp(buf, header, strlen(header)) == 0);
	CHECK_MSG(strstr(buf, want) != NULL, "no line \"%s\" in %s", want,
		  buf);
	rm_array(id);
}

TEST(sem_sysctl)
{
	int old[4], v[4];
	CHECK_EQ(read_sem_ctls(old), 4);
	int id = new_array(1);
	memcpy(v, old, sizeof(v));
	v[2] = 2;
	write_sem_ctls(v);
	struct sembuf sb[3] = { { 0, 1, 0 }, { 0, 1, 0 }, { 0, 1, 0 } };
	errno = 0;
	int r3 = semop(id, sb, 3);
	int e3 = errno;
	int r2 = semop(id, sb, 2);
	/* semmsl bounds nsems. */
	v[0] = 3;
	write_sem_ctls(v);
	errno = 0;
	int g4 = semget(IPC_PRIVATE, 4, 0600);
	int eg4 = errno;
	write_sem_ctls(old);
	if (g4 >= 0)
		rm_array(g4);
	CHECK_MSG(r3 == -1 && e3 == E2BIG, "3 ops over semopm 2: %d %s", r3,
		  t_errname(e3));
	CHECK_EQ(r2, 0);
	CHECK_MSG(g4 == -1 && eg4 == EINVAL, "4 over semmsl 3: %d %s", g4,
		  t_errname(eg4));
	rm_array(id);
}

/* An out-of-range semmni is put back; the values before it stay. */
TEST(sem_sysctl_semmni_range)
{
	int old[4], v[4];
	CHECK_EQ(read_sem_ctls(old), 4);
	char buf[128];
	snprintf(buf, sizeof(buf), "%d %d %d %d", old[0] - 1, old[1], old[2],
		 32769);
	errno = 0;
	int r = t_write_str("/proc/sys/kernel/sem", buf);
	int e = errno;
	CHECK_EQ(read_sem_ctls(v), 4);
	write_sem_ctls(old);
	CHECK_EQ(v[0], old[0] - 1);
	CHECK_EQ(v[3], old[3]);
	CHECK_MSG(r == -1 && e == ERANGE, "semmni 32769: %d %s", r,
		  t_errname(e));
}
