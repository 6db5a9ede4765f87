//! rename(2)/renameat2(2) inside one tmpfs instance.
//!
//! Checks follow fs/namei.c vfs_rename and mm/shmem.c shmem_rename2, and
//! every check runs before anything changes, so a failed rename leaves the
//! tree untouched. The VFS performs most of them too; they are repeated here
//! because the kernel may call a `DirNode` directly.
//!
//! Locking: the namespace lock, then the source directory's state, then the
//! destination directory's (a different inode), then the state of the
//! children involved. The namespace lock makes this the only task holding
//! more than one directory lock, so the order between the two directories
//! does not matter. The ancestry walk takes only the leaf `parent` locks.

use alloc::{borrow::ToOwned, sync::Arc};
use core::time::Duration;

use axfs_ng_vfs::{DeviceId, NodePermission, NodeType, RenameOptions, VfsError, VfsResult};

use super::{
    TmpFs,
    inode::{Child, Content, DirInode, DirState, FileInode, Meta},
};

/// The two directory states of a rename; `dst` is `None` when both names
/// live in the same directory.
struct Dirs<'a> {
    src: &'a mut DirState,
    dst: Option<&'a mut DirState>,
}

impl Dirs<'_> {
    fn dst(&mut self) -> &mut DirState {
        match &mut self.dst {
            Some(dst) => dst,
            None => self.src,
        }
    }
}

/// Records a status change on a child that is not one of the locked
/// directories (guaranteed by the ancestry checks).
fn touch_ctime(child: &Child, now: Duration) {
    match child {
        Child::File(file) => file.state.lock().meta.ctime = now,
        Child::Dir(dir) => dir.state.lock().meta.ctime = now,
    }
}

/// Renames `src_name` in `src` to `dst_name` in `dst`.
pub(super) fn rename(
    fs: &TmpFs,
    src: &Arc<DirInode>,
    src_name: &str,
    dst: &Arc<DirInode>,
    dst_name: &str,
    options: RenameOptions,
) -> VfsResult<()> {
    let now = fs.sb().now();
    let same_dir = Arc::ptr_eq(src, dst);
    // Whatever leaves the tree is dropped after the locks are released.
    let _replaced;
    {
        let _namespace = fs.namespace().lock();
        let mut src_guard = src.state.lock();
        let mut dst_guard = if same_dir {
            None
        } else {
            Some(dst.state.lock())
        };
        let mut dirs = Dirs {
            src: &mut src_guard,
            dst: dst_guard.as_deref_mut(),
        };
        _replaced = rename_locked(fs, &mut dirs, src, src_name, dst, dst_name, options, now)?;
    }
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "the two (directory, name) pairs plus their locked states"
)]
fn rename_locked(
    fs: &TmpFs,
    dirs: &mut Dirs<'_>,
    src: &Arc<DirInode>,
    src_name: &str,
    dst: &Arc<DirInode>,
    dst_name: &str,
    options: RenameOptions,
    now: Duration,
) -> VfsResult<Option<Child>> {
    if dirs.src.removed || dirs.dst().removed {
        return Err(VfsError::NotFound);
    }
    // procfs directories have no ->rename: EPERM.
    if dirs.src.generator.is_some() || dirs.dst().generator.is_some() {
        return Err(VfsError::OperationNotPermitted);
    }
    let source = dirs.src.get(src_name).cloned().ok_or(VfsError::NotFound)?;
    let target = dirs.dst().get(dst_name).cloned();
    if Arc::ptr_eq(src, dst) && src_name == dst_name {
        return Ok(None);
    }

    if options.exchange() {
        let target = target.ok_or(VfsError::NotFound)?;
        check_not_into_itself(&source, dst)?;
        check_not_into_itself(&target, src)?;
        exchange(dirs, src, src_name, dst, dst_name, &source, &target);
        touch_ctime(&source, now);
        touch_ctime(&target, now);
        touch_dirs(dirs, now);
        return Ok(None);
    }

    if let Some(target) = &target {
        if options.no_replace() {
            return Err(VfsError::AlreadyExists);
        }
        // POSIX: two links to the same file, nothing to do.
        if source.is_same(target) {
            return Ok(None);
        }
        match (&source, target) {
            (Child::Dir(_), Child::File(_)) => return Err(VfsError::NotADirectory),
            (Child::File(_), Child::Dir(_)) => return Err(VfsError::IsADirectory),
            _ => {}
        }
    }
    check_not_into_itself(&source, dst)?;
    if let Some(Child::Dir(victim)) = &target {
        // The victim holding the source directory is not empty; checked
        // without locking it, as we already hold that lock.
        if Arc::ptr_eq(victim, src) {
            return Err(VfsError::DirectoryNotEmpty);
        }
        let victim = victim.state.lock();
        if victim.generator.is_some() {
            return Err(VfsError::OperationNotPermitted);
        }
        if !victim.is_empty() {
            return Err(VfsError::DirectoryNotEmpty);
        }
    }
    let whiteout = if options.whiteout() {
        Some(new_whiteout(fs, now)?)
    } else {
        None
    };

    // Nothing below can fail.
    if let Some(target) = &target {
        dirs.dst().remove(dst_name);
        match target {
            Child::Dir(victim) => {
                let mut victim = victim.state.lock();
                victim.removed = true;
                victim.meta.ctime = now;
            }
            Child::File(victim) => {
                let mut victim = victim.state.lock();
                victim.nlink = victim.nlink.saturating_sub(1);
                victim.meta.ctime = now;
            }
        }
    }
    dirs.src.remove(src_name);
    dirs.dst().insert(dst_name.to_owned(), source.clone());
    if let Child::Dir(moved) = &source
        && !Arc::ptr_eq(src, dst)
    {
        *moved.parent.lock() = Arc::downgrade(dst);
    }
    if let Some(whiteout) = whiteout {
        dirs.src.insert(src_name.to_owned(), Child::File(whiteout));
    }
    touch_ctime(&source, now);
    touch_dirs(dirs, now);
    Ok(target)
}

