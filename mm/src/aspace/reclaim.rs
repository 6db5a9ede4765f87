//! A memory object taking one of its pages back from an address space.
//!
//! The page cache may not drop or clean a page while a page-table entry can
//! still reach or write it. Before it truncates or evicts a page, the object
//! unmaps it from every VMA that maps it ([`AddrSpace::unmap_object_page`]);
//! before it writes a dirty page back, it write-protects those entries
//! ([`AddrSpace::protect_object_page`]) so the next store faults and marks
//! the page dirty again. Both run with the address space locked by the
//! object (through [`MappingSpace`](super::MappingSpace)) and flush remote
//! TLBs before returning, so no CPU keeps a stale translation once the
//! object goes on.

use alloc::vec::Vec;

use ax_hal::{
    mem::{PhysAddr, VirtAddr},
    paging::MappingFlags,
};

use super::{AddrSpace, MemObject, Prot};
use crate::registry::with_registry;

impl AddrSpace {
    /// Every `(address, protection)` at which this address space maps page
    /// `index` of `object`, found from the object's records of this address
    /// space (no walk over the VMAs).
    fn object_page_sites(&self, object: &dyn MemObject, index: u64) -> Vec<(usize, Prot)> {
        let records = with_registry(object, |registry| registry.records_of(&self.owner));
        records
            .iter()
            .filter_map(|r| self.vmas.find(r.span.start))
            .filter(|vma| vma.maps(object))
            .filter_map(|vma| vma.address_of(index).map(|va| (va, vma.prot)))
            .collect()
    }

    /// Unmaps page `index` of `object`, whose frame is `frame`, wherever this
    /// address space maps it, giving each entry's reference back to the
    /// object. Returns the number of entries removed.
    pub fn unmap_object_page(
        &mut self,
        object: &dyn MemObject,
        index: u64,
        frame: PhysAddr,
    ) -> usize {
        let mut removed = 0;
        for (va, _) in self.object_page_sites(object, index) {
            let va = VirtAddr::from(va);
            if !matches!(self.pt.query(va), Ok((paddr, _, _)) if paddr == frame) {
                continue;
            }
            if let Ok((paddr, _, _)) = self.pt.unmap_page(va) {
                object.release_frame(index, paddr);
                removed += 1;
            }
        }
        if removed > 0 {
            self.flusher.flush_all_remote();
        }
        removed
    }

    /// Makes every writable entry for page `index` of `object` (frame
    /// `frame`) read-only; the next store faults and reports the write.
    pub fn protect_object_page(&mut self, object: &dyn MemObject, index: u64, frame: PhysAddr) {
        let mut changed = false;
        for (va, prot) in self.object_page_sites(object, index) {
            let va = VirtAddr::from(va);
            let Ok((paddr, flags, _)) = self.pt.query(va) else {
                continue;
            };
            if paddr == frame && flags.contains(MappingFlags::WRITE) {
                let _ = self
                    .pt
                    .protect_page(va, Self::pte_flags(prot - Prot::WRITE));
                changed = true;
            }
        }
        if changed {
            self.flusher.flush_all_remote();
        }
    }
}
