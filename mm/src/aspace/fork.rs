//! fork: duplicating an address space with copy-on-write sharing.

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, PAGE_SIZE, Prot, VmaFlags};
use crate::{MmResult, frame};

impl AddrSpace {
    /// Creates the child's copy of this address space.
    ///
    /// Shared VMAs share frames outright; the child's entry takes its own
    /// reference through the object, and starts read-only when the object
    /// tracks dirty pages (the child's first store must be recorded too).
    /// Private pages are shared copy-on-write: both page tables map the frame
    /// read-only and its reference count goes up; the first write in either
    /// process copies it.
    ///
    /// The owner registers the child with the objects it maps
    /// ([`AddrSpace::objects`]) once it can be locked; until then an object
    /// that needs these entries back sees them in its reference counts and
    /// waits.
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
            if vma.flags.contains(VmaFlags::DONTFORK) {
                // dup_mmap: VM_DONTCOPY VMAs are not copied nor counted.
                child.mapped_len -= vma.len();
                continue;
            }
            // In the child's set first: if a later page fails, dropping the
            // child gives back the references of the pages mapped so far.
            let _ = child.vmas.insert(vma.clone());
            if vma.flags.contains(VmaFlags::WIPEONFORK) {
                // dup_mmap: the child's VMA starts empty (zero pages).
                continue;
            }
            let shared = vma.flags.contains(VmaFlags::SHARED);
            let flags = Self::pte_flags(vma.prot);
            let ro = Self::pte_flags(vma.prot - Prot::WRITE);
            let tracked = vma.object.as_ref().is_some_and(|o| o.tracks_dirty());
            for (page, paddr) in self.present_pages(vma.start, vma.end) {
                let va = VirtAddr::from(page);
                match &vma.object {
                    Some(object) => object.share_frame(vma.object_index(page), paddr),
                    None => frame::get(paddr),
                }
                let child_flags = if shared && !tracked {
                    flags
                } else {
                    if !shared && vma.prot.contains(Prot::WRITE) {
                        let _ = self.pt.protect_page(va, ro);
                    }
                    ro
                };
                if child
                    .pt
                    .map_page(va, paddr, PAGE_SIZE, child_flags)
                    .is_err()
                {
                    match &vma.object {
                        Some(object) => object.release_frame(vma.object_index(page), paddr),
                        None => frame::put(paddr),
                    }
                    return Err(crate::MmError::NoMemory);
                }
            }
        }
        child.forget_locks();
        self.flusher.flush_all_remote();
        Ok(child)
    }
}
