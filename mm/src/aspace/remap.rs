//! mremap: shrinking, growing in place, and moving a mapping.
//!
//! The rules are Linux's (mm/mremap.c): the old range must lie inside one
//! VMA (EFAULT otherwise), shrinking unmaps the tail, growing extends the
//! VMA when the addresses after it are free, and otherwise the mapping
//! moves if `MREMAP_MAYMOVE` allows it (ENOMEM if not). A move carries the
//! page-table entries over (the frames and their references move with
//! them; nothing is copied), then unmaps the old range, or leaves it mapped
//! and empty with `MREMAP_DONTUNMAP`. An `old_len` of zero on a shared
//! mapping makes a second mapping of the same pages.
//!
//! The moved VMA keeps its record in its object's registry and has it
//! follow ([`UserVma::relocate`]); a VMA left behind by `MREMAP_DONTUNMAP`
//! or made by a zero `old_len` is a new mapping with a record of its own.

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, PAGE_SIZE, UserVma, VmaFlags, page_ceil};
use crate::{MmError, MmResult};

/// What mremap may do besides resizing in place.
#[derive(Clone, Copy, Debug, Default)]
pub struct RemapFlags {
    /// MREMAP_MAYMOVE.
    pub may_move: bool,
    /// MREMAP_FIXED: move to exactly `new_addr`.
    pub fixed: bool,
    /// MREMAP_DONTUNMAP: leave the old range mapped (and empty).
    pub dont_unmap: bool,
}

