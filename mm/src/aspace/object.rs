//! Memory objects: what shared mappings map.
//!
//! A shared VMA maps pages of a [`MemObject`]: a tmpfs file (its pages are
//! the file's data, so read(2), write(2) and every mapping see the same
//! bytes), a file's page-cache pages (ext4 and the other file systems behind
//! ax-fs-ng's page cache), or the [`AnonObject`] behind a
//! `MAP_SHARED | MAP_ANONYMOUS` mapping.
//!
//! # Frame references
//!
//! Each page-table entry that maps an object's page holds one reference,
//! taken by [`MemObject::frame`] (a fault) or [`MemObject::share_frame`]
//! (fork) and given back with [`MemObject::release_frame`] (unmap, exit).
//! Objects whose pages are user frames ([`crate::frame`]) count them in the
//! frame table, so a page the object drops (truncate) stays valid while
//! mapped. Objects whose pages belong to someone else (the page cache) keep
//! their own count instead and never let [`crate::frame::put`] free them.
//!
//! # The registry
//!
//! Every object keeps the [`ObjectRegistry`] of the shared VMAs that map it
//! ([`crate::registry`]), lent out through [`Host::lock_registry`]. Each
//! shared VMA holds its record ([`ShareRegistration`]), so the registry
//! knows, without visiting any address space, which address spaces map the
//! object where and whether any of them may write.
//!
//! # Taking pages back
//!
//! An object that must take a page back from its mappings (the page cache
//! evicting or truncating a page, or write-protecting it before writeback)
//! visits every address space its registry names ([`owners`]), and calls
//! [`AddrSpace::unmap_object_page`] or [`AddrSpace::protect_object_page`]
//! with that address space locked; those find the page's addresses from the
//! address space's own records. Objects that track dirty pages
//! ([`MemObject::tracks_dirty`]) are mapped read-only until the first write
//! fault, which reports the write through [`MemObject::mark_dirty`].

use alloc::{collections::BTreeMap, sync::Arc, vec::Vec};

use ax_hal::mem::PhysAddr;
use ax_sync::SpinLock;

use super::AddrSpace;
use crate::{
    MmError, MmResult,
    frame::{self, FrameRef},
    registry::{Host, Registration, Registry, with_registry},
};

/// The registry of an object's shared mappings.
pub type ObjectRegistry = Registry<dyn MappingSpace>;

/// A shared VMA's record in its object's registry.
pub type ShareRegistration = Registration<dyn MappingSpace>;

/// The live address spaces that map `object` shared, each once. Taken
/// from the registry alone; the caller locks them one at a time, with the
/// registry unlocked.
pub fn owners(object: &dyn MemObject) -> Vec<Arc<dyn MappingSpace>> {
    with_registry(object, |registry| registry.owners(false))
}

/// Why an object has no page for a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFault {
    /// The page lies at or beyond the object's end (SIGBUS).
    Beyond,
    /// No memory (or the object's size limit) for a new page.
    NoMemory,
    /// The object is changing its layout (truncate, eviction, writeback):
    /// release the address space and try again.
    Busy,
    /// Reading the page from its backing store failed (SIGBUS, as Linux's
    /// `VM_FAULT_SIGBUS` for a failed read in filemap_fault).
    Io,
}

/// An address space as the objects it maps see it: something they can lock
/// to take their pages back.
pub trait MappingSpace: Send + Sync {
    /// Runs `f` with the address space locked.
    fn with_aspace(&self, f: &mut dyn FnMut(&mut AddrSpace));

    /// The process the address space belongs to (the one that created it;
    /// 0 if none yet), for "who maps this" answers.
    fn pid(&self) -> i32 {
        0
    }
}

/// One mapping of an object, with the process that holds it.
#[derive(Clone, Copy, Debug)]
pub struct Holder {
    /// The process (see [`MappingSpace::pid`]).
    pub pid: i32,
    /// Where and how it maps the object.
    pub span: crate::registry::Span,
}

