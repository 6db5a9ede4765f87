//! Inodes of the in-memory file system: shared state behind every name.
//!
//! A [`FileInode`] backs every non-directory (regular file, symlink, FIFO,
//! socket, device node, generated file or link); a [`DirInode`] backs every
//! directory. Hard links to a file share one `Arc<FileInode>`; the VFS-facing
//! handles in `file.rs` and `dir.rs` are per-`DirEntry` and only point here.
//!
//! Ownership runs one way: the file system owns the root `DirInode`, each
//! directory owns its children, and every inode owns an `Arc<Super>` (never
//! the file system itself), so there is no reference cycle and an unmounted,
//! unreferenced tmpfs frees all of its memory. A directory's `..` is a
//! `Weak` to its parent.
//!
//! Each inode has one `state` mutex and one `attachments` mutex (a leaf lock
//! for per-inode data the kernel hangs on the node, e.g. a FIFO's pipe).

use alloc::{
    collections::BTreeMap,
    string::String,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::time::Duration;

use ax_sync::Mutex;
use axfs_ng_vfs::{
    DeviceId, MetadataUpdate, NodePermission, NodeType, TypeMap, VfsError, VfsResult,
};

use super::{
    generated::{GeneratedDir, ReadAtFn, ReadFn, TargetFn, WriteFn},
    pages::{PAGE_SIZE, PageBudget, SparseData},
    superblock::Super,
};

/// Linux tmpfs accounts directories as 20 bytes per entry, `.` and `..`
/// included (mm/shmem.c, BOGO_DIRENT_SIZE).
pub const BOGO_DIRENT_SIZE: u64 = 20;

/// Symlink targets shorter than this live inside the inode and use no page
/// (mm/shmem.c, SHORT_SYMLINK_LEN).
const SHORT_SYMLINK_LEN: usize = 128;

/// Inode numbers with this bit set belong to nodes a [`GeneratedDir`]
/// produced on demand; counter-allocated numbers never reach it.
const DYNAMIC_INO_BIT: u64 = 1 << 63;

/// Inode number of a generated node: a hash of its directory's inode and
/// its name, so `stat` and `getdents` agree across repeated lookups.
pub fn dynamic_ino(parent: u64, name: &str) -> u64 {
    // FNV-1a, 64-bit.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parent.to_le_bytes().iter().chain(name.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash | DYNAMIC_INO_BIT
}

/// Ownership, permission, device number and timestamps of one inode.
#[derive(Clone, Debug)]
pub struct Meta {
    pub mode: NodePermission,
    pub uid: u32,
    pub gid: u32,
    pub rdev: DeviceId,
    pub atime: Duration,
    pub mtime: Duration,
    pub ctime: Duration,
}

impl Meta {
    pub fn new(mode: NodePermission, uid: u32, gid: u32, now: Duration) -> Self {
        Self {
            mode,
            uid,
            gid,
            rdev: DeviceId::default(),
            atime: now,
            mtime: now,
            ctime: now,
        }
    }

    /// Data or entries changed: mtime and ctime.
    pub fn touch_modify(&mut self, now: Duration) {
        self.mtime = now;
        self.ctime = now;
    }

    /// Read access under `relatime`, the Linux default: atime moves only when
    /// it is not newer than mtime/ctime or is a day old (fs/inode.c,
    /// relatime_need_update).
    pub fn touch_access(&mut self, now: Duration) {
        const DAY: Duration = Duration::from_secs(24 * 60 * 60);
        if self.atime <= self.mtime
            || self.atime <= self.ctime
            || now.saturating_sub(self.atime) >= DAY
        {
            self.atime = now;
        }
    }

    /// chmod/chown/utimes/mknod's device number; every change moves ctime.
    pub fn apply(&mut self, update: MetadataUpdate, now: Duration) {
        if let Some(mode) = update.mode {
            self.mode = mode;
        }
        if let Some((uid, gid)) = update.owner {
            self.uid = uid;
            self.gid = gid;
        }
        if let Some(rdev) = update.rdev {
            self.rdev = rdev;
        }
        if let Some(atime) = update.atime {
            self.atime = atime;
        }
        if let Some(mtime) = update.mtime {
            self.mtime = mtime;
        }
        self.ctime = now;
    }
}

/// What a non-directory inode holds.
pub enum Content {
    Regular(SparseData),
    Symlink {
        target: String,
        uses_page: bool,
    },
    /// FIFO, socket, character or block device: metadata only; the kernel
    /// attaches the behaviour by node type and `rdev`.
    Special,
    Generated {
        read: ReadFn,
        write: Option<WriteFn>,
    },
    /// A generated file read at an offset (see `ReadAtFn`).
    GeneratedAt(ReadAtFn),
    GeneratedLink(TargetFn),
}

impl Content {
    pub fn is_generated(&self) -> bool {
        matches!(
            self,
            Self::Generated { .. } | Self::GeneratedAt(_) | Self::GeneratedLink(_)
        )
    }
}

pub struct FileState {
    pub meta: Meta,
    pub nlink: u64,
    pub content: Content,
    /// An O_TMPFILE inode that may still get a first name although it has
    /// no link (Linux's I_LINKABLE); cleared by that first link.
    pub linkable: bool,
    /// File seals (crate::seals): F_SEAL_SEAL for every tmpfs file but a
    /// memfd created with MFD_ALLOW_SEALING (shmem_get_inode).
    pub seals: u32,
}

pub struct FileInode {
    pub sb: Arc<Super>,
    pub ino: u64,
    pub node_type: NodeType,
    pub state: Mutex<FileState>,
    pub attachments: Mutex<TypeMap>,
    /// The VMAs that map the file (every name and handle of the inode
    /// shares it).
    #[cfg(feature = "kernel")]
    pub mappings: ax_sync::SpinLock<starling_mm::aspace::ObjectRegistry>,
    /// Told after every change to `mappings` (the kernel's debug records
    /// of memfds, see `TmpFile::observe_mappings`).
    #[cfg(feature = "kernel")]
    pub mapping_observer: ax_sync::SpinLock<Option<fn(&super::TmpFile)>>,
}

impl FileInode {
    /// Creates an inode with one link. A symlink longer than the inline
    /// limit reserves a page, as it does on Linux.
    pub fn new(
        sb: &Arc<Super>,
        ino: u64,
        node_type: NodeType,
        meta: Meta,
        content: Content,
    ) -> VfsResult<Arc<Self>> {
        if let Content::Symlink {
            uses_page: true, ..
        } = content
        {
            sb.reserve(1)?;
        }
        sb.inode_created();
        Ok(Arc::new(Self {
            sb: sb.clone(),
            ino,
            node_type,
            state: Mutex::new(FileState {
                meta,
                nlink: 1,
                content,
                linkable: false,
                seals: crate::seals::F_SEAL_SEAL,
            }),
            attachments: Mutex::new(TypeMap::new()),
            #[cfg(feature = "kernel")]
            mappings: ax_sync::SpinLock::new(starling_mm::aspace::ObjectRegistry::new()),
            #[cfg(feature = "kernel")]
            mapping_observer: ax_sync::SpinLock::new(None),
        }))
    }

    /// Content for a new symlink, checking Linux's one-page target limit
    /// (mm/shmem.c, shmem_symlink: ENAMETOOLONG past PAGE_SIZE with NUL).
    pub fn symlink_content(target: &str) -> VfsResult<Content> {
        if target.len() + 1 > PAGE_SIZE {
            return Err(VfsError::NameTooLong);
        }
        Ok(Content::Symlink {
            target: target.into(),
            uses_page: target.len() >= SHORT_SYMLINK_LEN,
        })
    }
}

impl Drop for FileInode {
    fn drop(&mut self) {
        match &mut self.state.get_mut().content {
            Content::Regular(data) => data.clear(&*self.sb),
            Content::Symlink {
                uses_page: true, ..
            } => self.sb.release(1),
            _ => {}
        }
        self.sb.inode_freed();
    }
}

/// A name's target inside a directory.
#[derive(Clone)]
pub enum Child {
    File(Arc<FileInode>),
    Dir(Arc<DirInode>),
}

impl Child {
    pub fn ino(&self) -> u64 {
        match self {
            Self::File(file) => file.ino,
            Self::Dir(dir) => dir.ino,
        }
    }

    pub fn node_type(&self) -> NodeType {
        match self {
            Self::File(file) => file.node_type,
            Self::Dir(_) => NodeType::Directory,
        }
    }

    pub fn is_same(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::File(a), Self::File(b)) => Arc::ptr_eq(a, b),
            (Self::Dir(a), Self::Dir(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// One directory listing row copied out under the directory lock.
pub struct SlotView {
    pub slot: u64,
    pub name: String,
    pub ino: u64,
    pub node_type: NodeType,
}

/// First slot number for real entries; 0 and 1 are `.` and `..`.
pub const FIRST_SLOT: u64 = 2;

pub struct DirState {
    pub meta: Meta,
    /// Set by rmdir (or rename over it); lookups, creates and `getdents`
    /// then fail with ENOENT as on Linux (fs/readdir.c, IS_DEADDIR).
    pub removed: bool,
    pub generator: Option<Arc<dyn GeneratedDir>>,
    names: BTreeMap<String, u64>,
    /// Entries by slot; a slot is a directory offset that stays valid while
    /// other entries come and go, so `getdents` neither skips nor repeats
    /// entries that are not themselves renamed.
    slots: BTreeMap<u64, (String, Child)>,
    next_slot: u64,
    subdirs: u64,
}

impl DirState {
    pub fn get(&self, name: &str) -> Option<&Child> {
        let slot = self.names.get(name)?;
        self.slots.get(slot).map(|(_, child)| child)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    pub fn insert(&mut self, name: String, child: Child) {
        if matches!(child, Child::Dir(_)) {
            self.subdirs += 1;
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        self.names.insert(name.clone(), slot);
        self.slots.insert(slot, (name, child));
    }

    pub fn remove(&mut self, name: &str) -> Option<Child> {
        let slot = self.names.remove(name)?;
        let (_, child) = self.slots.remove(&slot)?;
        if matches!(child, Child::Dir(_)) {
            self.subdirs -= 1;
        }
        Some(child)
    }

    /// Puts `child` under an existing name, keeping its slot (used by
    /// RENAME_EXCHANGE). Returns the previous child.
    pub fn swap(&mut self, name: &str, child: Child) -> Option<Child> {
        let slot = self.names.get(name)?;
        let entry = self.slots.get_mut(slot)?;
        let old = core::mem::replace(&mut entry.1, child);
        let delta_new = u64::from(matches!(entry.1, Child::Dir(_)));
        let delta_old = u64::from(matches!(old, Child::Dir(_)));
        self.subdirs = self.subdirs + delta_new - delta_old;
        Some(old)
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// `st_nlink` of a directory: itself, its `.` and each child's `..`.
    pub fn nlink(&self) -> u64 {
        if self.removed { 0 } else { 2 + self.subdirs }
    }

    pub fn size(&self) -> u64 {
        BOGO_DIRENT_SIZE * (2 + self.slots.len() as u64)
    }

    /// Cursor value just past the last entry.
    pub fn end_slot(&self) -> u64 {
        self.next_slot
    }

    /// Copies up to `max` entries with slot `>= from`.
    pub fn slots_from(&self, from: u64, max: usize) -> Vec<SlotView> {
        self.slots
            .range(from..)
            .take(max)
            .map(|(slot, (name, child))| SlotView {
                slot: *slot,
                name: name.clone(),
                ino: child.ino(),
                node_type: child.node_type(),
            })
            .collect()
    }
}

pub struct DirInode {
    pub sb: Arc<Super>,
    pub ino: u64,
    /// The directory `..` names. A leaf lock of its own so that rename can
    /// walk ancestors while holding directory state locks; it only changes
    /// under the namespace lock.
    pub parent: Mutex<Weak<DirInode>>,
    pub state: Mutex<DirState>,
    pub attachments: Mutex<TypeMap>,
}

impl DirInode {
    pub fn new(
        sb: &Arc<Super>,
        ino: u64,
        meta: Meta,
        parent: Weak<DirInode>,
        generator: Option<Arc<dyn GeneratedDir>>,
    ) -> Arc<Self> {
        sb.inode_created();
        Arc::new(Self {
            sb: sb.clone(),
            ino,
            parent: Mutex::new(parent),
            state: Mutex::new(DirState {
                meta,
                removed: false,
                generator,
                names: BTreeMap::new(),
                slots: BTreeMap::new(),
                next_slot: FIRST_SLOT,
                subdirs: 0,
            }),
            attachments: Mutex::new(TypeMap::new()),
        })
    }

    /// Inode number `..` reports: the parent's, or our own at the root.
    pub fn parent_ino(&self) -> u64 {
        self.parent
            .lock()
            .upgrade()
            .map_or(self.ino, |parent| parent.ino)
    }

    /// Whether `self` is `node` or one of its ancestors. Callers hold the
    /// namespace lock, so no parent pointer moves during the walk.
    pub fn is_ancestor_or_self_of(self: &Arc<Self>, node: &Arc<DirInode>) -> bool {
        let mut current = node.clone();
        loop {
            if Arc::ptr_eq(self, &current) {
                return true;
            }
            let parent = current.parent.lock().upgrade();
            match parent {
                Some(parent) => current = parent,
                None => return false,
            }
        }
    }
}

impl Drop for DirInode {
    /// Tears the subtree down iteratively so a deep tree cannot overflow the
    /// kernel stack through nested drops.
    fn drop(&mut self) {
        let state = self.state.get_mut();
        state.names.clear();
        let mut pending: Vec<Child> = core::mem::take(&mut state.slots)
            .into_values()
            .map(|(_, child)| child)
            .collect();
        while let Some(child) = pending.pop() {
            if let Child::Dir(dir) = child
                && let Some(mut dir) = Arc::into_inner(dir)
            {
                let state = dir.state.get_mut();
                state.names.clear();
                pending.extend(
                    core::mem::take(&mut state.slots)
                        .into_values()
                        .map(|(_, child)| child),
                );
            }
        }
        self.sb.inode_freed();
    }
}
