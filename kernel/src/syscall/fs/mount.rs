//! mount(2) and umount2(2) for the in-memory file systems: tmpfs (with
//! size=, mode=, uid=, gid=), proc, sysfs and devtmpfs, each a new
//! instance at the target directory.
//!
//! MS_RDONLY mounts read-only (the VFS answers EROFS for every change), and
//! MS_REMOUNT changes a mounted file system's ro/rw state and per-mount
//! flags (with MS_BIND, the mount's alone). Unsupported and refused with a
//! log line (EOPNOTSUPP): bind mounts, moves and shared or slave
//! propagation. The per-mount flags nosuid, nodev, noexec, noatime and
//! relatime are recorded in /proc/mounts but not enforced. MS_PRIVATE/
//! MS_UNBINDABLE succeed: no mount is ever shared, so they change nothing.
//! Block-device file systems (ext4 and the like) are ENODEV: the root is
//! the only one.

use alloc::{format, string::String, vec::Vec};

use axfs_ng_vfs::{Location, MetadataUpdate};

use crate::{
    boot::mounts,
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::creds::CAP_SYS_ADMIN,
    usercopy,
};

const MS_RDONLY: u64 = 1;
const MS_NOSUID: u64 = 2;
const MS_NODEV: u64 = 4;
const MS_NOEXEC: u64 = 8;
const MS_SYNCHRONOUS: u64 = 16;
const MS_REMOUNT: u64 = 32;
const MS_MANDLOCK: u64 = 64;
const MS_DIRSYNC: u64 = 128;
const MS_NOSYMFOLLOW: u64 = 256;
const MS_NOATIME: u64 = 1024;
const MS_NODIRATIME: u64 = 2048;
const MS_BIND: u64 = 4096;
const MS_MOVE: u64 = 8192;
const MS_REC: u64 = 16384;
const MS_SILENT: u64 = 32768;
const MS_UNBINDABLE: u64 = 1 << 17;
const MS_PRIVATE: u64 = 1 << 18;
const MS_SLAVE: u64 = 1 << 19;
const MS_SHARED: u64 = 1 << 20;
const MS_STRICTATIME: u64 = 1 << 24;
/// The old "magic" in the upper 16 bits (MS_MGC_VAL), ignored.
const MS_MGC_MSK: u64 = 0xffff_0000;
const MS_MGC_VAL: u64 = 0xc0ed_0000;

const MNT_FORCE: u32 = 1;
const MNT_DETACH: u32 = 2;
const MNT_EXPIRE: u32 = 4;
const UMOUNT_NOFOLLOW: u32 = 8;