/// Every mapping of `object` whose address space is alive, with the pid
/// that holds it, in registration order (for fdinfo and debugging).
pub fn holders(object: &dyn MemObject) -> Vec<Holder> {
    let records = with_registry(object, |registry| registry.records());
    records
        .into_iter()
        .filter_map(|r| {
            let owner = r.owner.upgrade()?;
            Some(Holder {
                pid: owner.pid(),
                span: r.span,
            })
        })
        .collect()
}

/// Something a shared mapping maps. It keeps the registry of the VMAs that
/// map it (the [`Host`] supertrait).
pub trait MemObject: Host<dyn MappingSpace> + Send + Sync {
    /// The frame of page `index`, allocating it if the object has a hole
    /// there, with a new reference that the caller's mapping owns (given back
    /// with [`MemObject::release_frame`] when the page is unmapped).
    fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault>;

    /// The frame of page `index` for a private mapping's read fault, with a
    /// reference the mapping owns; `None` if the object has no page there
    /// and the private mapping is to get a zeroed page of its own (hugetlb
    /// files). By default the object's page, allocated if need be.
    fn private_frame(&self, index: u64) -> Result<Option<PhysAddr>, ObjectFault> {
        self.frame(index).map(Some)
    }

    /// The unit mappings of the object are made, split and unmapped in:
    /// a range boundary inside a mapping must be a multiple of it (hugetlb
    /// files: the huge page size; munmap/mprotect elsewhere are EINVAL).
    fn granule(&self) -> usize {
        super::PAGE_SIZE
    }

    /// One more mapping of `frame`, page `index` of this object (fork copies
    /// a present page table entry).
    fn share_frame(&self, _index: u64, frame: PhysAddr) {
        frame::get(frame);
    }

    /// A mapping of `frame`, page `index`, went away.
    fn release_frame(&self, _index: u64, frame: PhysAddr) {
        frame::put(frame);
    }

    /// Whether `frame` is the object's page `index` as a mapping holds it
    /// (taken by [`MemObject::frame`] or [`MemObject::share_frame`]). A
    /// private mapping asks to tell the object's pages from its own
    /// copies.
    fn owns_frame(&self, index: u64, frame: PhysAddr) -> bool;

    /// How many page-table entries map `frame` (page `index`), for objects
    /// that count them themselves (the page cache); `None`: the frame's
    /// reference count tells, less the object's own reference.
    fn map_count(&self, _index: u64, _frame: PhysAddr) -> Option<usize> {
        None
    }

    /// Whether the object must hear of the first write to each page: its
    /// pages are then mapped read-only until a write fault calls
    /// [`MemObject::mark_dirty`].
    fn tracks_dirty(&self) -> bool {
        false
    }

    /// Records that page `index` is about to be written through a mapping.
    fn mark_dirty(&self, _index: u64) -> Result<(), ObjectFault> {
        Ok(())
    }

    /// Writes the dirty pages of `[first, end)` back to the backing store
    /// (msync). Called without any address-space lock held.
    fn writeback(&self, _first: u64, _end: u64) -> Result<(), ObjectFault> {
        Ok(())
    }

    /// Makes room for new pages after [`ObjectFault::Busy`] persisted.
    /// Called without any address-space lock held.
    fn relieve(&self) {}

    /// Whether the object holds page `index` in memory (mincore asks the
    /// object, not the page table, as Linux asks the page cache); `None`
    /// if the object cannot tell, and the page table answers.
    fn is_resident(&self, _index: u64) -> Option<bool> {
        None
    }

    /// Frees the object's pages of `[offset, offset + len)` bytes, which
    /// read as zeros afterwards (MADV_REMOVE: fallocate's PUNCH_HOLE |
    /// KEEP_SIZE). Called without any address-space lock held.
    fn punch_hole(&self, _offset: u64, _len: u64) -> MmResult<()> {
        Err(MmError::NotSupported)
    }
}

