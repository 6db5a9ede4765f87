//! VFS handle for every tmpfs non-directory.
//!
//! A [`TmpFile`] is what a `DirEntry` of a regular file, symlink, FIFO,
//! socket, device node or generated file wraps. Hard links get one handle
//! per name, all pointing at the same [`FileInode`].
//!
//! Every method takes only the inode's state lock, and never calls a
//! generator closure (`ReadFn`, `WriteFn`, `TargetFn`) while holding it: the
//! closure is cloned out under the lock and run after the guard is dropped,
//! so kernel code behind it may freely re-enter the VFS.

use alloc::sync::Arc;
use core::any::Any;

use axfs_ng_vfs::{
    DirEntry, FileExtent, FileExtentMap, FileExtentState, FileExtentTarget, FileNode, FileNodeOps,
    FileRangeOperation, FilesystemOps, Metadata, MetadataUpdate, NodeFlags, NodeOps, NodeType,
    PreallocationMode, Reference, VfsError, VfsResult,
};
use axpoll::{IoEvents, Pollable};

use super::{
    TmpFs,
    generated::{ReadAtFn, ReadFn, TargetFn},
    inode::{Content, FileInode},
    pages::PAGE_SIZE,
};

/// 512-byte units per page, the unit of `st_blocks`.
const SECTORS_PER_PAGE: u64 = (PAGE_SIZE / 512) as u64;

/// Handle of a non-directory, one per `DirEntry`.
pub struct TmpFile {
    fs: Arc<TmpFs>,
    inode: Arc<FileInode>,
}

/// Builds the `DirEntry` for `inode` at `reference`.
pub(super) fn file_entry(fs: &Arc<TmpFs>, inode: Arc<FileInode>, reference: Reference) -> DirEntry {
    let node_type = inode.node_type;
    let handle = TmpFile {
        fs: fs.clone(),
        inode,
    };
    DirEntry::new_file(FileNode::new(Arc::new(handle)), node_type, reference)
}

/// Copies the part of `src` at `offset` into `buf`.
fn copy_at(src: &[u8], buf: &mut [u8], offset: u64) -> usize {
    let Ok(start) = usize::try_from(offset) else {
        return 0;
    };
    let Some(rest) = src.get(start..) else {
        return 0;
    };
    let n = rest.len().min(buf.len());
    buf[..n].copy_from_slice(&rest[..n]);
    n
}

/// Where a read gets its bytes once the state lock is dropped.
enum ReadSource {
    Done(usize),
    Generated(ReadFn),
    GeneratedAt(ReadAtFn),
    Link(TargetFn),
}

impl TmpFile {
    /// The frame of page `index` of this regular file for a shared mapping,
    /// with a reference the mapping owns (see `SparseData::frame_for_mapping`).
    /// `InvalidInput` past the end of the file, `StorageFull` over the limit.
    #[cfg(feature = "kernel")]
    pub fn frame_for_mapping(&self, index: u64) -> VfsResult<starling_mm::frame::PhysAddr> {
        let mut state = self.inode.state.lock();
        let Content::Regular(data) = &mut state.content else {
            return Err(VfsError::OperationNotSupported);
        };
        data.frame_for_mapping(index, &*self.inode.sb)
    }

    /// Makes this new, empty regular file a hugetlb file (memfd_create
    /// with MFD_HUGETLB, MAP_HUGETLB): its storage comes in huge pages from
    /// the pool, write(2) fails and sizes are huge-page multiples.
    pub fn make_hugetlb(&self) {
        if let Content::Regular(data) = &mut self.inode.state.lock().content {
            data.make_huge();
        }
    }

    /// The huge page size of a hugetlb file (`None` for other files).
    pub fn huge_page_size(&self) -> Option<u64> {
        match &self.inode.state.lock().content {
            Content::Regular(data) if data.is_huge() => Some(super::pages::HPAGE_SIZE_U64),
            _ => None,
        }
    }

