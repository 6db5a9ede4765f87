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

    /// Unmaps the pages `[first, end)` of `object` wherever this address
    /// space maps them: the object's pages, and with `even_cows` the
    /// private copies a private mapping made of them (a truncate discards
    /// both, so an access past the new end raises SIGBUS; a hole punch
    /// leaves private copies alone). Found through the object's records
    /// of this address space. Returns the number of entries removed.
    pub fn unmap_object_range(
        &mut self,
        object: &dyn MemObject,
        first: u64,
        end: u64,
        even_cows: bool,
    ) -> usize {
        let records = with_registry(object, |registry| registry.records_of(&self.owner));
        let mut removed = 0;
        // Released only after the remote flush (see unmap_pages).
        let mut unmapped = alloc::vec::Vec::new();
        for r in records {
            let Some(vma) = self.vmas.find(r.span.start) else {
                continue;
            };
            if !vma.holds(&r.record) {
                continue;
            }
            let vma = vma.detached();
            // The part of the VMA that maps pages [first, end).
            let vma_first = vma.offset / 4096;
            let vma_end = vma_first + (vma.len() / 4096) as u64;
            let lo = first.max(vma_first);
            let hi = end.min(vma_end);
            if lo >= hi {
                continue;
            }
            let start = vma.start + ((lo - vma_first) as usize) * 4096;
            let stop = vma.start + ((hi - vma_first) as usize) * 4096;
            let mut pages = alloc::vec::Vec::new();
            for (va, paddr) in self.present_pages(start, stop) {
                let own = vma.flags.contains(super::VmaFlags::SHARED)
                    || object.owns_frame(vma.object_index(va), paddr);
                if !own && !even_cows {
                    continue;
                }
                if let Ok((paddr, _, _)) = self.pt.unmap_page(VirtAddr::from(va)) {
                    pages.push((va, paddr));
                    removed += 1;
                }
            }
            if !pages.is_empty() {
                unmapped.push((vma, pages));
            }
        }
        if removed > 0 {
            self.flusher.flush_all_remote();
        }
        for (vma, pages) in unmapped {
            for (va, paddr) in pages {
                super::release_entry(&vma, va, paddr);
            }
        }
        removed
    }
}

/// Unmaps pages `[first, end)` of `object` from every address space that
/// maps it (see [`AddrSpace::unmap_object_range`]). The object has already
/// stopped handing those pages out, so no new entry can appear; an address
/// space that starts mapping the object meanwhile (a fork) is picked up by
/// another pass. Called with no address-space lock held.
pub fn unmap_object_pages(object: &dyn MemObject, first: u64, end: u64, even_cows: bool) {
    let mut seen: Vec<alloc::sync::Arc<dyn super::MappingSpace>> = Vec::new();
    loop {
        let owners = super::owners(object);
        let fresh: Vec<_> = owners
            .into_iter()
            .filter(|o| !seen.iter().any(|s| alloc::sync::Arc::ptr_eq(s, o)))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for space in &fresh {
            space.with_aspace(&mut |aspace| {
                aspace.unmap_object_range(object, first, end, even_cows);
            });
        }
        seen.extend(fresh);
    }
}
