//! Physical frames for user memory, with reference counts for sharing.
//!
//! A frame mapped by exactly one page-table entry has no entry in the share
//! table (count one). Fork shares private pages copy-on-write: both entries
//! are made read-only and the frame's count goes up. The write fault that
//! follows either takes the frame over (count back to one) or copies it.
//! Keeping the common count-one case out of the table keeps the table small.

use ax_alloc::{UsageKind, global_allocator};
pub use ax_hal::mem::PhysAddr;
use ax_hal::mem::{phys_to_virt, virt_to_phys};
use ax_sync::SpinLock;
use hashbrown::HashMap;

use crate::aspace::PAGE_SIZE;

/// Reference counts of frames shared by more than one mapping.
static SHARED: SpinLock<Option<HashMap<usize, usize>>> = SpinLock::new(None);

/// Number of user frames currently allocated (for /proc/meminfo and leak checks).
static ALLOCATED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// The part of memory user frames never take: the kernel's heap, page
/// tables and page cache come from the same pool, and a kernel allocation
/// that fails panics. Without it one program touching more memory than the
/// machine has left the kernel nothing to tear that program down with (its
/// exit allocates). Linux keeps min_free_kbytes back from user allocations
/// for the same reason (mm/page_alloc.c, __zone_watermark_ok). 1/64 of the
/// pool, between 4 MiB and 64 MiB: 16 MiB of 1 GiB.
const RESERVE_FRACTION: usize = 64;
const RESERVE_MIN_PAGES: usize = 4 << 20 >> 12;
const RESERVE_MAX_PAGES: usize = 64 << 20 >> 12;

/// Whether a user frame may be taken without going into the reserve.
fn above_reserve() -> bool {
    let alloc = global_allocator();
    let free = alloc.available_pages();
    let total = free + alloc.used_pages();
    let reserve = (total / RESERVE_FRACTION).clamp(RESERVE_MIN_PAGES, RESERVE_MAX_PAGES);
    free > reserve
}

/// Allocates one zero-filled frame; None when memory is short (only the
/// kernel's reserve is left).
pub fn alloc_zeroed() -> Option<PhysAddr> {
    if !above_reserve() {
        return None;
    }
    let vaddr = global_allocator()
        .alloc_pages(1, PAGE_SIZE, UsageKind::VirtMem)
        .ok()?;
    // SAFETY: the allocator just handed out this page-aligned page, reached
    // through the kernel's linear map; nobody else references it yet.
    unsafe { core::ptr::write_bytes(vaddr as *mut u8, 0, PAGE_SIZE) };
    ALLOCATED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    Some(virt_to_phys(vaddr.into()))
}

/// Allocates a frame holding a copy of `src`; None when memory is short.
pub fn alloc_copy(src: PhysAddr) -> Option<PhysAddr> {
    if !above_reserve() {
        return None;
    }
    let vaddr = global_allocator()
        .alloc_pages(1, PAGE_SIZE, UsageKind::VirtMem)
        .ok()?;
    // SAFETY: `src` is a live user frame (the caller holds a reference) and
    // the destination was just allocated; both are whole pages in the linear
    // map and do not overlap.
    unsafe {
        core::ptr::copy_nonoverlapping(phys_to_virt(src).as_ptr(), vaddr as *mut u8, PAGE_SIZE);
    }
    ALLOCATED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    Some(virt_to_phys(vaddr.into()))
}

/// Adds a reference to a frame (a new mapping shares it).
pub fn get(frame: PhysAddr) {
    let mut shared = SHARED.lock();
    let table = shared.get_or_insert_with(HashMap::new);
    *table.entry(frame.as_usize()).or_insert(1) += 1;
}

