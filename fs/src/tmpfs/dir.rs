//! VFS handle for tmpfs directories: lookup, getdents, create, link, unlink.
//!
//! A [`TmpDir`] is per `DirEntry` because the entries it builds name that
//! `DirEntry` as their parent; the directory itself is the shared
//! [`DirInode`]. Listing lives in `readdir.rs`, rename in `rename.rs`.
//!
//! Locking: mutations take the file system's namespace lock, then this
//! directory's state lock, then (for link/unlink) the child's state lock.
//! Lookups and getdents take only this directory's state lock, copy what
//! they need and drop it before building entries, calling a generator or
//! feeding the `DirEntrySink`.

use alloc::{
    borrow::ToOwned,
    collections::BTreeMap,
    string::String,
    sync::{Arc, Weak},
};
use core::{any::Any, time::Duration};

use ax_sync::Mutex;
use axfs_ng_vfs::{
    DirEntry, DirEntrySink, DirNode, DirNodeOps, DirectoryCursor, FilesystemOps, Metadata,
    MetadataUpdate, NodeOps, NodePermission, NodeType, Reference, RenameOptions, VfsError,
    VfsResult, WeakDirEntry,
};

use super::{
    TmpFs,
    file::{TmpFile, file_entry, is_special},
    generated::materialize,
    inode::{Child, Content, DirInode, FileInode, Meta},
    pages::{PAGE_SIZE, SparseData},
    readdir::{end_cursor, read_dir},
    rename::rename,
    superblock::Super,
};

/// Handle of a directory, one per `DirEntry`.
pub struct TmpDir {
    fs: Arc<TmpFs>,
    inode: Arc<DirInode>,
    this: WeakDirEntry,
    /// For a directory the VFS does not cache (one with a generator): the
    /// entries already handed out for its own names, so that a name keeps
    /// one `DirEntry` (and mounts on it keep their key) while it is in use.
    handed_out: Mutex<BTreeMap<String, WeakDirEntry>>,
}

/// Context for building a new inode inside a directory under its lock.
pub(super) struct Creator<'a> {
    sb: &'a Arc<Super>,
    parent: &'a Arc<DirInode>,
    parent_meta: &'a Meta,
    now: Duration,
}

impl Creator<'_> {
    pub(super) fn sb(&self) -> &Arc<Super> {
        self.sb
    }

    pub(super) fn parent(&self) -> Weak<DirInode> {
        Arc::downgrade(self.parent)
    }

    pub(super) fn meta(&self, mode: NodePermission, uid: u32, gid: u32) -> Meta {
        Meta::new(mode, uid, gid, self.now)
    }

    /// Ownership as fs/inode.c inode_init_owner assigns it: in a set-group-ID
    /// directory the group is the directory's, and subdirectories inherit
    /// the bit.
    fn inheriting_meta(&self, mut mode: NodePermission, uid: u32, gid: u32, dir: bool) -> Meta {
        let mut gid = gid;
        if self.parent_meta.mode.contains(NodePermission::SET_GID) {
            gid = self.parent_meta.gid;
            if dir {
                mode |= NodePermission::SET_GID;
            }
        }
        self.meta(mode, uid, gid)
    }
}

