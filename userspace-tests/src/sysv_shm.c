/*
 * System V shared memory: shmget, shmat, shmdt, shmctl (shmget(2),
 * shmat(2), shmctl(2), shmop(2)), with Linux's errnos and its accounting
 * of attaches (shm_nattch counts attached VMAs: fork and splits add one,
 * munmap, shmdt and exit take one away), deferred destruction after
 * IPC_RMID, /proc/sysvipc/shm and the kernel.shm* sysctls, and SHM_HUGETLB
 * segments from the huge page pool (Documentation/admin-guide/mm/
 * hugetlbpage.rst; root, the pool is put back as it was).
 */
#include "proc_text.h"

#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <grp.h>
#include <sys/shm.h>

#define PAGE 4096UL

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#ifndef SHM_HUGE_SHIFT
#define SHM_HUGE_SHIFT 26
#endif
#ifndef SHM_NORESERVE
#define SHM_NORESERVE 010000
#endif
#define SHM_HUGE_2MB (21 << SHM_HUGE_SHIFT)
#define HP (2UL << 20)
#define SYSFS_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/"

/* A key of this test run: distinct per process and per use. */
static key_t test_key(int n)
{
	return (key_t)(0x53680000 ^ (getpid() << 4) ^ n);
}

static struct shmid_ds stat_of(int id)
{
	struct shmid_ds ds;
	memset(&ds, 0xa5, sizeof(ds));
	CHECK_RET(shmctl(id, IPC_STAT, &ds), 0);
	return ds;
}