/// EINVAL when moving directory `child` to `dst`, which is `child` itself
/// or below it.
fn check_not_into_itself(child: &Child, dst: &Arc<DirInode>) -> VfsResult<()> {
    match child {
        Child::Dir(dir) if dir.is_ancestor_or_self_of(dst) => Err(VfsError::InvalidInput),
        _ => Ok(()),
    }
}

/// RENAME_EXCHANGE: both names stay, their inodes trade places.
fn exchange(
    dirs: &mut Dirs<'_>,
    src: &Arc<DirInode>,
    src_name: &str,
    dst: &Arc<DirInode>,
    dst_name: &str,
    source: &Child,
    target: &Child,
) {
    dirs.src.swap(src_name, target.clone());
    dirs.dst().swap(dst_name, source.clone());
    if !Arc::ptr_eq(src, dst) {
        if let Child::Dir(moved) = source {
            *moved.parent.lock() = Arc::downgrade(dst);
        }
        if let Child::Dir(moved) = target {
            *moved.parent.lock() = Arc::downgrade(src);
        }
    }
}

fn touch_dirs(dirs: &mut Dirs<'_>, now: Duration) {
    dirs.src.meta.touch_modify(now);
    if let Some(dst) = &mut dirs.dst {
        dst.meta.touch_modify(now);
    }
}

/// The character device 0:0 with mode 0 that RENAME_WHITEOUT leaves behind
/// (mm/shmem.c shmem_whiteout, WHITEOUT_MODE / WHITEOUT_DEV).
fn new_whiteout(fs: &TmpFs, now: Duration) -> VfsResult<Arc<FileInode>> {
    let sb = fs.sb();
    let mut meta = Meta::new(NodePermission::empty(), 0, 0, now);
    meta.rdev = DeviceId::new(0, 0);
    FileInode::new(
        sb,
        sb.alloc_ino(),
        NodeType::CharacterDevice,
        meta,
        Content::Special,
    )
}
