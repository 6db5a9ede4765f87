//! fstat, newfstatat, statx, readlinkat, faccessat.

use starling_fs::file::{Kstat, vfs::kstat_of};

use super::{AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, at_context, file_of};
use crate::{
    arch,
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::creds::Creds,
    usercopy,
};

/// The attributes of `path` relative to `dirfd` (AT_EMPTY_PATH: of `dirfd`).
fn stat_at(sc: &SyscallContext<'_>, dirfd: i32, path: usize, flags: u32) -> KResult<Kstat> {
    let creds = sc.thread.process.creds.lock().clone();
    stat_at_as(sc, &creds, dirfd, path, flags).map(|(st, _)| st)
}

/// What a stat-like lookup found besides the attributes: the node's mount.
#[derive(Clone, Copy, Default)]
struct MountFacts {
    read_only: bool,
    /// The node is the root of its mount (STATX_ATTR_MOUNT_ROOT).
    mount_root: bool,
    mount_id: u64,
}

impl MountFacts {
    fn of(loc: &axfs_ng_vfs::Location) -> Self {
        Self {
            read_only: loc.is_readonly(),
            mount_root: loc.is_root_of_mount(),
            mount_id: loc.mountpoint().mount_id(),
        }
    }
}

/// [`stat_at`] with the path walked as `creds` (faccessat: the real ids);
/// also the node's mount facts (none for objects on no mount).
fn stat_at_as(
    sc: &SyscallContext<'_>,
    creds: &Creds,
    dirfd: i32,
    path: usize,
    flags: u32,
) -> KResult<(Kstat, MountFacts)> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = usercopy::read_path(path)?;
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == super::AT_FDCWD {
            let ctx = sc.thread.process.fs().lock().clone();
            let cwd = ctx.current_dir();
            return Ok((kstat_of(&cwd.metadata()?), MountFacts::of(cwd)));
        }
        let file = file_of(sc.thread, dirfd)?;
        let facts = super::tmpfile::location_of(&file)
            .map(|l| MountFacts::of(&l))
            .unwrap_or_default();
        return Ok((file.file().stat()?, facts));
    }
    let ctx = at_context(sc.thread, dirfd, &path)?;
    let loc = super::lookup_as(creds, &ctx, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    Ok((kstat_of(&loc.metadata()?), MountFacts::of(&loc)))
}

/// fstat(2).
#[inline(never)]
pub fn sys_fstat(sc: &mut SyscallContext<'_>, fd: i32, buf: usize) -> SysResult {
    let st = file_of(sc.thread, fd)?.file().stat()?;
    usercopy::copy_to_user(buf, &arch::stat_bytes(&st))?;
    Ok(0)
}

/// newfstatat(2).
#[inline(never)]
pub fn sys_newfstatat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    buf: usize,
    flags: u32,
) -> SysResult {
    let st = stat_at(sc, dirfd, path, flags)?;
    usercopy::copy_to_user(buf, &arch::stat_bytes(&st))?;
    Ok(0)
}

/// statx(2): the basic fields (STATX_BASIC_STATS).
#[inline(never)]
pub fn sys_statx(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    flags: u32,
    mask: u32,
    buf: usize,
) -> SysResult {
    const AT_STATX_SYNC_TYPE: u32 = 0x6000;
    const STATX_RESERVED: u32 = 0x8000_0000;
    // vfs_statx's checks: both sync modes at once, or the reserved mask bit.
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE || mask & STATX_RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let creds = sc.thread.process.creds.lock().clone();
    let (st, facts) = stat_at_as(sc, &creds, dirfd, path, flags & !AT_STATX_SYNC_TYPE)?;
    const STATX_MNT_ID: u32 = 0x1000;
    const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
    let mut b = [0u8; 256];
    let put32 =
        |b: &mut [u8; 256], off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    let put64 =
        |b: &mut [u8; 256], off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    // STATX_BASIC_STATS and the mount id; of the attributes, only
    // STATX_ATTR_MOUNT_ROOT is known (and always reported in the mask).
    put32(&mut b, 0, 0x7ff | STATX_MNT_ID);
    put64(&mut b, 56, STATX_ATTR_MOUNT_ROOT);
    if facts.mount_root {
        put64(&mut b, 8, STATX_ATTR_MOUNT_ROOT);
    }
    put64(&mut b, 144, facts.mount_id);
    put32(&mut b, 4, st.blksize);
    put32(&mut b, 16, st.nlink);
    put32(&mut b, 20, st.uid);
    put32(&mut b, 24, st.gid);
    b[28..30].copy_from_slice(&(st.mode as u16).to_ne_bytes());
    put64(&mut b, 32, st.ino);
    put64(&mut b, 40, st.size as u64);
    put64(&mut b, 48, st.blocks as u64);
    for (off, t) in [(64, st.atime), (96, st.ctime), (112, st.mtime)] {
        put64(&mut b, off, t.0 as u64);
        put32(&mut b, off + 8, t.1);
    }
    put32(&mut b, 128, (st.rdev >> 8) as u32 & 0xfff);
    put32(&mut b, 132, (st.rdev & 0xff) as u32);
    put32(&mut b, 136, (st.dev >> 8) as u32 & 0xfff);
    put32(&mut b, 140, (st.dev & 0xff) as u32);
    usercopy::copy_to_user(buf, &b)?;
    Ok(0)
}

