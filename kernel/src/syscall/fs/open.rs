//! openat and the path-based calls that create or remove names.

use alloc::{string::String, sync::Arc};

use ax_fs_ng::vfs::{FsContext, OpenOptions, OpenResult};
use axfs_ng_vfs::{MutationCredentials, NodePermission, NodeType, RenameOptions, path::Path};
use starling_fs::file::{
    FileLike, OpenFile,
    device::DeviceNode,
    flags::*,
    pipe::Fifo,
    vfs::{VfsDir, VfsFile},
};

use super::{AT_REMOVEDIR, at_context, install};
use crate::{
    dev,
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

const VALID_OPEN_FLAGS: u32 = O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_DSYNC
    | O_ASYNC
    | O_DIRECT
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_NOATIME
    | O_CLOEXEC
    | O_SYNC
    | O_PATH
    | O_TMPFILE;

/// The global path /proc/PID/fd shows for `path` opened at `dirfd` (made
/// absolute against the directory, or against the caller's root).
fn absolute(sc: &SyscallContext<'_>, dirfd: i32, path: &str) -> String {
    let base = at_context(sc.thread, dirfd, path)
        .ok()
        .and_then(|ctx| {
            let dir = if path.starts_with('/') {
                ctx.root_dir()
            } else {
                ctx.current_dir()
            };
            dir.absolute_path().ok()
        })
        .map(|p| String::from(p.as_str()))
        .unwrap_or_default();
    let path = path.trim_start_matches('/');
    let joined = alloc::format!("{}/{}", base.trim_end_matches('/'), path);
    String::from_utf8(starling_fs::path::normalize_lexically(
        b"/",
        joined.as_bytes(),
    ))
    .unwrap_or(joined)
}

/// Opens `path` relative to `dirfd` and returns the open file description.
pub fn open_path(
    sc: &SyscallContext<'_>,
    dirfd: i32,
    path: &str,
    flags: u32,
    mode: u32,
) -> KResult<Arc<OpenFile>> {
    let ctx = at_context(sc.thread, dirfd, path)?;
    let umask = sc
        .thread
        .process
        .umask
        .load(core::sync::atomic::Ordering::Relaxed);
    let shown = absolute(sc, dirfd, path);
    open_in(
        &ctx,
        path,
        flags,
        mode,
        umask,
        shown,
        &super::credentials(sc.thread),
    )
}

/// Opens `path` in filesystem context `ctx`; `shown` is the path
/// /proc/PID/fd reports.
pub fn open_in(
    ctx: &FsContext,
    path: &str,
    flags: u32,
    mode: u32,
    umask: u32,
    shown: String,
    creds: &MutationCredentials<'_>,
) -> KResult<Arc<OpenFile>> {
    if flags & O_TMPFILE == O_TMPFILE {
        warn!("open: O_TMPFILE is not supported yet");
        return Err(Errno::EOPNOTSUPP);
    }
    let acc = flags & O_ACCMODE;
    if acc == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let mut opts = OpenOptions::new();
    opts.read(acc != O_WRONLY)
        .write(acc != O_RDONLY)
        .create(flags & O_CREAT != 0)
        .create_new(flags & O_CREAT != 0 && flags & O_EXCL != 0)
        // O_TRUNC is applied below, to regular files only: Linux ignores
        // it for devices and FIFOs.
        .truncate(false)
        .directory(flags & O_DIRECTORY != 0)
        .no_follow(flags & O_NOFOLLOW != 0)
        .path(flags & O_PATH != 0)
        .mode(mode & !umask & 0o7777);
    if flags & O_CREAT != 0 {
        // inode_init_owner: the fsuid, and the fsgid or the group of a
        // set-group-ID parent directory.
        let gid = super::setgid_parent_group(ctx, path).unwrap_or(creds.fsgid);
        opts.user(creds.fsuid, gid);
    }
    let file: Arc<dyn FileLike> = match opts.open_with_credentials(ctx, path, creds)? {
        OpenResult::Dir(loc) => VfsDir::new(loc, shown),
        OpenResult::File(f) => {
            let meta = f.location().metadata()?;
            // O_NOATIME is for the owner or CAP_FOWNER (fs/inode.c
            // may_open: inode_owner_or_capable), else EPERM.
            if flags & O_NOATIME != 0
                && flags & O_PATH == 0
                && meta.uid != creds.fsuid
                && !creds.cap_fowner
            {
                return Err(Errno::EPERM);
            }
            match meta.node_type {
                NodeType::CharacterDevice if flags & O_PATH == 0 => DeviceNode::wrap(
                    dev::open_device(meta.rdev.major(), meta.rdev.minor())?,
                    f.location().clone(),
                ),
                NodeType::Fifo if flags & O_PATH == 0 => open_fifo(f.location(), flags)?,
                _ => {
                    if flags & O_TRUNC != 0
                        && acc != O_RDONLY
                        && meta.node_type == NodeType::RegularFile
                    {
                        f.set_len(0)?;
                    }
                    VfsFile::new(f, shown, acc != O_RDONLY && flags & O_PATH == 0)
                }
            }
        }
    };
    // fs/open.c build_open_flags: a 64-bit kernel opens every file with
    // O_LARGEFILE, so F_GETFL and /proc/PID/fdinfo show it.
    Ok(OpenFile::new(file, flags | O_LARGEFILE))
}

/// Opens a FIFO node (fifo(7)): the pipe lives in the node's data and
/// every open shares it. A blocking open for reading waits for a writer and
/// vice versa; O_RDWR never waits.
fn open_fifo(loc: &axfs_ng_vfs::Location, flags: u32) -> KResult<Arc<dyn FileLike>> {
    let fifo = loc.user_data().get_or_insert_with(Fifo::default);
    let acc = flags & O_ACCMODE;
    let (read, write) = (acc != O_WRONLY, acc != O_RDONLY);
    let nonblock = flags & O_NONBLOCK != 0;
    let end = fifo.open(read, write, nonblock)?;
    if read != write && !nonblock {
        let thread = crate::task::current().ok_or(Errno::EINTR)?;
        let waited = crate::task::block::wait_event(
            &thread,
            None,
            crate::task::block::Interruptible::Restart,
            |sink| fifo.register_open(sink),
            || fifo.peer_present(read).then_some(Ok(())),
        );
        if let Err(e) = waited {
            // The end was counted; dropping it undoes that.
            end.release();
            return Err(e);
        }
    }
    Ok(DeviceNode::wrap(end, loc.clone()))
}

/// openat(2).
pub fn sys_openat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    flags: u32,
    mode: u32,
) -> SysResult {
    if flags & !VALID_OPEN_FLAGS != 0 {
        // Linux ignores unknown open flags for compatibility.
        debug!(
            "openat: ignoring unknown flags {:#x}",
            flags & !VALID_OPEN_FLAGS
        );
    }
    let path = usercopy::read_path(path)?;
    let file = open_path(sc, dirfd, &path, flags, mode)?;
    install(sc, file, flags & O_CLOEXEC != 0)
}