TEST(private_segment_stat)
{
	time_t before = time(NULL);
	int id = CHECK_OK(shmget(IPC_PRIVATE, 5000, 0640));
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_segsz, 5000);
	CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.shm_perm.mode, 0640);
	CHECK_EQ(ds.shm_perm.uid, geteuid());
	CHECK_EQ(ds.shm_perm.cuid, geteuid());
	CHECK_EQ(ds.shm_perm.gid, getegid());
	CHECK_EQ(ds.shm_perm.cgid, getegid());
	CHECK_EQ(ds.shm_cpid, getpid());
	CHECK_EQ(ds.shm_lpid, 0);
	CHECK_EQ(ds.shm_nattch, 0);
	CHECK_EQ(ds.shm_atime, 0);
	CHECK_EQ(ds.shm_dtime, 0);
	CHECK(ds.shm_ctime >= before && ds.shm_ctime <= time(NULL));
	/* Two private segments are distinct. */
	int id2 = CHECK_OK(shmget(IPC_PRIVATE, 5000, 0640));
	CHECK(id2 != id);
	CHECK_RET(shmctl(id2, IPC_RMID, NULL), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(get_keys_and_sizes)
{
	key_t key = test_key(1);
	CHECK_ERR(shmget(key, PAGE, 0600), ENOENT);
	CHECK_ERR(shmget(IPC_PRIVATE, 0, 0600), EINVAL);
	CHECK_ERR(shmget(key, 0, IPC_CREAT | 0600), EINVAL);
	unsigned long max = t_read_ulong("/proc/sys/kernel/shmmax");
	if (max < ~0UL)
		CHECK_ERR(shmget(IPC_PRIVATE, max + 1, 0600), EINVAL);
	int id = CHECK_OK(shmget(key, 3 * PAGE, IPC_CREAT | 0600));
	CHECK_RET(shmget(key, 3 * PAGE, IPC_CREAT | 0600), id);
	CHECK_RET(shmget(key, PAGE, 0), id);
	CHECK_RET(shmget(key, 0, 0), id);
	/* An existing segment smaller than asked for: EINVAL (EEXIST is
	 * checked first, then the size, then the permissions). */
	CHECK_ERR(shmget(key, 3 * PAGE + 1, 0600), EINVAL);
	CHECK_ERR(shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK_ERR(shmget(key, 4 * PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK_EQ(stat_of(id).shm_perm.__key, key);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	CHECK_ERR(shmget(key, PAGE, 0600), ENOENT);
}

TEST(attach_detach_counts)
{
	time_t before = time(NULL);
	int id = CHECK_OK(shmget(IPC_PRIVATE, 2 * PAGE, 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK_EQ((unsigned long)p % PAGE, 0);
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[2 * PAGE - 1], 0);
	strcpy(p, "hello");
	char *q = shmat(id, NULL, SHM_RDONLY);
	CHECK(q != (void *)-1 && q != p);
	CHECK_STREQ(q, "hello");
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_nattch, 2);
	CHECK_EQ(ds.shm_lpid, getpid());
	CHECK(ds.shm_atime >= before);
	CHECK_EQ(ds.shm_dtime, 0);
	CHECK_RET(shmdt(q), 0);
	ds = stat_of(id);
	CHECK_EQ(ds.shm_nattch, 1);
	CHECK(ds.shm_dtime >= before);
	/* Nothing attached there any more; not page aligned. */
	CHECK_ERR(shmdt(q), EINVAL);
	CHECK_ERR(shmdt(p + 1), EINVAL);
	/* An ordinary shared mapping is not an attachment. */
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_ERR(shmdt(m), EINVAL);
	CHECK_RET(munmap(m, PAGE), 0);
	CHECK_RET(shmdt(p), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(attach_errors)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, PAGE, 0600));
	CHECK_ERR((long)shmat(-1, NULL, 0), EINVAL);
	/* The same index with another sequence number. */
	CHECK_ERR((long)shmat(id + 32768, NULL, 0), EINVAL);
	CHECK_ERR((long)shmat(id, NULL, SHM_REMAP), EINVAL);
	/* Reserve an address range, then attach at fixed addresses in it. */
	char *r = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	CHECK_ERR((long)shmat(id, r + 1, 0), EINVAL);
	/* Occupied without SHM_REMAP. */
	CHECK_ERR((long)shmat(id, r, 0), EINVAL);
	char *p = shmat(id, r, SHM_REMAP);
	CHECK(p == r);
	/* SHM_RND rounds down to SHMLBA. */
	CHECK_RET(munmap(r + 2 * PAGE, PAGE), 0);
	char *q = shmat(id, r + 2 * PAGE + 10, SHM_RND);
	CHECK(q == r + 2 * PAGE);
	CHECK_EQ(stat_of(id).shm_nattch, 2);
	p[5] = 7;
	CHECK_EQ(q[5], 7);
	CHECK_RET(shmdt(p), 0);
	CHECK_RET(shmdt(q), 0);
	CHECK_RET(munmap(r, 4 * PAGE), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	CHECK_ERR((long)shmat(id, NULL, 0), EINVAL);
}

TEST(readonly_attach)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, PAGE, 0600));
	char *p = shmat(id, NULL, SHM_RDONLY);
	CHECK(p != (void *)-1);
	/* The attach may never become writable. */
	CHECK_ERR(mprotect(p, PAGE, PROT_READ | PROT_WRITE), EACCES);
	CHECK_RET(mprotect(p, PAGE, PROT_NONE), 0);
	CHECK_RET(mprotect(p, PAGE, PROT_READ), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		p[0] = 1;
		_exit(0);
	}
	t_wait_signal(pid, SIGSEGV);
	CHECK_RET(shmdt(p), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(rmid_deferred_until_last_detach)
{
	key_t key = test_key(2);
	int id = CHECK_OK(shmget(key, PAGE, IPC_CREAT | 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_perm.mode, SHM_DEST | 0600);
	CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.shm_nattch, 1);
	/* The key no longer finds it; a new segment may take the key. */
	CHECK_ERR(shmget(key, PAGE, 0600), ENOENT);
	/* Linux still lets it be attached by id. */
	char *q = shmat(id, NULL, 0);
	CHECK(q != (void *)-1);
	CHECK_EQ(stat_of(id).shm_nattch, 2);
	p[0] = 42;
	CHECK_EQ(q[0], 42);
	CHECK_RET(shmdt(p), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 1);
	CHECK_RET(shmdt(q), 0);
	/* The last detach destroyed it. */
	struct shmid_ds gone;
	CHECK_ERR(shmctl(id, IPC_STAT, &gone), EINVAL);
	CHECK_ERR(shmctl(id, IPC_RMID, NULL), EINVAL);
}

TEST(fork_and_exit_count_attaches)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, PAGE, 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	pid_t pid = t_fork();
	if (pid == 0) {
		struct shmid_ds ds;
		CHECK_RET(shmctl(id, IPC_STAT, &ds), 0);
		CHECK_EQ(ds.shm_nattch, 2);
		/* fork's copy is an attach made by the parent. */
		CHECK_EQ(ds.shm_lpid, getppid());
		p[1] = 9;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(p[1], 9);
	struct shmid_ds ds = stat_of(id);
	CHECK_EQ(ds.shm_nattch, 1);
	/* The child's exit detached it. */
	CHECK_EQ(ds.shm_lpid, pid);
	/* exec detaches too. */
	pid = t_fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(1);
	}
	t_wait_exit(pid, 0);
	CHECK_EQ(stat_of(id).shm_nattch, 1);
	CHECK_RET(shmdt(p), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(split_attach_counts_and_shmdt)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, 4 * PAGE, 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	/* mprotect splits: one more VMA, one more attach; the parts never
	 * merge back. */
	CHECK_RET(mprotect(p + PAGE, PAGE, PROT_READ), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 3);
	CHECK_RET(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 3);
	/* munmap of a part takes its VMA away. */
	CHECK_RET(munmap(p + PAGE, PAGE), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 2);
	/* shmdt at the start detaches every fragment of that attach. */
	CHECK_RET(shmdt(p), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 0);
	/* A fragment whose start is not the attach address is found only
	 * through the attach address. */
	p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK_RET(munmap(p, PAGE), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 1);
	CHECK_ERR(shmdt(p + PAGE), EINVAL);
	CHECK_RET(shmdt(p), 0);
	CHECK_EQ(stat_of(id).shm_nattch, 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(ipc_set_and_lock)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, PAGE, 0600));
	struct shmid_ds ds = stat_of(id);
	ds.shm_perm.mode = 07644;
	ds.shm_perm.uid = 1234;
	ds.shm_perm.gid = 5678;
	CHECK_RET(shmctl(id, IPC_SET, &ds), 0);
	ds = stat_of(id);
	/* Only the permission bits change. */
	CHECK_EQ(ds.shm_perm.mode, 0644);
	CHECK_EQ(ds.shm_perm.uid, 1234);
	CHECK_EQ(ds.shm_perm.gid, 5678);
	CHECK_EQ(ds.shm_perm.cuid, geteuid());
	ds.shm_perm.uid = (uid_t)-1;
	CHECK_ERR(shmctl(id, IPC_SET, &ds), EINVAL);
	CHECK_ERR(shmctl(id, IPC_SET, (struct shmid_ds *)8), EFAULT);
	CHECK_ERR(shmctl(id, IPC_STAT, (struct shmid_ds *)8), EFAULT);
	CHECK_RET(shmctl(id, SHM_LOCK, NULL), 0);
	CHECK_EQ(stat_of(id).shm_perm.mode, SHM_LOCKED | 0644);
	CHECK_RET(shmctl(id, SHM_UNLOCK, NULL), 0);
	CHECK_EQ(stat_of(id).shm_perm.mode, 0644);
	CHECK_ERR(shmctl(id, 99, &ds), EINVAL);
	CHECK_ERR(shmctl(-1, IPC_STAT, &ds), EINVAL);
	CHECK_ERR(shmctl(id, -1, &ds), EINVAL);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(info_and_stat_by_index)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, 3 * PAGE, 0600));
	struct shminfo info;
	int max = CHECK_OK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info));
	CHECK(max >= id % 32768);
	CHECK_EQ(info.shmmin, 1);
	CHECK_EQ(info.shmmax, t_read_ulong("/proc/sys/kernel/shmmax"));
	CHECK_EQ(info.shmall, t_read_ulong("/proc/sys/kernel/shmall"));
	CHECK_EQ(info.shmmni, t_read_ulong("/proc/sys/kernel/shmmni"));
	CHECK_EQ(info.shmseg, info.shmmni);
	struct shm_info si;
	CHECK_RET(shmctl(0, SHM_INFO, (struct shmid_ds *)&si), max);
	CHECK(si.used_ids >= 1);
	CHECK(si.shm_tot >= 3);
	struct shmid_ds ds;
	CHECK_RET(shmctl(id % 32768, SHM_STAT, &ds), id);
	CHECK_EQ(ds.shm_segsz, 3 * PAGE);
	CHECK_RET(shmctl(id % 32768, SHM_STAT_ANY, &ds), id);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	CHECK_ERR(shmctl(id % 32768, SHM_STAT, &ds), EINVAL);
}

