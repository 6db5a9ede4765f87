//! Regular files and directories of the mounted filesystems (ext4 root,
//! tmpfs, devfs, procfs) through the ArceOS VFS.
//!
//! The page cache answers `ResourceBusy` while a file's layout is changing
//! under a mapping (truncate against a racing fault, a cache full of mapped
//! pages); file I/O retries then ([`VfsFile`]'s `retry_busy`), as Linux's
//! read, write and truncate never fail with EBUSY.
//!
//! A procfs or sysfs file is generated: its whole text is computed by a
//! closure. Like Linux's `seq_file`, an open file description computes the
//! text when it reads at offset 0 (or first reads at all) and serves later
//! reads at other offsets from that snapshot, so `dd bs=1` or `head -c`
//! sees one consistent text even when the values change between reads
//! (fs/seq_file.c `seq_read_iter` restarts only at position 0).

use alloc::{string::String, sync::Arc, vec::Vec};
use core::any::Any;

use ax_fs_ng::vfs::{CachedFile, File, FileBackend};
use ax_sync::Mutex;
use axfs_ng_vfs::{
    DirectoryCursor, FileExtentState, FileExtentTarget, Location, Metadata, NodeType, VfsError,
    VfsResult,
};
use axpoll::IoEvents;

use super::{
    DirEntryInfo, FileLike, Kstat,
    flock::FlockNode,
    mapped::{self, BUSY_ATTEMPTS, RELIEVE_AFTER},
    mode,
};
use crate::{
    Errno, KResult,
    seekhole::{self, Seek},
    tmpfs::{ReadFn, TmpFile},
};

/// Most extent-map queries one SEEK_DATA/SEEK_HOLE makes (64 extents each).
const EXTENT_QUERIES: usize = 1024;

/// The `Kstat` of a VFS node.
pub fn kstat_of(meta: &Metadata) -> Kstat {
    let kind = match meta.node_type {
        NodeType::Fifo => mode::S_IFIFO,
        NodeType::CharacterDevice => mode::S_IFCHR,
        NodeType::Directory => mode::S_IFDIR,
        NodeType::BlockDevice => mode::S_IFBLK,
        NodeType::RegularFile => mode::S_IFREG,
        NodeType::Symlink => mode::S_IFLNK,
        NodeType::Socket => mode::S_IFSOCK,
        NodeType::Unknown => 0,
    };
    let ts = |d: core::time::Duration| (d.as_secs() as i64, d.subsec_nanos());
    Kstat {
        dev: meta.device,
        ino: meta.inode,
        mode: kind | u32::from(meta.mode.bits()),
        nlink: meta.nlink.min(u64::from(u32::MAX)) as u32,
        uid: meta.uid,
        gid: meta.gid,
        rdev: meta.rdev.0,
        size: meta.size as i64,
        blksize: meta.block_size as u32,
        blocks: meta.blocks as i64,
        atime: ts(meta.atime),
        mtime: ts(meta.mtime),
        ctime: ts(meta.ctime),
    }
}

/// The flock(2) state of a node, kept in its user data.
fn flock_node_of(loc: &Location) -> Arc<FlockNode> {
    loc.user_data().get_or_insert_with(FlockNode::default)
}

/// `DT_*` value for a node type (getdents64).
pub fn dtype_of(t: NodeType) -> u8 {
    match t {
        NodeType::Fifo => 1,
        NodeType::CharacterDevice => 2,
        NodeType::Directory => 4,
        NodeType::BlockDevice => 6,
        NodeType::RegularFile => 8,
        NodeType::Symlink => 10,
        NodeType::Socket => 12,
        NodeType::Unknown => 0,
    }
}

/// The text of a generated file as one open file description saw it.
struct Generated {
    read: ReadFn,
    snapshot: Mutex<Option<Arc<Vec<u8>>>>,
}

