//! munmap: removing mappings, including partial unmaps that split a VMA.

use super::{AddrSpace, PAGE_SIZE, page_ceil};
use crate::{MmError, MmResult};

impl AddrSpace {
    /// Unmaps `[start, start+len)`. Holes inside the range are fine.
    pub fn unmap(&mut self, start: usize, len: usize) -> MmResult<()> {
        if !start.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(MmError::InvalidInput);
        }
        let len = page_ceil(len).ok_or(MmError::InvalidInput)?;
        let end = start.checked_add(len).ok_or(MmError::InvalidInput)?;
        if end > self.layout.end {
            return Err(MmError::InvalidInput);
        }
        self.check_split_points(start, end)?;
        // Splitting a VMA in the middle adds one: refused once the count is
        // at vm.max_map_count (mm/vma.c vms_gather_munmap_vmas).
        if let Some(vma) = self.vmas.find(start)
            && vma.start < start
            && end < vma.end
            && self.vmas.len() >= super::max_map_count()
        {
            return Err(MmError::NoMemory);
        }
        let removed = self.vmas.remove_range(start, end);
        self.uffd_forget(start, end);
        if removed.is_empty() {
            return Ok(());
        }
        // Frames go back only after the remote flush (see unmap_pages).
        let mut unmapped = alloc::vec::Vec::with_capacity(removed.len());
        for vma in &removed {
            let mut pages = alloc::vec::Vec::new();
            self.unmap_pages(vma.start, vma.end, &mut pages);
            unmapped.push(pages);
            self.mapped_len -= vma.len();
            self.touch(vma);
        }
        self.flusher.flush_range_remote(start, end);
        for (vma, pages) in removed.iter().zip(unmapped) {
            for (va, paddr) in pages {
                super::release_entry(vma, va, paddr);
            }
        }
        Ok(())
    }
}

impl AddrSpace {
    /// The unit the mapping at `addr` splits in (the huge page size for a
    /// hugetlb mapping, else a page).
    pub(super) fn granule_at(&self, addr: usize) -> usize {
        self.vmas
            .find(addr)
            .and_then(|vma| vma.object.as_ref())
            .map_or(PAGE_SIZE, |object| object.granule())
    }

    /// EINVAL if `start` or `end` would split a mapping at a point that is
    /// not a multiple of its granule (mm/hugetlb.c hugetlb_vm_op_split).
    pub(super) fn check_split_points(&self, start: usize, end: usize) -> MmResult<()> {
        for point in [start, end] {
            if let Some(vma) = self.vmas.find(point)
                && vma.start < point
                && !point.is_multiple_of(self.granule_at(point))
            {
                return Err(MmError::InvalidInput);
            }
        }
        Ok(())
    }
}
