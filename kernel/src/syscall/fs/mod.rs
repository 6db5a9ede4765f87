//! File-descriptor and filesystem syscalls.
//!
//! Shared helpers: descriptor lookup, the filesystem context for `*at`
//! calls, and the blocking loop that turns non-blocking file operations
//! into blocking reads and writes.

mod attr;
mod copy;
mod dir;
mod epoll;
mod fcntl_lease;
mod fcntl_owner;
mod fcntl_query;
mod fd;
mod flock;
mod ioctl;
mod mount;
mod names;
mod open;
mod poll;
mod reclock;
mod rw;
mod splice;
mod stat;
mod tmpfile;
mod xattr;

use alloc::sync::Arc;

use ax_fs_ng::vfs::FsContext;
use axfs_ng_vfs::{Location, MutationCredentials, VfsError, VfsResult};
use axpoll::IoEvents;
use starling_fs::file::{OpenFile, vfs::VfsDir};

pub(crate) use self::rw::read_iovecs as rw_iovecs;
pub use self::{
    attr::*,
    copy::*,
    dir::*,
    epoll::*,
    fcntl_lease::{LEASE_BREAK_TIME, LEASES_ENABLE},
    fd::*,
    flock::*,
    ioctl::*,
    mount::*,
    names::*,
    open::*,
    poll::*,
    reclock::release_posix_locks,
    rw::*,
    splice::*,
    stat::*,
    xattr::*,
};
use super::SyscallContext;
use crate::{
    error::{Errno, KResult},
    task::{
        Thread, block,
        creds::{CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, Creds},
    },
};

/// `AT_FDCWD`: resolve relative to the current directory.
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_EACCESS: u32 = 0x200;

/// The open file description behind `fd`, or EBADF.
pub fn file_of(thread: &Thread, fd: i32) -> KResult<Arc<OpenFile>> {
    thread
        .process
        .files()
        .lock()
        .get(fd)
        .cloned()
        .ok_or(Errno::EBADF)
}

/// The filesystem context in which `path` (relative or absolute) is
/// resolved for an `*at` call with `dirfd`.
/// A file name argument as getname reads it: EFAULT for a bad pointer,
/// ENOENT for an empty name, both before any descriptor is looked at.
pub fn read_name(addr: usize) -> KResult<alloc::string::String> {
    let name = crate::usercopy::read_path(addr)?;
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(name)
}

pub fn at_context(thread: &Thread, dirfd: i32, path: &str) -> KResult<FsContext> {
    let ctx = thread.process.fs().lock().clone();
    if path.starts_with('/') || dirfd == AT_FDCWD {
        return Ok(ctx);
    }
    let file = file_of(thread, dirfd)?;
    let dir = file
        .file()
        .as_any()
        .downcast_ref::<VfsDir>()
        .ok_or(Errno::ENOTDIR)?;
    Ok(ctx.with_current_dir(dir.location().clone())?)
}

/// Whether `creds` may search directory `loc` (generic_permission with
/// MAY_EXEC): EACCES otherwise.
pub fn check_search(creds: &Creds, loc: &Location) -> VfsResult<()> {
    if creds.capable(CAP_DAC_READ_SEARCH) || creds.capable(CAP_DAC_OVERRIDE) {
        return Ok(());
    }
    let meta = loc.metadata()?;
    let perm = u32::from(meta.mode.bits());
    let class = if meta.uid == creds.fsuid {
        perm >> 6
    } else if meta.gid == creds.fsgid || creds.groups.contains(&meta.gid) {
        perm >> 3
    } else {
        perm
    };
    if class & 1 != 0 {
        Ok(())
    } else {
        Err(VfsError::PermissionDenied)
    }
}

/// Resolves `path` in `ctx` for a call that only looks the name up (stat,
/// readlink, statfs, chmod, ...): every directory walked, inside symlink
/// targets too, must be searchable by `creds` (EACCES), as Linux's walk
/// checks with may_lookup.
pub fn lookup_as(creds: &Creds, ctx: &FsContext, path: &str, follow: bool) -> KResult<Location> {
    let check = |dir: &Location| check_search(creds, dir);
    let last = ctx.resolve_no_follow_checked(path, check)?;
    if !follow {
        return Ok(last);
    }
    // A final /proc/PID/fd/N is a magic link: it leads to the open file
    // itself (even a symlink opened O_PATH), not through its text.
    if let Some(file) = crate::procfs::magic_link_file(&last)
        && let Some(loc) = tmpfile::location_of(&file)
    {
        return Ok(loc);
    }
    Ok(ctx.resolve_checked(path, check)?)
}

