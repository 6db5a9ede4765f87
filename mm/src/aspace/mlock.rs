//! mlock, munlock, mlockall: locking VMAs in memory.
//!
//! A locked VMA carries [`VmaFlags::LOCKED`] (and [`VmaFlags::LOCKONFAULT`]
//! when its pages are locked only as they fault in). There is no swap, so a
//! present page is never taken away; locking means what Linux's mm/mlock.c
//! makes visible: the flags (which MADV_DONTNEED and MADV_REMOVE refuse),
//! the pages populated up front, and the locked size (Linux's `locked_vm`,
//! VmLck), which is the total length of the locked VMAs and is checked
//! against RLIMIT_MEMLOCK by the syscall layer. The special trampoline VMA
//! is never locked (Linux's VM_SPECIAL rule for the vDSO).
//!
//! The address space also keeps the flags every new mapping starts with
//! (`mm->def_flags`): mlockall(MCL_FUTURE) sets them, munlockall clears
//! them. A fork's child and a new program start unlocked
//! ([`AddrSpace::forget_locks`]; a new address space has no default flags).

use super::{AddrSpace, VmaFlags, VmaKind};
use crate::{MmError, MmResult};

/// The lock bits of a VMA's flags (Linux's VM_LOCKED_MASK).
pub const LOCK_MASK: VmaFlags = VmaFlags::LOCKED.union(VmaFlags::LOCKONFAULT);

impl AddrSpace {
    /// Total length of the locked VMAs (`locked_vm`, in bytes).
    pub fn locked_len(&self) -> usize {
        self.vmas
            .iter()
            .filter(|vma| vma.flags.contains(VmaFlags::LOCKED))
            .map(|vma| vma.len())
            .sum()
    }

    /// Bytes of `[start, end)` inside locked VMAs (count_mm_mlocked_page_nr).
    pub fn locked_in(&self, start: usize, end: usize) -> usize {
        self.vmas
            .overlapping(start, end)
            .filter(|vma| vma.flags.contains(VmaFlags::LOCKED))
            .map(|vma| vma.end.min(end) - vma.start.max(start))
            .sum()
    }

    /// Sets the lock bits of the VMAs in `[start, end)` (page aligned,
    /// `start <= end`) to `lock` (empty to unlock), as Linux's
    /// apply_vma_lock_flags: ENOMEM (`NoMemory`) if `start` is not mapped;
    /// a later hole also fails with ENOMEM, after the VMAs before it
    /// changed.
    pub fn set_lock(&mut self, start: usize, end: usize, lock: VmaFlags) -> MmResult<()> {
        if start == end {
            return Ok(());
        }
        if self.vmas.find(start).is_none() {
            return Err(MmError::NoMemory);
        }
        let lock = lock & LOCK_MASK;
        let mut cursor = start;
        let mut result = Ok(());
        while cursor < end {
            let Some(vma) = self.vmas.find(cursor) else {
                result = Err(MmError::NoMemory);
                break;
            };
            let hi = vma.end.min(end);
            if vma.kind != VmaKind::Trampoline && vma.flags & LOCK_MASK != lock {
                self.vmas.update_range(cursor, hi, |vma| {
                    vma.flags = (vma.flags - LOCK_MASK) | lock;
                });
            }
            cursor = hi;
        }
        self.vmas.merge_around(start, cursor);
        result
    }

    /// Sets the lock bits of every VMA (mlockall(MCL_CURRENT) with `lock`
    /// set, munlockall with it empty).
    pub fn set_lock_all(&mut self, lock: VmaFlags) {
        let lock = lock & LOCK_MASK;
        let end = self.layout.end;
        self.vmas.update_range(0, end, |vma| {
            if vma.kind != VmaKind::Trampoline {
                vma.flags = (vma.flags - LOCK_MASK) | lock;
            }
        });
        self.vmas.merge_around(0, end);
    }

    /// The lock bits every new mapping starts with (`def_flags`).
    pub fn default_lock(&self) -> VmaFlags {
        self.def_lock
    }

    /// Sets the lock bits of future mappings (mlockall(MCL_FUTURE)).
    pub fn set_default_lock(&mut self, lock: VmaFlags) {
        self.def_lock = lock & LOCK_MASK;
    }

    /// A fork's child: memory locks are not inherited (dup_mmap clears
    /// VM_LOCKED and VM_LOCKONFAULT of every copied VMA).
    pub(super) fn forget_locks(&mut self) {
        let end = self.layout.end;
        self.vmas
            .update_range(0, end, |vma| vma.flags.remove(LOCK_MASK));
        self.def_lock = VmaFlags::empty();
    }
}