/// mkdirat(2).
pub fn sys_mkdirat(sc: &mut SyscallContext<'_>, dirfd: i32, path: usize, mode: u32) -> SysResult {
    let path = usercopy::read_path(path)?;
    if starling_fs::path::split_parent(path.as_bytes())?
        .last
        .is_none()
    {
        // "/" (or "//"): the name exists (mkdir(2): EEXIST).
        return Err(Errno::EEXIST);
    }
    let ctx = at_context(sc.thread, dirfd, &path)?;
    let umask = sc
        .thread
        .process
        .umask
        .load(core::sync::atomic::Ordering::Relaxed);
    let (uid, gid, setgid) = super::owner_in(sc.thread, &ctx, &path);
    // A directory made in a set-group-ID directory is one too.
    let perm = NodePermission::from_bits_truncate(
        ((mode & !umask & 0o7777) | if setgid { 0o2000 } else { 0 }) as u16,
    );
    ctx.create_dir(
        path.as_str(),
        perm,
        uid,
        gid,
        &super::credentials(sc.thread),
    )?;
    Ok(0)
}

/// unlinkat(2).
pub fn sys_unlinkat(sc: &mut SyscallContext<'_>, dirfd: i32, path: usize, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = usercopy::read_path(path)?;
    let ctx = at_context(sc.thread, dirfd, &path)?;
    if flags & AT_REMOVEDIR != 0 {
        ctx.remove_dir(path.as_str(), &super::credentials(sc.thread))?;
    } else {
        ctx.remove_file(path.as_str(), &super::credentials(sc.thread))?;
    }
    Ok(0)
}

