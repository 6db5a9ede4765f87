//! fork: duplicating an address space with copy-on-write sharing.

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, PAGE_SIZE, Prot, UserVma, VmaFlags};
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
    /// `child` is a new, empty address space whose owner is set: the child's
    /// shared VMAs are registered with their objects as its mappings as
    /// they are copied, so the registries stay exact. An object that needs
    /// a page back meanwhile finds the child's entries in its reference
    /// counts and waits for the child's lock.
    pub fn fork_into(&mut self, child: &mut AddrSpace) -> MmResult<()> {
        if !child.vmas.is_empty() {
            return Err(crate::MmError::InvalidInput);
        }
        let owner = child.owner.clone();
        child.heap_start = self.heap_start;
        child.heap_end = self.heap_end;
        // kernel/fork.c dup_mmap: the child starts with the parent's total
        // and its high-water mark.
        child.mapped_len = self.mapped_len;
        child.peak_len = self.mapped_len;
        let vmas: alloc::vec::Vec<_> = self.vmas.iter().map(UserVma::detached).collect();
        for vma in vmas {
            if vma.flags.contains(VmaFlags::DONTFORK) {
                // dup_mmap: VM_DONTCOPY VMAs are not copied nor counted.
                child.mapped_len -= vma.len();
                continue;
            }
            // In the child's set first: if a later page fails, dropping the
            // child gives back the references of the pages mapped so far.
            let Some(original) = self.vmas.find(vma.start) else {
                continue;
            };
            let copy = original.fork_copy(&owner);
            child.touch(&copy);
            let _ = child.vmas.insert(copy);
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
                // A private file mapping's entry is the object's page or a
                // private copy; the copy is shared copy-on-write like
                // anonymous memory, the object's page as the object says.
                let object = match &vma.object {
                    Some(o) if shared || o.owns_frame(vma.object_index(page), paddr) => Some(o),
                    _ => None,
                };
                match object {
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
                    match object {
                        Some(object) => object.release_frame(vma.object_index(page), paddr),
                        None => frame::put(paddr),
                    }
                    return Err(crate::MmError::NoMemory);
                }
            }
        }
        child.forget_locks();
        self.flusher.flush_all_remote();
        Ok(())
    }
}
