//! madvise and mincore: advice about a range, and which of its pages are
//! resident.
//!
//! [`AddrSpace::advise`] follows Linux's mm/madvise.c: the VMAs of the range
//! are visited in order, holes are skipped but make the call fail with
//! ENOMEM at the end (after the mapped parts took the advice), and an error
//! from one VMA stops the walk there. Advice that changes VMA attributes
//! (MADV_NORMAL/RANDOM/SEQUENTIAL, DONTFORK/DOFORK, WIPEONFORK/KEEPONFORK,
//! DONTDUMP/DODUMP) splits and re-merges VMAs as mprotect does. MADV_DONTNEED and MADV_FREE drop the pages of the
//! range: a private anonymous page reads as zeros afterwards, a shared page
//! is fetched from its object again. MADV_REMOVE also frees the object's
//! pages (a hole punched into the tmpfs or page-cache file, or into shared
//! anonymous memory); the object does that once the address space is
//! unlocked, from the [`Punch`] list the walk returns.
//!
//! [`AddrSpace::residency`] answers mincore for the part of a range inside
//! one VMA, as Linux's do_mincore: a page is resident if the page table maps
//! it, or, for a shared mapping, if its object holds the page
//! ([`MemObject::is_resident`]; Linux asks the page cache).

use alloc::{sync::Arc, vec::Vec};

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, FaultOutcome, MemObject, PAGE_SIZE, Prot, UserVma, VmaFlags, VmaKind};
use crate::{MmError, MmResult};

/// One piece of advice madvise(2) takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    /// MADV_NORMAL: no read-ahead preference.
    Normal,
    /// MADV_RANDOM: expect random access.
    Random,
    /// MADV_SEQUENTIAL: expect sequential access.
    Sequential,
    /// MADV_WILLNEED: the pages will be needed soon.
    WillNeed,
    /// MADV_DONTNEED: drop the pages.
    DontNeed,
    /// MADV_DONTNEED_LOCKED: MADV_DONTNEED that also accepts locked VMAs.
    DontNeedLocked,
    /// MADV_FREE: the pages may be dropped (private anonymous memory only).
    Free,
    /// MADV_REMOVE: drop the pages and free the object's backing store.
    Remove,
    /// MADV_DONTFORK: leave the range out of a fork's child.
    DontFork,
    /// MADV_DOFORK: undo MADV_DONTFORK.
    DoFork,
    /// MADV_WIPEONFORK: a fork's child sees the range zero-filled.
    WipeOnFork,
    /// MADV_KEEPONFORK: undo MADV_WIPEONFORK.
    KeepOnFork,
    /// MADV_DONTDUMP: leave the range out of core dumps.
    DontDump,
    /// MADV_DODUMP: undo MADV_DONTDUMP.
    DoDump,
}

/// A hole MADV_REMOVE punches into a mapped object once the address space
/// is unlocked (Linux drops mmap_lock around vfs_fallocate too).
pub struct Punch {
    pub object: Arc<dyn MemObject>,
    /// Byte offset in the object.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// What [`AddrSpace::advise`] did: its result, and the holes to punch
/// (in range order, for the VMAs visited before any error).
pub struct Advised {
    pub result: MmResult<()>,
    pub punches: Vec<Punch>,
}

impl AddrSpace {
    /// Applies `advice` to `[start, end)`, both page aligned, `start < end`.
    pub fn advise(&mut self, start: usize, end: usize, advice: Advice) -> Advised {
        let mut punches = Vec::new();
        let result = self.advise_walk(start, end, advice, &mut punches);
        Advised { result, punches }
    }

    /// madvise_walk_vmas: each VMA piece in turn; holes make the result
    /// ENOMEM once the rest is done.
    fn advise_walk(
        &mut self,
        start: usize,
        end: usize,
        advice: Advice,
        punches: &mut Vec<Punch>,
    ) -> MmResult<()> {
        let mut cursor = start;
        let mut hole = false;
        while cursor < end {
            let Some(vma) = self
                .vmas
                .overlapping(cursor, end)
                .next()
                .map(UserVma::detached)
            else {
                return Err(MmError::NoMemory);
            };
            if vma.start > cursor {
                hole = true;
                cursor = vma.start;
            }
            let hi = vma.end.min(end);
            self.advise_vma(&vma, cursor, hi, advice, punches)?;
            cursor = hi;
        }
        if hole { Err(MmError::NoMemory) } else { Ok(()) }
    }