impl TmpDir {
    pub(super) fn new(fs: Arc<TmpFs>, inode: Arc<DirInode>, this: WeakDirEntry) -> Self {
        Self {
            fs,
            inode,
            this,
            handed_out: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn fs(&self) -> &Arc<TmpFs> {
        &self.fs
    }

    pub(super) fn inode(&self) -> &Arc<DirInode> {
        &self.inode
    }

    fn this_entry(&self) -> VfsResult<DirEntry> {
        // The VFS only calls a handle through its live DirEntry.
        self.this.upgrade().ok_or(VfsError::BadState)
    }

    /// Builds a fresh `DirEntry` for `child` named `name` in this directory.
    pub(super) fn entry_for(&self, name: &str, child: Child) -> VfsResult<DirEntry> {
        let reference = Reference::new(Some(self.this_entry()?), name.to_owned());
        Ok(match child {
            Child::File(inode) => file_entry(&self.fs, inode, reference),
            Child::Dir(inode) => {
                let fs = self.fs.clone();
                DirEntry::new_dir(
                    |this| DirNode::new(Arc::new(TmpDir::new(fs, inode, this))),
                    reference,
                )
            }
        })
    }

    /// The entry for one of this directory's own names; reused while alive
    /// when the VFS does not cache for us. Entries are built and released
    /// outside the `handed_out` lock.
    fn own_entry(&self, name: &str, child: Child, vfs_caches: bool) -> VfsResult<DirEntry> {
        if vfs_caches {
            return self.entry_for(name, child);
        }
        let cached = self
            .handed_out
            .lock()
            .get(name)
            .and_then(WeakDirEntry::upgrade);
        if let Some(entry) = cached
            && entry.inode() == child.ino()
        {
            return Ok(entry);
        }
        let entry = self.entry_for(name, child)?;
        // One slot per own name of a generator directory, which only the
        // kernel populates, so the map stays small without pruning.
        self.handed_out
            .lock()
            .insert(name.to_owned(), entry.downgrade());
        Ok(entry)
    }

    /// Adds a new name. In a directory with a generator only the kernel
    /// may do so: a user request passes the error it gets there as `denied`.
    pub(super) fn insert_new(
        &self,
        name: &str,
        denied: Option<VfsError>,
        make: impl FnOnce(&Creator) -> VfsResult<Child>,
    ) -> VfsResult<DirEntry> {
        let now = self.inode.sb.now();
        let (child, vfs_caches) = {
            let _namespace = self.fs.namespace().lock();
            let mut guard = self.inode.state.lock();
            let state = &mut *guard;
            if state.removed {
                return Err(VfsError::NotFound);
            }
            if state.generator.is_some()
                && let Some(denied) = denied
            {
                return Err(denied);
            }
            if state.contains(name) {
                return Err(VfsError::AlreadyExists);
            }
            let creator = Creator {
                sb: &self.inode.sb,
                parent: &self.inode,
                parent_meta: &state.meta,
                now,
            };
            let child = make(&creator)?;
            state.insert(name.to_owned(), child.clone());
            state.meta.touch_modify(now);
            (child, state.generator.is_none())
        };
        self.own_entry(name, child, vfs_caches)
    }
}

impl TmpDir {
    /// Creates a regular file with no name in this directory's file system
    /// (open(2) O_TMPFILE, mm/shmem.c shmem_tmpfile): no link, owned and
    /// moded as a file created here would be. `linkable` lets linkat(2)
    /// give it a first name (O_TMPFILE without O_EXCL). The entry names
    /// this directory as its parent and `#<inode>` as its name, as Linux's
    /// d_tmpfile does, but the directory does not list it.
    ///
    /// ENOENT in a removed directory; EOPNOTSUPP in a generated one
    /// (procfs has no tmpfile operation).
    pub fn create_unnamed(
        &self,
        permission: NodePermission,
        uid: u32,
        gid: u32,
        linkable: bool,
    ) -> VfsResult<DirEntry> {
        let now = self.inode.sb.now();
        let inode = {
            let _namespace = self.fs.namespace().lock();
            let state = self.inode.state.lock();
            if state.removed {
                return Err(VfsError::NotFound);
            }
            if state.generator.is_some() {
                return Err(VfsError::OperationNotSupported);
            }
            let creator = Creator {
                sb: &self.inode.sb,
                parent: &self.inode,
                parent_meta: &state.meta,
                now,
            };
            let meta = creator.inheriting_meta(permission, uid, gid, false);
            let ino = creator.sb().alloc_ino();
            FileInode::new(
                creator.sb(),
                ino,
                NodeType::RegularFile,
                meta,
                Content::Regular(SparseData::default()),
            )?
        };
        {
            let mut state = inode.state.lock();
            state.nlink = 0;
            state.linkable = linkable;
        }
        let name = alloc::format!("#{}", inode.ino);
        self.entry_for(&name, Child::File(inode))
    }
}

impl NodeOps for TmpDir {
    fn inode(&self) -> u64 {
        self.inode.ino
    }

    fn metadata(&self) -> VfsResult<Metadata> {
        let state = self.inode.state.lock();
        Ok(Metadata {
            device: 0,
            inode: self.inode.ino,
            nlink: state.nlink(),
            mode: state.meta.mode,
            node_type: NodeType::Directory,
            uid: state.meta.uid,
            gid: state.meta.gid,
            size: state.size(),
            block_size: PAGE_SIZE as u64,
            blocks: 0,
            rdev: state.meta.rdev,
            atime: state.meta.atime,
            mtime: state.meta.mtime,
            ctime: state.meta.ctime,
        })
    }

    fn update_metadata(&self, update: MetadataUpdate) -> VfsResult<()> {
        let now = self.inode.sb.now();
        self.inode.state.lock().meta.apply(update, now);
        Ok(())
    }

    fn filesystem(&self) -> &dyn FilesystemOps {
        &*self.fs
    }

    fn len(&self) -> VfsResult<u64> {
        Ok(self.inode.state.lock().size())
    }

    fn sync(&self, _data_only: bool) -> VfsResult<()> {
        Ok(())
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

impl DirNodeOps for TmpDir {
    fn read_dir(&self, cursor: DirectoryCursor, sink: &mut dyn DirEntrySink) -> VfsResult<usize> {
        read_dir(self, cursor, sink)
    }

    fn directory_end_cursor(&self) -> VfsResult<DirectoryCursor> {
        end_cursor(self)
    }

    fn lookup(&self, name: &str) -> VfsResult<DirEntry> {
        match name {
            "." => return self.this_entry(),
            ".." => {
                let this = self.this_entry()?;
                return Ok(this.parent().unwrap_or(this));
            }
            _ => {}
        }
        let (child, generator) = {
            let state = self.inode.state.lock();
            if state.removed {
                return Err(VfsError::NotFound);
            }
            (state.get(name).cloned(), state.generator.clone())
        };
        if let Some(child) = child {
            return self.own_entry(name, child, generator.is_none());
        }
        match generator.and_then(|generator| generator.lookup(name)) {
            Some(node) => materialize(self, name, node),
            None => Err(VfsError::NotFound),
        }
    }

    fn is_cacheable(&self) -> bool {
        self.inode.state.lock().generator.is_none()
    }

    fn has_children(&self) -> VfsResult<bool> {
        let state = self.inode.state.lock();
        Ok(!state.is_empty() || state.generator.is_some())
    }

    fn create(
        &self,
        name: &str,
        node_type: NodeType,
        permission: NodePermission,
        uid: u32,
        gid: u32,
    ) -> VfsResult<DirEntry> {
        if !matches!(node_type, NodeType::Directory | NodeType::RegularFile)
            && !is_special(node_type)
        {
            // Symlinks go through create_symlink; Unknown is no type at all.
            return Err(VfsError::InvalidInput);
        }
        // fs/namei.c: without ->create open(O_CREAT) fails with EACCES,
        // without ->mkdir or ->mknod the call fails with EPERM.
        let denied = if node_type == NodeType::RegularFile {
            VfsError::PermissionDenied
        } else {
            VfsError::OperationNotPermitted
        };
        self.insert_new(name, Some(denied), |creator| {
            let is_dir = node_type == NodeType::Directory;
            let meta = creator.inheriting_meta(permission, uid, gid, is_dir);
            let ino = creator.sb().alloc_ino();
            Ok(match node_type {
                NodeType::Directory => Child::Dir(DirInode::new(
                    creator.sb(),
                    ino,
                    meta,
                    creator.parent(),
                    None,
                )),
                NodeType::RegularFile => Child::File(FileInode::new(
                    creator.sb(),
                    ino,
                    node_type,
                    meta,
                    Content::Regular(SparseData::default()),
                )?),
                _ => Child::File(FileInode::new(
                    creator.sb(),
                    ino,
                    node_type,
                    meta,
                    Content::Special,
                )?),
            })
        })
    }

    fn create_symlink(
        &self,
        name: &str,
        target: &str,
        _permission: NodePermission,
        uid: u32,
        gid: u32,
    ) -> VfsResult<DirEntry> {
        let content = FileInode::symlink_content(target)?;
        let denied = Some(VfsError::OperationNotPermitted);
        self.insert_new(name, denied, |creator| {
            // Symlink permissions are always 0777 on Linux.
            let mode = NodePermission::from_bits_truncate(0o777);
            let meta = creator.inheriting_meta(mode, uid, gid, false);
            let ino = creator.sb().alloc_ino();
            FileInode::new(creator.sb(), ino, NodeType::Symlink, meta, content).map(Child::File)
        })
    }

    fn link(&self, name: &str, node: &DirEntry) -> VfsResult<DirEntry> {
        let file = match node.downcast::<TmpFile>() {
            Ok(file) => file,
            // link(2): EPERM for a directory, EXDEV across file systems.
            Err(_) if node.is_dir() => return Err(VfsError::OperationNotPermitted),
            Err(_) => return Err(VfsError::CrossesDevices),
        };
        if !Arc::ptr_eq(file.fs(), &self.fs) {
            return Err(VfsError::CrossesDevices);
        }
        let inode = file.inode().clone();
        let now = self.inode.sb.now();
        {
            let _namespace = self.fs.namespace().lock();
            let mut dir = self.inode.state.lock();
            if dir.removed {
                return Err(VfsError::NotFound);
            }
            if dir.generator.is_some() {
                return Err(VfsError::OperationNotPermitted);
            }
            if dir.contains(name) {
                return Err(VfsError::AlreadyExists);
            }
            {
                let mut state = inode.state.lock();
                if state.content.is_generated() {
                    return Err(VfsError::OperationNotPermitted);
                }
                // fs/namei.c vfs_link: a file already unlinked everywhere
                // cannot get a name back (ENOENT), unless it is an O_TMPFILE
                // file made linkable, which can once.
                if state.nlink == 0 && !state.linkable {
                    return Err(VfsError::NotFound);
                }
                state.nlink = state.nlink.checked_add(1).ok_or(VfsError::TooManyLinks)?;
                state.linkable = false;
                state.meta.ctime = now;
            }
            dir.insert(name.to_owned(), Child::File(inode.clone()));
            dir.meta.touch_modify(now);
        }
        self.entry_for(name, Child::File(inode))
    }

    fn unlink(&self, name: &str, is_dir: bool) -> VfsResult<()> {
        let now = self.inode.sb.now();
        // Dropped after the locks are released.
        let _removed = {
            let _namespace = self.fs.namespace().lock();
            let mut dir = self.inode.state.lock();
            let Some(child) = dir.get(name).cloned() else {
                // The VFS looked the name up first, so a miss in a directory
                // with a generator is a generated name: procfs says EPERM.
                return Err(if dir.generator.is_some() {
                    VfsError::OperationNotPermitted
                } else {
                    VfsError::NotFound
                });
            };
            match (&child, is_dir) {
                (Child::Dir(_), false) => return Err(VfsError::IsADirectory),
                (Child::File(_), true) => return Err(VfsError::NotADirectory),
                (Child::Dir(victim), true) => {
                    let mut victim = victim.state.lock();
                    if victim.generator.is_some() {
                        return Err(VfsError::OperationNotPermitted);
                    }
                    if !victim.is_empty() {
                        return Err(VfsError::DirectoryNotEmpty);
                    }
                    victim.removed = true;
                    victim.meta.ctime = now;
                }
                (Child::File(victim), false) => {
                    let mut victim = victim.state.lock();
                    victim.nlink = victim.nlink.saturating_sub(1);
                    victim.meta.ctime = now;
                }
            }
            dir.remove(name);
            dir.meta.touch_modify(now);
            child
        };
        Ok(())
    }

    fn rename(
        &self,
        src_name: &str,
        dst_dir: &DirNode,
        dst_name: &str,
        options: RenameOptions,
    ) -> VfsResult<()> {
        let dst = dst_dir
            .downcast::<TmpDir>()
            .map_err(|_| VfsError::CrossesDevices)?;
        if !Arc::ptr_eq(&self.fs, &dst.fs) {
            return Err(VfsError::CrossesDevices);
        }
        rename(
            &self.fs,
            &self.inode,
            src_name,
            &dst.inode,
            dst_name,
            options,
        )
    }
}
