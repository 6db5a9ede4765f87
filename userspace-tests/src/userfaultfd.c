/*
 * userfaultfd(2), MISSING mode of private anonymous memory, from the man
 * pages userfaultfd(2) and ioctl_userfaultfd(2): the API handshake, a fault
 * reported through read(2) and resolved by UFFDIO_COPY or UFFDIO_ZEROPAGE
 * from another thread, EEXIST for a present page, the argument errors, and
 * MREMAP_DONTUNMAP leaving a registered, empty range behind.
 */
#include "test.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define PAGE 4096UL

static int uffd_open(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	CHECK_MSG(fd >= 0, "userfaultfd: %s", t_errname(errno));
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	CHECK_RET(ioctl(fd, UFFDIO_API, &api), 0);
	CHECK_EQ(api.api, UFFD_API);
	CHECK(api.ioctls & (1ULL << _UFFDIO_REGISTER));
	return fd;
}

static void uffd_register(int fd, void *addr, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	CHECK_RET(ioctl(fd, UFFDIO_REGISTER, &reg), 0);
	CHECK(reg.ioctls & (1ULL << _UFFDIO_COPY));
}

static char *anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

struct handler {
	int fd;
	int zero; /* answer with UFFDIO_ZEROPAGE */
	char fill;
	unsigned long address; /* the reported fault */
	unsigned long long flags;
	int ok;
};

static void *handle_one(void *arg)
{
	struct handler *h = arg;
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1)
		return NULL;
	struct uffd_msg msg;
	if (read(h->fd, &msg, sizeof(msg)) != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT)
		return NULL;
	h->address = msg.arg.pagefault.address;
	h->flags = msg.arg.pagefault.flags;
	unsigned long page = h->address & ~(PAGE - 1);
	if (h->zero) {
		struct uffdio_zeropage z = { .range = { page, PAGE } };
		if (ioctl(h->fd, UFFDIO_ZEROPAGE, &z) != 0 || z.zeropage != (long)PAGE)
			return NULL;
	} else {
		static char src[PAGE] __attribute__((aligned(4096)));
		memset(src, h->fill, PAGE);
		struct uffdio_copy c = { .dst = page, .src = (unsigned long)src, .len = PAGE };
		if (ioctl(h->fd, UFFDIO_COPY, &c) != 0 || c.copy != (long)PAGE)
			return NULL;
	}
	h->ok = 1;
	return NULL;
}

TEST(argument_checks)
{
	CHECK_ERR(syscall(SYS_userfaultfd, 0x100), EINVAL);
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	CHECK(fd >= 0);
	/* Nothing before the API handshake; a wrong API is refused. */
	char *p = anon(PAGE);
	struct uffdio_register reg = { .range = { (unsigned long)p, PAGE },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	CHECK_ERR(ioctl(fd, UFFDIO_REGISTER, &reg), EINVAL);
	struct uffdio_api api = { .api = 0x55 };
	CHECK_ERR(ioctl(fd, UFFDIO_API, &api), EINVAL);
	api.api = UFFD_API;
	api.features = 0;
	CHECK_RET(ioctl(fd, UFFDIO_API, &api), 0);
	/* Unaligned and unmapped ranges. */
	reg.range.start = (unsigned long)p + 1;
	CHECK_ERR(ioctl(fd, UFFDIO_REGISTER, &reg), EINVAL);
	reg.range.start = (unsigned long)p;
	reg.mode = 0;
	CHECK_ERR(ioctl(fd, UFFDIO_REGISTER, &reg), EINVAL);
	CHECK_RET(munmap(p, PAGE), 0);
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	CHECK_ERR(ioctl(fd, UFFDIO_REGISTER, &reg), EINVAL);
	/* Nothing to read yet; short buffers are EINVAL. */
	int nb = (int)syscall(SYS_userfaultfd, O_NONBLOCK | UFFD_USER_MODE_ONLY);
	CHECK(nb >= 0);
	api.api = UFFD_API;
	api.features = 0;
	CHECK_RET(ioctl(nb, UFFDIO_API, &api), 0);
	struct uffd_msg msg;
	CHECK_ERR(read(nb, &msg, sizeof(msg)), EAGAIN);
	CHECK_ERR(read(nb, &msg, 8), EINVAL);
	close(nb);
	close(fd);
}

static void resolve(int zero)
{
	int fd = uffd_open();
	char *p = anon(2 * PAGE);
	uffd_register(fd, p, 2 * PAGE);
	struct handler h = { .fd = fd, .zero = zero, .fill = 'u' };
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, handle_one, &h), 0);
	/* A write fault on the second page is reported, then filled. */
	p[PAGE + 10] = 'w';
	CHECK_RET(pthread_join(t, NULL), 0);
	CHECK(h.ok);
	CHECK_EQ(h.address, (unsigned long)(p + PAGE));
	CHECK(h.flags & UFFD_PAGEFAULT_FLAG_WRITE);
	CHECK_EQ(p[PAGE + 10], 'w');
	CHECK_EQ(p[PAGE + 11], zero ? 0 : 'u');
	/* A present page cannot be filled again. */
	static char src[PAGE] __attribute__((aligned(4096)));
	struct uffdio_copy c = { .dst = (unsigned long)(p + PAGE),
				 .src = (unsigned long)src, .len = PAGE };
	CHECK_ERR(ioctl(fd, UFFDIO_COPY, &c), EEXIST);
	CHECK_EQ(c.copy, -EEXIST);
	/* Unregistered, the first page faults in as zeros again. */
	struct uffdio_range r = { (unsigned long)p, 2 * PAGE };
	CHECK_RET(ioctl(fd, UFFDIO_UNREGISTER, &r), 0);
	CHECK_EQ(p[0], 0);
	CHECK_RET(munmap(p, 2 * PAGE), 0);
	close(fd);
}

TEST(fault_resolved_by_copy)
{
	resolve(0);
}

TEST(fault_resolved_by_zeropage)
{
	resolve(1);
}

TEST(shared_memory_is_not_registered)
{
	int fd = uffd_open();
	char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	/* Linux registers shmem too (MISSING); Starling refuses it. */
	struct uffdio_register reg = { .range = { (unsigned long)s, PAGE },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	long r = ioctl(fd, UFFDIO_REGISTER, &reg);
	CHECK(r == 0 || errno == EINVAL);
	munmap(s, PAGE);
	close(fd);
}

TEST(dontunmap_leaves_the_registration)
{
	int fd = uffd_open();
	char *old = anon(PAGE);
	memcpy(old, "ABCD", 5);
	uffd_register(fd, old, PAGE);
	char *moved = mremap(old, PAGE, PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL);
	CHECK(moved != MAP_FAILED);
	CHECK_STREQ(moved, "ABCD");
	struct handler h = { .fd = fd, .fill = 'E' };
	pthread_t t;
	CHECK_RET(pthread_create(&t, NULL, handle_one, &h), 0);
	/* The emptied old page is still registered: its fault is reported. */
	CHECK_EQ(*(volatile char *)old, 'E');
	CHECK_RET(pthread_join(t, NULL), 0);
	CHECK(h.ok);
	CHECK_EQ(h.address, (unsigned long)old);
	CHECK(!(h.flags & UFFD_PAGEFAULT_FLAG_WRITE));
	munmap(moved, PAGE);
	munmap(old, PAGE);
	close(fd);
}
