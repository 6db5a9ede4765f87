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
        for vma in &removed {
            self.release_pages(vma);
            self.mapped_len -= vma.len();
            self.touch(vma);
        }
        self.flusher.flush_range_remote(start, end);
        Ok(())
    }
}
