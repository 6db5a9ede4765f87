//! Memory objects: what shared mappings map.
//!
//! A shared VMA maps pages of a [`MemObject`]: a tmpfs file (its pages are
//! the file's data, so read(2), write(2) and every mapping see the same
//! bytes), or the [`AnonObject`] behind a `MAP_SHARED | MAP_ANONYMOUS`
//! mapping. Each page-table entry holds its own reference on the frame it
//! maps, so a page the object drops (truncate) stays valid while mapped.

use alloc::{collections::BTreeMap, sync::Arc};

use ax_hal::mem::PhysAddr;
use ax_sync::SpinLock;

use crate::frame::FrameRef;

/// Why an object has no page for a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFault {
    /// The page lies at or beyond the object's end (SIGBUS).
    Beyond,
    /// No memory (or the object's size limit) for a new page.
    NoMemory,
}

/// Something a shared mapping maps.
pub trait MemObject: Send + Sync {
    /// The frame of page `index`, allocating it if the object has a hole
    /// there, with a new reference that the caller's mapping owns (released
    /// with [`crate::frame::put`] when the page is unmapped).
    fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault>;
}

/// The object behind a shared anonymous mapping: zero-filled pages that
/// every process mapping it (after fork) shares.
pub struct AnonObject {
    pages: SpinLock<BTreeMap<u64, FrameRef>>,
    len_pages: u64,
}

impl AnonObject {
    /// An object of `len_pages` pages, none allocated yet.
    pub fn new(len_pages: u64) -> Arc<Self> {
        Arc::new(Self {
            pages: SpinLock::new(BTreeMap::new()),
            len_pages,
        })
    }
}

impl MemObject for AnonObject {
    fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault> {
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
}