impl AddrSpace {
    /// mremap(2). `old_len` and `new_len` are rounded up to pages; the
    /// caller checked the flag combinations.
    pub fn remap(
        &mut self,
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: RemapFlags,
        new_addr: usize,
    ) -> MmResult<usize> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(MmError::InvalidInput);
        }
        let mut old_len = page_ceil(old_len).ok_or(MmError::InvalidInput)?;
        let mut new_len = page_ceil(new_len).ok_or(MmError::InvalidInput)?;
        // mm/mremap.c on a hugetlb mapping: huge-page-aligned addresses,
        // lengths rounded up to huge pages, no growth and no DONTUNMAP
        // (hugetlbfs mappings are VM_DONTEXPAND).
        let granule = self.granule_at(addr);
        if granule > PAGE_SIZE {
            if !addr.is_multiple_of(granule)
                || (flags.fixed && !new_addr.is_multiple_of(granule))
                || flags.dont_unmap
            {
                return Err(MmError::InvalidInput);
            }
            old_len = old_len
                .checked_next_multiple_of(granule)
                .ok_or(MmError::InvalidInput)?;
            new_len = new_len
                .checked_next_multiple_of(granule)
                .ok_or(MmError::InvalidInput)?;
            if new_len > old_len {
                return Err(MmError::InvalidInput);
            }
        }
        if new_len == 0 {
            return Err(MmError::InvalidInput);
        }
        if flags.dont_unmap && old_len != new_len {
            return Err(MmError::InvalidInput);
        }
        let old_end = addr.checked_add(old_len).ok_or(MmError::InvalidInput)?;
        if old_end > self.layout.end {
            return Err(MmError::InvalidInput);
        }
        if flags.fixed {
            return self.remap_fixed(addr, old_len, new_len, flags, new_addr);
        }
        // Shrinking: unmap the tail (mm/mremap.c does this before looking
        // at the VMA, so a shrink never fails with EFAULT).
        if old_len >= new_len && !flags.dont_unmap {
            if old_len > new_len {
                self.unmap(addr + new_len, old_len - new_len)?;
            }
            return Ok(addr);
        }
        self.check_source(addr, old_len)?;
        let vma = self.vmas.find(addr).ok_or(MmError::BadAddress)?;
        // Growing in place: the old range ends the VMA and the addresses
        // after it are free.
        if old_len > 0 && !flags.dont_unmap && vma.end == old_end {
            let new_end = addr.checked_add(new_len).ok_or(MmError::NoMemory)?;
            if new_end <= self.layout.end && self.vmas.is_free(old_end, new_end) {
                self.grow_in_place(addr, old_end, new_end)?;
                return Ok(addr);
            }
        }
        if !flags.may_move {
            return Err(MmError::NoMemory);
        }
        let target = self
            .vmas
            .find_free_area(
                0,
                new_len,
                self.layout.min_addr,
                self.layout.mmap_base,
                PAGE_SIZE,
            )
            .ok_or(MmError::NoMemory)?;
        self.move_range(addr, old_len, new_len, target, flags.dont_unmap)
    }

    /// MREMAP_FIXED: the target must be aligned, inside user space and not
    /// overlap the source; whatever is mapped there goes first.
    fn remap_fixed(
        &mut self,
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: RemapFlags,
        new_addr: usize,
    ) -> MmResult<usize> {
        if !new_addr.is_multiple_of(PAGE_SIZE) {
            return Err(MmError::InvalidInput);
        }
        let new_end = new_addr.checked_add(new_len).ok_or(MmError::InvalidInput)?;
        if new_addr < self.layout.min_addr || new_end > self.layout.end {
            return Err(MmError::InvalidInput);
        }
        let old_end = addr + old_len;
        // mm/mremap.c mremap_to: the ranges may not overlap.
        if new_addr < old_end.max(addr + 1) && addr < new_end {
            return Err(MmError::InvalidInput);
        }
        // Checked before anything is unmapped (Linux unmaps the target
        // first and may then fail; the errno is the same).
        self.check_source(addr, old_len)?;
        self.unmap(new_addr, new_len)?;
        let (len, moved) = if old_len > new_len && !flags.dont_unmap {
            // Shrinking move: the tail is unmapped first.
            self.unmap(addr + new_len, old_len - new_len)?;
            (new_len, new_len)
        } else {
            (old_len, new_len)
        };
        self.move_range(addr, len, moved, new_addr, flags.dont_unmap)
    }

    /// The source of a move or grow must lie inside one VMA: EFAULT if
    /// `addr` is unmapped or the range runs past the VMA's end. A zero
    /// `old_len` duplicates a mapping, which only shared ones allow.
    fn check_source(&self, addr: usize, old_len: usize) -> MmResult<()> {
        let vma = self.vmas.find(addr).ok_or(MmError::BadAddress)?;
        if vma.end - addr < old_len {
            return Err(MmError::BadAddress);
        }
        if old_len == 0 && !vma.flags.contains(VmaFlags::SHARED) {
            return Err(MmError::InvalidInput);
        }
        Ok(())
    }

    /// Extends the VMA that ends at `old_end` to `new_end`.
    fn grow_in_place(&mut self, addr: usize, old_end: usize, new_end: usize) -> MmResult<()> {
        if self.vmas.len() > super::max_map_count() {
            return Err(MmError::NoMemory);
        }
        let vma = self.vmas.find_mut(addr).ok_or(MmError::BadAddress)?;
        // VmaSet keys VMAs by start, which does not change.
        vma.set_end(new_end);
        self.account_mapped(new_end - old_end);
        self.vmas.merge_around(addr, new_end);
        Ok(())
    }

    /// Moves `[addr, addr+old_len)` (inside one VMA) to `target`, `new_len`
    /// long. A zero `old_len` maps the same pages again instead.
    fn move_range(
        &mut self,
        addr: usize,
        old_len: usize,
        new_len: usize,
        target: usize,
        dont_unmap: bool,
    ) -> MmResult<usize> {
        if self.vmas.len() + 2 > super::max_map_count() {
            return Err(MmError::NoMemory);
        }
        let new_end = target + new_len;
        if old_len == 0 {
            let source = self.vmas.find(addr).ok_or(MmError::BadAddress)?;
            let mut copy = source.detached();
            copy.offset = source.offset + (addr - source.start) as u64;
            copy.start = target;
            copy.end = new_end;
            copy.register(self.owner.clone())?;
            self.touch(&copy);
            self.vmas.insert(copy).map_err(|_| MmError::AlreadyExists)?;
            self.account_mapped(new_len);
            return Ok(target);
        }
        let old_end = addr + old_len;
        let mut removed = self.vmas.remove_range(addr, old_end);
        let Some(mut vma) = removed.pop().filter(|_| removed.is_empty()) else {
            // check_source made sure one VMA covers the range.
            return Err(MmError::BadAddress);
        };
        if dont_unmap {
            // The old range stays mapped, with no pages: a new mapping of
            // the same kind (private memory reads back zero; a shared
            // object's pages fault in again).
            let mut stay = vma.detached();
            stay.register(self.owner.clone())?;
            self.touch(&stay);
            let _ = self.vmas.insert(stay);
            self.account_mapped(old_len);
        }
        self.move_pages(&vma, old_len, target);
        vma.relocate(target);
        if new_len > old_len {
            vma.set_end(new_end);
            self.account_mapped(new_len - old_len);
        }
        self.touch(&vma);
        self.vmas.insert(vma).map_err(|_| MmError::AlreadyExists)?;
        self.vmas.merge_around(target, new_end);
        if !dont_unmap {
            self.vmas.merge_around(addr, old_end);
        }
        self.flusher.flush_range_remote(addr, old_end);
        Ok(target)
    }

    /// Moves the present page-table entries of `vma` (just taken out of
    /// the set, still at its old place, `len` long) to `to`, keeping each
    /// entry's frame and rights.
    fn move_pages(&mut self, vma: &UserVma, len: usize, to: usize) {
        let from = vma.start;
        for (va, _) in self.present_pages(from, from + len) {
            let Ok((paddr, flags, _)) = self.pt.unmap_page(VirtAddr::from(va)) else {
                continue;
            };
            let dest = VirtAddr::from(to + (va - from));
            if self.pt.map_page(dest, paddr, PAGE_SIZE, flags).is_err() {
                // No memory for a page-table page: the entry is dropped
                // with its reference, and the page faults in again (a
                // private page loses its contents, as after MADV_DONTNEED).
                log::warn!("mremap: no memory to move the page at {va:#x}");
                super::release_entry(vma, va, paddr);
            }
        }
    }
}
