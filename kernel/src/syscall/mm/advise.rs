//! madvise, mincore.
//!
//! The arguments are checked here in the order of Linux's mm/madvise.c
//! (do_madvise) and mm/mincore.c; the work is [`AddrSpace::advise`] and
//! [`AddrSpace::residency`].
//!
//! [`AddrSpace::advise`]: starling_mm::aspace::AddrSpace::advise
//! [`AddrSpace::residency`]: starling_mm::aspace::AddrSpace::residency

use alloc::vec;

use starling_mm::aspace::{Advice, PAGE_SIZE, page_ceil};

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    usercopy::copy_to_user,
};

const MADV_NORMAL: i32 = 0;
const MADV_RANDOM: i32 = 1;
const MADV_SEQUENTIAL: i32 = 2;
const MADV_WILLNEED: i32 = 3;
const MADV_DONTNEED: i32 = 4;
const MADV_FREE: i32 = 8;
const MADV_REMOVE: i32 = 9;
const MADV_DONTFORK: i32 = 10;
const MADV_DOFORK: i32 = 11;
const MADV_DONTDUMP: i32 = 16;
const MADV_DODUMP: i32 = 17;
const MADV_WIPEONFORK: i32 = 18;
const MADV_KEEPONFORK: i32 = 19;
const MADV_COLD: i32 = 20;
const MADV_PAGEOUT: i32 = 21;
const MADV_POPULATE_READ: i32 = 22;
const MADV_POPULATE_WRITE: i32 = 23;
const MADV_DONTNEED_LOCKED: i32 = 24;
const MADV_GUARD_INSTALL: i32 = 102;
const MADV_GUARD_REMOVE: i32 = 103;

/// madvise_behavior_valid, for the advice implemented here. KSM
/// (MADV_MERGEABLE), transparent huge pages (MADV_HUGEPAGE, COLLAPSE) and
/// memory-failure injection (MADV_HWPOISON) are EINVAL as on a Linux built
/// without them; the other advice Linux knows (COLD, PAGEOUT, GUARD_*) is
/// logged and EINVAL. MADV_POPULATE_READ/WRITE are handled apart (they do
/// not walk the VMAs as the rest does).
fn advice_of(advice: i32) -> Result<Advice, Errno> {
    Ok(match advice {
        MADV_NORMAL => Advice::Normal,
        MADV_RANDOM => Advice::Random,
        MADV_SEQUENTIAL => Advice::Sequential,
        MADV_WILLNEED => Advice::WillNeed,
        MADV_DONTNEED => Advice::DontNeed,
        MADV_DONTNEED_LOCKED => Advice::DontNeedLocked,
        MADV_FREE => Advice::Free,
        MADV_REMOVE => Advice::Remove,
        MADV_DONTFORK => Advice::DontFork,
        MADV_DOFORK => Advice::DoFork,
        MADV_WIPEONFORK => Advice::WipeOnFork,
        MADV_KEEPONFORK => Advice::KeepOnFork,
        MADV_DONTDUMP => Advice::DontDump,
        MADV_DODUMP => Advice::DoDump,
        MADV_COLD | MADV_PAGEOUT | MADV_GUARD_INSTALL | MADV_GUARD_REMOVE => {
            warn!("madvise: advice {advice} is not supported");
            return Err(Errno::EINVAL);
        }
        _ => return Err(Errno::EINVAL),
    })
}

/// madvise(2).
#[inline(never)]
pub fn sys_madvise(
    sc: &mut SyscallContext<'_>,
    start: usize,
    len: usize,
    advice: i32,
) -> SysResult {
    let populate = advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE;
    let kind = if populate {
        None
    } else {
        Some(advice_of(advice)?)
    };
    if !start.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    // A length that rounds up past the top of the address space is EINVAL,
    // as is a range that wraps.
    let len = page_ceil(len).ok_or(Errno::EINVAL)?;
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    if end == start {
        return Ok(0);
    }
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let Some(kind) = kind else {
        // madvise_populate: the pages before a failure stay populated.
        let write = advice == MADV_POPULATE_WRITE;
        return match super::mlock::populate_with(&mm, start, |aspace, from| {
            aspace.populate_advice(from, end, write)
        }) {
            Ok(()) => Ok(0),
            Err(Some(e)) => Err(e.into()),
            Err(None) => Err(Errno::EAGAIN),
        };
    };
    let advised = mm.aspace.lock().advise(start, end, kind);
    // MADV_REMOVE: the objects free their pages with the address space
    // unlocked (a page-cache object locks the address spaces mapping it).
    for punch in advised.punches {
        punch
            .object
            .punch_hole(punch.offset, punch.len)
            .map_err(|e| {
                if e == starling_mm::MmError::NotSupported {
                    warn!("madvise: MADV_REMOVE is not supported for this mapping's object");
                }
                Errno::from(e)
            })?;
    }
    advised.result?;
    Ok(0)
}

/// Most pages one round of mincore looks at with the address space locked
/// (Linux fills one page of bytes per round).
const MINCORE_CHUNK: usize = PAGE_SIZE;

/// mincore(2).
#[inline(never)]
pub fn sys_mincore(sc: &mut SyscallContext<'_>, start: usize, len: usize, vec: usize) -> SysResult {
    if !start.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let limit = mm.aspace.lock().layout().end;
    // access_ok on the range (ENOMEM) and on the vector (EFAULT).
    if start.checked_add(len).is_none_or(|end| end > limit) {
        return Err(Errno::ENOMEM);
    }
    let mut pages = len.div_ceil(PAGE_SIZE);
    if vec.checked_add(pages).is_none_or(|end| end > limit) {
        return Err(Errno::EFAULT);
    }
    let mut buf = vec![0u8; MINCORE_CHUNK.min(pages)];
    let (mut start, mut vec) = (start, vec);
    while pages > 0 {
        let want = pages.min(MINCORE_CHUNK);
        let n = mm.aspace.lock().residency(start, want, &mut buf[..want])?;
        copy_to_user(vec, &buf[..n])?;
        pages -= n;
        vec += n;
        start += n * PAGE_SIZE;
    }
    Ok(0)
}