/* Becomes uid and gid 65534 with no supplementary groups (and so no
 * capabilities). */
static void drop_to_nobody(void)
{
	CHECK_RET(setgroups(0, NULL), 0);
	CHECK_RET(setresgid(65534, 65534, 65534), 0);
	CHECK_RET(setresuid(65534, 65534, 65534), 0);
}

TEST(permissions_of_other_users)
{
	if (geteuid() != 0)
		t_skip("needs root to switch users");
	key_t key = test_key(3);
	int id = CHECK_OK(shmget(key, PAGE, IPC_CREAT | 0604));
	int id2 = CHECK_OK(shmget(IPC_PRIVATE, PAGE, 0666));
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		CHECK_RET(shmget(key, 0, 0), id);
		CHECK_RET(shmget(key, 0, 0004), id);
		CHECK_ERR(shmget(key, 0, 0600), EACCES);
		CHECK_ERR(shmget(key, 0, 0002), EACCES);
		CHECK_ERR((long)shmat(id, NULL, 0), EACCES);
		char *p = shmat(id, NULL, SHM_RDONLY);
		CHECK(p != (void *)-1);
		CHECK_RET(shmdt(p), 0);
		/* SHM_EXEC needs execute permission. */
		CHECK_ERR((long)shmat(id2, NULL, SHM_EXEC), EACCES);
		struct shmid_ds ds;
		CHECK_RET(shmctl(id, IPC_STAT, &ds), 0);
		CHECK_ERR(shmctl(id, IPC_SET, &ds), EPERM);
		CHECK_ERR(shmctl(id, IPC_RMID, NULL), EPERM);
		CHECK_ERR(shmctl(id, SHM_LOCK, NULL), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	struct shmid_ds ds = stat_of(id);
	ds.shm_perm.mode = 0600;
	CHECK_RET(shmctl(id, IPC_SET, &ds), 0);
	pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		struct shmid_ds d;
		CHECK_ERR(shmctl(id, IPC_STAT, &d), EACCES);
		CHECK_ERR(shmctl(id % 32768, SHM_STAT, &d), EACCES);
		CHECK_RET(shmctl(id % 32768, SHM_STAT_ANY, &d), id);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	CHECK_RET(shmctl(id2, IPC_RMID, NULL), 0);
}

/* A /proc/meminfo field's number. */
static long meminfo(const char *key)
{
	static char buf[8192];
	read_file("/proc/meminfo", buf, sizeof(buf));
	return field_long(buf, key);
}

/* Writes the number `n` to `path`; checks it was taken. */
static void write_num(const char *path, unsigned long n)
{
	char text[32];
	snprintf(text, sizeof(text), "%lu\n", n);
	CHECK_RET(t_write_str(path, text), (long)strlen(text));
}

/* Sizes the huge page pool to `n` pages (and no overcommit). */
static void pool(unsigned long n)
{
	write_num("/proc/sys/vm/nr_overcommit_hugepages", 0);
	write_num("/proc/sys/vm/nr_hugepages", n);
	if (t_read_ulong("/proc/sys/vm/nr_hugepages") != n)
		t_skip("the huge page pool cannot reach %lu pages", n);
}

/* The key of the hugetlb segment a `with_pool` body makes. */
static key_t huge_key;

/*
 * Runs `body` in a child with the pool as it finds it, then removes the
 * segment with `huge_key` and puts vm.nr_hugepages and
 * vm.nr_overcommit_hugepages back as they were, whatever the child did.
 */
static void with_pool(void (*body)(void))
{
	if (access(SYSFS_2M, F_OK) != 0)
		t_skip("no 2 MiB huge pages");
	if (geteuid() != 0)
		t_skip("sizing the huge page pool needs root");
	unsigned long nr = t_read_ulong("/proc/sys/vm/nr_hugepages");
	unsigned long over = t_read_ulong("/proc/sys/vm/nr_overcommit_hugepages");
	huge_key = test_key(21);
	pid_t pid = t_fork();
	if (pid == 0) {
		body();
		_exit(0);
	}
	int st = t_wait(pid);
	int left = shmget(huge_key, 0, 0);
	if (left >= 0)
		shmctl(left, IPC_RMID, NULL);
	write_num("/proc/sys/vm/nr_hugepages", nr);
	write_num("/proc/sys/vm/nr_overcommit_hugepages", over);
	if (WIFEXITED(st) && WEXITSTATUS(st) == T_CHILD_SKIPPED)
		t_skip("see above");
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's wait status is 0x%x", st);
}

/* The length of the /proc/self/maps line that starts at `p`, or -1. */
static long maps_len(void *p)
{
	char line[512];
	long len = -1;
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo == (unsigned long)p)
			len = (long)(hi - lo);
	}
	fclose(f);
	return len;
}

