//! O_TMPFILE (open(2)) and linkat(2) of an open file: AT_EMPTY_PATH and
//! /proc/PID/fd/N followed with AT_SYMLINK_FOLLOW.
//!
//! An O_TMPFILE file is a regular file with no name in the file system of
//! the directory given. On tmpfs it is exactly that ([`TmpDir::create_unnamed`]):
//! no link, st_nlink 0, freed with its last reference; without O_EXCL
//! linkat(2) may give it one first name (Linux's I_LINKABLE). ext4 (the
//! ax-fs-ng driver) can neither create an inode without a name nor link
//! one whose link count is 0, so there the file is created under a hidden
//! name in the directory: with O_EXCL the name goes at once (the file can
//! never be linked, as on Linux); without, it stays until linkat(2) gives
//! the file its real name or the last close removes it, and fstat does not
//! count it. Other file systems (procfs, sysfs) answer EOPNOTSUPP, as
//! Linux does for a file system without a tmpfile operation.

use alloc::{format, string::String, sync::Arc};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ax_fs_ng::vfs::{FsContext, OpenOptions, OpenResult};
use axfs_ng_vfs::{Location, Metadata, MutationCredentials, NodePermission, NodeType, VfsError};
use starling_fs::{
    file::{
        OpenFile,
        device::DeviceNode,
        flags::*,
        vfs::{VfsDir, VfsFile},
    },
    tmpfs::TmpDir,
};

use super::{at_context, credentials};
use crate::{
    error::{Errno, KResult},
    syscall::SyscallContext,
};

/// Whether `creds` may write and search the directory `meta` describes
/// (fs/namei.c vfs_tmpfile: MAY_WRITE | MAY_EXEC).
fn may_write_search(meta: &Metadata, creds: &MutationCredentials<'_>) -> bool {
    if creds.cap_dac_override {
        return true;
    }
    let mode = meta.mode.bits() as u32;
    let bits = if meta.uid == creds.fsuid {
        mode >> 6
    } else if creds.in_group(meta.gid) {
        mode >> 3
    } else {
        mode
    };
    bits & 0o3 == 0o3
}

/// A name for an ext4 O_TMPFILE file that no program will pick.
fn hidden_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(".starling-tmpfile.{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Creates the file in `dir`: the location and, on ext4, the hidden name.
fn create_in(
    dir: &Location,
    perm: NodePermission,
    creds: &MutationCredentials<'_>,
    linkable: bool,
) -> KResult<(Location, Option<(Location, String)>)> {
    let fs_name = dir.filesystem().name();
    if let Ok(tmp) = dir.entry().as_dir()?.downcast::<TmpDir>()
        && fs_name != "proc"
        && fs_name != "sysfs"
    {
        let entry = tmp.create_unnamed(perm, creds.fsuid, creds.fsgid, linkable)?;
        return Ok((Location::new(dir.mountpoint().clone(), entry), None));
    }
    if fs_name != "ext4" {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            warn!("open: O_TMPFILE is not supported on {fs_name} (EOPNOTSUPP)");
        }
        return Err(Errno::EOPNOTSUPP);
    }
    // inode_init_owner: the group of a set-group-ID directory.
    let meta = dir.metadata()?;
    let gid = if meta.mode.contains(NodePermission::SET_GID) {
        meta.gid
    } else {
        creds.fsgid
    };
    let mut tries = 0;
    let (loc, name) = loop {
        let name = hidden_name();
        match dir.create(&name, NodeType::RegularFile, perm, creds.fsuid, gid) {
            Ok(loc) => break (loc, name),
            // A name left by an earlier boot.
            Err(VfsError::AlreadyExists) if tries < 64 => tries += 1,
            Err(e) => return Err(e.into()),
        }
    };
    if linkable {
        Ok((loc, Some((dir.clone(), name))))
    } else {
        dir.unlink(&name, false)?;
        Ok((loc, None))
    }
}

