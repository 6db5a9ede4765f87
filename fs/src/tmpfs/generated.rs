//! Nodes whose contents the kernel computes on demand (procfs, sysfs).
//!
//! Two mechanisms, both built from ordinary tmpfs inodes:
//!
//! * Persistent nodes, added once with [`add_generated_file`],
//!   [`add_generated_symlink`], [`add_generated_dir`] and [`add_dir`]: a
//!   file whose bytes come from a closure at every read (`/proc/meminfo`), a
//!   symlink whose target is computed at every readlink (`/proc/self`), a
//!   directory with or without a generator.
//! * Dynamic names, supplied by a [`GeneratedDir`] attached to a directory
//!   (with [`add_generated_dir`] or [`set_dir_generator`]): `getdents` lists
//!   the directory's own entries followed by [`GeneratedDir::list`], and a
//!   lookup that misses the own entries asks [`GeneratedDir::lookup`], which
//!   describes the node with a [`GeneratedNode`]; tmpfs builds it afresh for
//!   every lookup (`/proc/<pid>` and everything below it).
//!
//! A directory with a generator tells the VFS not to cache its entries, so a
//! vanished process disappears at once; its own entries are still handed out
//! as the same `DirEntry` while one is alive. Generated nodes get inode
//! numbers hashed from (directory inode, name), stable across lookups.
//! Users cannot create, link, rename or remove names in such a directory
//! (EACCES for `open(O_CREAT)`, EPERM otherwise, as in procfs); the kernel
//! adds entries with the functions here. Every closure and generator method
//! runs with no tmpfs lock held, so it may use the VFS itself.

use alloc::{string::String, sync::Arc, vec::Vec};

use axfs_ng_vfs::{DirEntry, NodePermission, NodeType, TypeMap, VfsError, VfsResult};

use super::{
    dir::{Creator, TmpDir},
    file::TmpFile,
    inode::{Child, Content, DirInode, FileInode, Meta, dynamic_ino},
};

/// Produces a generated file's whole contents; reads slice it at the offset.
pub type ReadFn = Arc<dyn Fn() -> Vec<u8> + Send + Sync>;
/// Reads a generated file at an offset without building its whole
/// contents, for files as large as an address space (/proc/PID/pagemap):
/// fills the buffer from the offset on and returns the bytes read (0 at the
/// end); an error is the read's error.
pub type ReadAtFn = Arc<dyn Fn(&mut [u8], u64) -> VfsResult<usize> + Send + Sync>;
/// Consumes one `write(2)` buffer to a generated file.
pub type WriteFn = Arc<dyn Fn(&[u8]) -> VfsResult<()> + Send + Sync>;
/// Produces a generated symlink's target.
pub type TargetFn = Arc<dyn Fn() -> String + Send + Sync>;

/// The dynamic part of a directory, implemented by the kernel.
pub trait GeneratedDir: Send + Sync + 'static {
    /// Current dynamic names with their types, in a stable order (e.g.
    /// ascending pid): `getdents` positions are indices into this list.
    fn list(&self) -> Vec<(String, NodeType)>;

    /// Describes the node called `name`, or `None` if there is none.
    fn lookup(&self, name: &str) -> Option<GeneratedNode>;
}

enum GeneratedKind {
    File {
        read: ReadFn,
        write: Option<WriteFn>,
    },
    /// Read at an offset, no snapshot (see [`ReadAtFn`]).
    RangedFile(ReadAtFn),
    Symlink(TargetFn),
    Dir(Arc<dyn GeneratedDir>),
}

/// What [`GeneratedDir::lookup`] returns: a node for tmpfs to build.
pub struct GeneratedNode {
    kind: GeneratedKind,
    mode: NodePermission,
    uid: u32,
    gid: u32,
}

impl GeneratedNode {
    /// A regular file read through `read` and, if given, written through
    /// `write`; `mode` holds permission bits only (`0o444`).
    pub fn file(mode: u32, read: ReadFn, write: Option<WriteFn>) -> Self {
        Self::new(GeneratedKind::File { read, write }, mode)
    }

    /// A read-only regular file read through `read_at` at each offset
    /// asked for, instead of from a snapshot of its whole text; writes fail
    /// with EINVAL, as for a Linux file without a write method.
    pub fn ranged_file(mode: u32, read_at: ReadAtFn) -> Self {
        Self::new(GeneratedKind::RangedFile(read_at), mode)
    }

    /// A symlink (mode 0777, as every Linux symlink).
    pub fn symlink(target: TargetFn) -> Self {
        Self::new(GeneratedKind::Symlink(target), 0o777)
    }

    /// A directory whose names all come from `dir`.
    pub fn dir(mode: u32, dir: Arc<dyn GeneratedDir>) -> Self {
        Self::new(GeneratedKind::Dir(dir), mode)
    }

    /// Sets the owner (procfs shows a process's files as owned by its
    /// effective uid/gid); the default is root.
    pub fn owned_by(mut self, uid: u32, gid: u32) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }

    fn new(kind: GeneratedKind, mode: u32) -> Self {
        Self {
            kind,
            mode: permission(mode),
            uid: 0,
            gid: 0,
        }
    }
}

fn permission(mode: u32) -> NodePermission {
    NodePermission::from_bits_truncate((mode & 0o7777) as u16)
}

/// Same rules as the VFS applies to names it passes down.
fn check_name(name: &str) -> VfsResult<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(VfsError::InvalidInput);
    }
    if name.len() > axfs_ng_vfs::path::MAX_NAME_LEN {
        return Err(VfsError::NameTooLong);
    }
    Ok(())
}