impl Generated {
    fn read(&self, buf: &mut [u8], pos: u64) -> usize {
        let text = {
            let mut snapshot = self.snapshot.lock();
            match &*snapshot {
                Some(text) if pos != 0 => text.clone(),
                _ => {
                    let text = Arc::new((self.read)());
                    *snapshot = Some(text.clone());
                    text
                }
            }
        };
        let Some(rest) = usize::try_from(pos).ok().and_then(|p| text.get(p..)) else {
            return 0;
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        n
    }
}

/// A regular file (or other non-directory node opened through the VFS).
pub struct VfsFile {
    file: File,
    path: String,
    generated: Option<Generated>,
    /// The node's count of descriptions open for writing, held while this
    /// one is (Linux's `i_writecount`).
    writer: Option<Arc<Writers>>,
    /// The node's count of descriptions open read-only, held while this
    /// one is (Linux's `i_readcount`, which leases look at).
    reader: Option<Arc<Readers>>,
    /// An O_TMPFILE file on a file system that cannot make a file without
    /// a name (ext4 here): the directory and hidden name it was created
    /// under, until linkat(2) gives it a real name or the last close
    /// removes it. Its link is not counted in fstat's st_nlink.
    hidden: Mutex<Option<(Location, String)>>,
}

/// Linux's `i_writecount` of a node, kept in its user data: positive, the
/// number of descriptions open for writing; negative, the number of
/// address spaces running it as their program (deny_write_access). Each
/// side refuses the other with ETXTBSY.
#[derive(Default)]
pub struct Writers(core::sync::atomic::AtomicIsize);

impl Writers {
    fn of(loc: &Location) -> Arc<Self> {
        loc.user_data().get_or_insert_with(Writers::default)
    }

    /// get_write_access: one more writer, unless the file is running.
    fn get_write(loc: &Location) -> KResult<Arc<Self>> {
        use core::sync::atomic::Ordering::{AcqRel, Acquire};
        let w = Self::of(loc);
        w.0.try_update(AcqRel, Acquire, |v| (v >= 0).then_some(v + 1))
            .map_err(|_| Errno::ETXTBSY)?;
        Ok(w)
    }
}

/// Linux's `i_readcount` of a node: descriptions open read-only.
#[derive(Default)]
pub struct Readers(core::sync::atomic::AtomicUsize);

/// A node denied to writers while an address space runs it (Linux's
/// exe_file_deny_write_access); dropping the guard allows them again.
pub struct DenyWrite(Arc<Writers>);

impl DenyWrite {
    /// deny_write_access: ETXTBSY if a description may write `loc`.
    pub fn acquire(loc: &Location) -> KResult<Self> {
        use core::sync::atomic::Ordering::{AcqRel, Acquire};
        let w = Writers::of(loc);
        w.0.try_update(AcqRel, Acquire, |v| (v <= 0).then_some(v - 1))
            .map_err(|_| Errno::ETXTBSY)?;
        Ok(Self(w))
    }
}

impl Clone for DenyWrite {
    /// One more address space running the file (fork): it is denied
    /// already, so this cannot fail.
    fn clone(&self) -> Self {
        self.0.0.fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
        Self(self.0.clone())
    }
}

impl Drop for DenyWrite {
    fn drop(&mut self) {
        self.0.0.fetch_add(1, core::sync::atomic::Ordering::AcqRel);
    }
}

impl Drop for VfsFile {
    fn drop(&mut self) {
        if let Some(w) = &self.writer {
            w.0.fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
        }
        if let Some(r) = &self.reader {
            r.0.fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
        }
    }
}

impl VfsFile {
    /// Wraps an opened VFS file; `writable` when it was opened for writing
    /// (ETXTBSY while the file runs as a program), `read_only` when for
    /// reading only (O_PATH opens are neither).
    pub fn new(file: File, path: String, writable: bool, read_only: bool) -> KResult<Arc<Self>> {
        let writer = if writable {
            Some(Writers::get_write(file.location())?)
        } else {
            None
        };
        let reader = read_only.then(|| {
            let r = file
                .location()
                .user_data()
                .get_or_insert_with(Readers::default);
            r.0.fetch_add(1, core::sync::atomic::Ordering::AcqRel);
            r
        });
        let generated = file
            .location()
            .entry()
            .downcast::<TmpFile>()
            .ok()
            .and_then(|tmp| tmp.generated_reader())
            .map(|read| Generated {
                read,
                snapshot: Mutex::new(None),
            });
        Ok(Arc::new(Self {
            file,
            path,
            generated,
            writer,
            reader,
            hidden: Mutex::new(None),
        }))
    }