fn require_admin(sc: &SyscallContext<'_>) -> KResult<()> {
    if sc.thread.process.creds.lock().capable(CAP_SYS_ADMIN) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Reads an optional NUL-terminated user string (NULL gives None).
fn opt_string(addr: usize) -> KResult<Option<String>> {
    if addr == 0 {
        return Ok(None);
    }
    usercopy::read_path(addr).map(Some)
}

/// The target directory, resolved in the caller's context.
fn target_dir(sc: &SyscallContext<'_>, path: &str, follow: bool) -> KResult<Location> {
    let fs = sc.thread.process.fs();
    let ctx = fs.lock();
    let loc = if follow {
        ctx.resolve(path)?
    } else {
        ctx.resolve_no_follow(path)?
    };
    Ok(loc)
}

/// The generic flags as /proc/mounts spells them.
fn flag_text(flags: u64) -> String {
    let mut parts: Vec<&str> = alloc::vec![if flags & MS_RDONLY != 0 { "ro" } else { "rw" }];
    for (bit, name) in [
        (MS_NOSUID, "nosuid"),
        (MS_NODEV, "nodev"),
        (MS_NOEXEC, "noexec"),
        (MS_SYNCHRONOUS, "sync"),
        (MS_DIRSYNC, "dirsync"),
        (MS_NOSYMFOLLOW, "nosymfollow"),
        (MS_NOATIME, "noatime"),
        (MS_NODIRATIME, "nodiratime"),
    ] {
        if flags & bit != 0 {
            parts.push(name);
        }
    }
    if flags & (MS_NOATIME | MS_STRICTATIME) == 0 {
        parts.push("relatime");
    }
    parts.join(",")
}

/// mount(2).
#[inline(never)]
pub fn sys_mount(
    sc: &mut SyscallContext<'_>,
    source: usize,
    target: usize,
    fstype: usize,
    flags: u64,
    data: usize,
) -> SysResult {
    let mut flags = flags;
    if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags &= !MS_MGC_MSK;
    }
    // fs/namespace.c: the type and source strings are copied in (EFAULT)
    // before do_mount looks the target up (getname: ENOENT for an empty
    // name), then may_mount.
    for string in [fstype, source] {
        if string != 0 {
            usercopy::read_path(string)?;
        }
    }
    let target = super::read_name(target)?;
    let dir = target_dir(sc, &target, true)?;
    require_admin(sc)?;
    let propagation = flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE);
    if propagation != 0 {
        // A propagation change names one type (plus MS_REC/MS_SILENT).
        if propagation.count_ones() != 1 || flags & !(propagation | MS_REC | MS_SILENT) != 0 {
            return Err(Errno::EINVAL);
        }
        dir.check_is_dir()?;
        if propagation & (MS_SHARED | MS_SLAVE) != 0 {
            warn!("mount: shared/slave propagation is not supported");
            return Err(Errno::EOPNOTSUPP);
        }
        return Ok(0);
    }
    if flags & MS_REMOUNT != 0 {
        return remount(&dir, flags, data);
    }
    for (bit, what) in [
        (MS_BIND, "MS_BIND"),
        (MS_MOVE, "MS_MOVE"),
        (MS_MANDLOCK, "MS_MANDLOCK"),
    ] {
        if flags & bit != 0 {
            warn!("mount: {what} is not supported");
            return Err(Errno::EOPNOTSUPP);
        }
    }
    let fstype = opt_string(fstype)?.ok_or(Errno::EINVAL)?;
    let source = opt_string(source)?.unwrap_or_else(|| String::from("none"));
    let data = match data {
        0 => String::new(),
        // copy_mount_options: at most a page.
        addr => String::from_utf8_lossy(&usercopy::read_cstr_bytes(addr, 4095, Errno::EINVAL)?)
            .into_owned(),
    };
    dir.check_is_dir()?;
    let generic = flag_text(flags);
    let root = match fstype.as_str() {
        "tmpfs" => {
            let total = crate::boot::memory_totals().0 as u64;
            let opts = starling_fs::mountopt::parse_tmpfs(&data, total)?;
            let mode = opts.mode.unwrap_or(0o1777);
            let mut text = generic;
            if let Some(size) = opts.size {
                text.push_str(&format!(",size={}k", size / 1024));
            }
            text.push_str(&format!(",mode={mode:o}"));
            if let Some(uid) = opts.uid {
                text.push_str(&format!(",uid={uid}"));
            }
            if let Some(gid) = opts.gid {
                text.push_str(&format!(",gid={gid}"));
            }
            let root = mounts::mount_at(&dir, "tmpfs", &source, mode, opts.size, &text)?;
            if opts.uid.is_some() || opts.gid.is_some() {
                let meta = root.metadata()?;
                root.update_metadata(MetadataUpdate {
                    owner: Some((opts.uid.unwrap_or(meta.uid), opts.gid.unwrap_or(meta.gid))),
                    ..Default::default()
                })?;
            }
            root
        }
        "proc" => {
            let root = mounts::mount_at(&dir, "proc", &source, 0o555, None, &generic)?;
            crate::procfs::populate(root.entry())?;
            root
        }
        "sysfs" => {
            let root = mounts::mount_at(&dir, "sysfs", &source, 0o555, None, &generic)?;
            crate::sysfs::populate(root.entry())?;
            root
        }
        "devtmpfs" => {
            let root = mounts::mount_at(&dir, "devtmpfs", &source, 0o755, None, &generic)?;
            mounts::populate_dev(&root)?;
            root
        }
        other => {
            debug!("mount: file system type \"{other}\" is not available");
            return Err(Errno::ENODEV);
        }
    };
    // Filled in read-write above; read-only from now on.
    let mp = root.mountpoint();
    mp.set_mount_flags((flags & PER_MOUNT) as u32);
    if flags & MS_RDONLY != 0 {
        mp.set_filesystem_readonly(true);
    }
    Ok(0)
}