    /// madvise_vma_behavior for `[lo, hi)` inside `vma`.
    fn advise_vma(
        &mut self,
        vma: &UserVma,
        lo: usize,
        hi: usize,
        advice: Advice,
        punches: &mut Vec<Punch>,
    ) -> MmResult<()> {
        let locked = vma.flags.contains(VmaFlags::LOCKED);
        match advice {
            Advice::Normal => self.set_vma_flags(lo, hi, VmaFlags::empty()),
            Advice::Random => self.set_vma_flags(lo, hi, VmaFlags::RAND_READ),
            Advice::Sequential => self.set_vma_flags(lo, hi, VmaFlags::SEQ_READ),
            Advice::DontFork => self.change_vma_flags(lo, hi, |f| f | VmaFlags::DONTFORK),
            Advice::DoFork => self.change_vma_flags(lo, hi, |f| f - VmaFlags::DONTFORK),
            Advice::WipeOnFork => {
                // Anonymous private memory only. The trampoline is refused
                // too: its page has no source to come back from.
                if vma.object.is_some()
                    || vma.file.is_some()
                    || vma.flags.contains(VmaFlags::SHARED)
                    || vma.kind == VmaKind::Trampoline
                {
                    return Err(MmError::InvalidInput);
                }
                self.change_vma_flags(lo, hi, |f| f | VmaFlags::WIPEONFORK)
            }
            Advice::KeepOnFork => self.change_vma_flags(lo, hi, |f| f - VmaFlags::WIPEONFORK),
            Advice::DontDump => self.change_vma_flags(lo, hi, |f| f | VmaFlags::DONTDUMP),
            Advice::DoDump => {
                // VM_SPECIAL mappings (the vDSO) are always dumped.
                if vma.kind == VmaKind::Trampoline {
                    return Err(MmError::InvalidInput);
                }
                self.change_vma_flags(lo, hi, |f| f - VmaFlags::DONTDUMP)
            }
            Advice::WillNeed => self.will_need(vma, lo, hi),
            Advice::DontNeed | Advice::DontNeedLocked | Advice::Free => {
                // madvise_dontneed_free_valid_vma: locked pages stay, except
                // for MADV_DONTNEED_LOCKED.
                if locked && advice != Advice::DontNeedLocked {
                    return Err(MmError::InvalidInput);
                }
                // madvise_free_single_vma: only anonymous memory
                // (vma_is_anonymous: no file, no special mapping).
                if advice == Advice::Free
                    && (vma.object.is_some()
                        || vma.file.is_some()
                        || vma.kind == VmaKind::Trampoline)
                {
                    return Err(MmError::InvalidInput);
                }
                if vma.kind != VmaKind::Trampoline {
                    // The trampoline's page comes back with the same bytes,
                    // so dropping it changes nothing visible.
                    self.zap_range(vma, lo, hi);
                }
                Ok(())
            }
            Advice::Remove => {
                // madvise_remove: locked VMAs EINVAL, no file EINVAL, not a
                // shared mapping that may write EACCES.
                if locked {
                    return Err(MmError::InvalidInput);
                }
                let Some(object) = vma.object.clone() else {
                    return Err(if vma.file.is_some() {
                        MmError::AccessDenied
                    } else {
                        MmError::InvalidInput
                    });
                };
                if !vma.flags.contains(VmaFlags::SHARED) || !vma.may.contains(Prot::WRITE) {
                    return Err(MmError::AccessDenied);
                }
                self.zap_range(vma, lo, hi);
                punches.push(Punch {
                    object,
                    offset: vma.offset + (lo - vma.start) as u64,
                    len: (hi - lo) as u64,
                });
                Ok(())
            }
        }
    }

    /// Replaces the read-ahead hint bits of the VMAs in `[lo, hi)`.
    fn set_vma_flags(&mut self, lo: usize, hi: usize, hint: VmaFlags) -> MmResult<()> {
        self.change_vma_flags(lo, hi, |f| {
            (f - VmaFlags::SEQ_READ - VmaFlags::RAND_READ) | hint
        })
    }