    /// Wraps an O_TMPFILE file opened for writing; `hidden` is the
    /// directory and name that stand in for "no name" (see the field).
    pub fn new_tmpfile(
        file: File,
        path: String,
        hidden: Option<(Location, String)>,
    ) -> KResult<Arc<Self>> {
        let this = Self::new(file, path, true, false)?;
        *this.hidden.lock() = hidden;
        Ok(this)
    }

    /// Takes the hidden name of an O_TMPFILE file (see [`new_tmpfile`]),
    /// for the caller to remove once the file has a real name.
    ///
    /// [`new_tmpfile`]: Self::new_tmpfile
    pub fn take_hidden(&self) -> Option<(Location, String)> {
        self.hidden.lock().take()
    }

    /// The node's descriptions open for writing (negative while it runs
    /// as a program) and open read-only: what check_conflicting_open
    /// counts for a lease.
    pub fn open_counts(&self) -> (isize, usize) {
        use core::sync::atomic::Ordering::Acquire;
        let loc = self.location();
        let w = loc
            .user_data()
            .get::<Writers>()
            .map_or(0, |w| w.0.load(Acquire));
        let r = loc
            .user_data()
            .get::<Readers>()
            .map_or(0, |r| r.0.load(Acquire));
        (w, r)
    }

    /// The file's VFS location.
    pub fn location(&self) -> &Location {
        self.file.location()
    }

    /// The file's page cache, if its I/O goes through one (ext4 files do;
    /// Starling's tmpfs, devices and procfs files do not).
    pub fn page_cache(&self) -> Option<&CachedFile> {
        match self.file.backend() {
            Ok(FileBackend::Cached(cache)) => Some(cache),
            _ => None,
        }
    }