    /// What mmap of a hugetlb file does once the mapping is decided
    /// (hugetlbfs_file_mmap): a shared mapping reserves the huge pages of
    /// `[offset, end)` the file lacks (`NoMemory` if the pool cannot), and
    /// a writable mapping extends the file to `end`.
    pub fn prepare_huge_mapping(
        &self,
        offset: u64,
        end: u64,
        reserve: bool,
        writable: bool,
    ) -> VfsResult<()> {
        let mut state = self.inode.state.lock();
        let Content::Regular(data) = &mut state.content else {
            return Err(VfsError::InvalidInput);
        };
        let hpage = super::pages::HPAGE_SIZE_U64;
        if reserve {
            data.reserve_blocks(offset / hpage, end.div_ceil(hpage))?;
        }
        if writable && data.len() < end {
            data.set_len(end, &*self.inode.sb)?;
        }
        Ok(())
    }

    /// Huge pages reserved for shared mappings and not allocated yet.
    pub fn reserved_huge_pages(&self) -> usize {
        match &self.inode.state.lock().content {
            Content::Regular(data) => data.reserved_blocks(),
            _ => 0,
        }
    }

    /// Pages of storage the regular file holds (0 for other nodes): a
    /// hugetlb file's count is 512 per huge page (a System V segment's
    /// `shm_rss`).
    pub fn allocated_pages(&self) -> u64 {
        match &self.inode.state.lock().content {
            Content::Regular(data) => data.allocated_pages(),
            _ => 0,
        }
    }

    /// Size of the regular file's data, for mappings (0 for other nodes).
    pub fn data_len(&self) -> u64 {
        match &self.inode.state.lock().content {
            Content::Regular(data) => data.len(),
            _ => 0,
        }
    }

    /// The generator of a procfs/sysfs file (`None` for every other node):
    /// an open file description keeps what it returns as the snapshot its
    /// reads are served from (see `file::vfs::VfsFile`).
    pub fn generated_reader(&self) -> Option<ReadFn> {
        match &self.inode.state.lock().content {
            Content::Generated { read, .. } => Some(read.clone()),
            _ => None,
        }
    }

    pub(super) fn fs(&self) -> &Arc<TmpFs> {
        &self.fs
    }

    pub(super) fn inode(&self) -> &Arc<FileInode> {
        &self.inode
    }
}

impl NodeOps for TmpFile {
    fn inode(&self) -> u64 {
        self.inode.ino
    }

    fn metadata(&self) -> VfsResult<Metadata> {
        let (meta, nlink, size, pages, link, block_size) = {
            let state = self.inode.state.lock();
            let mut block_size = PAGE_SIZE as u64;
            let (size, pages, link) = match &state.content {
                Content::Regular(data) => {
                    // hugetlbfs: i_blkbits is the huge page shift.
                    if data.is_huge() {
                        block_size = super::pages::HPAGE_SIZE_U64;
                    }
                    (data.len(), data.allocated_pages(), None)
                }
                Content::Symlink { target, uses_page } => {
                    (target.len() as u64, u64::from(*uses_page), None)
                }
                Content::GeneratedLink(target) => (0, 0, Some(target.clone())),
                // procfs reports 0 for generated files (fs/proc/generic.c).
                Content::Special | Content::Generated { .. } | Content::GeneratedAt(_) => {
                    (0, 0, None)
                }
            };
            (
                state.meta.clone(),
                state.nlink,
                size,
                pages,
                link,
                block_size,
            )
        };
        let size = match link {
            Some(target) => target().len() as u64,
            None => size,
        };
        Ok(Metadata {
            device: 0,
            inode: self.inode.ino,
            nlink,
            mode: meta.mode,
            node_type: self.inode.node_type,
            uid: meta.uid,
            gid: meta.gid,
            size,
            block_size,
            blocks: pages * SECTORS_PER_PAGE,
            rdev: meta.rdev,
            atime: meta.atime,
            mtime: meta.mtime,
            ctime: meta.ctime,
        })
    }

