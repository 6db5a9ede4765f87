//! One tmpfs instance: constructor, counters, root entry and `statfs`.
//!
//! [`TmpFs`] owns the root directory inode (and through it the whole tree)
//! and the namespace lock. It holds its own root `DirEntry` only weakly,
//! like ax-fs-ng's ext4, because every entry handle owns an `Arc<TmpFs>`.
//! `Super` holds what inodes need from their instance (inode numbers, the
//! clock, page and inode accounting) and is all they own of it, which keeps
//! the ownership graph acyclic. Its counters are atomics, taken under no
//! lock.

use alloc::{
    string::String,
    sync::{Arc, Weak},
};
use core::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use ax_sync::Mutex;
use axfs_ng_vfs::{
    DirEntry, DirNode, Filesystem, FilesystemOps, NodePermission, Reference, StatFs, VfsError,
    VfsResult, WeakDirEntry, path::MAX_NAME_LEN,
};

use super::{
    dir::TmpDir,
    inode::{DirInode, Meta},
    pages::{PAGE_SIZE, PageBudget},
};

/// `statfs` magic of tmpfs and devtmpfs (include/uapi/linux/magic.h).
pub const TMPFS_MAGIC: u32 = 0x0102_1994;
/// `statfs` magic of procfs; procps and others check it.
pub const PROC_SUPER_MAGIC: u32 = 0x9fa0;
/// `statfs` magic of sysfs.
pub const SYSFS_MAGIC: u32 = 0x6265_6572;

/// How to build a tmpfs instance.
#[derive(Clone, Copy, Debug)]
pub struct TmpfsOptions {
    /// Data limit in bytes (`size=`); writes past it fail with ENOSPC.
    /// `None` means unlimited, and `statfs` then reports zero blocks and
    /// inodes like Linux ramfs.
    pub size_limit: Option<u64>,
    /// Permission bits of the root directory; Linux tmpfs defaults to 01777.
    pub root_mode: u16,
    /// Wall clock for timestamps.
    pub clock: fn() -> Duration,
}

impl Default for TmpfsOptions {
    fn default() -> Self {
        Self {
            size_limit: None,
            root_mode: 0o1777,
            clock: default_clock,
        }
    }
}

/// Realtime since the epoch, from the same provider ext4 uses.
#[cfg(feature = "kernel")]
fn default_clock() -> Duration {
    ax_fs_ng::os::wall_time()
}

/// Without the kernel runtime there is no clock; tests pass their own.
#[cfg(not(feature = "kernel"))]
fn default_clock() -> Duration {
    Duration::ZERO
}

/// Creates a tmpfs named `name` ("tmpfs", "devtmpfs", "proc", ...).
///
/// The name is what `FilesystemOps::name` reports (the type in
/// `/proc/mounts`) and selects the `statfs` magic:
/// "proc" reports [`PROC_SUPER_MAGIC`], "sysfs" [`SYSFS_MAGIC`], anything
/// else [`TMPFS_MAGIC`].
pub fn new_tmpfs(name: &str, size_limit: Option<u64>) -> Filesystem {
    new_tmpfs_with(
        name,
        TmpfsOptions {
            size_limit,
            ..TmpfsOptions::default()
        },
    )
}

/// Creates a tmpfs with explicit options.
pub fn new_tmpfs_with(name: &str, options: TmpfsOptions) -> Filesystem {
    Filesystem::new(TmpFs::new(name, options))
}

/// State shared by all inodes of one tmpfs instance.
pub(super) struct Super {
    next_ino: AtomicU64,
    pages_used: AtomicU64,
    page_limit: Option<u64>,
    inodes_used: AtomicU64,
    clock: fn() -> Duration,
}

impl Super {
    pub(super) fn new(size_limit: Option<u64>, clock: fn() -> Duration) -> Self {
        Self {
            next_ino: AtomicU64::new(1),
            pages_used: AtomicU64::new(0),
            page_limit: size_limit.map(|bytes| bytes.div_ceil(PAGE_SIZE as u64)),
            inodes_used: AtomicU64::new(0),
            clock,
        }
    }

    pub(super) fn now(&self) -> Duration {
        (self.clock)()
    }