/// open(2) with O_TMPFILE: an unnamed regular file in the directory `path`.
pub fn open_tmpfile(
    ctx: &FsContext,
    path: &str,
    flags: u32,
    mode: u32,
    umask: u32,
    creds: &MutationCredentials<'_>,
) -> KResult<Arc<OpenFile>> {
    // fs/open.c build_open_flags: O_TMPFILE needs its O_DIRECTORY bit and
    // no O_CREAT, a write access mode, and is not an O_PATH flag.
    let acc = flags & O_ACCMODE;
    if flags & (O_TMPFILE | O_CREAT) != O_TMPFILE
        || (acc != O_WRONLY && acc != O_RDWR)
        || flags & O_PATH != 0
    {
        return Err(Errno::EINVAL);
    }
    // do_tmpfile: the path is looked up as a directory (ENOENT, ENOTDIR).
    let check = |d: &Location| ctx.check_search_path(d, ctx.permission_boundary(), creds);
    let dir = if flags & O_NOFOLLOW != 0 {
        ctx.resolve_no_follow_checked(path, check)?
    } else {
        ctx.resolve_checked(path, check)?
    };
    dir.check_is_dir()?;
    if dir.is_readonly() {
        return Err(Errno::EROFS);
    }
    if !may_write_search(&dir.metadata()?, creds) {
        return Err(Errno::EACCES);
    }
    let perm = NodePermission::from_bits_truncate((mode & !umask & 0o7777) as u16);
    let (loc, hidden) = create_in(&dir, perm, creds, flags & O_EXCL == 0)?;
    let shown = format!(
        "{}/#{} (deleted)",
        dir.absolute_path()
            .map(|p| String::from(p.as_str()))
            .unwrap_or_default()
            .trim_end_matches('/'),
        loc.inode()
    );
    let mut opts = OpenOptions::new();
    opts.read(acc == O_RDWR).write(true);
    // The directory was checked; the new file is the caller's whatever its
    // mode (a tmpfile created with mode 0 is still writable through this
    // description, as on Linux).
    let opened = opts.open_loc_with_credentials(loc, &MutationCredentials::root());
    let file = match opened {
        Ok(OpenResult::File(f)) => f,
        other => {
            if let Some((dir, name)) = &hidden {
                let _ = dir.unlink(name, false);
            }
            return Err(match other {
                Err(e) => e.into(),
                _ => Errno::EISDIR,
            });
        }
    };
    let open = OpenFile::new(
        VfsFile::new_tmpfile(file, shown, hidden)?,
        flags | O_LARGEFILE,
    );
    open.set_opener(creds.fsuid, creds.fsgid);
    Ok(open)
}

/// The VFS node an open file is, if it is one of a mounted file system
/// (files, directories, device nodes and FIFOs opened by name).
pub fn location_of(file: &OpenFile) -> Option<Location> {
    let any = file.file().as_any();
    if let Some(f) = any.downcast_ref::<VfsFile>() {
        Some(f.location().clone())
    } else if let Some(d) = any.downcast_ref::<VfsDir>() {
        Some(d.location().clone())
    } else {
        any.downcast_ref::<DeviceNode>().map(|d| d.node().clone())
    }
}

/// linkat(2) of the open file `file` (AT_EMPTY_PATH, or a /proc/PID/fd/N
/// link followed) to `newpath` relative to `newdirfd`. `None` is the
/// current directory (AT_FDCWD with an empty path).
pub fn link_open_file(
    sc: &SyscallContext<'_>,
    file: Option<&Arc<OpenFile>>,
    newdirfd: i32,
    newpath: &str,
) -> KResult<()> {
    let file = file.ok_or(Errno::EPERM)?;
    let any = file.file().as_any();
    if any.downcast_ref::<VfsDir>().is_some() {
        // vfs_link: a directory cannot be linked.
        return Err(Errno::EPERM);
    }
    // Pipes, eventfds and the like live on no mount of ours.
    let src = location_of(file).ok_or(Errno::EXDEV)?;
    let tmp = any.downcast_ref::<VfsFile>();
    let creds = credentials(sc.thread);
    let ctx = at_context(sc.thread, newdirfd, newpath)?;
    let (new_dir, name, searched) = ctx
        .resolve_parent_with_search_checked(newpath.as_ref(), |d| {
            ctx.check_search_path(d, ctx.permission_boundary(), &creds)
        })?;
    ctx.link_locations_with_boundaries_and_search(
        (&src, &[]),
        (&new_dir, &name, &searched),
        (None, ctx.permission_boundary()),
        &creds,
    )?;
    if let Some((dir, hidden)) = tmp.and_then(VfsFile::take_hidden) {
        let _ = dir.unlink(&hidden, false);
    }
    Ok(())
}