/// The pages of an anonymous shared object (shared anonymous memory,
/// System V segments): zero-filled, allocated at the first fault, kept as
/// [`FrameRef`]s until a hole punch or the object's end.
pub struct AnonPages {
    pages: SpinLock<BTreeMap<u64, FrameRef>>,
    len_pages: u64,
}

impl AnonPages {
    /// `len_pages` pages, none allocated yet.
    pub fn new(len_pages: u64) -> Self {
        Self {
            pages: SpinLock::new(BTreeMap::new()),
            len_pages,
        }
    }

    /// The object's size in pages.
    pub fn len_pages(&self) -> u64 {
        self.len_pages
    }

    /// Pages allocated so far.
    pub fn resident(&self) -> u64 {
        self.pages.lock().len() as u64
    }

    /// [`MemObject::frame`]: page `index`, allocated if new.
    pub fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault> {
        if index >= self.len_pages {
            return Err(ObjectFault::Beyond);
        }
        let mut pages = self.pages.lock();
        if let Some(page) = pages.get(&index) {
            return Ok(page.share());
        }
        let page = FrameRef::alloc_zeroed().ok_or(ObjectFault::NoMemory)?;
        let paddr = page.share();
        pages.insert(index, page);
        Ok(paddr)
    }

    /// [`MemObject::owns_frame`].
    pub fn owns_frame(&self, index: u64, frame: PhysAddr) -> bool {
        self.pages
            .lock()
            .get(&index)
            .is_some_and(|page| page.paddr() == frame)
    }

    /// Whether page `index` is allocated.
    pub fn is_resident(&self, index: u64) -> bool {
        self.pages.lock().contains_key(&index)
    }

    /// [`MemObject::punch_hole`] for `object`, whose pages these are: the
    /// whole pages of `[offset, offset + len)` leave the object (a new fault
    /// gets a zero page), then every mapping of them, found through the
    /// registry, as shmem's hole punch unmaps them (private copies stay).
    pub fn punch_hole(&self, object: &dyn MemObject, offset: u64, len: u64) {
        let first = offset / 4096;
        let end = offset.saturating_add(len) / 4096;
        let removed = {
            let mut pages = self.pages.lock();
            let mut middle = pages.split_off(&first);
            let mut tail = middle.split_off(&end);
            pages.append(&mut tail);
            middle
        };
        if removed.is_empty() {
            return;
        }
        super::reclaim::unmap_object_pages(object, first, end, false);
        // The frames go after the mappings (an entry still holds each).
        drop(removed);
    }
}

/// The object behind a shared anonymous mapping: zero-filled pages that
/// every process mapping it (after fork) shares.
pub struct AnonObject {
    pages: AnonPages,
    registry: SpinLock<ObjectRegistry>,
}

impl AnonObject {
    /// An object of `len_pages` pages, none allocated yet.
    pub fn new(len_pages: u64) -> Arc<Self> {
        Arc::new(Self {
            pages: AnonPages::new(len_pages),
            registry: SpinLock::new(ObjectRegistry::new()),
        })
    }
}

impl Host<dyn MappingSpace> for AnonObject {
    fn lock_registry(&self, f: &mut dyn FnMut(&mut ObjectRegistry)) {
        f(&mut self.registry.lock());
    }
}

impl MemObject for AnonObject {
    fn owns_frame(&self, index: u64, frame: PhysAddr) -> bool {
        self.pages.owns_frame(index, frame)
    }

    fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault> {
        self.pages.frame(index)
    }

    fn is_resident(&self, index: u64) -> Option<bool> {
        Some(self.pages.is_resident(index))
    }

    /// Whole pages only: madvise passes page-aligned ranges.
    fn punch_hole(&self, offset: u64, len: u64) -> MmResult<()> {
        self.pages.punch_hole(self, offset, len);
        Ok(())
    }
}