    /// Runs `op` until the page cache stops answering `ResourceBusy`, asking
    /// it to make room if that persists, for at most [`BUSY_ATTEMPTS`] tries.
    /// Files without a page cache get their answer as it is.
    fn retry_busy<T>(&self, mut op: impl FnMut() -> VfsResult<T>) -> VfsResult<T> {
        let Some(cache) = self.page_cache() else {
            return op();
        };
        let mut attempt = 0;
        loop {
            match op() {
                Err(VfsError::ResourceBusy) if attempt < BUSY_ATTEMPTS => {
                    if attempt == RELIEVE_AFTER {
                        mapped::relieve(cache);
                    }
                    mapped::back_off(attempt);
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

impl FileLike for VfsFile {
    fn read(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        if let Some(generated) = &self.generated {
            return Ok(generated.read(buf, pos.unwrap_or(0)));
        }
        let pos = pos.unwrap_or(0);
        Ok(self.retry_busy(|| self.file.read_at(&mut *buf, pos))?)
    }

    /// tmpfs reads straight from the node (it has no page cache) without
    /// the access-time update; other file systems read as usual.
    fn read_noatime(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        if self.generated.is_none()
            && let Ok(tmp) = self.file.location().entry().downcast::<TmpFile>()
        {
            return Ok(tmp.read_at_noatime(buf, pos.unwrap_or(0))?);
        }
        self.read(buf, pos)
    }

    fn write(&self, buf: &[u8], pos: Option<u64>) -> KResult<usize> {
        let pos = pos.unwrap_or(0);
        // tmpfs writes straight to the node in one call: its seals may cut
        // a write short (F_SEAL_GROW is checked per page), and the short
        // count is the answer, as on Linux (ax-fs-ng's direct loop would
        // retry the refused rest and turn it into an error).
        if self.generated.is_none()
            && let Ok(tmp) = self.file.location().entry().downcast::<TmpFile>()
        {
            return Ok(axfs_ng_vfs::FileNodeOps::write_at(&*tmp, buf, pos)?);
        }
        let written = self.retry_busy(|| self.file.write_at(buf, pos))?;
        if let Some(generated) = &self.generated {
            // The next read shows the effect of the write.
            *generated.snapshot.lock() = None;
        }
        Ok(written)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn size(&self) -> KResult<u64> {
        Ok(self.file.location().len()?)
    }

    fn stat(&self) -> KResult<Kstat> {
        let mut st = kstat_of(&self.file.location().metadata()?);
        if self.hidden.lock().is_some() {
            st.nlink = st.nlink.saturating_sub(1);
        }
        Ok(st)
    }

    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::OUT | IoEvents::RDNORM | IoEvents::WRNORM
    }

    fn release(&self) {
        // The last close of an O_TMPFILE file that never got a name: its
        // stand-in name goes, and the file with it.
        if let Some((dir, name)) = self.take_hidden() {
            let _ = dir.unlink(&name, false);
        }
    }

    fn can_poll(&self) -> bool {
        false
    }

    fn truncate(&self, len: u64) -> KResult<()> {
        Ok(self.retry_busy(|| self.file.set_len(len))?)
    }

    fn sync(&self) -> KResult<()> {
        Ok(self.retry_busy(|| self.file.sync(false))?)
    }

    fn fallocate(&self, op: axfs_ng_vfs::FileRangeOperation, offset: u64, len: u64) -> KResult<()> {
        if self.generated.is_some() {
            return Err(Errno::ENODEV);
        }
        Ok(self.retry_busy(|| self.file.operate_range(offset, len, op))?)
    }

    /// From the file system's extent map (tmpfs pages, ext4 extents;
    /// unwritten ext4 extents read as zeros and count as holes). ext4 data
    /// still in the page cache has no extent yet, so it is written back
    /// first. A file system without a map is all data up to the size.
    fn seek_data(&self, offset: u64, what: Seek) -> KResult<u64> {
        if self.generated.is_some() {
            return Err(Errno::EINVAL);
        }
        let size = self.size()?;
        if offset >= size {
            return Err(Errno::ENXIO);
        }
        if let Some(cache) = self.page_cache() {
            self.retry_busy(|| cache.sync(true))?;
        }
        let node = self.location().entry().as_file()?.clone();
        let mut ranges = Vec::new();
        let mut from = offset;
        // Bounded: each query returns at least one extent past `from` or ends.
        for _ in 0..EXTENT_QUERIES {
            let map = match node.map_extents(from, size - from, FileExtentTarget::Data, 64) {
                Ok(map) => map,
                Err(VfsError::OperationNotSupported | VfsError::Unsupported) => {
                    return seekhole::seek([(0, size)], size, offset, what).ok_or(Errno::ENXIO);
                }
                Err(e) => return Err(e.into()),
            };
            let mut end = from;
            for e in &map.extents {
                end = end.max(e.logical_start + e.length);
                if e.state != FileExtentState::Unwritten {
                    ranges.push((e.logical_start, e.logical_start + e.length));
                }
            }
            if map.complete || end <= from || end >= size {
                break;
            }
            from = end;
        }
        ranges.sort_unstable();
        seekhole::seek(ranges, size, offset, what).ok_or(Errno::ENXIO)
    }

    fn path(&self) -> String {
        self.path.clone()
    }

    fn flock_node(&self) -> Option<Arc<FlockNode>> {
        Some(flock_node_of(self.location()))
    }

    fn existing_flock_node(&self) -> Option<Arc<FlockNode>> {
        self.location().user_data().get::<FlockNode>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open directory.
pub struct VfsDir {
    loc: Location,
    path: String,
}

impl VfsDir {
    /// Wraps a directory location.
    pub fn new(loc: Location, path: String) -> Arc<Self> {
        Arc::new(Self { loc, path })
    }

    /// The directory's VFS location.
    pub fn location(&self) -> &Location {
        &self.loc
    }
}

impl FileLike for VfsDir {
    fn read(&self, _buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(kstat_of(&self.loc.metadata()?))
    }

    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::RDNORM
    }

    fn can_poll(&self) -> bool {
        false
    }

    fn read_dir(&self, pos: u64, emit: &mut dyn FnMut(DirEntryInfo) -> bool) -> KResult<()> {
        let mut sink = |name: &[u8], ino: u64, t: NodeType, next: DirectoryCursor| {
            emit(DirEntryInfo {
                ino,
                next: next.offset(),
                dtype: dtype_of(t),
                name: String::from_utf8_lossy(name).into_owned(),
            })
        };
        self.loc.read_dir(DirectoryCursor::new(pos), &mut sink)?;
        Ok(())
    }

    /// Directories have nothing cached here to write back.
    fn sync(&self) -> KResult<()> {
        Ok(())
    }

    fn path(&self) -> String {
        self.path.clone()
    }

    fn flock_node(&self) -> Option<Arc<FlockNode>> {
        Some(flock_node_of(self.location()))
    }

    fn existing_flock_node(&self) -> Option<Arc<FlockNode>> {
        self.location().user_data().get::<FlockNode>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