/// renameat2(2): RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT
/// (fs/namei.c do_renameat2; whiteouts need no capability since Linux 5.8). Each path is resolved against its own
/// directory descriptor (and the caller's root), checking search
/// permission on the way.
pub fn sys_renameat2(
    sc: &mut SyscallContext<'_>,
    olddirfd: i32,
    oldpath: usize,
    newdirfd: i32,
    newpath: usize,
    flags: u32,
) -> SysResult {
    const RENAME_NOREPLACE: u32 = 1;
    const RENAME_EXCHANGE: u32 = 2;
    const RENAME_WHITEOUT: u32 = 4;
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || (flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0)
    {
        return Err(Errno::EINVAL);
    }
    let options = match flags {
        0 => RenameOptions::REPLACE,
        RENAME_NOREPLACE => RenameOptions::NO_REPLACE,
        RENAME_EXCHANGE => RenameOptions::EXCHANGE,
        RENAME_WHITEOUT => RenameOptions::WHITEOUT,
        _ => RenameOptions::WHITEOUT_NO_REPLACE,
    };
    let old = usercopy::read_path(oldpath)?;
    let new = usercopy::read_path(newpath)?;
    let old_ctx = at_context(sc.thread, olddirfd, &old)?;
    let new_ctx = at_context(sc.thread, newdirfd, &new)?;
    let creds = super::credentials(sc.thread);
    let (src_dir, src_name, src_searched) = old_ctx
        .resolve_parent_with_search_checked(Path::new(old.as_str()), |dir| {
            old_ctx.check_search_path(dir, None, &creds)
        })?;
    let (dst_dir, dst_name, dst_searched) = new_ctx
        .resolve_parent_with_search_checked(Path::new(new.as_str()), |dir| {
            new_ctx.check_search_path(dir, None, &creds)
        })?;
    old_ctx
        .rename_locations_with_boundaries_and_search(
            (&src_dir, &src_name),
            (&dst_dir, &dst_name),
            options,
            (None, None),
            (&src_searched, &dst_searched),
            &creds,
        )
        .map_err(|e| match Errno::from(e) {
            // A file system without whiteouts (ext4 here): Linux's answer
            // for one is EINVAL.
            Errno::EOPNOTSUPP if flags & RENAME_WHITEOUT != 0 => {
                warn!("renameat2: RENAME_WHITEOUT is not supported by this file system");
                Errno::EINVAL
            }
            other => other,
        })?;
    Ok(0)
}

/// symlinkat(2).
pub fn sys_symlinkat(
    sc: &mut SyscallContext<'_>,
    target: usize,
    dirfd: i32,
    linkpath: usize,
) -> SysResult {
    let target = usercopy::read_path(target)?;
    let link = usercopy::read_path(linkpath)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let ctx = at_context(sc.thread, dirfd, &link)?;
    let (uid, gid, _) = super::owner_in(sc.thread, &ctx, &link);
    ctx.symlink(
        target.as_str(),
        link.as_str(),
        uid,
        gid,
        &super::credentials(sc.thread),
    )?;
    Ok(0)
}

