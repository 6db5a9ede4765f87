//! Shared mappings of page-cache files (ext4 and every other file system
//! ax-fs-ng puts its page cache in front of).
//!
//! A [`CachedFileObject`] is the [`MemObject`] a `MAP_SHARED` mapping of such
//! a file maps. There is one per cached file (per [`CachedFileIdentity`],
//! found through a registry), shared by every VMA of every process mapping
//! the file, and it maps the page-cache pages themselves: a store through a
//! mapping is what read(2) returns, and write(2) changes what every mapping
//! sees, at once.
//!
//! # Keeping mapped pages in the cache
//!
//! The object is the file's ax-fs-ng mapping endpoint
//! ([`CacheMappingEndpoint`], installed when the object is created and live
//! as long as any VMA holds the object). While an endpoint is live the cache
//! never drops a page on its own: capacity eviction and memory-pressure
//! reclaim leave the file alone, and truncate, hole punching and explicit
//! invalidation first publish [`CacheMappingEvent::Evict`] for each page they
//! are about to drop. The object answers by unmapping the page from every
//! address space that maps it and reports [`CacheMappingResult::Retired`]
//! only once no page-table entry holds the page any more (its own count of
//! entries per page, kept in `mapped`, is zero); otherwise it reports
//! `Busy` and the cache keeps the page. A fault pins the page
//! ([`CachedFile::pin_page_or_insert`]) only while it takes its reference,
//! with the faulting address space locked, so an eviction either sees the
//! pin and backs off or waits for that lock and finds the new entry.
//!
//! # Dirty pages and writeback
//!
//! The object tracks dirty pages: a page is mapped read-only until the first
//! store, whose fault marks the cache page dirty
//! ([`CachedFile::mark_mmap_dirty_page`]) before the entry becomes
//! writable. Before the cache writes a dirty page back it publishes
//! [`CacheMappingEvent::WritebackProtect`]; the object write-protects the
//! page everywhere, so a later store faults and dirties the page again.
//! Dirty pages are written back by msync ([`MemObject::writeback`]), fsync,
//! sync(2), ax-fs-ng's periodic writeback and at shutdown; munmap and exit
//! only drop the mappings (Linux's munmap does not write back either).
//!
//! # Locks
//!
//! `registry` and `mapped` are spin locks held for bookkeeping only, never
//! across file I/O, a page-cache call or an address-space lock. The cache
//! calls [`CacheMappingEndpoint::publish`] without its own locks (a truncate
//! may hold the file's layout lock); the object then takes the address-space
//! locks one at a time. Nothing holding an address-space lock waits for a
//! truncate or writeback: the fault path gets `ResourceBusy` from the cache
//! and retries after releasing the address space ([`back_off`]).

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
};

use ax_fs_ng::vfs::{
    CacheMappingEndpoint, CacheMappingEvent, CacheMappingResult, CachedFile, CachedFileIdentity,
};
use ax_sync::{Mutex, SpinLock};
use axfs_ng_vfs::{FileRangeOperation, VfsError, VfsResult};
use starling_mm::{
    MmError, MmResult,
    aspace::{MappingSpace, MemObject, ObjectFault, ObjectRegistry, PAGE_SIZE, owners},
    frame::PhysAddr,
    registry::Host,
};

/// How often a busy page cache is retried before the caller gives up
/// (about two seconds with [`back_off`]).
pub const BUSY_ATTEMPTS: u32 = 2000;

/// After how many busy attempts the caller asks the cache to make room.
pub const RELIEVE_AFTER: u32 = 8;

/// Waits before retrying an operation the page cache refused as busy: a
/// few yields (a truncate or writeback in progress on another CPU finishes
/// quickly), then 1 ms sleeps (it may be waiting for the disk).
pub fn back_off(attempt: u32) {
    if attempt < 16 {
        let _ = ax_task::thread::current::yield_current_cpu();
    } else {
        let queue = ax_task::sync::WaitQueue::new();
        queue.wait_timeout_until(core::time::Duration::from_millis(1), || false);
    }
}

/// Writes dirty pages back and drops the clean ones of a file whose cache
/// is full while mapped, unmapping them first, so that new pages fit.
pub fn relieve(cache: &CachedFile) {
    if let Err(e) = cache.pageout_pages(0, u32::MAX) {
        log::debug!("page cache: pageout failed: {e:?}");
    }
}

/// The page-table entries mapping one page of the file.
struct MappedPage {
    frame: PhysAddr,
    entries: usize,
}

