//! mlock, mlock2, munlock, mlockall, munlockall, and the memory-lock rules
//! of mmap and brk.
//!
//! As Linux's mm/mlock.c: locking needs a nonzero RLIMIT_MEMLOCK or
//! CAP_IPC_LOCK (EPERM); without CAP_IPC_LOCK the locked total may not pass
//! the limit (ENOMEM for mlock and mlockall, EAGAIN for a locked mmap). The
//! locked total is the length of the locked VMAs
//! ([`AddrSpace::locked_len`]). Locking populates the pages unless they are
//! to be locked on fault; a page that cannot be faulted in makes mlock fail
//! with ENOMEM (EAGAIN when memory ran out), as __mlock_posix_error_return.
//!
//! [`AddrSpace::locked_len`]: starling_mm::aspace::AddrSpace::locked_len

use starling_fs::file::mapped::{BUSY_ATTEMPTS, back_off};
use starling_mm::{
    MmError,
    aspace::{AddrSpace, PAGE_SIZE, PopulateStop, Prot, VmaFlags},
};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{creds::CAP_IPC_LOCK, mm::Mm, rlimit::RLIMIT_MEMLOCK},
};

const MLOCK_ONFAULT: i32 = 1;
const MCL_CURRENT: i32 = 1;
const MCL_FUTURE: i32 = 2;
const MCL_ONFAULT: i32 = 4;

/// The caller's RLIMIT_MEMLOCK in pages, and whether it has CAP_IPC_LOCK.
fn lock_limit(sc: &SyscallContext<'_>) -> (u64, bool) {
    let limit = sc.thread.process.rlimits.lock()[RLIMIT_MEMLOCK as usize].cur;
    let capable = sc.thread.process.creds.lock().capable(CAP_IPC_LOCK);
    (limit / PAGE_SIZE as u64, capable)
}

/// can_do_mlock: a nonzero limit or CAP_IPC_LOCK.
fn can_do_mlock(sc: &SyscallContext<'_>) -> bool {
    let limit = sc.thread.process.rlimits.lock()[RLIMIT_MEMLOCK as usize].cur;
    limit != 0 || sc.thread.process.creds.lock().capable(CAP_IPC_LOCK)
}

/// The page range mlock and munlock work on: `start` rounded down and the
/// length rounded up to cover the same bytes, with Linux's unsigned
/// wrap-around (a length that wraps to zero locks nothing).
fn page_range(start: usize, len: usize) -> (usize, usize) {
    let len = len
        .wrapping_add(start % PAGE_SIZE)
        .wrapping_add(PAGE_SIZE - 1)
        & !(PAGE_SIZE - 1);
    (start & !(PAGE_SIZE - 1), len)
}

/// mlock(2).
#[inline(never)]
pub fn sys_mlock(sc: &mut SyscallContext<'_>, start: usize, len: usize) -> SysResult {
    do_mlock(sc, start, len, VmaFlags::LOCKED)
}

/// mlock2(2).
#[inline(never)]
pub fn sys_mlock2(sc: &mut SyscallContext<'_>, start: usize, len: usize, flags: i32) -> SysResult {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    let mut lock = VmaFlags::LOCKED;
    if flags & MLOCK_ONFAULT != 0 {
        lock |= VmaFlags::LOCKONFAULT;
    }
    do_mlock(sc, start, len, lock)
}

/// do_mlock.
fn do_mlock(sc: &SyscallContext<'_>, start: usize, len: usize, lock: VmaFlags) -> SysResult {
    if !can_do_mlock(sc) {
        return Err(Errno::EPERM);
    }
    let (start, len) = page_range(start, len);
    let (limit, capable) = lock_limit(sc);
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let end = {
        let mut aspace = mm.aspace.lock();
        let mut locked = ((len / PAGE_SIZE) + aspace.locked_len() / PAGE_SIZE) as u64;
        if locked > limit && !capable {
            // Pages of the range that are locked already are not counted
            // twice.
            let already = aspace.locked_in(start, start.saturating_add(len));
            locked -= (already / PAGE_SIZE) as u64;
        }
        if locked > limit && !capable {
            return Err(Errno::ENOMEM);
        }
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        aspace.set_lock(start, end, lock)?;
        end
    };
    populate(&mm, start, end, false)?;
    Ok(0)
}

/// munlock(2).
#[inline(never)]
pub fn sys_munlock(sc: &mut SyscallContext<'_>, start: usize, len: usize) -> SysResult {
    let (start, len) = page_range(start, len);
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    mm.aspace.lock().set_lock(start, end, VmaFlags::empty())?;
    Ok(0)
}