/* The rss column of /proc/sysvipc/shm for segment `id`, or -1. */
static long sysvipc_rss(int id)
{
	char line[512];
	long rss = -1;
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		int key, shmid;
		unsigned long v[13];
		if (sscanf(line, "%d %d %lo %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", &key,
			   &shmid, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
			   &v[9], &v[10], &v[11], &v[12]) == 15 &&
		    shmid == id)
			rss = (long)v[12];
	}
	fclose(f);
	return rss;
}

TEST(hugetlb_sizes)
{
	/* No huge page size of 2^13 or 2^24 bytes: no hstate, EINVAL. */
	CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | (13 << SHM_HUGE_SHIFT) | 0600),
		  EINVAL);
	CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | (24 << SHM_HUGE_SHIFT) | 0600),
		  EINVAL);
	/* The size checks come first. */
	CHECK_ERR(shmget(IPC_PRIVATE, 0, SHM_HUGETLB | (13 << SHM_HUGE_SHIFT) | 0600), EINVAL);
}

static void empty_pool_body(void)
{
	pool(0);
	/* The reservation fails: ENOMEM, for the default size and 2 MiB. */
	CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | 0600), ENOMEM);
	CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_HUGE_2MB | 0600), ENOMEM);
	/* Nothing was made: a key is still free. */
	key_t key = huge_key;
	CHECK_ERR(shmget(key, PAGE, IPC_CREAT | SHM_HUGETLB | 0600), ENOMEM);
	CHECK_ERR(shmget(key, PAGE, 0600), ENOENT);
	/* Without CAP_IPC_LOCK or vm.hugetlb_shm_group (gid 0): EPERM, after
	 * the size's EINVAL and before the reservation. */
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | (24 << SHM_HUGE_SHIFT) | 0600),
			  EINVAL);
		CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | 0600), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* SHM_NORESERVE reserves nothing: made, and an attach's fault finds
	 * no page (SIGBUS). */
	int id = CHECK_OK(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | SHM_NORESERVE | 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK_EQ(meminfo("HugePages_Rsvd"), 0);
	pid = t_fork();
	if (pid == 0) {
		p[0] = 1;
		_exit(0);
	}
	t_wait_signal(pid, SIGBUS);
	CHECK_RET(shmdt(p), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(hugetlb_empty_pool)
{
	with_pool(empty_pool_body);
}

static void segment_body(void)
{
	pool(2);
	/* HP + 1 page: two huge pages reserved at once, shm_segsz as asked. */
	key_t key = huge_key;
	int id = CHECK_OK(shmget(key, HP + PAGE, IPC_CREAT | SHM_HUGETLB | SHM_HUGE_2MB | 0600));
	CHECK_EQ(meminfo("HugePages_Rsvd"), 2);
	CHECK_EQ(meminfo("HugePages_Free"), 2);
	CHECK_EQ(stat_of(id).shm_segsz, HP + PAGE);
	/* The pool has nothing left to promise. */
	CHECK_ERR(shmget(IPC_PRIVATE, PAGE, SHM_HUGETLB | 0600), ENOMEM);
	/* The key finds it without the flag; no size check beyond shm_segsz. */
	CHECK_RET(shmget(key, HP, 0600), id);
	CHECK_ERR(shmget(key, HP + 2 * PAGE, 0600), EINVAL);
	/* An attach maps whole huge pages at a huge-page-aligned address. */
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK_EQ((unsigned long)p % HP, 0);
	CHECK_EQ(maps_len(p), 2 * HP);
	CHECK_EQ(p[0], 0);
	p[0] = 'a';
	p[2 * HP - 1] = 'b';
	CHECK_EQ(meminfo("HugePages_Free"), 0);
	CHECK_EQ(meminfo("HugePages_Rsvd"), 0);
	/* rss: the two huge pages. Linux since 6.7 counts a hugetlb folio's
	 * base pages in nrpages and still multiplies by the pages per huge
	 * page (shm_add_rss_swap), showing 512 times as much. */
	long rss = sysvipc_rss(id);
	if (on_starling())
		CHECK_EQ(rss, (long)(2 * HP));
	else
		CHECK(rss == (long)(2 * HP) || rss == (long)(2 * HP * 512));
	/* Another attach shares the pages. */
	char *q = shmat(id, NULL, SHM_RDONLY);
	CHECK(q != (void *)-1 && q != p);
	CHECK_EQ((unsigned long)q % HP, 0);
	CHECK_EQ(q[0], 'a');
	CHECK_EQ(q[2 * HP - 1], 'b');
	/* Fixed addresses: huge-page aligned only; SHM_RND rounds to SHMLBA,
	 * which does not help. */
	char *area = mmap(NULL, 6 * HP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED);
	CHECK_OK(munmap(area, 6 * HP));
	char *base = (char *)(((unsigned long)area + HP - 1) & ~(HP - 1));
	CHECK(shmat(id, base + PAGE, 0) == (void *)-1 && errno == EINVAL);
	CHECK(shmat(id, base + PAGE + 1, SHM_RND) == (void *)-1 && errno == EINVAL);
	CHECK(shmat(id, base, 0) == base);
	CHECK_EQ(base[2 * HP - 1], 'b');
	CHECK_EQ(stat_of(id).shm_nattch, 3);
	/* Inside a huge page an attach neither splits nor changes protection. */
	CHECK_ERR(munmap(p + PAGE, PAGE), EINVAL);
	CHECK_ERR(mprotect(p + PAGE, PAGE, PROT_READ), EINVAL);
	CHECK_EQ(maps_len(p), 2 * HP);
	/* SHM_LOCK does nothing to a hugetlb segment: no SHM_LOCKED. */
	CHECK_RET(shmctl(id, SHM_LOCK, NULL), 0);
	CHECK_EQ(stat_of(id).shm_perm.mode & SHM_LOCKED, 0);
	/* shmdt removes the whole attach. */
	CHECK_RET(shmdt(base), 0);
	CHECK_EQ(maps_len(base), -1);
	CHECK_RET(shmdt(q), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	/* Removed while attached: the pages stay until the last detach. */
	CHECK_EQ(meminfo("HugePages_Free"), 0);
	CHECK_EQ(p[2 * HP - 1], 'b');
	CHECK_RET(shmdt(p), 0);
	CHECK_EQ(meminfo("HugePages_Free"), 2);
	CHECK_EQ(meminfo("HugePages_Rsvd"), 0);
	/* A segment that is never touched gives its reservation back. */
	id = CHECK_OK(shmget(IPC_PRIVATE, HP, SHM_HUGETLB | 0600));
	CHECK_EQ(meminfo("HugePages_Rsvd"), 1);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
	CHECK_EQ(meminfo("HugePages_Rsvd"), 0);
}

TEST(hugetlb_segment)
{
	with_pool(segment_body);
}

TEST(shm_lock_limits)
{
	if (geteuid() != 0)
		t_skip("needs root to switch users");
	pid_t pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		int id = CHECK_OK(shmget(IPC_PRIVATE, 2 * PAGE, 0600));
		/* No RLIMIT_MEMLOCK at all: EPERM before any accounting. */
		struct rlimit rl = { 0, 0 };
		CHECK_RET(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
		CHECK_ERR(shmctl(id, SHM_LOCK, NULL), EPERM);
		/* Unlocking needs no limit. */
		CHECK_RET(shmctl(id, SHM_UNLOCK, NULL), 0);
		CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		drop_to_nobody();
		int id = CHECK_OK(shmget(IPC_PRIVATE, 2 * PAGE, 0600));
		/* One page allowed, two needed: user_shm_lock refuses. */
		struct rlimit rl = { PAGE, PAGE };
		CHECK_RET(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
		CHECK_ERR(shmctl(id, SHM_LOCK, NULL), ENOMEM);
		struct shmid_ds ds;
		CHECK_RET(shmctl(id, IPC_STAT, &ds), 0);
		CHECK_EQ(ds.shm_perm.mode, 0600);
		CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(proc_sysvipc_and_maps)
{
	key_t key = test_key(4);
	int id = CHECK_OK(shmget(key, 3 * PAGE, IPC_CREAT | 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	char want[256], line[512];
	snprintf(want, sizeof(want), "%10d %10d  %4o %21lu %5d %5d  %5lu ", key, id, 0600,
		 3 * PAGE, getpid(), getpid(), 1UL);
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	CHECK(f != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK(strncmp(line, "       key      shmid perms                  size  cpid  lpid nattch",
		      68) == 0);
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0)
			found = 1;
	fclose(f);
	CHECK_MSG(found, "no line starting with \"%s\"", want);
	/* /proc/self/maps names the attach after its segment's file. */
	snprintf(want, sizeof(want), "/SYSV%08x (deleted)", (unsigned)key);
	f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	found = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start;
		if (sscanf(line, "%lx-", &start) == 1 && start == (unsigned long)p &&
		    strstr(line, want) && strstr(line, "rw-s"))
			found = 1;
	}
	fclose(f);
	CHECK_MSG(found, "no maps line for %p naming %s", (void *)p, want);
	CHECK_RET(shmdt(p), 0);
	CHECK_RET(shmctl(id, IPC_RMID, NULL), 0);
}

TEST(sysctl_limits)
{
	if (geteuid() != 0)
		t_skip("needs root to write /proc/sys/kernel");
	char old_max[64] = { 0 }, old_mni[64] = { 0 };
	snprintf(old_max, sizeof(old_max), "%lu", t_read_ulong("/proc/sys/kernel/shmmax"));
	snprintf(old_mni, sizeof(old_mni), "%lu", t_read_ulong("/proc/sys/kernel/shmmni"));
	CHECK_ERR(t_write_str("/proc/sys/kernel/shmmni", "-1"), EINVAL);
	CHECK_ERR(t_write_str("/proc/sys/kernel/shmmni", "32769"), EINVAL);
	CHECK_ERR(t_write_str("/proc/sys/kernel/shmmax", "-5"), EINVAL);
	CHECK_RET(t_write_str("/proc/sys/kernel/shmmax", "8192"), (long)strlen("8192"));
	CHECK_EQ(t_read_ulong("/proc/sys/kernel/shmmax"), 8192);
	int ok = shmget(IPC_PRIVATE, 8192, 0600);
	int e1 = shmget(IPC_PRIVATE, 8193, 0600) == -1 ? errno : 0;
	CHECK_RET(t_write_str("/proc/sys/kernel/shmmax", old_max), (long)strlen(old_max));
	CHECK(ok >= 0);
	CHECK_EQ(e1, EINVAL);
	/* shmmni at the number in use: no new segment. */
	struct shm_info si;
	CHECK_OK(shmctl(0, SHM_INFO, (struct shmid_ds *)&si));
	char used[32];
	snprintf(used, sizeof(used), "%d", si.used_ids);
	CHECK_RET(t_write_str("/proc/sys/kernel/shmmni", used), (long)strlen(used));
	int e2 = shmget(IPC_PRIVATE, PAGE, 0600) == -1 ? errno : 0;
	CHECK_RET(t_write_str("/proc/sys/kernel/shmmni", old_mni), (long)strlen(old_mni));
	CHECK_EQ(e2, ENOSPC);
	CHECK_RET(shmctl(ok, IPC_RMID, NULL), 0);
}
