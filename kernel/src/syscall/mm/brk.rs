//! brk(2).

use starling_mm::aspace::{VmaFlags, page_ceil};

use crate::syscall::{SysResult, SyscallContext};

/// brk(2): the raw syscall returns the new break, or the old one on failure.
///
/// After mlockall(MCL_FUTURE) the new heap pages are locked (and
/// populated) as any new mapping; growing past RLIMIT_MEMLOCK then fails.
#[inline(never)]
pub fn sys_brk(sc: &mut SyscallContext<'_>, addr: usize) -> SysResult {
    let Some(mm) = sc.thread.process.mm() else {
        return Ok(0);
    };
    let mut aspace = mm.aspace.lock();
    if addr == 0 {
        return Ok(aspace.heap().1);
    }
    let lock = aspace.default_lock();
    if !lock.contains(VmaFlags::LOCKED) {
        return Ok(aspace.brk(addr));
    }
    let old = aspace.heap().1;
    let (Some(old_top), Some(new_top)) = (page_ceil(old), page_ceil(addr)) else {
        return Ok(old);
    };
    if new_top > old_top && !super::mlock::future_ok(sc, aspace.locked_len(), new_top - old_top) {
        return Ok(old);
    }
    let new = aspace.brk(addr);
    if new == addr && new_top > old_top {
        aspace.set_lock(old_top, new_top, lock)?;
        drop(aspace);
        if !lock.contains(VmaFlags::LOCKONFAULT) {
            super::mlock::populate(&mm, old_top, new_top, true)?;
        }
    }
    Ok(new)
}