    fn update_metadata(&self, update: MetadataUpdate) -> VfsResult<()> {
        let now = self.inode.sb.now();
        let mut state = self.inode.state.lock();
        // shmem_setattr: F_SEAL_EXEC freezes the execute bits.
        if let Some(mode) = update.mode {
            let old = u32::from(state.meta.mode.bits());
            crate::seals::check_chmod(state.seals, old, u32::from(mode.bits()))
                .map_err(vfs_error)?;
        }
        state.meta.apply(update, now);
        Ok(())
    }

    fn filesystem(&self) -> &dyn FilesystemOps {
        &*self.fs
    }

    fn len(&self) -> VfsResult<u64> {
        let link = {
            let state = self.inode.state.lock();
            match &state.content {
                Content::Regular(data) => return Ok(data.len()),
                Content::Symlink { target, .. } => return Ok(target.len() as u64),
                Content::GeneratedLink(target) => target.clone(),
                Content::Special | Content::Generated { .. } | Content::GeneratedAt(_) => {
                    return Ok(0);
                }
            }
        };
        Ok(link().len() as u64)
    }

    fn sync(&self, _data_only: bool) -> VfsResult<()> {
        Ok(())
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }

    /// The data lives in this node, so ax-fs-ng must not put its own page
    /// cache in front of it: with NON_CACHEABLE its `OpenOptions` picks the
    /// direct backend, which calls `read_at`/`write_at` here.
    fn flags(&self) -> NodeFlags {
        NodeFlags::NON_CACHEABLE
    }
}

/// How many bytes of a write the file's seals allow (crate::seals).
fn sealed_len(seals: u32, offset: u64, len: usize, size: u64) -> VfsResult<usize> {
    let allowed = crate::seals::writable_len(seals, offset, len as u64, size).map_err(vfs_error)?;
    Ok(allowed as usize)
}

/// A seal refusal as the VFS reports it (EPERM).
fn vfs_error(_: crate::errno::Errno) -> VfsError {
    VfsError::OperationNotPermitted
}

impl TmpFile {
    /// The file's seals (F_GET_SEALS); `None` for what is not a regular
    /// file.
    pub fn seals(&self) -> Option<u32> {
        let state = self.inode.state.lock();
        matches!(state.content, Content::Regular(_)).then_some(state.seals)
    }

    /// Size and seals of a regular file if the inode lock is free now
    /// (for debug records refreshed from paths that may hold it).
    pub fn try_len_and_seals(&self) -> Option<(u64, u32)> {
        let state = self.inode.state.try_lock()?;
        match &state.content {
            Content::Regular(data) => Some((data.len(), state.seals)),
            _ => None,
        }
    }

    /// An address that identifies the inode while it lives (every handle
    /// and name of the file gives the same).
    pub fn inode_id(&self) -> usize {
        Arc::as_ptr(&self.inode) as usize
    }

    /// Calls `observe` after every change to the file's shared-mapping
    /// registry, with no lock of the file held (the kernel's memfd debug
    /// records; the registry lock must not be held while `observe` runs,
    /// the inode lock may be).
    #[cfg(feature = "kernel")]
    pub fn observe_mappings(&self, observe: fn(&TmpFile)) {
        *self.inode.mapping_observer.lock() = Some(observe);
    }

    /// Calls `f` with each shared-mapping record of the file (span and
    /// owner address), under the registry lock.
    #[cfg(feature = "kernel")]
    pub fn for_each_mapping(&self, f: impl FnMut(starling_mm::registry::Span, usize)) {
        self.inode.mappings.lock().for_each_span(f);
    }

    /// Runs `f` on the seals and mode with the inode locked (F_ADD_SEALS
    /// decides and stores under the same lock that writes check).
    pub fn with_seals<R>(&self, f: impl FnOnce(&mut u32, u32) -> R) -> Option<R> {
        let mut state = self.inode.state.lock();
        if !matches!(state.content, Content::Regular(_)) {
            return None;
        }
        let mode = u32::from(state.meta.mode.bits());
        Some(f(&mut state.seals, mode))
    }

    /// `read_at` without the access-time update, for a description opened
    /// with O_NOATIME (fs/inode.c touch_atime skips such files).
    pub fn read_at_noatime(&self, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
        self.read(buf, offset, false)
    }