/// The tmpfs handle of a directory entry.
fn tmp_dir(dir: &DirEntry) -> VfsResult<Arc<TmpDir>> {
    dir.as_dir()?;
    dir.downcast::<TmpDir>()
}

/// Adds `child` under `name` as the kernel and publishes it in the VFS
/// dentry cache.
fn add(
    dir: &DirEntry,
    name: &str,
    make: impl FnOnce(&Creator) -> VfsResult<Child>,
) -> VfsResult<DirEntry> {
    check_name(name)?;
    let handle = tmp_dir(dir)?;
    let entry = handle.insert_new(name, None, make)?;
    dir.as_dir()?.insert_cache(name.into(), entry.clone());
    Ok(entry)
}

/// Adds a file whose contents are `read()` at every read, owned by root.
/// Without `write`, writes fail with EIO as on procfs.
pub fn add_generated_file(
    dir: &DirEntry,
    name: &str,
    mode: u32,
    read: ReadFn,
    write: Option<WriteFn>,
) -> VfsResult<DirEntry> {
    add(dir, name, |creator| {
        let meta = creator.meta(permission(mode), 0, 0);
        FileInode::new(
            creator.sb(),
            creator.sb().alloc_ino(),
            NodeType::RegularFile,
            meta,
            Content::Generated { read, write },
        )
        .map(Child::File)
    })
}

/// Adds a symlink whose target is `target()` at every readlink.
pub fn add_generated_symlink(dir: &DirEntry, name: &str, target: TargetFn) -> VfsResult<DirEntry> {
    add(dir, name, |creator| {
        let meta = creator.meta(permission(0o777), 0, 0);
        FileInode::new(
            creator.sb(),
            creator.sb().alloc_ino(),
            NodeType::Symlink,
            meta,
            Content::GeneratedLink(target),
        )
        .map(Child::File)
    })
}

/// Adds a directory whose names beyond those added to it come from
/// `generator`.
pub fn add_generated_dir(
    dir: &DirEntry,
    name: &str,
    mode: u32,
    generator: Arc<dyn GeneratedDir>,
) -> VfsResult<DirEntry> {
    add(dir, name, |creator| {
        let meta = creator.meta(permission(mode), 0, 0);
        Ok(Child::Dir(DirInode::new(
            creator.sb(),
            creator.sb().alloc_ino(),
            meta,
            creator.parent(),
            Some(generator),
        )))
    })
}

/// Adds a plain directory as the kernel, also where users may not create
/// one (e.g. `/proc/sys` beside the generated `/proc/<pid>` names).
pub fn add_dir(dir: &DirEntry, name: &str, mode: u32) -> VfsResult<DirEntry> {
    add(dir, name, |creator| {
        let meta = creator.meta(permission(mode), 0, 0);
        Ok(Child::Dir(DirInode::new(
            creator.sb(),
            creator.sb().alloc_ino(),
            meta,
            creator.parent(),
            None,
        )))
    })
}

/// Attaches (or with `None` detaches) the generator of an existing tmpfs
/// directory, e.g. the root of a procfs instance for its `<pid>` names.
/// Attach it before the directory is first used: entries the VFS cached
/// while it had no generator stay cached.
pub fn set_dir_generator(
    dir: &DirEntry,
    generator: Option<Arc<dyn GeneratedDir>>,
) -> VfsResult<()> {
    let handle = tmp_dir(dir)?;
    handle.inode().state.lock().generator = generator;
    Ok(())
}

/// Runs `f` on per-inode data that the kernel keeps with a tmpfs node and
/// that every hard link and every `DirEntry` of it shares (unlike
/// `DirEntry::user_data`), e.g. the pipe behind a FIFO. `f` runs under the
/// inode's attachment lock and must not call into the VFS.
pub fn with_inode_data<R>(entry: &DirEntry, f: impl FnOnce(&mut TypeMap) -> R) -> VfsResult<R> {
    if let Ok(file) = entry.downcast::<TmpFile>() {
        return Ok(f(&mut file.inode().attachments.lock()));
    }
    let dir = entry.downcast::<TmpDir>()?;
    Ok(f(&mut dir.inode().attachments.lock()))
}

/// Builds the node `generator` described for `name` in `dir`.
pub(super) fn materialize(dir: &TmpDir, name: &str, node: GeneratedNode) -> VfsResult<DirEntry> {
    let sb = dir.fs().sb();
    let ino = dynamic_ino(dir.inode().ino, name);
    let meta = Meta::new(node.mode, node.uid, node.gid, sb.now());
    let child = match node.kind {
        GeneratedKind::File { read, write } => Child::File(FileInode::new(
            sb,
            ino,
            NodeType::RegularFile,
            meta,
            Content::Generated { read, write },
        )?),
        GeneratedKind::RangedFile(read_at) => Child::File(FileInode::new(
            sb,
            ino,
            NodeType::RegularFile,
            meta,
            Content::GeneratedAt(read_at),
        )?),
        GeneratedKind::Symlink(target) => Child::File(FileInode::new(
            sb,
            ino,
            NodeType::Symlink,
            meta,
            Content::GeneratedLink(target),
        )?),
        GeneratedKind::Dir(generator) => Child::Dir(DirInode::new(
            sb,
            ino,
            meta,
            Arc::downgrade(dir.inode()),
            Some(generator),
        )),
    };
    dir.entry_for(name, child)
}
