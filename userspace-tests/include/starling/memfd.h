/*
 * Starling's extension to file sealing (docs/memfd.md).
 *
 * fcntl(fd, F_ADD_SEALS_REVOKE, seals) takes the same argument and makes the
 * same checks as F_ADD_SEALS, but when the seals include F_SEAL_WRITE (or
 * F_SEAL_FUTURE_WRITE) and shared mappings that may write exist, it does not
 * fail with EBUSY: every such mapping, in every process, loses write access
 * (and may not get it back through mprotect) before the seal is published.
 * It returns the number of mappings whose write access it removed. Linux
 * does not know the command and answers EINVAL, so a program can probe:
 *
 *	int n = fcntl(fd, F_ADD_SEALS_REVOKE, F_SEAL_WRITE);
 *	if (n < 0 && errno == EINVAL)
 *		n = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);	// not Starling
 */
#ifndef STARLING_MEMFD_H
#define STARLING_MEMFD_H

/* F_LINUX_SPECIFIC_BASE + 512. */
#define F_ADD_SEALS_REVOKE 1536

#endif
