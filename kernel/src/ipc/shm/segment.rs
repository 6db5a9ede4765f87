//! A System V shared memory segment: the memory object and its `shmid_ds`.
//!
//! A [`Segment`] is a [`MemObject`] like the object behind a shared
//! anonymous mapping: zero-filled pages, allocated at the first fault and
//! kept as [`FrameRef`]s until the segment goes away. Every attachment is a
//! shared VMA that maps it, so the segment's registry holds one record per
//! attached VMA.
//!
//! Linux counts `shm_nattch` in the VMA callbacks: `shm_open` (shmat's
//! mmap, fork's copy, a split) adds one and sets `shm_atime` and
//! `shm_lpid`, `shm_close` (munmap, shmdt, exit, exec) takes one away and
//! sets `shm_dtime` and `shm_lpid` (ipc/shm.c `__shm_open`, `shm_close`).
//! Here those are the registry's own changes: [`Segment`]'s
//! [`Host::lock_registry`] sees the number of records before and after
//! every registry operation and applies the difference. Attachment VMAs
//! never merge (Linux never merges VMAs with a `close` operation), so the
//! records are exactly Linux's attaches.
//!
//! A SHM_HUGETLB segment keeps its pages in a hugetlb file instead (the
//! storage of hugetlb memfds, fs/src/tmpfs/pages/huge.rs), sized to the
//! segment's size rounded up to whole huge pages, whose blocks were
//! reserved from the pool when the segment was made (hugetlb_file_setup).
//! The segment stays the object its attachments map, so the attach
//! accounting above holds for both kinds; it hands faults to the file.

use alloc::{collections::BTreeMap, string::String, sync::Arc};

use ax_hal::mem::PhysAddr;
use ax_sync::SpinLock;
use starling_fs::tmpfs::TmpFile;
use starling_mm::{
    MmError, MmResult,
    aspace::{AnonPages, MappingSpace, MemObject, ObjectFault, ObjectRegistry, PAGE_SIZE},
    hugetlb::HPAGE_SIZE,
    registry::{Host, Registry},
};

use crate::ipc::perm::Perm;

/// `shm_perm.mode`: destroy at the last detach (include/uapi/linux/shm.h).
pub const SHM_DEST: u32 = 0o1000;
/// `shm_perm.mode`: SHM_LOCK is in force.
pub const SHM_LOCKED: u32 = 0o2000;

pub use crate::ipc::now;

/// Scheduler threads working for a process that no longer has a current
/// thread (exit tears the address space down after its last thread is
/// unbound), by scheduler thread id.
static ACTING_FOR: SpinLock<BTreeMap<u64, i32>> = SpinLock::new(BTreeMap::new());

/// Runs `f` with `pid` as the process that detaches whatever `f` unmaps
/// (`shm_lpid` of the segments the exit path detaches).
pub fn acting_for<R>(pid: i32, f: impl FnOnce() -> R) -> R {
    let task = ax_task::thread::current::current_thread_id().map(|id| id.as_u64());
    if let Ok(task) = task {
        ACTING_FOR.lock().insert(task, pid);
    }
    let out = f();
    if let Ok(task) = task {
        ACTING_FOR.lock().remove(&task);
    }
    out
}

/// The calling process's id (0 outside a process).
pub fn current_pid() -> i32 {
    if let Some(thread) = crate::task::current() {
        return thread.process.pid;
    }
    ax_task::thread::current::current_thread_id()
        .ok()
        .and_then(|id| ACTING_FOR.lock().get(&id.as_u64()).copied())
        .unwrap_or(0)
}

/// The changing part of a segment: Linux's `kern_ipc_perm` and the
/// `shmid_kernel` times.
#[derive(Clone, Debug)]
pub struct Meta {
    /// Owner, creator and mode (permission bits plus SHM_DEST and
    /// SHM_LOCKED); the key becomes IPC_PRIVATE (0) once removed with
    /// attachments left.
    pub perm: Perm,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    /// Attached VMAs in all address spaces.
    pub nattch: u64,
    /// The user charged for SHM_LOCK and how many pages.
    pub locked_by: Option<(u32, u64)>,
}

/// Where a segment's pages live.
pub enum Backing {
    /// Zero-filled 4 KiB pages (shmem).
    Pages(AnonPages),
    /// A hugetlb file of the segment's size rounded up to huge pages
    /// (SHM_HUGETLB).
    Huge(Arc<TmpFile>),
}

/// One segment: its identity, its pages and its `shmid_ds`.
pub struct Segment {
    /// The identifier shmget returned (`seq << 15 | index`).
    pub id: i32,
    /// The key at creation: the name of its file, "SYSV%08x".
    pub name_key: i32,
    /// `shm_segsz`, in bytes as requested.
    pub size: usize,
    backing: Backing,
    registry: SpinLock<ObjectRegistry>,
    /// The `shmid_ds` fields; taken after the registry lock, never before.
    pub meta: SpinLock<Meta>,
}

