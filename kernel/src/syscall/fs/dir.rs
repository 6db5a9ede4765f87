//! getdents64, getcwd, chdir, fchdir, chroot.
//!
//! A process's root directory (chroot) is the root of its `FsContext`:
//! absolute paths and `..` stop there. Paths shown to the process (getcwd,
//! /proc links) are cut to the part below its root; a directory outside it
//! is "unreachable", as in Linux.

use alloc::{string::String, vec::Vec};

use ax_fs_ng::vfs::FsContext;
use axfs_ng_vfs::Location;
use starling_fs::file::vfs::VfsDir;

use super::{check_search, file_of};
use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::{Thread, creds::CAP_SYS_CHROOT},
    usercopy,
};

/// Resolves `path` for chdir and chroot: every directory searched on the
/// way and the directory itself must be searchable (ENOTDIR, EACCES).
fn resolve_dir(thread: &Thread, path: usize) -> Result<Location, Errno> {
    let path = usercopy::read_path(path)?;
    starling_fs::path::validate(path.as_bytes())?;
    let creds = thread.process.creds.lock().clone();
    let ctx = thread.process.fs().lock().clone();
    let loc = ctx.resolve_checked(path.as_str(), |dir| check_search(&creds, dir))?;
    loc.check_is_dir()?;
    check_search(&creds, &loc)?;
    Ok(loc)
}

/// The path of `loc` as a process whose root is `root` sees it: `None`
/// when `loc` lies outside that root.
pub fn path_below_root(root: &Location, loc: &Location) -> Option<String> {
    let abs = loc.absolute_path().ok()?;
    let root = root.absolute_path().ok()?;
    let seen = starling_fs::path::within_root(root.as_str().as_bytes(), abs.as_str().as_bytes())?;
    Some(String::from_utf8_lossy(seen).into_owned())
}

/// A path the VFS reports from the global root (`FileLike::path`), as
/// seen from `root` (d_path): unchanged when it is outside the root or
/// not a path at all (`pipe:[…]`, `anon_inode:…`).
pub fn display_path(root: &Location, path: &str) -> String {
    let Ok(root) = root.absolute_path() else {
        return String::from(path);
    };
    match starling_fs::path::within_root(root.as_str().as_bytes(), path.as_bytes()) {
        Some(seen) if path.starts_with('/') => String::from_utf8_lossy(seen).into_owned(),
        _ => String::from(path),
    }
}

/// getdents64(2).
#[inline(never)]
pub fn sys_getdents64(sc: &mut SyscallContext<'_>, fd: i32, buf: usize, count: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    let count = count.min(1 << 20);
    let mut out: Vec<u8> = Vec::with_capacity(count.min(4096));
    let mut next_pos = file.position();
    let mut too_small = false;
    file.file().read_dir(file.position(), &mut |entry| {
        let name = entry.name.as_bytes();
        let reclen = (19 + name.len() + 1 + 7) & !7;
        if out.len() + reclen > count {
            too_small = out.is_empty();
            return false;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        let rec = &mut out[start..];
        rec[0..8].copy_from_slice(&entry.ino.to_ne_bytes());
        rec[8..16].copy_from_slice(&entry.next.to_ne_bytes());
        rec[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        rec[18] = entry.dtype;
        rec[19..19 + name.len()].copy_from_slice(name);
        next_pos = entry.next;
        true
    })?;
    if too_small {
        return Err(Errno::EINVAL);
    }
    usercopy::copy_to_user(buf, &out)?;
    file.set_position(next_pos);
    Ok(out.len())
}

/// getcwd(2): the absolute path of the current directory.
#[inline(never)]
pub fn sys_getcwd(sc: &mut SyscallContext<'_>, buf: usize, size: usize) -> SysResult {
    let ctx = sc.thread.process.fs().lock().clone();
    // Linux prefixes a directory outside the caller's root with
    // "(unreachable)" (prepend_unreachable) and returns its global path.
    let path = match path_below_root(ctx.root_dir(), ctx.current_dir()) {
        Some(p) => p,
        None => {
            let abs = ctx.current_dir().absolute_path()?;
            alloc::format!("(unreachable){}", abs.as_str())
        }
    };
    let bytes = path.as_bytes();
    if bytes.len() + 1 > size {
        return Err(Errno::ERANGE);
    }
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.extend_from_slice(bytes);
    out.push(0);
    usercopy::copy_to_user(buf, &out)?;
    Ok(out.len())
}

/// chdir(2).
#[inline(never)]
pub fn sys_chdir(sc: &mut SyscallContext<'_>, path: usize) -> SysResult {
    let loc = resolve_dir(sc.thread, path)?;
    sc.thread.process.fs().lock().set_current_dir(loc)?;
    Ok(0)
}

/// fchdir(2): the directory must be searchable (EACCES), as for chdir.
#[inline(never)]
pub fn sys_fchdir(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    let dir = file
        .file()
        .as_any()
        .downcast_ref::<VfsDir>()
        .ok_or(Errno::ENOTDIR)?;
    let creds = sc.thread.process.creds.lock().clone();
    check_search(&creds, dir.location())?;
    sc.thread
        .process
        .fs()
        .lock()
        .set_current_dir(dir.location().clone())?;
    Ok(0)
}

/// chroot(2): makes `path` the root of the caller's filesystem context
/// (shared with CLONE_FS threads and processes); the current directory is
/// left alone, as in Linux. Lookup errors and EACCES come before the
/// capability check (EPERM without CAP_SYS_CHROOT).
#[inline(never)]
pub fn sys_chroot(sc: &mut SyscallContext<'_>, path: usize) -> SysResult {
    let loc = resolve_dir(sc.thread, path)?;
    if !sc.thread.process.creds.lock().capable(CAP_SYS_CHROOT) {
        return Err(Errno::EPERM);
    }
    let fs = sc.thread.process.fs();
    let mut ctx = fs.lock();
    // FsContext offers no setter for the root alone: build a context rooted
    // at `loc`, move it into the caller's mount namespace (which resolves
    // the root again by its path there) and restore the current directory.
    let mut rooted = FsContext::new(loc);
    rooted.set_mount_namespace(ctx.mount_namespace().clone())?;
    rooted.set_current_dir(ctx.current_dir().clone())?;
    *ctx = rooted;
    Ok(0)
}

/// sync(2) and syncfs(2): write back every cached file and block.
#[inline(never)]
pub fn sys_sync(_sc: &mut SyscallContext<'_>) -> SysResult {
    if let Err(e) = ax_fs_ng::vfs::sync_all_cached_files(false) {
        warn!("sync: {e:?}");
    }
    if let Err(e) = ax_fs_ng::sync_all_block_caches() {
        warn!("sync: {e:?}");
    }
    Ok(0)
}

/// syncfs(2): EBADF for a bad descriptor, then as sync(2) (every file
/// system is written back, not only the descriptor's).
#[inline(never)]
pub fn sys_syncfs(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    file_of(sc.thread, fd)?;
    sys_sync(sc)
}

/// fsync(2) / fdatasync(2).
#[inline(never)]
pub fn sys_fsync(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    file.file().sync()?;
    Ok(0)
}
