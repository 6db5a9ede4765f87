/*
 * membarrier(2): the command query, the global barrier, and the
 * registration rules of the expedited commands.
 */
#include "test.h"

#include <linux/membarrier.h>

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static long membarrier(int cmd, unsigned flags, int cpu)
{
	return syscall(SYS_membarrier, cmd, flags, cpu);
}

TEST(query)
{
	long mask = membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
	CHECK(mask > 0);
	CHECK(mask & MEMBARRIER_CMD_GLOBAL);
	CHECK(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
	CHECK(mask & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
	CHECK_EQ(mask & MEMBARRIER_CMD_QUERY, 0);
}

TEST(global)
{
	CHECK_RET(membarrier(MEMBARRIER_CMD_GLOBAL, 0, 0), 0);
}

TEST(private_expedited_needs_registration)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_ERR(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0), EPERM);
		CHECK_RET(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0), 0);
		CHECK_RET(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0), 0);
		long regs = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);
		CHECK(regs & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(global_expedited)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0), 0);
		CHECK_RET(membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(errors)
{
	CHECK_ERR(membarrier(MEMBARRIER_CMD_QUERY, 1, 0), EINVAL);
	CHECK_ERR(membarrier(1 << 20, 0, 0), EINVAL);
	CHECK_ERR(membarrier(MEMBARRIER_CMD_GLOBAL, 1, 0), EINVAL);
}
