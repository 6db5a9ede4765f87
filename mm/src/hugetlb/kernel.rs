//! The kernel's huge-page pool: blocks from the frame allocator, handed out
//! as 512 frame references each.
//!
//! Lock order: `POOL` may call into the frame allocator while held; `LIVE`
//! is taken alone (from `frame::put`), never with `POOL`.

use alloc::{collections::BTreeMap, sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicBool, Ordering};

use ax_alloc::{UsageKind, global_allocator};
use ax_hal::mem::{PhysAddr, phys_to_virt, virt_to_phys};
use ax_sync::SpinLock;

use super::{BlockSource, Counters, HPAGE_PAGES, HPAGE_SIZE, Pool};
use crate::frame::FrameRef;

/// The pool; blocks are physical base addresses.
static POOL: SpinLock<Pool<usize>> = SpinLock::new(Pool::new());
/// Blocks handed out, with the number of their frames still referenced.
static LIVE: SpinLock<BTreeMap<usize, usize>> = SpinLock::new(BTreeMap::new());
/// Whether any block was ever handed out (keeps `frame::put` cheap until
/// then).
static ANY_LIVE: AtomicBool = AtomicBool::new(false);

/// Blocks straight from the frame allocator.
struct Frames;

impl BlockSource<usize> for Frames {
    fn alloc(&mut self) -> Option<usize> {
        let vaddr = global_allocator()
            .alloc_pages(HPAGE_PAGES, HPAGE_SIZE, UsageKind::VirtMem)
            .ok()?;
        Some(virt_to_phys(vaddr.into()).as_usize())
    }

    fn free(&mut self, block: usize) {
        global_allocator().dealloc_pages(
            phys_to_virt(PhysAddr::from(block)).as_usize(),
            HPAGE_PAGES,
            UsageKind::VirtMem,
        );
    }
}

/// The pool's counters.
pub fn counters() -> Counters {
    POOL.lock().counters()
}

/// Writes `nr_hugepages`; returns what the pool reached.
pub fn set_nr_hugepages(count: usize) -> usize {
    POOL.lock().set_persistent(count, &mut Frames)
}

/// Writes `nr_overcommit_hugepages`.
pub fn set_overcommit(count: usize) {
    POOL.lock().set_overcommit(count);
}

/// Promises `n` huge pages; false if the pool cannot.
pub fn reserve(n: usize) -> bool {
    n == 0 || POOL.lock().reserve(n, &mut Frames)
}

/// Takes back a promise of `n` huge pages.
pub fn unreserve(n: usize) {
    if n > 0 {
        POOL.lock().unreserve(n, &mut Frames);
    }
}

/// A promise of huge pages that lasts as long as the value (a private
/// hugetlb mapping holds one, shared by the pieces it is split into).
pub struct Reservation {
    pages: usize,
}

impl Reservation {
    /// Reserves `pages` huge pages, or `None` if the pool cannot.
    pub fn new(pages: usize) -> Option<Arc<Self>> {
        reserve(pages).then(|| Arc::new(Self { pages }))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        unreserve(self.pages);
    }
}

/// One huge page for a hugetlb file, zero-filled, as its 512 frames in
/// order; `reserved` consumes a promise made earlier. `None` if the pool
/// has no page to give.
pub fn alloc_block(reserved: bool) -> Option<Vec<FrameRef>> {
    let mut frames = Vec::new();
    frames.try_reserve_exact(HPAGE_PAGES).ok()?;
    let Some(base) = POOL.lock().take(reserved, &mut Frames) else {
        if reserved {
            // The promise is spent either way.
            log::warn!("hugetlb: a reserved huge page was missing from the pool");
        }
        return None;
    };
    // SAFETY: the block was just taken off the free list (or allocated):
    // nobody else maps or references it; it is HPAGE_SIZE bytes of the
    // linear map.
    unsafe {
        core::ptr::write_bytes(
            phys_to_virt(PhysAddr::from(base)).as_mut_ptr(),
            0,
            HPAGE_SIZE,
        )
    };
    LIVE.lock().insert(base, HPAGE_PAGES);
    ANY_LIVE.store(true, Ordering::Release);
    for i in 0..HPAGE_PAGES {
        frames.push(FrameRef::adopt(PhysAddr::from(base + i * 4096)));
    }
    Some(frames)
}

/// Called by `frame::put` for a frame whose last reference went: true if
/// the frame belongs to a huge page (and is accounted here), false if the
/// caller frees it as an ordinary frame.
pub(crate) fn release_frame(frame: PhysAddr) -> bool {
    if !ANY_LIVE.load(Ordering::Acquire) {
        return false;
    }
    let base = frame.as_usize() & !(HPAGE_SIZE - 1);
    let emptied = {
        let mut live = LIVE.lock();
        let Some(count) = live.get_mut(&base) else {
            return false;
        };
        *count -= 1;
        let emptied = *count == 0;
        if emptied {
            live.remove(&base);
        }
        emptied
    };
    if emptied {
        POOL.lock().give_back(base, &mut Frames);
    }
    true
}