/// The memory object of one page-cache file.
pub struct CachedFileObject {
    cache: CachedFile,
    identity: CachedFileIdentity,
    /// The shared VMAs that map the file.
    registry: SpinLock<ObjectRegistry>,
    /// Mapped pages by page number, with their number of entries.
    mapped: SpinLock<BTreeMap<u32, MappedPage>>,
}

/// The live objects by cached file. A sleeping lock: creating an object
/// installs it as the cache's endpoint, which takes a sleeping lock too.
static OBJECTS: Mutex<BTreeMap<CachedFileIdentity, Weak<CachedFileObject>>> =
    Mutex::new(BTreeMap::new());

impl CachedFileObject {
    /// The object of `cache`'s file, created (and installed as its mapping
    /// endpoint) on first use.
    pub fn of(cache: &CachedFile) -> VfsResult<Arc<Self>> {
        let identity = cache.identity();
        let mut objects = OBJECTS.lock();
        objects.retain(|_, object| object.strong_count() > 0);
        if let Some(object) = objects.get(&identity).and_then(Weak::upgrade) {
            return Ok(object);
        }
        let object = Arc::new(Self {
            cache: cache.clone(),
            identity,
            registry: SpinLock::new(ObjectRegistry::new()),
            mapped: SpinLock::new(BTreeMap::new()),
        });
        let endpoint: Arc<dyn CacheMappingEndpoint> = object.clone();
        cache.install_mapping_endpoint(&endpoint)?;
        objects.insert(identity, Arc::downgrade(&object));
        Ok(object)
    }

    /// Whether some page-table entry still maps page `pn`.
    fn is_mapped(&self, pn: u32) -> bool {
        self.mapped.lock().get(&pn).is_some_and(|p| p.entries > 0)
    }

    /// Runs `f` on every address space that may map the file, each locked
    /// in turn. The strong references are dropped after the loop, outside
    /// every address-space lock (dropping the last one frees the space).
    fn for_each_space(&self, mut f: impl FnMut(&mut starling_mm::aspace::AddrSpace)) {
        let spaces = owners(self);
        for space in &spaces {
            space.with_aspace(&mut f);
        }
        drop(spaces);
    }

    fn evict(&self, pn: u32, frame: PhysAddr) -> CacheMappingResult {
        self.for_each_space(|aspace| {
            aspace.unmap_object_page(self, u64::from(pn), frame);
        });
        // An entry the loop could not reach (an address space being torn
        // down, or a fork child not registered yet) still holds the page:
        // the cache keeps it and the caller retries.
        if self.is_mapped(pn) {
            CacheMappingResult::Busy
        } else {
            CacheMappingResult::Retired
        }
    }

    fn protect(&self, pn: u32, frame: PhysAddr) -> CacheMappingResult {
        // Unreachable entries are read-only: fork maps tracked pages
        // read-only in the child, and a dying address space runs no code.
        self.for_each_space(|aspace| aspace.protect_object_page(self, u64::from(pn), frame));
        CacheMappingResult::Protected
    }
}

impl CacheMappingEndpoint for CachedFileObject {
    fn publish(&self, event: CacheMappingEvent) -> CacheMappingResult {
        let page = event.page();
        if page.file() != self.identity {
            log::warn!("page cache: mapping event for another file");
            return CacheMappingResult::Failed;
        }
        let frame = PhysAddr::from(page.frame().paddr());
        match event {
            CacheMappingEvent::Evict(_) => self.evict(page.page_number(), frame),
            CacheMappingEvent::WritebackProtect(_) => self.protect(page.page_number(), frame),
        }
    }
}

/// What a refusal of the page cache means for a fault.
fn fault_of(e: VfsError) -> ObjectFault {
    match e {
        VfsError::ResourceBusy => ObjectFault::Busy,
        // populate_page_window: the page starts at or past the end.
        VfsError::InvalidInput => ObjectFault::Beyond,
        VfsError::NoMemory => ObjectFault::NoMemory,
        e => {
            log::warn!("page cache: fault failed: {e:?}");
            ObjectFault::Io
        }
    }
}

impl Host<dyn MappingSpace> for CachedFileObject {
    fn lock_registry(&self, f: &mut dyn FnMut(&mut ObjectRegistry)) {
        f(&mut self.registry.lock());
    }
}

