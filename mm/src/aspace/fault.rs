//! Page faults: demand-zero fill, copy-on-write and shared object pages.
//!
//! Called for user-mode faults and for kernel-mode faults on user addresses
//! (a `copy_to_user` touching a page not yet present). The outcome tells the
//! caller which signal a user fault becomes: no VMA at the address is
//! `SEGV_MAPERR`, a VMA that forbids the access is `SEGV_ACCERR`, a page past
//! the end of a mapped object is `SIGBUS`. A fault in the gap just below a
//! MAP_GROWSDOWN mapping first grows that mapping down to the faulting page
//! (`expand_stack`). [`FaultOutcome::Retry`] asks the
//! caller to release the address space and fault again: the object is in the
//! middle of a truncate or writeback that needs this address space's lock.

use ax_hal::{
    mem::{PhysAddr, VirtAddr},
    paging::MappingFlags,
};

use super::{AddrSpace, MemObject, ObjectFault, PAGE_SIZE, Prot, VmaFlags, page_floor};
use crate::frame;

/// Result of resolving a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOutcome {
    /// The page is now present with the needed rights; retry the access.
    Handled,
    /// No VMA covers the address (SIGSEGV, SEGV_MAPERR).
    NoMapping,
    /// A VMA covers it but forbids the access (SIGSEGV, SEGV_ACCERR).
    AccessDenied,
    /// Out of memory while allocating a frame.
    OutOfMemory,
    /// The page lies beyond the end of the mapped object, or its backing
    /// store failed to read it (SIGBUS, BUS_ADRERR).
    BeyondObject,
    /// The mapped object is busy; unlock the address space and retry.
    Retry,
    /// The page is missing in a range registered with userfaultfd: report
    /// it to the context and wait until user space fills it.
    UserFault,
}

impl AddrSpace {
    /// Resolves a fault at `addr` for `access` (one of READ, WRITE, EXEC).
    ///
    /// With `force`, the VMA's protection is ignored: the kernel itself is
    /// writing into a page it is setting up (ELF segments, initial stack), and
    /// the page is made present and private without changing its PTE rights.
    pub fn handle_fault(&mut self, addr: usize, access: Prot, force: bool) -> FaultOutcome {
        let page = page_floor(addr);
        if self.vmas.find(page).is_none() && !self.grow_stack(page) {
            return FaultOutcome::NoMapping;
        }
        let Some(vma) = self.vmas.find(page) else {
            return FaultOutcome::NoMapping;
        };
        let prot = vma.prot;
        if !force && !prot.contains(access) {
            return FaultOutcome::AccessDenied;
        }
        let flags = Self::pte_flags(prot);
        let va = VirtAddr::from(page);
        if let Some(object) = vma.object.clone() {
            let index = vma.object_index(page);
            if vma.flags.contains(VmaFlags::SHARED) {
                return self.fault_shared(va, &*object, index, access, prot, flags);
            }
            return self.fault_private_object(va, &*object, index, access, prot, flags);
        }
        match self.pt.query(va) {
            Err(_) => {
                if !force && self.uffd_covers(page) {
                    return FaultOutcome::UserFault;
                }
                self.map_private(va, frame::alloc_zeroed(), flags)
            }
            Ok((old, cur, _)) => {
                let wants_write = access.contains(Prot::WRITE);
                if !wants_write {
                    return FaultOutcome::Handled;
                }
                if frame::is_shared(old) {
                    // Copy-on-write: take a private copy, drop our share.
                    if !self.map_copy(va, old, flags) {
                        return FaultOutcome::OutOfMemory;
                    }
                    frame::put(old);
                } else if !cur.contains(MappingFlags::WRITE) && prot.contains(Prot::WRITE) {
                    // Last sharer of a copy-on-write frame: take it over.
                    let _ = self.pt.protect_page(va, flags);
                }
                FaultOutcome::Handled
            }
        }
    }
}

impl AddrSpace {
    /// A fault in a shared mapping: map the object's page, or make a present
    /// page writable. There is no copy-on-write: every mapping shares the page.
    ///
    /// An object that tracks dirty pages gets read-only entries until the
    /// first write, which it hears of through `mark_dirty` before the entry
    /// becomes writable (the order matters: writeback write-protects the
    /// entries of a page it is about to clean, under this address space's
    /// lock, so a write can never slip in unrecorded).
    fn fault_shared(
        &mut self,
        va: VirtAddr,
        object: &dyn MemObject,
        index: u64,
        access: Prot,
        prot: Prot,
        flags: MappingFlags,
    ) -> FaultOutcome {
        let tracked = object.tracks_dirty();
        let writes = access.contains(Prot::WRITE);
        match self.pt.query(va) {
            Err(_) => {
                let frame = match object.frame(index) {
                    Ok(frame) => frame,
                    Err(fault) => return outcome_of(fault),
                };
                let flags = if tracked && !writes {
                    Self::pte_flags(prot - Prot::WRITE)
                } else {
                    flags
                };
                if tracked
                    && writes
                    && let Err(fault) = object.mark_dirty(index)
                {
                    object.release_frame(index, frame);
                    return outcome_of(fault);
                }
                if self.pt.map_page(va, frame, PAGE_SIZE, flags).is_err() {
                    object.release_frame(index, frame);
                    return FaultOutcome::OutOfMemory;
                }
                FaultOutcome::Handled
            }
            Ok((_, cur, _)) => {
                if writes && prot.contains(Prot::WRITE) && !cur.contains(MappingFlags::WRITE) {
                    if tracked && let Err(fault) = object.mark_dirty(index) {
                        return outcome_of(fault);
                    }
                    let _ = self.pt.protect_page(va, flags);
                }
                FaultOutcome::Handled
            }
        }
    }
}