    fn read(&self, buf: &mut [u8], offset: u64, touch: bool) -> VfsResult<usize> {
        let now = self.inode.sb.now();
        let source = {
            let mut guard = self.inode.state.lock();
            let state = &mut *guard;
            match &state.content {
                Content::Regular(data) => {
                    let read = data.read(buf, offset);
                    // mm/filemap.c filemap_read: an empty request returns
                    // before touching atime.
                    if touch && !buf.is_empty() {
                        state.meta.touch_access(now);
                    }
                    ReadSource::Done(read)
                }
                Content::Symlink { target, .. } => {
                    ReadSource::Done(copy_at(target.as_bytes(), buf, offset))
                }
                Content::Generated { read, .. } => ReadSource::Generated(read.clone()),
                Content::GeneratedAt(read_at) => ReadSource::GeneratedAt(read_at.clone()),
                Content::GeneratedLink(target) => ReadSource::Link(target.clone()),
                Content::Special => return Err(VfsError::OperationNotSupported),
            }
        };
        Ok(match source {
            ReadSource::Done(read) => read,
            ReadSource::Generated(read) => copy_at(&read(), buf, offset),
            ReadSource::GeneratedAt(read_at) => read_at(buf, offset)?,
            ReadSource::Link(target) => copy_at(target().as_bytes(), buf, offset),
        })
    }
}

