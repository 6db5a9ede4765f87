//! mprotect: changing the protection of a range, splitting VMAs at its ends.

use ax_hal::{mem::VirtAddr, paging::MappingFlags};

use super::{AddrSpace, PAGE_SIZE, Prot, UserVma, VmaFlags, page_ceil};
use crate::{MmError, MmResult, frame};

impl AddrSpace {
    /// Sets the protection of `[start, start+len)`.
    ///
    /// Fails with `NoMemory` (ENOMEM) if part of the range is unmapped and
    /// with `AccessDenied` (EACCES) if a VMA may not take the protection.
    /// As on Linux (mm/mprotect.c do_mprotect_pkey), the VMAs are changed
    /// in address order until the first failure: those below a hole or a
    /// refusing VMA keep their new protection.
    pub fn protect(&mut self, start: usize, len: usize, prot: Prot) -> MmResult<()> {
        if !start.is_multiple_of(PAGE_SIZE) {
            return Err(MmError::InvalidInput);
        }
        if len == 0 {
            return Ok(());
        }
        let len = page_ceil(len).ok_or(MmError::NoMemory)?;
        let end = start.checked_add(len).ok_or(MmError::NoMemory)?;
        self.check_split_points(start, end)?;
        let mut cursor = start;
        let mut failure = None;
        for vma in self.vmas.overlapping(start, end) {
            if vma.start > cursor {
                failure = Some(MmError::NoMemory);
                break;
            }
            if !vma.may.contains(prot) {
                failure = Some(MmError::AccessDenied);
                break;
            }
            cursor = vma.end.min(end);
        }
        if failure.is_none() && cursor < end {
            failure = Some(MmError::NoMemory);
        }
        // The part that changes: up to the first failure.
        let end = cursor;
        if end == start {
            return failure.map_or(Ok(()), Err);
        }
        self.vmas.update_range(start, end, |vma| vma.set_prot(prot));

        let flags = Self::pte_flags(prot);
        let ro_flags = Self::pte_flags(prot - Prot::WRITE);
        // Per VMA piece: whether private frames may still be shared
        // copy-on-write, and whether the object must see each first write.
        let pieces: alloc::vec::Vec<UserVma> = self
            .vmas
            .overlapping(start, end)
            .map(UserVma::detached)
            .collect();
        for v in &pieces {
            self.touch(v);
            let shared = v.flags.contains(VmaFlags::SHARED);
            let tracked = v.object.as_ref().is_some_and(|o| o.tracks_dirty());
            for page in (v.start.max(start)..v.end.min(end)).step_by(PAGE_SIZE) {
                let va = VirtAddr::from(page);
                if let Ok((paddr, cur, _)) = self.pt.query(va) {
                    // A private frame still shared copy-on-write stays
                    // read-only until the write fault that copies it, and
                    // so does an object's page in a private file mapping;
                    // the frames of a shared mapping are never copied, but
                    // a page whose object tracks writes becomes writable
                    // only through the fault that records the write.
                    let keep_ro = if shared {
                        tracked && !cur.contains(MappingFlags::WRITE)
                    } else {
                        frame::is_shared(paddr) || super::maps_object_page(v, page, paddr)
                    };
                    let f = if keep_ro { ro_flags } else { flags };
                    let _ = self.pt.protect_page(va, f);
                }
            }
        }
        self.vmas.merge_around(start, end);
        self.flusher.flush_range_remote(start, end);
        failure.map_or(Ok(()), Err)
    }
}
