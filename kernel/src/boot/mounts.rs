//! The filesystems mounted at boot besides the ext4 root: devfs on /dev,
//! procfs on /proc, sysfs on /sys, tmpfs on /tmp and /dev/shm.
//!
//! A failure is logged and the system still boots (a minimal image may lack
//! a mount point). The mount options of each mount are recorded by mount id
//! for /proc/mounts ([`mount_options`]).

use alloc::{collections::BTreeMap, string::String, vec::Vec};

use ax_sync::SpinLock;
use axfs_ng_vfs::{DeviceId, Location, MetadataUpdate, NodePermission, NodeType};
use starling_fs::tmpfs::{self, TmpfsOptions};

use crate::{dev, error::KResult};

/// The option text of the mounts the kernel made, by mount id.
static OPTIONS: SpinLock<BTreeMap<u64, String>> = SpinLock::new(BTreeMap::new());

/// The options /proc/mounts shows for mount `id`, if the kernel made it.
pub fn mount_options(id: u64) -> Option<String> {
    OPTIONS.lock().get(&id).cloned()
}

fn resolve(path: &str) -> KResult<Location> {
    let ctx = ax_fs_ng::vfs::current_fs_context();
    let ctx = ctx.lock();
    Ok(ctx.resolve(path)?)
}

fn mount(
    path: &str,
    name: &str,
    root_mode: u16,
    size_limit: Option<u64>,
    opts: &str,
) -> KResult<Location> {
    mount_at(&resolve(path)?, name, name, root_mode, size_limit, opts)
}

/// Mounts a new in-memory file system of type `name` (tmpfs, proc, sysfs,
/// devtmpfs: each an instance of Starling's tmpfs) on directory `dir`, and
/// returns its root; `opts` is what /proc/mounts shows.
pub fn mount_at(
    dir: &Location,
    name: &str,
    source: &str,
    root_mode: u16,
    size_limit: Option<u64>,
    opts: &str,
) -> KResult<Location> {
    let fs = tmpfs::new_tmpfs_with(
        name,
        TmpfsOptions {
            size_limit,
            root_mode,
            ..TmpfsOptions::default()
        },
    );
    let mount = dir.mount_with_source(&fs, source)?;
    OPTIONS.lock().insert(mount.mount_id(), String::from(opts));
    Ok(mount.root_location())
}

/// Replaces the generic part (ro/rw and the MS_* flag names) of a
/// recorded mount's options after a remount, keeping the file system's
/// own; a mount without recorded options shows derived ones anyway.
pub fn set_generic_options(id: u64, generic: &str) {
    const GENERIC: &[&str] = &[
        "rw",
        "ro",
        "nosuid",
        "nodev",
        "noexec",
        "sync",
        "dirsync",
        "nosymfollow",
        "noatime",
        "nodiratime",
        "relatime",
        "strictatime",
    ];
    let mut options = OPTIONS.lock();
    if let Some(text) = options.get_mut(&id) {
        let own: Vec<&str> = text.split(',').filter(|o| !GENERIC.contains(o)).collect();
        let mut new = String::from(generic);
        for o in own {
            new.push(',');
            new.push_str(o);
        }
        *text = new;
    }
}

/// Drops the recorded options of an unmounted mount.
pub fn forget(id: u64) {
    OPTIONS.lock().remove(&id);
}

/// Creates /dev's device nodes, directories and symlinks under `dev_root`.
pub fn populate_dev(dev_root: &Location) -> KResult<()> {
    for &(name, major, minor, mode) in dev::DEVICE_NODES {
        let node = dev_root.create(
            name,
            NodeType::CharacterDevice,
            NodePermission::from_bits_truncate(mode),
            0,
            0,
        )?;
        node.update_metadata(MetadataUpdate {
            rdev: Some(DeviceId::new(major, minor)),
            ..Default::default()
        })?;
    }
    starling_fs::file::loopdev::populate_dev(dev_root.entry());
    dev_root.create(
        "shm",
        NodeType::Directory,
        NodePermission::from_bits_truncate(0o1777),
        0,
        0,
    )?;
    let pts = dev_root.create(
        "pts",
        NodeType::Directory,
        NodePermission::from_bits_truncate(0o755),
        0,
        0,
    )?;
    dev::add_pts_dir(&pts);
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        dev_root.create_symlink(
            name,
            target,
            NodePermission::from_bits_truncate(0o777),
            0,
            0,
        )?;
    }
    Ok(())
}

/// One mount at boot; the argument is the tmpfs size limit.
type MountStep = fn(u64) -> KResult<()>;

/// Mounts everything; logs what fails.
pub fn mount_all() {
    let half_ram = (super::memory_totals().0 / 2) as u64;
    let steps: [(&str, MountStep); 5] = [
        ("/dev", |_| {
            let dev_root = mount("/dev", "devtmpfs", 0o755, None, "rw,relatime,mode=755")?;
            populate_dev(&dev_root)
        }),
        ("/dev/shm", |limit| {
            mount("/dev/shm", "tmpfs", 0o1777, Some(limit), "rw,nosuid,nodev").map(|_| ())
        }),
        ("/proc", |_| {
            let proc_root = mount(
                "/proc",
                "proc",
                0o555,
                None,
                "rw,nosuid,nodev,noexec,relatime",
            )?;
            crate::procfs::populate(proc_root.entry())?;
            Ok(())
        }),
        ("/sys", |_| {
            let sys_root = mount(
                "/sys",
                "sysfs",
                0o555,
                None,
                "rw,nosuid,nodev,noexec,relatime",
            )?;
            crate::sysfs::populate(sys_root.entry())?;
            Ok(())
        }),
        ("/tmp", |limit| {
            mount("/tmp", "tmpfs", 0o1777, Some(limit), "rw,nosuid,nodev").map(|_| ())
        }),
    ];
    for (path, step) in steps {
        if let Err(e) = step(half_ram) {
            warn!("mounts: {path}: {e:?}");
        }
    }
}