impl FileNodeOps for TmpFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
        self.read(buf, offset, true)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> VfsResult<usize> {
        let now = self.inode.sb.now();
        let writer = {
            let mut guard = self.inode.state.lock();
            let state = &mut *guard;
            match &mut state.content {
                Content::Regular(data) => {
                    // hugetlbfs has no write operation (vfs_write: EINVAL).
                    if data.is_huge() {
                        return Err(VfsError::InvalidInput);
                    }
                    // Seals are checked under the inode lock, so a write
                    // and a concurrent F_ADD_SEALS are ordered.
                    let allowed = sealed_len(state.seals, offset, buf.len(), data.len())?;
                    let written = data.write(&buf[..allowed], offset, &*self.inode.sb)?;
                    if written > 0 {
                        state.meta.touch_modify(now);
                    }
                    return Ok(written);
                }
                // A procfs entry without a write handler: fs/proc/inode.c
                // (pde_write) answers EIO.
                Content::Generated { write, .. } => write.clone().ok_or(VfsError::Io)?,
                // Files with no write method at all (/proc/PID/pagemap's
                // file_operations): vfs_write answers EINVAL.
                Content::GeneratedAt(_) => return Err(VfsError::InvalidInput),
                Content::Special => return Err(VfsError::OperationNotSupported),
                Content::Symlink { .. } | Content::GeneratedLink(_) => {
                    return Err(VfsError::InvalidInput);
                }
            }
        };
        writer(buf)?;
        Ok(buf.len())
    }

    fn append(&self, buf: &[u8]) -> VfsResult<(usize, u64)> {
        let now = self.inode.sb.now();
        {
            let mut guard = self.inode.state.lock();
            let state = &mut *guard;
            if let Content::Regular(data) = &mut state.content {
                if data.is_huge() {
                    return Err(VfsError::InvalidInput);
                }
                let end = data.len();
                let allowed = sealed_len(state.seals, end, buf.len(), end)?;
                let written = data.write(&buf[..allowed], end, &*self.inode.sb)?;
                if written > 0 {
                    state.meta.touch_modify(now);
                }
                return Ok((written, data.len()));
            }
        }
        self.write_at(buf, 0).map(|written| (written, 0))
    }

    fn set_len(&self, len: u64) -> VfsResult<()> {
        let now = self.inode.sb.now();
        let mut guard = self.inode.state.lock();
        let state = &mut *guard;
        match &mut state.content {
            Content::Regular(data) => {
                let old = data.len();
                // hugetlbfs_setattr: the size check comes before the seals.
                if data.is_huge() && !len.is_multiple_of(super::pages::HPAGE_SIZE_U64) {
                    return Err(VfsError::InvalidInput);
                }
                crate::seals::check_resize(state.seals, old, len).map_err(vfs_error)?;
                data.set_len(len, &*self.inode.sb)?;
                state.meta.touch_modify(now);
                drop(guard);
                // mm/truncate.c truncate_pagecache: the pages past the new
                // end leave every mapping, private copies included, so an
                // access there raises SIGBUS.
                #[cfg(feature = "kernel")]
                if len < old {
                    starling_mm::aspace::unmap_object_pages(
                        self,
                        len.div_ceil(PAGE_SIZE as u64),
                        u64::MAX,
                        true,
                    );
                }
                #[cfg(not(feature = "kernel"))]
                let _ = old;
                Ok(())
            }
            // O_TRUNC on a /proc or /sys file is accepted and ignored.
            Content::Generated { .. } | Content::GeneratedAt(_) => Ok(()),
            // vfs_truncate: EINVAL for anything but a regular file.
            _ => Err(VfsError::InvalidInput),
        }
    }

    /// mm/shmem.c supports allocation and hole punching only; collapse,
    /// insert and zero-range are EOPNOTSUPP there as here.
    fn operate_range(&self, offset: u64, len: u64, operation: FileRangeOperation) -> VfsResult<()> {
        let now = self.inode.sb.now();
        let mut guard = self.inode.state.lock();
        let state = &mut *guard;
        let Content::Regular(data) = &mut state.content else {
            return Err(VfsError::OperationNotSupported);
        };
        let budget = &*self.inode.sb;
        let punch = matches!(operation, FileRangeOperation::PunchHole);
        crate::seals::check_fallocate(state.seals, punch, offset, len, data.len())
            .map_err(vfs_error)?;
        match operation {
            FileRangeOperation::Allocate(mode) => {
                data.allocate(offset, len, mode == PreallocationMode::KeepSize, budget)?
            }
            FileRangeOperation::PunchHole => data.punch_hole(offset, len, budget),
            _ => return Err(VfsError::OperationNotSupported),
        }
        state.meta.touch_modify(now);
        drop(guard);
        // shmem_fallocate: the whole pages of a punched hole leave the
        // shared mappings (private copies stay).
        #[cfg(feature = "kernel")]
        if operation == FileRangeOperation::PunchHole {
            let first = offset.div_ceil(PAGE_SIZE as u64);
            let end = offset.saturating_add(len) / PAGE_SIZE as u64;
            if first < end {
                starling_mm::aspace::unmap_object_pages(self, first, end, false);
            }
        }
        Ok(())
    }

    /// The allocated pages from `offset` on (for SEEK_DATA/SEEK_HOLE);
    /// everything else reads as zeros. tmpfs has no disk addresses and no
    /// extended-attribute blocks.
    fn map_extents(
        &self,
        offset: u64,
        len: u64,
        target: FileExtentTarget,
        extent_limit: usize,
    ) -> VfsResult<FileExtentMap> {
        if target != FileExtentTarget::Data {
            return Err(VfsError::OperationNotSupported);
        }
        let state = self.inode.state.lock();
        let Content::Regular(data) = &state.content else {
            return Err(VfsError::OperationNotSupported);
        };
        let end = offset.saturating_add(len);
        let mut ranges = data.data_ranges(offset, extent_limit.saturating_add(1));
        ranges.retain(|&(start, _)| start < end);
        let complete = ranges.len() <= extent_limit;
        ranges.truncate(extent_limit);
        Ok(FileExtentMap {
            mapped_extents: ranges.len(),
            complete,
            extents: ranges
                .into_iter()
                .map(|(start, stop)| FileExtent {
                    logical_start: start,
                    physical_start: 0,
                    length: stop - start,
                    state: FileExtentState::Initialized,
                    merged: false,
                })
                .collect(),
        })
    }
}

impl Pollable for TmpFile {
    /// Memory never blocks; FIFOs and sockets get their readiness from the
    /// objects the kernel attaches to them, not from this node.
    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::OUT
    }

    #[expect(
        unsafe_code,
        reason = "axpoll::Pollable declares this method unsafe; the body registers nothing"
    )]
    unsafe fn register_shared(
        &self,
        _sink: &mut dyn axpoll::SharedRegistrationSink,
        _events: IoEvents,
    ) {
    }
}