/// Drops a reference; frees the frame when the last one goes.
pub fn put(frame: PhysAddr) {
    let last = {
        let mut shared = SHARED.lock();
        let table = shared.get_or_insert_with(HashMap::new);
        match table.get_mut(&frame.as_usize()) {
            Some(count) if *count > 2 => {
                *count -= 1;
                false
            }
            Some(_) => {
                table.remove(&frame.as_usize());
                false
            }
            None => true,
        }
    };
    if last && !crate::hugetlb::release_frame(frame) {
        global_allocator().dealloc_pages(phys_to_virt(frame).as_usize(), 1, UsageKind::VirtMem);
        ALLOCATED.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether the frame is referenced by more than one mapping.
pub fn is_shared(frame: PhysAddr) -> bool {
    SHARED
        .lock()
        .as_ref()
        .is_some_and(|t| t.contains_key(&frame.as_usize()))
}

/// References to a frame: the page-table entries that map it, plus the
/// reference a memory object keeps on a page it holds (one for a frame that
/// is not in the share table, which includes frames the table never saw,
/// such as page-cache pages).
pub fn ref_count(frame: PhysAddr) -> usize {
    SHARED
        .lock()
        .as_ref()
        .and_then(|t| t.get(&frame.as_usize()).copied())
        .unwrap_or(1)
}

/// Number of user frames allocated right now.
pub fn allocated() -> usize {
    ALLOCATED.load(core::sync::atomic::Ordering::Relaxed)
}

/// Number of pages memory objects hold (tmpfs file data, shared anonymous
/// memory): /proc/meminfo's Shmem.
static OBJECT_PAGES: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Pages held by memory objects right now (each [`FrameRef`] is one).
pub fn object_pages() -> usize {
    OBJECT_PAGES.load(core::sync::atomic::Ordering::Relaxed)
}

/// An owned reference to a user frame: dropping it drops the reference.
///
/// Memory objects (tmpfs pages, shared anonymous memory) keep their pages as
/// `FrameRef`s; every page-table entry that maps the frame holds a reference
/// of its own ([`FrameRef::share`]), so a page outlives the object's copy
/// while it is still mapped. Contents are accessed only through copies by
/// raw pointer, since user space may write the frame at any time.
pub struct FrameRef(PhysAddr);

impl FrameRef {
    /// Allocates a zero-filled frame.
    pub fn alloc_zeroed() -> Option<Self> {
        let frame = alloc_zeroed().map(Self)?;
        OBJECT_PAGES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Some(frame)
    }

    /// Takes over `frame`, one frame of a huge page just handed out by the
    /// pool ([`crate::hugetlb`]), as an object page.
    pub(crate) fn adopt(frame: PhysAddr) -> Self {
        OBJECT_PAGES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Self(frame)
    }

    /// Physical address of the frame.
    pub fn paddr(&self) -> PhysAddr {
        self.0
    }

    /// A new reference for one more mapping of the frame; whoever maps it
    /// releases it with [`put`].
    pub fn share(&self) -> PhysAddr {
        get(self.0);
        self.0
    }

    fn range_ptr(&self, offset: usize, len: usize) -> *mut u8 {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= PAGE_SIZE),
            "frame access out of bounds"
        );
        // SAFETY: `offset + len <= PAGE_SIZE` was checked, so the pointer
        // stays inside this frame's linear-map page.
        unsafe { phys_to_virt(self.0).as_mut_ptr().add(offset) }
    }

    /// Copies `dst.len()` bytes starting at `offset` out of the frame.
    pub fn read(&self, offset: usize, dst: &mut [u8]) {
        let src = self.range_ptr(offset, dst.len());
        // SAFETY: `src` covers `dst.len()` bytes of this frame, which stays
        // allocated while `self` holds a reference; the regions are distinct.
        unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
    }

    /// Copies `src` into the frame at `offset`.
    pub fn write(&self, offset: usize, src: &[u8]) {
        let dst = self.range_ptr(offset, src.len());
        // SAFETY: as in `read`, with the roles swapped.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
    }

    /// Sets `len` bytes at `offset` to zero.
    pub fn zero(&self, offset: usize, len: usize) {
        let dst = self.range_ptr(offset, len);
        // SAFETY: `dst` covers `len` bytes of this frame.
        unsafe { core::ptr::write_bytes(dst, 0, len) };
    }
}

impl Drop for FrameRef {
    fn drop(&mut self) {
        OBJECT_PAGES.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
        put(self.0);
    }
}