    /// Allocates a fresh persistent inode number.
    pub(super) fn alloc_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn page_limit(&self) -> Option<u64> {
        self.page_limit
    }

    pub(super) fn pages_used(&self) -> u64 {
        self.pages_used.load(Ordering::Relaxed)
    }

    pub(super) fn inodes_used(&self) -> u64 {
        self.inodes_used.load(Ordering::Relaxed)
    }

    pub(super) fn inode_created(&self) {
        self.inodes_used.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn inode_freed(&self) {
        self.inodes_used.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PageBudget for Super {
    fn reserve(&self, pages: u64) -> VfsResult<()> {
        self.pages_used
            .try_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                let new = used.checked_add(pages)?;
                match self.page_limit {
                    Some(limit) if new > limit => None,
                    _ => Some(new),
                }
            })
            .map(|_| ())
            .map_err(|_| VfsError::StorageFull)
    }

    fn release(&self, pages: u64) {
        self.pages_used.fetch_sub(pages, Ordering::Relaxed);
    }
}

/// A tmpfs instance; `Filesystem::new` wraps it.
pub struct TmpFs {
    name: String,
    magic: u32,
    sb: Arc<Super>,
    root: Arc<DirInode>,
    root_entry: Mutex<Option<WeakDirEntry>>,
    /// Serializes every change to the directory tree. See the module docs
    /// of `tmpfs` for the lock order.
    namespace: Mutex<()>,
    self_ref: Weak<TmpFs>,
}

impl TmpFs {
    fn new(name: &str, options: TmpfsOptions) -> Arc<Self> {
        let sb = Arc::new(Super::new(options.size_limit, options.clock));
        let meta = Meta::new(
            NodePermission::from_bits_truncate(options.root_mode),
            0,
            0,
            sb.now(),
        );
        let root = DirInode::new(&sb, sb.alloc_ino(), meta, Weak::new(), None);
        let magic = match name {
            "proc" => PROC_SUPER_MAGIC,
            "sysfs" => SYSFS_MAGIC,
            _ => TMPFS_MAGIC,
        };
        Arc::new_cyclic(|self_ref| Self {
            name: name.into(),
            magic,
            sb,
            root,
            root_entry: Mutex::new(None),
            namespace: Mutex::new(()),
            self_ref: self_ref.clone(),
        })
    }

    pub(super) fn sb(&self) -> &Arc<Super> {
        &self.sb
    }

    pub(super) fn namespace(&self) -> &Mutex<()> {
        &self.namespace
    }

    fn arc(&self) -> Arc<Self> {
        // A `TmpFs` only exists inside the `Arc` built by `new`, and `&self`
        // proves that Arc is alive.
        self.self_ref.upgrade().expect("TmpFs lives in an Arc")
    }
}

impl FilesystemOps for TmpFs {
    fn name(&self) -> &str {
        &self.name
    }

    fn root_dir(&self) -> DirEntry {
        let mut slot = self.root_entry.lock();
        if let Some(entry) = slot.as_ref().and_then(WeakDirEntry::upgrade) {
            return entry;
        }
        let fs = self.arc();
        let root = self.root.clone();
        let entry = DirEntry::new_dir(
            |this| DirNode::new(Arc::new(TmpDir::new(fs, root, this))),
            Reference::root(),
        );
        *slot = Some(entry.downgrade());
        entry
    }

    fn stat(&self) -> VfsResult<StatFs> {
        let (blocks, free, files, free_files) = match self.sb.page_limit() {
            Some(limit) => {
                let free = limit.saturating_sub(self.sb.pages_used());
                // No separate inode limit: report one free inode per free
                // page so `df -i` shows a sane, shrinking figure.
                (limit, free, self.sb.inodes_used() + free, free)
            }
            None => (0, 0, 0, 0),
        };
        Ok(StatFs {
            fs_type: self.magic,
            block_size: PAGE_SIZE as u32,
            blocks,
            blocks_free: free,
            blocks_available: free,
            file_count: files,
            free_file_count: free_files,
            name_length: MAX_NAME_LEN as u32,
            fragment_size: PAGE_SIZE as u32,
            mount_flags: 0,
        })
    }
}