    /// Changes the attributes of the VMAs in `[lo, hi)`, splitting at the
    /// ends and merging again with neighbours that now match.
    pub(super) fn change_vma_flags(
        &mut self,
        lo: usize,
        hi: usize,
        f: impl Fn(VmaFlags) -> VmaFlags,
    ) -> MmResult<()> {
        let unchanged = self
            .vmas
            .overlapping(lo, hi)
            .all(|vma| f(vma.flags) == vma.flags);
        if unchanged {
            return Ok(());
        }
        // madvise_update_vma: a split past vm.max_map_count is ENOMEM,
        // which madvise reports as EAGAIN.
        let splits = self
            .vmas
            .overlapping(lo, hi)
            .filter(|v| v.start < lo)
            .count()
            + self.vmas.overlapping(lo, hi).filter(|v| v.end > hi).count();
        if splits > 0 && self.vmas.len() + splits > super::max_map_count() {
            return Err(MmError::Again);
        }
        self.vmas
            .update_range(lo, hi, |vma| vma.flags = f(vma.flags));
        self.vmas.merge_around(lo, hi);
        Ok(())
    }

    /// MADV_WILLNEED: memory without a backing store (anonymous memory,
    /// tmpfs) has no swap to read back; the pages of an object with one (a
    /// page-cache file, the objects that track dirty pages) are read into
    /// the cache without being mapped, as Linux's
    /// vfs_fadvise(POSIX_FADV_WILLNEED).
    fn will_need(&mut self, vma: &UserVma, lo: usize, hi: usize) -> MmResult<()> {
        let Some(object) = &vma.object else {
            return Ok(());
        };
        if !object.tracks_dirty() {
            return Ok(());
        }
        for page in (lo..hi).step_by(PAGE_SIZE) {
            let index = vma.object_index(page);
            if object.is_resident(index) == Some(true)
                || self.pt.query(VirtAddr::from(page)).is_ok()
            {
                continue;
            }
            // A busy or failing read is not the caller's error: the advice
            // only schedules I/O on Linux.
            match object.frame(index) {
                Ok(frame) => object.release_frame(index, frame),
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// Unmaps the present pages of `[lo, hi)` inside `vma` and gives their
    /// frames back (through the object for its pages); the next access
    /// faults the page in again (a private file mapping's from the file).
    pub(super) fn zap_range(&mut self, vma: &UserVma, lo: usize, hi: usize) {
        let present = self.present_pages(lo, hi);
        if present.is_empty() {
            return;
        }
        let mut unmapped = Vec::with_capacity(present.len());
        for (va, _) in present {
            if let Ok((paddr, _, _)) = self.pt.unmap_page(VirtAddr::from(va)) {
                unmapped.push((va, paddr));
            }
        }
        // The process keeps running on other CPUs: no stale translation
        // may reach a frame once it can be reused.
        self.flusher.flush_range_remote(lo, hi);
        for (va, paddr) in unmapped {
            // A private file mapping's entry is the file's page or a copy.
            super::release_entry(vma, va, paddr);
        }
    }

    /// mincore for the VMA containing `start`: fills `out[i]` with 1 if page
    /// `i` from `start` is resident and 0 if not, for at most `pages` pages
    /// and not past that VMA's end, and returns how many it filled.
    /// `NoMemory` (ENOMEM) if no VMA contains `start`.
    pub fn residency(&self, start: usize, pages: usize, out: &mut [u8]) -> MmResult<usize> {
        let vma = self.vmas.find(start).ok_or(MmError::NoMemory)?;
        let want = pages.min(out.len());
        let end = start
            .checked_add(want.saturating_mul(PAGE_SIZE))
            .map_or(vma.end, |e| e.min(vma.end));
        let n = (end - start) / PAGE_SIZE;
        out[..n].fill(0);
        for (va, _) in self.present_pages(start, end) {
            out[(va - start) / PAGE_SIZE] = 1;
        }
        if let Some(object) = &vma.object {
            for (i, byte) in out[..n].iter_mut().enumerate() {
                if *byte == 0
                    && object.is_resident(vma.object_index(start + i * PAGE_SIZE)) == Some(true)
                {
                    *byte = 1;
                }
            }
        }
        Ok(n)
    }
}

/// Where faulting a range in stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopulateStop {
    /// A mapped object is busy at this address: unlock the address space,
    /// back off and continue from here.
    Busy(usize),
    /// A page could not be faulted in: no memory (`NoMemory`), or it lies
    /// past its object's end or the VMA forbids all access (`BadAddress`).
    Failed(MmError),
}

impl AddrSpace {
    /// MADV_POPULATE_READ / MADV_POPULATE_WRITE over `[start, end)`: every
    /// page faulted in as a read or write would, VMA after VMA, as Linux's
    /// faultin_page_range. A hole is `NoMemory` (ENOMEM), a VMA that does
    /// not allow the access `InvalidInput` (EINVAL), a page that would raise
    /// SIGBUS `BadAddress` (EFAULT), no memory `NoMemory`; the pages before
    /// the failure stay populated.
    pub fn populate_advice(
        &mut self,
        start: usize,
        end: usize,
        write: bool,
    ) -> Result<(), PopulateStop> {
        let access = if write { Prot::WRITE } else { Prot::READ };
        let mut cursor = start;
        while cursor < end {
            let Some(vma) = self.vmas.find(cursor) else {
                return Err(PopulateStop::Failed(MmError::NoMemory));
            };
            if !vma.prot.contains(access) {
                return Err(PopulateStop::Failed(MmError::InvalidInput));
            }
            let hi = vma.end.min(end);
            for page in (cursor..hi).step_by(PAGE_SIZE) {
                let err = match self.handle_fault(page, access, false) {
                    FaultOutcome::Handled => continue,
                    // The caller resolves it without the address-space lock
                    // (waiting for the object, or for userfaultfd).
                    FaultOutcome::Retry | FaultOutcome::UserFault => {
                        return Err(PopulateStop::Busy(page));
                    }
                    FaultOutcome::OutOfMemory => MmError::NoMemory,
                    FaultOutcome::BeyondObject => MmError::BadAddress,
                    FaultOutcome::NoMapping | FaultOutcome::AccessDenied => MmError::InvalidInput,
                };
                return Err(PopulateStop::Failed(err));
            }
            cursor = hi;
        }
        Ok(())
    }

    /// Faults in the pages of `[start, end)` as Linux's __mm_populate:
    /// writable private pages with a write fault (breaking copy-on-write),
    /// others with a read; VMAs locked on fault are left alone, and holes
    /// are skipped. With `ignore_errors`, a VMA whose page fails is given up
    /// and the walk goes on to the next one.
    pub fn populate(
        &mut self,
        start: usize,
        end: usize,
        ignore_errors: bool,
    ) -> Result<(), PopulateStop> {
        let mut cursor = start;
        while cursor < end {
            let Some(vma) = self.vmas.overlapping(cursor, end).next() else {
                break;
            };
            let lo = vma.start.max(cursor);
            let hi = vma.end.min(end);
            let (prot, flags, kind) = (vma.prot, vma.flags, vma.kind);
            cursor = hi;
            if flags.contains(VmaFlags::LOCKONFAULT) || kind == VmaKind::Trampoline {
                continue;
            }
            // populate_vma_page_range: PROT_NONE is never faulted in.
            if prot.is_empty() {
                if ignore_errors {
                    continue;
                }
                return Err(PopulateStop::Failed(MmError::BadAddress));
            }
            let access = if prot.contains(Prot::WRITE) && !flags.contains(VmaFlags::SHARED) {
                Prot::WRITE
            } else {
                Prot::READ
            };
            // FOLL_FORCE: a write-only or execute-only VMA is read anyway.
            let force = !prot.contains(access);
            for page in (lo..hi).step_by(PAGE_SIZE) {
                let err = match self.handle_fault(page, access, force) {
                    FaultOutcome::Handled => continue,
                    // The caller resolves it without the address-space lock
                    // (waiting for the object, or for userfaultfd).
                    FaultOutcome::Retry | FaultOutcome::UserFault => {
                        return Err(PopulateStop::Busy(page));
                    }
                    FaultOutcome::OutOfMemory => MmError::NoMemory,
                    _ => MmError::BadAddress,
                };
                if ignore_errors {
                    break;
                }
                return Err(PopulateStop::Failed(err));
            }
        }
        Ok(())
    }
}