/// mlockall(2).
#[inline(never)]
pub fn sys_mlockall(sc: &mut SyscallContext<'_>, flags: i32) -> SysResult {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT
    {
        return Err(Errno::EINVAL);
    }
    if !can_do_mlock(sc) {
        return Err(Errno::EPERM);
    }
    let (limit, capable) = lock_limit(sc);
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let onfault = if flags & MCL_ONFAULT != 0 {
        VmaFlags::LOCKONFAULT
    } else {
        VmaFlags::empty()
    };
    let end = {
        let mut aspace = mm.aspace.lock();
        // The whole address space must fit under the limit (total_vm).
        if flags & MCL_CURRENT != 0 && (aspace.mapped_len() / PAGE_SIZE) as u64 > limit && !capable
        {
            return Err(Errno::ENOMEM);
        }
        if flags & MCL_FUTURE != 0 {
            aspace.set_default_lock(VmaFlags::LOCKED | onfault);
        } else {
            aspace.set_default_lock(VmaFlags::empty());
        }
        if flags & MCL_CURRENT != 0 {
            aspace.set_lock_all(VmaFlags::LOCKED | onfault);
        }
        aspace.layout().end
    };
    if flags & MCL_CURRENT != 0 {
        // mm_populate: errors are ignored.
        populate(&mm, 0, end, true)?;
    }
    Ok(0)
}

/// munlockall(2).
#[inline(never)]
pub fn sys_munlockall(sc: &mut SyscallContext<'_>) -> SysResult {
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let mut aspace = mm.aspace.lock();
    aspace.set_default_lock(VmaFlags::empty());
    aspace.set_lock_all(VmaFlags::empty());
    Ok(0)
}

/// The lock bits a new mapping of `len` bytes gets (MAP_LOCKED, or
/// mlockall(MCL_FUTURE)), checked as do_mmap does: MAP_LOCKED needs
/// can_do_mlock (EPERM), and a locked mapping must fit under
/// RLIMIT_MEMLOCK without CAP_IPC_LOCK (mlock_future_ok, EAGAIN).
pub(super) fn new_mapping_lock(
    sc: &SyscallContext<'_>,
    mm: &Mm,
    map_locked: bool,
    len: usize,
) -> KResult<VmaFlags> {
    if map_locked && !can_do_mlock(sc) {
        return Err(Errno::EPERM);
    }
    let (lock, locked) = {
        let aspace = mm.aspace.lock();
        (aspace.default_lock(), aspace.locked_len())
    };
    let lock = if map_locked {
        lock | VmaFlags::LOCKED
    } else {
        lock
    };
    if lock.contains(VmaFlags::LOCKED) && !future_ok(sc, locked, len) {
        return Err(Errno::EAGAIN);
    }
    Ok(lock)
}

/// mlock_future_ok: `len` more locked bytes fit under RLIMIT_MEMLOCK (or
/// the caller has CAP_IPC_LOCK).
pub(super) fn future_ok(sc: &SyscallContext<'_>, locked: usize, len: usize) -> bool {
    let (limit, capable) = lock_limit(sc);
    capable || (locked.saturating_add(len) / PAGE_SIZE) as u64 <= limit
}

/// Faults in `[start, end)` (__mm_populate). A mapped object that stays
/// busy is waited for with the address space unlocked. Errors are those
/// of mlock: a page that cannot be mapped is ENOMEM, no memory EAGAIN;
/// with `ignore_errors` only the busy case can fail.
pub(super) fn populate(mm: &Mm, start: usize, end: usize, ignore_errors: bool) -> KResult<()> {
    match populate_with(mm, start, |aspace, from| {
        aspace.populate(from, end, ignore_errors)
    }) {
        Ok(()) => Ok(()),
        Err(Some(MmError::NoMemory)) => Err(Errno::EAGAIN),
        Err(Some(_)) => Err(Errno::ENOMEM),
        Err(None) if ignore_errors => Ok(()),
        Err(None) => Err(Errno::EAGAIN),
    }
}

/// Runs `step` from `start` on until it finishes, waiting with the address
/// space unlocked whenever a mapped object is busy. `Err(None)` if the
/// object stayed busy.
pub(super) fn populate_with(
    mm: &Mm,
    start: usize,
    step: impl Fn(&mut AddrSpace, usize) -> Result<(), PopulateStop>,
) -> Result<(), Option<MmError>> {
    let mut from = start;
    for attempt in 0..BUSY_ATTEMPTS {
        let stop = step(&mut mm.aspace.lock(), from);
        match stop {
            Ok(()) => return Ok(()),
            Err(PopulateStop::Failed(e)) => return Err(Some(e)),
            Err(PopulateStop::Busy(at)) => {
                from = at;
                // resolve_fault waits for the object and asks it to make
                // room; the next round faults the page in.
                let _ = mm.resolve_fault(at, Prot::READ);
                back_off(attempt);
            }
        }
    }
    warn!("mm: populating: the mapped object stayed busy at {from:#x}");
    Err(None)
}