impl AddrSpace {
    /// A fault in a private file mapping: a read maps the object's page
    /// read-only (later changes to the file show through it, as on Linux);
    /// a write copies the page, and from then on the mapping has its own.
    fn fault_private_object(
        &mut self,
        va: VirtAddr,
        object: &dyn MemObject,
        index: u64,
        access: Prot,
        prot: Prot,
        flags: MappingFlags,
    ) -> FaultOutcome {
        let writes = access.contains(Prot::WRITE);
        match self.pt.query(va) {
            Err(_) => {
                let page = match object.private_frame(index) {
                    Ok(Some(frame)) => frame,
                    Ok(None) => return self.map_private(va, frame::alloc_zeroed(), flags),
                    Err(fault) => return outcome_of(fault),
                };
                if !writes {
                    let ro = Self::pte_flags(prot - Prot::WRITE);
                    if self.pt.map_page(va, page, PAGE_SIZE, ro).is_err() {
                        object.release_frame(index, page);
                        return FaultOutcome::OutOfMemory;
                    }
                    return FaultOutcome::Handled;
                }
                let copy = frame::alloc_copy(page);
                object.release_frame(index, page);
                self.map_private(va, copy, flags)
            }
            Ok((old, cur, _)) => {
                if !writes {
                    return FaultOutcome::Handled;
                }
                let from_object = object.owns_frame(index, old);
                if from_object || frame::is_shared(old) {
                    if !self.map_copy(va, old, flags) {
                        return FaultOutcome::OutOfMemory;
                    }
                    if from_object {
                        object.release_frame(index, old);
                    } else {
                        frame::put(old);
                    }
                } else if !cur.contains(MappingFlags::WRITE) && prot.contains(Prot::WRITE) {
                    // Our own copy, no longer shared after fork.
                    let _ = self.pt.protect_page(va, flags);
                }
                FaultOutcome::Handled
            }
        }
    }
}

impl AddrSpace {
    /// Maps `new`, a private frame just allocated (`None`: there was no
    /// memory), at the empty entry `va`; the frame is given back if the
    /// page table cannot take it.
    fn map_private(
        &mut self,
        va: VirtAddr,
        new: Option<PhysAddr>,
        flags: MappingFlags,
    ) -> FaultOutcome {
        let Some(new) = new else {
            return FaultOutcome::OutOfMemory;
        };
        if self.pt.map_page(va, new, PAGE_SIZE, flags).is_err() {
            frame::put(new);
            return FaultOutcome::OutOfMemory;
        }
        FaultOutcome::Handled
    }

    /// Replaces the entry at `va`, which maps `old`, with a private copy of
    /// `old` mapped with `flags` (copy-on-write); the caller gives `old`'s
    /// reference back. False if there was no memory (nothing changed).
    fn map_copy(&mut self, va: VirtAddr, old: PhysAddr, flags: MappingFlags) -> bool {
        let Some(copy) = frame::alloc_copy(old) else {
            return false;
        };
        if self.pt.remap_page(va, copy, flags).is_err() {
            frame::put(copy);
            return false;
        }
        self.flusher.flush_page_remote(va.as_usize());
        true
    }
}

/// Linux's default `stack_guard_gap`: a stack may not grow to within this
/// many bytes of the accessible mapping below it.
const STACK_GUARD_GAP: usize = 256 * PAGE_SIZE;

impl AddrSpace {
    /// Grows the `MAP_GROWSDOWN` VMA just above `page` down to it, as
    /// mm/mmap.c expand_downwards does for a fault below a stack: not to
    /// within [`STACK_GUARD_GAP`] of an accessible VMA below (one that
    /// grows down itself does not count), and not past the stack size limit
    /// (RLIMIT_STACK, `Layout::stack_size`). Anonymous private VMAs only.
    fn grow_stack(&mut self, page: usize) -> bool {
        let Some(next) = self.vmas.find_next(page) else {
            return false;
        };
        if !next.flags.contains(VmaFlags::GROWSDOWN) || next.object.is_some() || next.start <= page
        {
            return false;
        }
        let (start, end) = (next.start, next.end);
        if end - page > self.layout.stack_size {
            return false;
        }
        if let Some(prev) = self.vmas.find_prev(page)
            && !prev.flags.contains(VmaFlags::GROWSDOWN)
            && prev.prot.intersects(Prot::READ | Prot::WRITE | Prot::EXEC)
            && page - prev.end.min(page) < STACK_GUARD_GAP
        {
            return false;
        }
        if page < self.layout.min_addr {
            return false;
        }
        let mut removed = self.vmas.remove_range(start, end);
        let Some(mut vma) = removed.pop() else {
            return false;
        };
        vma.start = page;
        if self.vmas.insert(vma).is_err() {
            return false;
        }
        self.account_mapped(start - page);
        true
    }
}

/// What an object's refusal means for the faulting access.
fn outcome_of(fault: ObjectFault) -> FaultOutcome {
    match fault {
        ObjectFault::Beyond | ObjectFault::Io => FaultOutcome::BeyondObject,
        ObjectFault::NoMemory => FaultOutcome::OutOfMemory,
        ObjectFault::Busy => FaultOutcome::Retry,
    }
}