impl Segment {
    /// A new segment of `size` bytes, none of it allocated yet; `huge` is
    /// the hugetlb file of a SHM_HUGETLB segment.
    pub fn new(id: i32, size: usize, meta: Meta, huge: Option<Arc<TmpFile>>) -> Arc<Self> {
        let backing = match huge {
            Some(file) => Backing::Huge(file),
            None => Backing::Pages(AnonPages::new(size.div_ceil(PAGE_SIZE) as u64)),
        };
        Arc::new(Self {
            id,
            name_key: meta.perm.key,
            size,
            backing,
            registry: SpinLock::new(Registry::new()),
            meta: SpinLock::new(meta),
        })
    }

    /// Pages in the segment's size (what it counts in `shm_tot`; for a
    /// hugetlb segment too, newseg's `numpages`).
    pub fn pages(&self) -> u64 {
        self.size.div_ceil(PAGE_SIZE) as u64
    }

    /// Pages allocated so far (`shm_rss`; a hugetlb segment counts 512 per
    /// huge page it holds, as shm_add_rss_swap).
    pub fn resident(&self) -> u64 {
        match &self.backing {
            Backing::Pages(pages) => pages.resident(),
            Backing::Huge(file) => file.allocated_pages(),
        }
    }

    /// Whether this is a SHM_HUGETLB segment.
    pub fn is_huge(&self) -> bool {
        matches!(self.backing, Backing::Huge(_))
    }

    /// The length an attachment maps: the segment's file size (do_shmat's
    /// `i_size_read`), the size in whole pages or, for a hugetlb segment,
    /// in whole huge pages.
    pub fn map_size(&self) -> Option<usize> {
        let unit = if self.is_huge() {
            HPAGE_SIZE
        } else {
            PAGE_SIZE
        };
        self.size.checked_next_multiple_of(unit)
    }

    /// The alignment of an attachment's address (the huge page size for a
    /// hugetlb segment).
    pub fn align(&self) -> usize {
        if self.is_huge() {
            HPAGE_SIZE
        } else {
            PAGE_SIZE
        }
    }

    /// The name /proc/PID/maps shows for an attachment: the segment's
    /// unlinked shmem file (ipc/shm.c newseg, "SYSV%08x").
    pub fn file_name(&self) -> String {
        alloc::format!("/SYSV{:08x} (deleted)", self.name_key as u32)
    }

    /// Applies a change of the number of attached VMAs (shm_open and
    /// shm_close): the count, the time of the last attach or detach and
    /// the process that made it.
    fn attaches_changed(&self, delta: isize) {
        let (time, pid) = (now(), current_pid());
        let mut meta = self.meta.lock();
        meta.nattch = meta.nattch.saturating_add_signed(delta as i64);
        if delta > 0 {
            meta.atime = time;
        } else {
            meta.dtime = time;
        }
        meta.lpid = pid;
    }
}

impl Drop for Segment {
    /// shm_destroy: a locked segment gives its user's locked pages back.
    fn drop(&mut self) {
        let locked = self.meta.lock().locked_by.take();
        if let Some((uid, pages)) = locked {
            super::table::unlock_pages(uid, pages);
        }
    }
}

impl Host<dyn MappingSpace> for Segment {
    fn lock_registry(&self, f: &mut dyn FnMut(&mut ObjectRegistry)) {
        let (before, after) = {
            let mut registry = self.registry.lock();
            let before = registry.len();
            f(&mut registry);
            (before, registry.len())
        };
        if before != after {
            self.attaches_changed(after as isize - before as isize);
        }
    }
}

impl MemObject for Segment {
    fn owns_frame(&self, index: u64, frame: PhysAddr) -> bool {
        match &self.backing {
            Backing::Pages(pages) => pages.owns_frame(index, frame),
            Backing::Huge(file) => file.owns_frame(index, frame),
        }
    }

    /// The page, allocated at the first fault; a hugetlb segment's file
    /// takes the whole huge page from the pool (its reservation, or SIGBUS
    /// when a SHM_NORESERVE segment finds the pool empty).
    fn frame(&self, index: u64) -> Result<PhysAddr, ObjectFault> {
        match &self.backing {
            Backing::Pages(pages) => pages.frame(index),
            Backing::Huge(file) => file.frame(index),
        }
    }

    /// Attachments of a hugetlb segment split only at huge page
    /// boundaries (munmap and mprotect elsewhere are EINVAL).
    fn granule(&self) -> usize {
        self.align()
    }

    fn is_resident(&self, index: u64) -> Option<bool> {
        match &self.backing {
            Backing::Pages(pages) => Some(pages.is_resident(index)),
            Backing::Huge(file) => file.is_resident(index),
        }
    }

    /// MADV_REMOVE: shmem's hole punch, as for shared anonymous memory.
    /// Not for a hugetlb segment: its file's hole punch would unmap the
    /// file's own mappings, not the segment's attachments.
    fn punch_hole(&self, offset: u64, len: u64) -> MmResult<()> {
        match &self.backing {
            Backing::Pages(pages) => {
                pages.punch_hole(self, offset, len);
                Ok(())
            }
            Backing::Huge(_) => Err(MmError::NotSupported),
        }
    }
}