/// The flags a mount keeps (and a remount sets) besides ro/rw.
const PER_MOUNT: u64 = MS_NOSUID
    | MS_NODEV
    | MS_NOEXEC
    | MS_SYNCHRONOUS
    | MS_DIRSYNC
    | MS_NOSYMFOLLOW
    | MS_NOATIME
    | MS_NODIRATIME
    | MS_STRICTATIME;

/// Whether any process holds a description open for writing on the file
/// system of `root` (`mount_only`: on that mount).
fn open_for_write(root: &Location, mount_only: bool) -> bool {
    let same = |loc: &Location| {
        if mount_only {
            alloc::sync::Arc::ptr_eq(loc.mountpoint(), root.mountpoint())
        } else {
            core::ptr::addr_eq(loc.filesystem(), root.filesystem())
        }
    };
    crate::task::table::all_processes().iter().any(|p| {
        let files = p.files();
        let table = files.lock();
        table.iter().any(|(_, file, _)| {
            file.writable()
                && !file.is_path()
                && super::tmpfile::location_of(file).is_some_and(|loc| same(&loc))
        })
    })
}

/// MS_REMOUNT (do_remount / do_reconfigure_mnt): `dir` must be the root of
/// a mount (EINVAL). With MS_BIND only the mount's own read-only state and
/// flags change; otherwise the file system's read-only state too (every
/// mount of it). The file system's own options in `data` are checked for
/// tmpfs but not applied (size= keeps its mount-time value).
fn remount(dir: &Location, flags: u64, data: usize) -> SysResult {
    if !dir.is_root_of_mount() {
        return Err(Errno::EINVAL);
    }
    let mp = dir.mountpoint();
    if flags & MS_BIND == 0 && data != 0 && dir.filesystem().name() == "tmpfs" {
        let text = String::from_utf8_lossy(&usercopy::read_cstr_bytes(data, 4095, Errno::EINVAL)?)
            .into_owned();
        let total = crate::boot::memory_totals().0 as u64;
        starling_fs::mountopt::parse_tmpfs(&text, total)?;
    }
    let readonly = flags & MS_RDONLY != 0;
    // sb_prepare_remount_readonly / mnt_make_readonly: EBUSY while a
    // description may still write through this file system (or mount).
    if readonly && !dir.is_readonly() && open_for_write(dir, flags & MS_BIND != 0) {
        return Err(Errno::EBUSY);
    }
    if flags & MS_BIND != 0 {
        mp.set_readonly(readonly);
    } else {
        mp.set_filesystem_readonly(readonly);
        mp.set_readonly(false);
    }
    mp.set_mount_flags((flags & PER_MOUNT) as u32);
    mounts::set_generic_options(mp.mount_id(), &flag_text(flags));
    Ok(0)
}

/// umount2(2) (umount(2) is flags 0).
#[inline(never)]
pub fn sys_umount2(sc: &mut SyscallContext<'_>, target: usize, flags: u32) -> SysResult {
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0
        || (flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0)
    {
        return Err(Errno::EINVAL);
    }
    let target = super::read_name(target)?;
    let loc = target_dir(sc, &target, flags & UMOUNT_NOFOLLOW == 0)?;
    require_admin(sc)?;
    if !loc.is_root_of_mount() {
        return Err(Errno::EINVAL);
    }
    if flags & MNT_EXPIRE != 0 {
        // Expiry marks happen on a first call; nothing is ever marked here.
        return Err(Errno::EAGAIN);
    }
    let id = loc.mountpoint().mount_id();
    if flags & MNT_DETACH != 0 {
        loc.detach_mount()?;
    } else {
        loc.unmount()?;
    }
    mounts::forget(id);
    Ok(0)
}