/// linkat(2): the old name is not followed unless AT_SYMLINK_FOLLOW (a
/// link to a symlink links the symlink); AT_EMPTY_PATH with an empty old
/// path links the file `olddirfd` refers to, for callers with
/// CAP_DAC_READ_SEARCH (ENOENT otherwise, as Linux).
pub fn sys_linkat(
    sc: &mut SyscallContext<'_>,
    olddirfd: i32,
    oldpath: usize,
    newdirfd: i32,
    newpath: usize,
    flags: u32,
) -> SysResult {
    if flags & !(super::AT_SYMLINK_FOLLOW | super::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = usercopy::read_path(oldpath)?;
    let new = usercopy::read_path(newpath)?;
    // An empty name is ENOENT before any descriptor is looked at (getname).
    if (old.is_empty() && flags & super::AT_EMPTY_PATH == 0) || new.is_empty() {
        return Err(Errno::ENOENT);
    }
    let creds = super::credentials(sc.thread);
    let (source, old_searched) = if old.is_empty() {
        if !creds.cap_dac_read_search {
            return Err(Errno::ENOENT);
        }
        let file = super::file_of(sc.thread, olddirfd)?;
        let any = file.file().as_any();
        let loc = if let Some(f) = any.downcast_ref::<VfsFile>() {
            f.location().clone()
        } else if let Some(d) = any.downcast_ref::<VfsDir>() {
            d.location().clone()
        } else {
            return Err(Errno::EPERM);
        };
        (loc, alloc::vec::Vec::new())
    } else {
        let old_ctx = at_context(sc.thread, olddirfd, &old)?;
        let check = |dir: &axfs_ng_vfs::Location| old_ctx.check_search_path(dir, None, &creds);
        if flags & super::AT_SYMLINK_FOLLOW != 0 {
            old_ctx.resolve_with_search_checked(old.as_str(), check)?
        } else {
            old_ctx.resolve_no_follow_with_search_checked(old.as_str(), check)?
        }
    };
    let new_ctx = at_context(sc.thread, newdirfd, &new)?;
    let (dir, name, new_searched) = new_ctx
        .resolve_parent_with_search_checked(Path::new(new.as_str()), |dir| {
            new_ctx.check_search_path(dir, None, &creds)
        })?;
    new_ctx.link_locations_with_boundaries_and_search(
        (&source, &old_searched),
        (&dir, &name, &new_searched),
        (None, None),
        &creds,
    )?;
    Ok(0)
}

/// creat(2) (x86_64).
#[cfg(target_arch = "x86_64")]
pub fn sys_creat(sc: &mut SyscallContext<'_>, path: usize, mode: u32) -> SysResult {
    sys_openat(
        sc,
        super::AT_FDCWD,
        path,
        O_CREAT | O_WRONLY | O_TRUNC,
        mode,
    )
}

/// mknodat(2): FIFOs, sockets and regular files for anyone; device nodes
/// for root (CAP_MKNOD).
pub fn sys_mknodat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    mode: u32,
    dev: u64,
) -> SysResult {
    use starling_fs::file::mode::*;
    let path = usercopy::read_path(path)?;
    let kind = match mode & S_IFMT {
        0 | S_IFREG => NodeType::RegularFile,
        S_IFIFO => NodeType::Fifo,
        S_IFSOCK => NodeType::Socket,
        S_IFCHR => NodeType::CharacterDevice,
        S_IFBLK => NodeType::BlockDevice,
        _ => return Err(Errno::EINVAL),
    };
    if matches!(kind, NodeType::CharacterDevice | NodeType::BlockDevice)
        && !sc
            .thread
            .process
            .creds
            .lock()
            .capable(crate::task::creds::CAP_MKNOD)
    {
        return Err(Errno::EPERM);
    }
    let ctx = at_context(sc.thread, dirfd, &path)?;
    let umask = sc
        .thread
        .process
        .umask
        .load(core::sync::atomic::Ordering::Relaxed);
    let perm = NodePermission::from_bits_truncate((mode & !umask & 0o7777) as u16);
    let (uid, gid, _) = super::owner_in(sc.thread, &ctx, &path);
    let node = ctx.create_node(
        path.as_str(),
        kind,
        perm,
        uid,
        gid,
        &super::credentials(sc.thread),
    )?;
    if matches!(kind, NodeType::CharacterDevice | NodeType::BlockDevice) {
        // Linux's new_decode_dev: major in bits 8..20, minor in 0..8 and 20..32.
        let major = ((dev >> 8) & 0xfff) as u32;
        let minor = ((dev & 0xff) | ((dev >> 12) & 0xfff00)) as u32;
        node.update_metadata(axfs_ng_vfs::MetadataUpdate {
            rdev: Some(axfs_ng_vfs::DeviceId::new(major, minor)),
            ..Default::default()
        })?;
    }
    Ok(0)
}