/// Whether `node_type` is one that `create` stores as metadata only.
pub(super) fn is_special(node_type: NodeType) -> bool {
    matches!(
        node_type,
        NodeType::Fifo | NodeType::Socket | NodeType::CharacterDevice | NodeType::BlockDevice
    )
}

/// What a page the file cannot give means for the access: past the end of
/// the file, and with no storage left (shmem_fault, hugetlb_no_page), the
/// access gets SIGBUS.
#[cfg(feature = "kernel")]
fn fault_of(e: VfsError) -> starling_mm::aspace::ObjectFault {
    use starling_mm::aspace::ObjectFault;
    match e {
        VfsError::InvalidInput | VfsError::StorageFull => ObjectFault::Beyond,
        _ => ObjectFault::NoMemory,
    }
}

/// The registry of a tmpfs file's shared mappings is its inode's.
#[cfg(feature = "kernel")]
impl starling_mm::registry::Host<dyn starling_mm::aspace::MappingSpace> for TmpFile {
    fn lock_registry(&self, f: &mut dyn FnMut(&mut starling_mm::aspace::ObjectRegistry)) {
        let changed = {
            let mut registry = self.inode.mappings.lock();
            let before = registry.generation();
            f(&mut registry);
            registry.generation() != before
        };
        // The observer (the debugger's mirror) only hears of changes; a
        // query such as F_ADD_SEALS's may-write check costs it nothing.
        let observer = if changed {
            *self.inode.mapping_observer.lock()
        } else {
            None
        };
        if let Some(observe) = observer {
            observe(self);
        }
    }
}

/// A tmpfs regular file is a memory object: a shared mapping maps the very
/// pages read(2) and write(2) use.
#[cfg(feature = "kernel")]
impl starling_mm::aspace::MemObject for TmpFile {
    fn frame(
        &self,
        index: u64,
    ) -> Result<starling_mm::frame::PhysAddr, starling_mm::aspace::ObjectFault> {
        self.frame_for_mapping(index).map_err(fault_of)
    }

    /// A hole of a hugetlb file reads as a zeroed private page in a
    /// private mapping: hugetlb_no_page gives a private mapping an
    /// anonymous page and leaves the file alone.
    fn private_frame(
        &self,
        index: u64,
    ) -> Result<Option<starling_mm::frame::PhysAddr>, starling_mm::aspace::ObjectFault> {
        let mut state = self.inode.state.lock();
        let Content::Regular(data) = &mut state.content else {
            return Err(starling_mm::aspace::ObjectFault::Beyond);
        };
        if data.is_huge() {
            return data.frame_if_present(index).map_err(fault_of);
        }
        data.frame_for_mapping(index, &*self.inode.sb)
            .map(Some)
            .map_err(fault_of)
    }

    /// Mappings of a hugetlb file split only at huge page boundaries.
    fn granule(&self) -> usize {
        self.huge_page_size()
            .map_or(PAGE_SIZE, |size| size as usize)
    }

    fn owns_frame(&self, index: u64, frame: starling_mm::frame::PhysAddr) -> bool {
        match &self.inode.state.lock().content {
            Content::Regular(data) => data.page_frame(index) == Some(frame),
            _ => false,
        }
    }

    /// mm/shmem.c: a page is resident once it has storage, mapped or not.
    fn is_resident(&self, index: u64) -> Option<bool> {
        match &self.inode.state.lock().content {
            Content::Regular(data) => Some(data.has_page(index)),
            _ => Some(false),
        }
    }

    /// MADV_REMOVE: shmem_fallocate's hole punch.
    fn punch_hole(&self, offset: u64, len: u64) -> starling_mm::MmResult<()> {
        use starling_mm::MmError;
        self.operate_range(offset, len, FileRangeOperation::PunchHole)
            .map_err(|e| match e {
                VfsError::OperationNotSupported => MmError::NotSupported,
                VfsError::NoMemory => MmError::NoMemory,
                _ => MmError::InvalidInput,
            })
    }
}