/// readlinkat(2). `bufsiz` is an int, checked before the name is read
/// (fs/stat.c do_readlinkat).
#[inline(never)]
pub fn sys_readlinkat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    buf: usize,
    size: usize,
) -> SysResult {
    let size = size as i32;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let size = size as usize;
    let path = usercopy::read_path(path)?;
    // An empty path reads the symlink `dirfd` is (opened O_PATH|O_NOFOLLOW);
    // any other descriptor, or none, is ENOENT.
    let loc = if path.is_empty() {
        if dirfd == super::AT_FDCWD {
            return Err(Errno::ENOENT);
        }
        let file = file_of(sc.thread, dirfd)?;
        match super::tmpfile::location_of(&file) {
            Some(loc) if loc.node_type() == axfs_ng_vfs::NodeType::Symlink => loc,
            _ => return Err(Errno::ENOENT),
        }
    } else {
        let ctx = at_context(sc.thread, dirfd, &path)?;
        super::lookup(sc.thread, &ctx, &path, false)?
    };
    let target = loc.read_link().map_err(|e| match Errno::from(e) {
        Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP => Errno::EINVAL,
        other => other,
    })?;
    let n = target.len().min(size);
    usercopy::copy_to_user(buf, &target.as_bytes()[..n])?;
    Ok(n)
}

/// faccessat2(2) (faccessat is the flags == 0 case). The check uses the
/// real uid and gid unless AT_EACCESS (access_override_creds): a real uid
/// other than 0 has no capabilities for it, real root its permitted set
/// (unless SECBIT_NO_SETUID_FIXUP). Root passes read and write checks;
/// execute needs an x bit somewhere, or a directory, as Linux does for
/// root. The group class applies to the gid and the supplementary groups.
#[inline(never)]
pub fn sys_faccessat2(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    mode: u32,
    flags: u32,
) -> SysResult {
    const SECBIT_NO_SETUID_FIXUP: u32 = 1 << 2;
    if mode & !7 != 0 || flags & !(super::AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let creds = sc.thread.process.creds.lock().clone();
    let (uid, gid, caps) = if flags & super::AT_EACCESS != 0 {
        (creds.fsuid, creds.fsgid, creds.caps.effective)
    } else if creds.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
        (creds.uid, creds.gid, creds.caps.effective)
    } else if creds.uid == 0 {
        (creds.uid, creds.gid, creds.caps.permitted)
    } else {
        (creds.uid, creds.gid, 0)
    };
    // The whole walk runs with these credentials (access_override_creds).
    let mut walker = creds.clone();
    walker.fsuid = uid;
    walker.fsgid = gid;
    walker.caps.effective = caps;
    let (st, facts) = stat_at_as(
        sc,
        &walker,
        dirfd,
        path,
        flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
    )?;
    let perm = st.mode & 0o777;
    let is_dir = st.mode & 0o170000 == 0o040000;
    // W_OK on a read-only mount: EROFS for files, directories and
    // symlinks (devices and FIFOs are not written through the mount).
    let kind = st.mode & 0o170000;
    if mode & 2 != 0 && matches!(kind, 0o100000 | 0o040000 | 0o120000) && facts.read_only {
        return Err(Errno::EROFS);
    }
    let ok = if caps & (1 << crate::task::creds::CAP_DAC_OVERRIDE) != 0 {
        mode & 1 == 0 || perm & 0o111 != 0 || is_dir
    } else {
        let bits = if st.uid == uid {
            (perm >> 6) & 7
        } else if st.gid == gid || creds.groups.contains(&st.gid) {
            (perm >> 3) & 7
        } else {
            perm & 7
        };
        // CAP_DAC_READ_SEARCH passes reads, and searching directories.
        let read_search = caps & (1 << crate::task::creds::CAP_DAC_READ_SEARCH) != 0;
        let granted = if read_search {
            bits | 4 | if is_dir { 1 } else { 0 }
        } else {
            bits
        };
        granted & mode == mode
    };
    if ok { Ok(0) } else { Err(Errno::EACCES) }
}

