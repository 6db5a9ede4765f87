//! getdents64, getcwd, chdir, fchdir.

use alloc::vec::Vec;

use starling_fs::file::vfs::VfsDir;

use super::file_of;
use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    usercopy,
};

/// getdents64(2).
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
pub fn sys_getcwd(sc: &mut SyscallContext<'_>, buf: usize, size: usize) -> SysResult {
    let ctx = sc.thread.process.fs().lock().clone();
    let path = ctx.current_dir().absolute_path()?;
    let bytes = path.as_str().as_bytes();
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
pub fn sys_chdir(sc: &mut SyscallContext<'_>, path: usize) -> SysResult {
    let path = usercopy::read_path(path)?;
    starling_fs::path::validate(path.as_bytes())?;
    let fs = sc.thread.process.fs();
    let mut ctx = fs.lock();
    let loc = ctx.resolve(path.as_str())?;
    loc.check_is_dir()?;
    ctx.set_current_dir(loc)?;
    Ok(0)
}

/// fchdir(2).
pub fn sys_fchdir(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    let dir = file
        .file()
        .as_any()
        .downcast_ref::<VfsDir>()
        .ok_or(Errno::ENOTDIR)?;
    sc.thread
        .process
        .fs()
        .lock()
        .set_current_dir(dir.location().clone())?;
    Ok(0)
}

/// sync(2) and syncfs(2): write back every cached file and block.
pub fn sys_sync(_sc: &mut SyscallContext<'_>) -> SysResult {
    if let Err(e) = ax_fs_ng::vfs::sync_all_cached_files(false) {
        warn!("sync: {e:?}");
    }
    if let Err(e) = ax_fs_ng::sync_all_block_caches() {
        warn!("sync: {e:?}");
    }
    Ok(0)
}

/// fsync(2) / fdatasync(2).
pub fn sys_fsync(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    file.file().sync()?;
    Ok(0)
}
