//! process_vm_readv(2), process_vm_writev(2) (mm/process_vm_access.c):
//! copies between the caller's memory and another process's, in Linux's
//! order of checks: flags (EINVAL), the local vector (EINVAL, EFAULT; an
//! empty one returns 0 at once), the remote vector, the target (ESRCH) and
//! the permission to attach to it with the real ids (EPERM). Remote pages
//! are accessed with the VMA's own protection (no FOLL_FORCE): a read needs
//! PROT_READ, a write PROT_WRITE, so write seals and revoked mappings hold.
//! The result is the number of bytes copied, or EFAULT if the first access
//! failed.

use alloc::vec::Vec;

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs::rw_iovecs as read_iovecs},
    task::access::{AccessCreds, may_attach},
    usercopy,
};

/// UIO_MAXIOV.
const UIO_MAXIOV: usize = 1024;
/// Bytes moved per hold of the remote address-space lock.
const CHUNK: usize = 4096;

/// process_vm_readv(2).
pub fn sys_process_vm_readv(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    lvec: usize,
    liovcnt: usize,
    rvec: usize,
    riovcnt: usize,
    flags: usize,
) -> SysResult {
    process_vm_rw(sc, pid, lvec, liovcnt, rvec, riovcnt, flags, false)
}

/// process_vm_writev(2).
pub fn sys_process_vm_writev(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    lvec: usize,
    liovcnt: usize,
    rvec: usize,
    riovcnt: usize,
    flags: usize,
) -> SysResult {
    process_vm_rw(sc, pid, lvec, liovcnt, rvec, riovcnt, flags, true)
}

fn iovecs(vec: usize, count: usize) -> KResult<Vec<(usize, usize)>> {
    if count > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    read_iovecs(vec, count as i32)
}

#[allow(clippy::too_many_arguments)]
fn process_vm_rw(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    lvec: usize,
    liovcnt: usize,
    rvec: usize,
    riovcnt: usize,
    flags: usize,
    write: bool,
) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let local = iovecs(lvec, liovcnt)?;
    if local.iter().all(|&(_, len)| len == 0) {
        return Ok(0);
    }
    let remote = iovecs(rvec, riovcnt)?;
    if remote.iter().all(|&(_, len)| len == 0) {
        return Ok(0);
    }
    let target = sc
        .thread_by_tid(pid)
        .map(|t| t.process.clone())
        .ok_or(Errno::ESRCH)?;
    if !may_attach(&sc.thread.process, &target, AccessCreds::Real) {
        return Err(Errno::EPERM);
    }
    let mm = target.mm().ok_or(Errno::ESRCH)?;
    let mut local = local.into_iter().filter(|&(_, len)| len > 0);
    let mut cur = local.next();
    let mut done = 0usize;
    let mut buf = [0u8; CHUNK];
    'remote: for (base, len) in remote {
        let mut off = 0;
        while off < len {
            let Some((lbase, llen)) = cur else {
                break 'remote;
            };
            let n = (len - off).min(llen).min(CHUNK);
            let Some(raddr) = base.checked_add(off) else {
                break 'remote;
            };
            let chunk = &mut buf[..n];
            // The remote lock is never held across a copy to or from the
            // caller's memory (the caller may be the target).
            let moved = if write {
                if usercopy::copy_from_user(chunk, lbase).is_err() {
                    break 'remote;
                }
                mm.aspace.lock().write_remote(raddr, chunk, false)
            } else {
                let got = mm.aspace.lock().read_remote(raddr, chunk, false);
                if usercopy::copy_to_user(lbase, &chunk[..got]).is_err() {
                    break 'remote;
                }
                got
            };
            done += moved;
            off += moved;
            cur = if moved == llen {
                local.next()
            } else {
                Some((lbase + moved, llen - moved))
            };
            if moved < n {
                break 'remote;
            }
        }
    }
    if done == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(done)
}