/// ftruncate(2).
#[inline(never)]
pub fn sys_ftruncate(sc: &mut SyscallContext<'_>, fd: i32, length: i64) -> SysResult {
    // fs/open.c do_sys_ftruncate: the length before the descriptor.
    if length < 0 {
        return Err(Errno::EINVAL);
    }
    let file = file_of(sc.thread, fd)?;
    // Linux: EINVAL unless a regular file open for writing.
    if !file.writable() || file.is_path() || file.file().stat()?.mode & 0o170000 != 0o100000 {
        return Err(Errno::EINVAL);
    }
    check_fsize_limit(sc, &file, length as u64)?;
    file.file().truncate(length as u64)?;
    crate::dnotify::file_event(&file, crate::dnotify::DN_MODIFY);
    Ok(0)
}

/// fallocate(2) (fs/open.c vfs_fallocate's checks, then the file
/// system's range operation).
#[inline(never)]
pub fn sys_fallocate(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    mode: u32,
    offset: i64,
    len: i64,
) -> SysResult {
    use axfs_ng_vfs::{FileRangeOperation as Op, PreallocationMode as Pre};
    const KEEP_SIZE: u32 = 0x01;
    const PUNCH_HOLE: u32 = 0x02;
    const NO_HIDE_STALE: u32 = 0x04;
    const COLLAPSE_RANGE: u32 = 0x08;
    const ZERO_RANGE: u32 = 0x10;
    const INSERT_RANGE: u32 = 0x20;
    const UNSHARE_RANGE: u32 = 0x40;
    const SUPPORTED: u32 = KEEP_SIZE
        | PUNCH_HOLE
        | NO_HIDE_STALE
        | COLLAPSE_RANGE
        | ZERO_RANGE
        | INSERT_RANGE
        | UNSHARE_RANGE;
    // fs/open.c ksys_fallocate: the descriptor (EBADF) before
    // vfs_fallocate's argument checks.
    let file = file_of(sc.thread, fd)?;
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let op_bits = mode & (PUNCH_HOLE | COLLAPSE_RANGE | ZERO_RANGE | INSERT_RANGE | UNSHARE_RANGE);
    // Linux 6.12+: at most one operation; punching a hole needs KEEP_SIZE,
    // collapse and insert refuse it; anything else is EOPNOTSUPP.
    if op_bits.count_ones() > 1 {
        return Err(Errno::EOPNOTSUPP);
    }
    if op_bits == PUNCH_HOLE && mode & KEEP_SIZE == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if (op_bits == COLLAPSE_RANGE || op_bits == INSERT_RANGE) && mode & KEEP_SIZE != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & NO_HIDE_STALE != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if !file.writable() || file.is_path() {
        return Err(Errno::EBADF);
    }
    let st = file.file().stat()?;
    match st.mode & 0o170000 {
        0o010000 => return Err(Errno::ESPIPE),
        0o040000 => return Err(Errno::EISDIR),
        0o100000 => {}
        _ => return Err(Errno::ENODEV),
    }
    let (offset, len) = (offset as u64, len as u64);
    let end = offset
        .checked_add(len)
        .filter(|&e| e <= i64::MAX as u64)
        .ok_or(Errno::EFBIG)?;
    let keep = mode & KEEP_SIZE != 0;
    let pre = if keep { Pre::KeepSize } else { Pre::ExtendSize };
    let op = match op_bits {
        0 | UNSHARE_RANGE => Op::Allocate(pre),
        PUNCH_HOLE => Op::PunchHole,
        ZERO_RANGE => Op::ZeroRange(pre),
        COLLAPSE_RANGE => Op::CollapseRange,
        _ => Op::InsertRange,
    };
    if !keep && matches!(op, Op::Allocate(_) | Op::ZeroRange(_)) {
        check_fsize_limit(sc, &file, end)?;
    }
    file.file().fallocate(op, offset, len)?;
    crate::dnotify::file_event(&file, crate::dnotify::DN_MODIFY);
    Ok(0)
}

