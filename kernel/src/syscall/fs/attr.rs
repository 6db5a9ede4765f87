//! Changing attributes: chmod, chown and utimensat families.

use core::time::Duration;

use axfs_ng_vfs::{Location, MetadataUpdate, NodePermission};

use super::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, at_context, file_of};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::creds::{CAP_CHOWN, CAP_FOWNER, CAP_FSETID},
    usercopy,
};

/// The node `path` names relative to `dirfd` (or `dirfd` itself with
/// AT_EMPTY_PATH and an empty path).
fn node_at(sc: &SyscallContext<'_>, dirfd: i32, path: usize, flags: u32) -> KResult<Location> {
    // A NULL name is EFAULT (getname), unless AT_EMPTY_PATH makes it the
    // empty one (getname_maybe_null, Linux 6.11 on).
    let path = if path == 0 && flags & AT_EMPTY_PATH != 0 {
        alloc::string::String::new()
    } else {
        usercopy::read_path(path)?
    };
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        return node_of_fd(sc, dirfd);
    }
    let ctx = at_context(sc.thread, dirfd, &path)?;
    super::lookup(sc.thread, &ctx, &path, flags & AT_SYMLINK_NOFOLLOW == 0)
}

/// fchmod/fchown take a descriptor with fdget, which refuses O_PATH ones
/// (the *at forms with AT_EMPTY_PATH accept them).
fn not_o_path(sc: &SyscallContext<'_>, fd: i32) -> KResult<()> {
    if file_of(sc.thread, fd)?.is_path() {
        return Err(Errno::EBADF);
    }
    Ok(())
}

fn node_of_fd(sc: &SyscallContext<'_>, fd: i32) -> KResult<Location> {
    if fd == AT_FDCWD {
        return Ok(sc.thread.process.fs().lock().current_dir().clone());
    }
    let file = file_of(sc.thread, fd)?;
    let any = file.file().as_any();
    if let Some(f) = any.downcast_ref::<starling_fs::file::vfs::VfsFile>() {
        return Ok(f.location().clone());
    }
    if let Some(d) = any.downcast_ref::<starling_fs::file::vfs::VfsDir>() {
        return Ok(d.location().clone());
    }
    if let Some(d) = any.downcast_ref::<starling_fs::file::device::DeviceNode>() {
        return Ok(d.node().clone());
    }
    // Pipes and other anonymous objects have no node to change.
    Err(Errno::EPERM)
}

/// Applies a chmod/chown/utimensat update to `node`.
///
/// ext4 file data goes through ax-fs-ng's write-back page cache, and the
/// ext4 driver applies write side effects (mtime = now, clearing S_ISUID
/// and S_ISGID) when a page reaches the disk, not at write(2). Dirty pages
/// written back after this update would undo it, so they are written
/// first: the update then lands after every earlier write, as in Linux.
fn update_node(node: &Location, update: MetadataUpdate) -> KResult<()> {
    if node.node_type() == axfs_ng_vfs::NodeType::RegularFile && node.filesystem().name() == "ext4"
    {
        ax_fs_ng::file::CachedFile::get_or_create(node.clone())?.sync(true)?;
    }
    node.update_metadata(update)?;
    // fsnotify_change: FS_ATTRIB for the node and its directory.
    crate::dnotify::node_event(node, crate::dnotify::DN_ATTRIB);
    Ok(())
}

/// EROFS for a change to a node on a read-only mount (mnt_want_write),
/// checked before the permission rules.
fn writable_mount(node: &Location) -> KResult<()> {
    if node.is_readonly() {
        Err(Errno::EROFS)
    } else {
        Ok(())
    }
}

