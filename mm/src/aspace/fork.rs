//! fork: duplicating an address space with copy-on-write sharing.

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, PAGE_SIZE, Prot, VmaFlags};
use crate::{MmResult, frame};

impl AddrSpace {
    /// Creates the child's copy of this address space.
    ///
    /// Shared VMAs share frames outright. Private pages are shared
    /// copy-on-write: both page tables map the frame read-only and its
    /// reference count goes up; the first write in either process copies it.
    pub fn fork(&mut self) -> MmResult<AddrSpace> {
        let mut child = AddrSpace::new(self.layout)?;
        child.heap_start = self.heap_start;
        child.heap_end = self.heap_end;
        // kernel/fork.c dup_mmap: the child starts with the parent's total
        // and its high-water mark.
        child.mapped_len = self.mapped_len;
        child.peak_len = self.mapped_len;
        let vmas: alloc::vec::Vec<_> = self.vmas.iter().cloned().collect();
        for vma in vmas {
            let shared = vma.flags.contains(VmaFlags::SHARED);
            let flags = Self::pte_flags(vma.prot);
            let ro = Self::pte_flags(vma.prot - Prot::WRITE);
            for (page, paddr) in self.present_pages(vma.start, vma.end) {
                let va = VirtAddr::from(page);
                frame::get(paddr);
                let child_flags = if shared {
                    flags
                } else {
                    if vma.prot.contains(Prot::WRITE) {
                        let _ = self.pt.protect_page(va, ro);
                    }
                    ro
                };
                if child
                    .pt
                    .map_page(va, paddr, PAGE_SIZE, child_flags)
                    .is_err()
                {
                    frame::put(paddr);
                    return Err(crate::MmError::NoMemory);
                }
            }
            let _ = child.vmas.insert(vma);
        }
        self.flusher.flush_all_remote();
        Ok(child)
    }
}