/// [`lookup_as`] with the calling thread's credentials.
pub fn lookup(thread: &Thread, ctx: &FsContext, path: &str, follow: bool) -> KResult<Location> {
    let creds = thread.process.creds.lock().clone();
    lookup_as(&creds, ctx, path, follow)
}

/// The caller's credentials for permission checks in the VFS.
pub fn credentials(thread: &Thread) -> MutationCredentials<'static> {
    let c = thread.process.creds.lock();
    use crate::task::creds::{CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};
    MutationCredentials {
        fsuid: c.fsuid,
        fsgid: c.fsgid,
        supplementary_gids: &[],
        cap_dac_override: c.capable(CAP_DAC_OVERRIDE),
        cap_dac_read_search: c.capable(CAP_DAC_READ_SEARCH),
        cap_fowner: c.capable(CAP_FOWNER),
    }
}

/// Owner of files the caller creates (fsuid, fsgid).
pub fn owner(thread: &Thread) -> (u32, u32) {
    let c = thread.process.creds.lock();
    (c.fsuid, c.fsgid)
}

/// The group of a directory that is set-group-ID (S_ISGID), if the parent
/// of `path` in `ctx` is one: new files there take its group
/// (inode_init_owner), and new directories also its S_ISGID bit.
pub fn setgid_parent_group(ctx: &FsContext, path: &str) -> Option<u32> {
    let (parent, _) = ctx.resolve_parent(path.as_ref()).ok()?;
    let meta = parent.metadata().ok()?;
    (meta.mode.bits() & 0o2000 != 0).then_some(meta.gid)
}

/// Owner of a file the caller creates at `path`: (fsuid, fsgid), the
/// group taken from a set-group-ID parent directory; and whether it was.
pub fn owner_in(thread: &Thread, ctx: &FsContext, path: &str) -> (u32, u32, bool) {
    let (uid, gid) = owner(thread);
    match setgid_parent_group(ctx, path) {
        Some(g) => (uid, g, true),
        None => (uid, gid, false),
    }
}

/// The mode of a new non-directory at `path` (mode_strip_sgid): in a
/// set-group-ID directory whose group the caller is not in, and without
/// CAP_FSETID, a set-group-ID and group-executable mode loses S_ISGID.
pub fn mode_strip_sgid(thread: &Thread, ctx: &FsContext, path: &str, mode: u32) -> u32 {
    const S_ISGID: u32 = 0o2000;
    const S_IXGRP: u32 = 0o010;
    if mode & (S_ISGID | S_IXGRP) != S_ISGID | S_IXGRP {
        return mode;
    }
    let Some(group) = setgid_parent_group(ctx, path) else {
        return mode;
    };
    let c = thread.process.creds.lock();
    if c.fsgid == group || c.groups.contains(&group) || c.capable(crate::task::creds::CAP_FSETID) {
        mode
    } else {
        mode & !S_ISGID
    }
}

/// Runs a non-blocking file operation, blocking between attempts unless the
/// description is O_NONBLOCK. Signals interrupt with ERESTARTSYS; an
/// object's I/O timeout ([`FileLike::io_timeout`]) ends the wait with
/// EAGAIN and makes signals EINTR.
pub fn blocking<T>(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    events: IoEvents,
    mut op: impl FnMut() -> KResult<T>,
) -> KResult<T> {
    if file.nonblocking() {
        return op();
    }
    block::wait_io(
        sc.thread,
        file.file().io_timeout(events.contains(IoEvents::OUT)),
        // SAFETY: `wait_event` drops the registrar before `file` goes away.
        |sink| unsafe { file.file().register_poll(sink, events) },
        || match op() {
            Err(Errno::EAGAIN) => None,
            other => Some(other),
        },
    )
}