fn chmod(sc: &SyscallContext<'_>, node: &Location, mode: u32) -> SysResult {
    writable_mount(node)?;
    let meta = node.metadata()?;
    // Linux 6.6 (attr: block mode changes of symlinks): EOPNOTSUPP.
    if meta.node_type == axfs_ng_vfs::NodeType::Symlink {
        return Err(Errno::EOPNOTSUPP);
    }
    let creds = sc.thread.process.creds.lock().clone();
    if !creds.capable(CAP_FOWNER) && creds.fsuid != meta.uid {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & 0o7777;
    // chmod(2): an unprivileged caller outside the file's group loses set-gid.
    if !creds.capable(CAP_FSETID) && meta.gid != creds.fsgid && !creds.groups.contains(&meta.gid) {
        mode &= !0o2000;
    }
    update_node(
        node,
        MetadataUpdate {
            mode: Some(NodePermission::from_bits_truncate(mode as u16)),
            ..Default::default()
        },
    )?;
    Ok(0)
}

/// fchmodat(2) / fchmodat2 (flags: AT_SYMLINK_NOFOLLOW is EOPNOTSUPP for
/// symlinks, as Linux).
#[inline(never)]
pub fn sys_fchmodat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    mode: u32,
    flags: u32,
) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let node = node_at(sc, dirfd, path, flags)?;
    if flags & AT_SYMLINK_NOFOLLOW != 0 && node.node_type() == axfs_ng_vfs::NodeType::Symlink {
        return Err(Errno::EOPNOTSUPP);
    }
    chmod(sc, &node, mode)
}

/// fchmod(2).
#[inline(never)]
pub fn sys_fchmod(sc: &mut SyscallContext<'_>, fd: i32, mode: u32) -> SysResult {
    not_o_path(sc, fd)?;
    let node = node_of_fd(sc, fd)?;
    chmod(sc, &node, mode)
}

fn chown(sc: &SyscallContext<'_>, node: &Location, uid: u32, gid: u32) -> SysResult {
    writable_mount(node)?;
    let meta = node.metadata()?;
    let creds = sc.thread.process.creds.lock().clone();
    let new_uid = if uid == u32::MAX { meta.uid } else { uid };
    let new_gid = if gid == u32::MAX { meta.gid } else { gid };
    if !creds.capable(CAP_CHOWN) {
        // chown(2): only CAP_CHOWN changes the owner; the owner may change the
        // group to one it belongs to.
        let owner_ok = new_uid == meta.uid;
        let group_ok =
            new_gid == meta.gid || new_gid == creds.fsgid || creds.groups.contains(&new_gid);
        if !owner_ok || creds.fsuid != meta.uid || !group_ok {
            return Err(Errno::EPERM);
        }
    }
    let mut update = MetadataUpdate {
        owner: Some((new_uid, new_gid)),
        ..Default::default()
    };
    // A regular file loses set-uid, and set-gid with group execute, on chown.
    if meta.node_type == axfs_ng_vfs::NodeType::RegularFile {
        let mut mode = meta.mode.bits();
        mode &= !0o4000;
        if mode & 0o010 != 0 {
            mode &= !0o2000;
        }
        if mode != meta.mode.bits() {
            update.mode = Some(NodePermission::from_bits_truncate(mode));
        }
    }
    update_node(node, update)?;
    Ok(0)
}

/// fchownat(2) (chown, lchown).
#[inline(never)]
pub fn sys_fchownat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    uid: u32,
    gid: u32,
    flags: u32,
) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let node = node_at(sc, dirfd, path, flags)?;
    chown(sc, &node, uid, gid)
}

/// fchown(2).
#[inline(never)]
pub fn sys_fchown(sc: &mut SyscallContext<'_>, fd: i32, uid: u32, gid: u32) -> SysResult {
    not_o_path(sc, fd)?;
    let node = node_of_fd(sc, fd)?;
    chown(sc, &node, uid, gid)
}

