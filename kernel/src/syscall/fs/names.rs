//! The path-based calls that create or remove names: mkdirat, unlinkat,
//! renameat2, symlinkat, linkat, mknodat. Each reports what it changed to
//! directory notification (`crate::dnotify`).

use axfs_ng_vfs::{Location, NodePermission, NodeType, RenameOptions, path::Path};

use super::{AT_REMOVEDIR, at_context};
use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    usercopy,
};

/// mkdirat(2).
#[inline(never)]
pub fn sys_mkdirat(sc: &mut SyscallContext<'_>, dirfd: i32, path: usize, mode: u32) -> SysResult {
    let path = super::read_name(path)?;
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
    crate::dnotify::path_child_event(&ctx, &path, crate::dnotify::DN_CREATE);
    Ok(0)
}

/// unlinkat(2).
#[inline(never)]
pub fn sys_unlinkat(sc: &mut SyscallContext<'_>, dirfd: i32, path: usize, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = usercopy::read_path(path)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let ctx = at_context(sc.thread, dirfd, &path)?;
    if flags & AT_REMOVEDIR != 0 {
        ctx.remove_dir(path.as_str(), &super::credentials(sc.thread))?;
    } else {
        ctx.remove_file(path.as_str(), &super::credentials(sc.thread))?;
    }
    crate::dnotify::path_child_event(&ctx, &path, crate::dnotify::DN_DELETE);
    Ok(0)
}

/// renameat2(2): RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT
/// (fs/namei.c do_renameat2; whiteouts need no capability since Linux 5.8). Each path is resolved against its own
/// directory descriptor (and the caller's root), checking search
/// permission on the way.
#[inline(never)]
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
    // getname: each name is read, and an empty one refused, in turn.
    let old = super::read_name(oldpath)?;
    let new = super::read_name(newpath)?;
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
    // fsnotify_move: the old directory hears a name leave (DN_DELETE, and
    // DN_RENAME when both are one directory), the new one a name arrive;
    // an exchange moves names both ways.
    let same = src_dir.ptr_eq(&dst_dir);
    let leave = crate::dnotify::DN_DELETE | if same { crate::dnotify::DN_RENAME } else { 0 };
    crate::dnotify::child_event(&src_dir, leave);
    crate::dnotify::child_event(&dst_dir, crate::dnotify::DN_CREATE);
    if flags & RENAME_EXCHANGE != 0 {
        crate::dnotify::child_event(&dst_dir, leave);
        crate::dnotify::child_event(&src_dir, crate::dnotify::DN_CREATE);
    }
    Ok(0)
}

/// symlinkat(2).
#[inline(never)]
pub fn sys_symlinkat(
    sc: &mut SyscallContext<'_>,
    target: usize,
    dirfd: i32,
    linkpath: usize,
) -> SysResult {
    let target = super::read_name(target)?;
    let link = super::read_name(linkpath)?;
    let ctx = at_context(sc.thread, dirfd, &link)?;
    let (uid, gid, _) = super::owner_in(sc.thread, &ctx, &link);
    ctx.symlink(
        target.as_str(),
        link.as_str(),
        uid,
        gid,
        &super::credentials(sc.thread),
    )?;
    crate::dnotify::path_child_event(&ctx, &link, crate::dnotify::DN_CREATE);
    Ok(0)
}

/// linkat(2): the old name is not followed unless AT_SYMLINK_FOLLOW (a
/// link to a symlink links the symlink; a followed /proc/PID/fd/N link
/// links the open file); AT_EMPTY_PATH with an empty old path links the
/// file `olddirfd` refers to (an O_TMPFILE file once, unless O_EXCL).
#[inline(never)]
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
    // An empty name is ENOENT before any descriptor is looked at, and
    // before the next name is read (getname).
    let old = usercopy::read_path(oldpath)?;
    if old.is_empty() && flags & super::AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    let new = super::read_name(newpath)?;
    let creds = super::credentials(sc.thread);
    // AT_EMPTY_PATH: the file olddirfd refers to, for CAP_DAC_READ_SEARCH
    // or the credentials that opened it (Linux 6.10: f_cred), else ENOENT.
    if old.is_empty() {
        let file = match olddirfd {
            super::AT_FDCWD => None,
            fd => Some(super::file_of(sc.thread, fd)?),
        };
        if !creds.cap_dac_read_search
            && file
                .as_ref()
                .is_none_or(|f| f.opener() != Some((creds.fsuid, creds.fsgid)))
        {
            return Err(Errno::ENOENT);
        }
        super::tmpfile::link_open_file(sc, file.as_ref(), newdirfd, &new)?;
        return Ok(0);
    }
    let old_ctx = at_context(sc.thread, olddirfd, &old)?;
    // A /proc/PID/fd/N link followed is the open file itself (a "magic
    // link"), even one with no name.
    if flags & super::AT_SYMLINK_FOLLOW != 0
        && let Some(file) = old_ctx
            .resolve_no_follow(old.as_str())
            .ok()
            .and_then(|loc| crate::procfs::magic_link_file(&loc))
    {
        super::tmpfile::link_open_file(sc, Some(&file), newdirfd, &new)?;
        return Ok(0);
    }
    let check = |dir: &Location| old_ctx.check_search_path(dir, None, &creds);
    let (source, old_searched) = if flags & super::AT_SYMLINK_FOLLOW != 0 {
        old_ctx.resolve_with_search_checked(old.as_str(), check)?
    } else {
        old_ctx.resolve_no_follow_with_search_checked(old.as_str(), check)?
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
    crate::dnotify::child_event(&dir, crate::dnotify::DN_CREATE);
    Ok(0)
}

/// mknodat(2): FIFOs, sockets and regular files for anyone; device nodes
/// for root (CAP_MKNOD).
#[inline(never)]
pub fn sys_mknodat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    mode: u32,
    dev: u64,
) -> SysResult {
    use starling_fs::file::mode::*;
    // fs/namei.c do_mknodat: may_mknod (the type, EINVAL) before the name.
    let kind = match mode & S_IFMT {
        0 | S_IFREG => NodeType::RegularFile,
        S_IFIFO => NodeType::Fifo,
        S_IFSOCK => NodeType::Socket,
        S_IFCHR => NodeType::CharacterDevice,
        S_IFBLK => NodeType::BlockDevice,
        _ => return Err(Errno::EINVAL),
    };
    let path = super::read_name(path)?;
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
    let mode = super::mode_strip_sgid(sc.thread, &ctx, &path, mode);
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
    crate::dnotify::path_child_event(&ctx, &path, crate::dnotify::DN_CREATE);
    Ok(0)
}