/// fs/attr.c inode_newsize_ok: growing a file past RLIMIT_FSIZE is EFBIG
/// with SIGXFSZ.
fn check_fsize_limit(
    sc: &SyscallContext<'_>,
    file: &starling_fs::file::OpenFile,
    length: u64,
) -> Result<(), Errno> {
    let limit = sc.thread.process.rlimits.lock()[crate::task::rlimit::RLIMIT_FSIZE as usize].cur;
    if limit != u64::MAX && length > limit && (file.file().stat()?.size as u64) < length {
        crate::task::signal::send::send_to_thread(
            sc.thread,
            crate::task::signal::SigInfo::kernel(crate::task::signal::SIGXFSZ),
        );
        return Err(Errno::EFBIG);
    }
    Ok(())
}

/// truncate(2).
#[inline(never)]
pub fn sys_truncate(sc: &mut SyscallContext<'_>, path: usize, length: i64) -> SysResult {
    // fs/open.c do_sys_truncate: the length before the name.
    if length < 0 {
        return Err(Errno::EINVAL);
    }
    let path = usercopy::read_path(path)?;
    let file = super::open_path(
        sc,
        super::AT_FDCWD,
        &path,
        starling_fs::file::flags::O_WRONLY,
        0,
    )?;
    if file.file().stat()?.mode & 0o170000 != 0o100000 {
        return Err(Errno::EINVAL);
    }
    check_fsize_limit(sc, &file, length as u64)?;
    file.file().truncate(length as u64)?;
    crate::dnotify::file_event(&file, crate::dnotify::DN_MODIFY);
    Ok(0)
}

/// `struct statfs` (64-bit layout shared by x86_64 and riscv64).
fn statfs_bytes(fs: &axfs_ng_vfs::StatFs) -> [u8; 120] {
    let mut b = [0u8; 120];
    let mut put = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    put(0, u64::from(fs.fs_type));
    put(8, u64::from(fs.block_size));
    put(16, fs.blocks);
    put(24, fs.blocks_free);
    put(32, fs.blocks_available);
    put(40, fs.file_count);
    put(48, fs.free_file_count);
    put(64, u64::from(fs.name_length));
    put(
        72,
        u64::from(if fs.fragment_size == 0 {
            fs.block_size
        } else {
            fs.fragment_size
        }),
    );
    put(80, u64::from(fs.mount_flags));
    b
}

/// statfs(2).
#[inline(never)]
pub fn sys_statfs(sc: &mut SyscallContext<'_>, path: usize, buf: usize) -> SysResult {
    let path = usercopy::read_path(path)?;
    // user_path_at without LOOKUP_EMPTY: an empty name is ENOENT.
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let ctx = at_context(sc.thread, super::AT_FDCWD, &path)?;
    let loc = super::lookup(sc.thread, &ctx, &path, true)?;
    let st = loc.filesystem().stat()?;
    usercopy::copy_to_user(buf, &statfs_bytes(&st))?;
    Ok(0)
}

/// fstatfs(2).
#[inline(never)]
pub fn sys_fstatfs(sc: &mut SyscallContext<'_>, fd: i32, buf: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    let any = file.file().as_any();
    let loc = if let Some(f) = any.downcast_ref::<starling_fs::file::vfs::VfsFile>() {
        f.location().clone()
    } else if let Some(d) = any.downcast_ref::<starling_fs::file::vfs::VfsDir>() {
        d.location().clone()
    } else if let Some(d) = any.downcast_ref::<starling_fs::file::device::DeviceNode>() {
        d.node().clone()
    } else {
        // pipefs and friends: report an in-memory filesystem.
        let st = axfs_ng_vfs::StatFs {
            fs_type: 0x5049_5045,
            block_size: 4096,
            blocks: 0,
            blocks_free: 0,
            blocks_available: 0,
            file_count: 0,
            free_file_count: 0,
            name_length: 255,
            fragment_size: 4096,
            mount_flags: 0,
        };
        usercopy::copy_to_user(buf, &statfs_bytes(&st))?;
        return Ok(0);
    };
    let st = loc.filesystem().stat()?;
    usercopy::copy_to_user(buf, &statfs_bytes(&st))?;
    Ok(0)
}