/// utimensat(2).
#[inline(never)]
pub fn sys_utimensat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    times: usize,
    flags: u32,
) -> SysResult {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    // fs/utimes.c: both timespecs are copied in first (EFAULT); two
    // UTIME_OMITs succeed without looking at anything else; then the
    // flags and the values are checked (EINVAL).
    let raw = if times == 0 {
        None
    } else {
        let word = |off: usize| usercopy::read_u64(times + off).map(|v| v as i64);
        let raw = [(word(0)?, word(8)?), (word(16)?, word(24)?)];
        if raw[0].1 == UTIME_OMIT && raw[1].1 == UTIME_OMIT {
            return Ok(0);
        }
        Some(raw)
    };
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let now = ax_hal::time::wall_time();
    // (value, is UTIME_NOW); None for UTIME_OMIT.
    let parse = |(sec, nsec): (i64, i64)| -> KResult<Option<(Duration, bool)>> {
        match nsec {
            UTIME_NOW => Ok(Some((now, true))),
            UTIME_OMIT => Ok(None),
            n if (0..1_000_000_000).contains(&n) && sec >= 0 => {
                Ok(Some((Duration::new(sec as u64, n as u32), false)))
            }
            _ => Err(Errno::EINVAL),
        }
    };
    let explicit = match raw {
        None => None,
        Some([a, m]) => match (parse(a)?, parse(m)?) {
            // Both "now" is a touch, like NULL.
            (Some((_, true)), Some((_, true))) => None,
            (a, m) => Some((a.map(|t| t.0), m.map(|t| t.0))),
        },
    };
    // utimensat with a NULL path operates on dirfd (Linux extension); at
    // AT_FDCWD the NULL is a bad name (EFAULT).
    let node = if path == 0 {
        if dirfd == AT_FDCWD {
            return Err(Errno::EFAULT);
        }
        node_of_fd(sc, dirfd)?
    } else {
        node_at(sc, dirfd, path, flags)?
    };
    set_times(sc, &node, explicit)
}

/// Sets `node`'s access and modification times: `explicit` values (None
/// leaves one as it is; setattr_prepare's ATTR_TIMES_SET: the owner or
/// CAP_FOWNER, else EPERM), or both to now when not given (a touch: also
/// anyone with write access, else EACCES).
fn set_times(
    sc: &SyscallContext<'_>,
    node: &Location,
    explicit: Option<(Option<Duration>, Option<Duration>)>,
) -> SysResult {
    writable_mount(node)?;
    let now = ax_hal::time::wall_time();
    let (atime, mtime) = explicit.unwrap_or((Some(now), Some(now)));
    let meta = node.metadata()?;
    let creds = sc.thread.process.creds.lock().clone();
    if !creds.capable(CAP_FOWNER) && creds.fsuid != meta.uid {
        if explicit.is_some() {
            return Err(Errno::EPERM);
        }
        let perm = u32::from(meta.mode.bits());
        let class = if meta.gid == creds.fsgid || creds.groups.contains(&meta.gid) {
            perm >> 3
        } else {
            perm
        };
        if class & 0o2 == 0 && !creds.capable(crate::task::creds::CAP_DAC_OVERRIDE) {
            return Err(Errno::EACCES);
        }
    }
    update_node(
        node,
        MetadataUpdate {
            atime,
            mtime,
            ..Default::default()
        },
    )?;
    Ok(0)
}

/// futimesat(2) (x86_64): microsecond `struct timeval` pair; a NULL path
/// works on `dirfd`; utimes(2) is futimesat at AT_FDCWD.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
pub fn sys_futimesat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    times: usize,
) -> SysResult {
    let explicit = if times == 0 {
        None
    } else {
        let tv = |addr: usize| -> KResult<Option<Duration>> {
            let sec = usercopy::read_u64(addr)? as i64;
            let usec = usercopy::read_u64(addr + 8)? as i64;
            if !(0..1_000_000).contains(&usec) || sec < 0 {
                return Err(Errno::EINVAL);
            }
            Ok(Some(Duration::new(sec as u64, usec as u32 * 1000)))
        };
        Some((tv(times)?, tv(times + 16)?))
    };
    let node = if path == 0 {
        if dirfd == AT_FDCWD {
            return Err(Errno::EFAULT);
        }
        node_of_fd(sc, dirfd)?
    } else {
        node_at(sc, dirfd, path, 0)?
    };
    set_times(sc, &node, explicit)
}

/// utime(2) (x86_64): whole seconds in a `struct utimbuf`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
pub fn sys_utime(sc: &mut SyscallContext<'_>, path: usize, times: usize) -> SysResult {
    let explicit = if times == 0 {
        None
    } else {
        let sec = |addr: usize| -> KResult<Option<Duration>> {
            let v = usercopy::read_u64(addr)? as i64;
            u64::try_from(v)
                .map(|v| Some(Duration::from_secs(v)))
                .map_err(|_| Errno::EINVAL)
        };
        Some((sec(times)?, sec(times + 8)?))
    };
    let node = node_at(sc, super::AT_FDCWD, path, 0)?;
    set_times(sc, &node, explicit)
}
