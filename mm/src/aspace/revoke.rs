//! Live revocation: taking write access to a shared object away from every
//! mapping of it, in every address space, at once.
//!
//! [`revoke_write`] asks the object's registry which live address spaces
//! hold a mapping that may write, then locks each in turn (with the
//! registry unlocked, see the lock order in [`crate::registry`]) and
//! downgrades its mappings of the object ([`AddrSpace::revoke_object_write`]):
//! the VMA loses `PROT_WRITE` and `VM_MAYWRITE` (mprotect can no longer give
//! it back), every present page-table entry of the range becomes read-only,
//! and the TLBs of every CPU that may cache the address space are flushed
//! (the local one by the page-table update, the others through an IPI that
//! completes before the call returns). When [`revoke_write`] returns, no
//! store through any mapping of the object can land.
//!
//! The caller first denies new writable mappings
//! ([`crate::registry::Registry::deny_write`]), so the set of writers only
//! shrinks while the revocation runs.

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, MemObject, Prot};
use crate::registry::with_registry;

impl AddrSpace {
    /// Takes write access away from this address space's mappings of
    /// `object` that may write, found through the object's records of this
    /// address space. Returns how many VMAs changed.
    pub fn revoke_object_write(&mut self, object: &dyn MemObject) -> usize {
        let records = with_registry(object, |registry| registry.records_of(&self.owner));
        let mut changed = 0;
        for r in records {
            // Private mappings never write the object: they keep their
            // copy-on-write rights, as Linux's seals leave them.
            if !r.span.may_write() {
                continue;
            }
            let Some(vma) = self.vmas.find_mut(r.span.start) else {
                continue;
            };
            if !vma.holds(&r.record) {
                continue;
            }
            vma.revoke(Prot::WRITE);
            let (start, end, prot) = (vma.start, vma.end, vma.prot);
            let ro = Self::pte_flags(prot);
            for (va, _) in self.present_pages(start, end) {
                let _ = self.pt.protect_page(VirtAddr::from(va), ro);
            }
            changed += 1;
        }
        if changed > 0 {
            self.flusher.flush_all_remote();
        }
        changed
    }
}

/// Takes write access to `object` away from every mapping in every
/// address space; returns the number of VMAs downgraded.
///
/// Address spaces are locked one at a time with no other lock held, so the
/// call may sleep; it must not be made with an address-space lock held.
pub fn revoke_write(object: &dyn MemObject) -> usize {
    let mut changed = 0;
    // A writer that forked while we worked registered its child's copy
    // before we read the registry again: go on until none is left.
    loop {
        let writers = with_registry(object, |registry| registry.writers());
        if writers.is_empty() {
            break;
        }
        let before = changed;
        for space in &writers {
            space.with_aspace(&mut |aspace| changed += aspace.revoke_object_write(object));
        }
        if changed == before {
            // The remaining writers are address spaces being torn down
            // (their records go with them) or VMAs whose records raced a
            // split: neither can store through the object any more.
            log::debug!("revoke: {} writer(s) left that hold no VMA", writers.len());
            break;
        }
    }
    changed
}