impl MemObject for CachedFileObject {
    fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault> {
        // mmap(2): SIGBUS for a page wholly past the end of the file.
        if index >= self.cache.len().div_ceil(PAGE_SIZE as u64) {
            return Err(ObjectFault::Beyond);
        }
        let pn = u32::try_from(index).map_err(|_| ObjectFault::Beyond)?;
        let pin = self.cache.pin_page_or_insert(pn).map_err(fault_of)?;
        let frame = PhysAddr::from(pin.paddr());
        {
            let mut mapped = self.mapped.lock();
            let page = mapped.entry(pn).or_insert(MappedPage { frame, entries: 0 });
            if page.entries == 0 {
                page.frame = frame;
            } else if page.frame != frame {
                // The cache replaced a page that is still mapped: the
                // endpoint protocol was broken somewhere. Refuse the page.
                log::warn!("page cache: page {pn} changed frames while mapped");
                return Err(ObjectFault::Io);
            }
            page.entries += 1;
        }
        // From here on the endpoint protocol keeps the page: the cache
        // publishes Evict (and waits for this address space) before it
        // drops a page.
        drop(pin);
        Ok(frame)
    }

    fn owns_frame(&self, index: u64, frame: PhysAddr) -> bool {
        u32::try_from(index).is_ok_and(|pn| {
            self.mapped
                .lock()
                .get(&pn)
                .is_some_and(|page| page.frame == frame && page.entries > 0)
        })
    }

    fn map_count(&self, index: u64, frame: PhysAddr) -> Option<usize> {
        let pn = u32::try_from(index).ok()?;
        self.mapped
            .lock()
            .get(&pn)
            .filter(|page| page.frame == frame)
            .map(|page| page.entries)
    }

    fn share_frame(&self, index: u64, frame: PhysAddr) {
        let Ok(pn) = u32::try_from(index) else {
            return;
        };
        let mut mapped = self.mapped.lock();
        match mapped.get_mut(&pn) {
            Some(page) if page.frame == frame => page.entries += 1,
            _ => log::warn!("page cache: sharing unmapped page {pn}"),
        }
    }

    fn release_frame(&self, index: u64, frame: PhysAddr) {
        let Ok(pn) = u32::try_from(index) else {
            return;
        };
        let mut mapped = self.mapped.lock();
        match mapped.get_mut(&pn) {
            Some(page) if page.frame == frame && page.entries > 0 => {
                page.entries -= 1;
                if page.entries == 0 {
                    mapped.remove(&pn);
                }
            }
            _ => log::warn!("page cache: releasing unmapped page {pn}"),
        }
    }

    fn tracks_dirty(&self) -> bool {
        true
    }

    fn mark_dirty(&self, index: u64) -> Result<(), ObjectFault> {
        let pn = u32::try_from(index).map_err(|_| ObjectFault::Beyond)?;
        self.cache.mark_mmap_dirty_page(pn).map_err(fault_of)
    }

    fn writeback(&self, first: u64, end: u64) -> Result<(), ObjectFault> {
        let clamp = |i: u64| u32::try_from(i).unwrap_or(u32::MAX);
        let dirty = self
            .cache
            .dirty_pages_in_range(clamp(first), clamp(end))
            .map_err(fault_of)?;
        if dirty.is_empty() {
            return Ok(());
        }
        self.cache.writeback_pages(&dirty).map_err(|e| {
            log::warn!("page cache: msync writeback failed: {e:?}");
            ObjectFault::Io
        })
    }

    fn relieve(&self) {
        relieve(&self.cache);
    }

    /// mincore: whether the page is in the page cache (mapped or not).
    fn is_resident(&self, index: u64) -> Option<bool> {
        Some(u32::try_from(index).is_ok_and(|pn| self.cache.is_page_cached(pn)))
    }

    /// MADV_REMOVE: the file system's hole punch through the cache, which
    /// first takes the range's pages back from every mapping.
    fn punch_hole(&self, offset: u64, len: u64) -> MmResult<()> {
        let mut attempt = 0;
        loop {
            match self
                .cache
                .operate_range(offset, len, FileRangeOperation::PunchHole)
            {
                Ok(()) => return Ok(()),
                Err(VfsError::ResourceBusy) if attempt < BUSY_ATTEMPTS => {
                    if attempt == RELIEVE_AFTER {
                        relieve(&self.cache);
                    }
                    back_off(attempt);
                    attempt += 1;
                }
                Err(VfsError::OperationNotSupported | VfsError::Unsupported) => {
                    return Err(MmError::NotSupported);
                }
                Err(VfsError::NoMemory | VfsError::StorageFull) => return Err(MmError::NoMemory),
                Err(e) => {
                    log::warn!("page cache: hole punch failed: {e:?}");
                    return Err(MmError::Io);
                }
            }
        }
    }
}
