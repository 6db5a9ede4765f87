//! /proc/PID/mounts (and /proc/mounts, a link to self/mounts),
//! /proc/PID/mountinfo and /proc/filesystems.
//!
//! The mount list is the process's mount namespace as the VFS holds it, in
//! mount order (ascending mount id), one `fs_spec fs_file fs_vfstype
//! fs_mntops 0 0` line per mount as fstab(5) and fs/proc_namespace.c
//! `show_vfsmnt` write it. Options are what the kernel recorded when it
//! made the mount; for other mounts they are derived from the mount flags.

use alloc::{format, string::String, sync::Arc, vec::Vec};

use ax_fs_ng::vfs::FsContext;
use axfs_ng_vfs::Mountpoint;

/// Linux's MS_* bits that /proc/mounts spells out (include/uapi/linux/mount.h).
const MOUNT_FLAG_NAMES: &[(u32, &str)] = &[
    (2, "nosuid"),
    (4, "nodev"),
    (8, "noexec"),
    (0x400, "noatime"),
    (0x800, "nodiratime"),
    (0x80_0000, "relatime"),
    (0x100_0000, "strictatime"),
];

/// Escapes a path field as `mangle` in fs/proc_namespace.c: space, tab,
/// newline and backslash become octal escapes.
fn mangle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    out
}

/// The options of a mount the kernel did not record: ro/rw, the flags,
/// and `relatime`, Linux's default atime mode, unless another is set.
fn derived_options(readonly: bool, flags: u32) -> String {
    let mut opts = String::from(if readonly { "ro" } else { "rw" });
    for (bit, name) in MOUNT_FLAG_NAMES {
        if flags & bit != 0 {
            opts.push(',');
            opts.push_str(name);
        }
    }
    if flags & (0x400 | 0x80_0000 | 0x100_0000) == 0 {
        opts.push_str(",relatime");
    }
    opts
}

/// The mounts of `ctx`'s namespace below its root directory, in mount
/// order: (id, parent id, mount, mount point as seen from that root).
/// show_vfsmnt and show_mountinfo skip the others after chroot.
fn visible_mounts(ctx: &FsContext) -> Vec<(u64, u64, Arc<Mountpoint>, String)> {
    let mut mounts: Vec<_> = ctx.mount_namespace().walk_tree();
    mounts.sort_by_key(|(id, _, _)| *id);
    let root = ctx
        .root_dir()
        .absolute_path()
        .map_or_else(|_| String::from("/"), |p| String::from(p.as_str()));
    mounts
        .into_iter()
        .filter_map(|(id, parent, mp)| {
            let global = mp
                .location()
                .and_then(|loc| loc.absolute_path().ok())
                .map_or_else(|| String::from("/"), |p| String::from(p.as_str()));
            let seen = starling_fs::path::within_root(root.as_bytes(), global.as_bytes())?;
            let target = String::from_utf8_lossy(seen).into_owned();
            Some((id, parent, mp, target))
        })
        .collect()
}

/// The text of /proc/PID/mounts for a process with filesystem context `ctx`
/// ([`visible_mounts`]).
pub fn mounts_text(ctx: &FsContext) -> String {
    let mut s = String::new();
    for (id, _, mp, target) in visible_mounts(ctx) {
        let root = mp.root_location();
        let fstype = String::from(root.filesystem().name());
        let opts = crate::boot::mount_options(id).unwrap_or_else(|| {
            derived_options(
                mp.is_readonly() || mp.is_filesystem_readonly(),
                mp.mount_flags(),
            )
        });
        s.push_str(&format!(
            "{} {} {} {} 0 0\n",
            mangle(mp.source()),
            mangle(&target),
            fstype,
            opts
        ));
    }
    s
}

/// The text of /proc/PID/mountinfo (show_mountinfo): per mount its id, its
/// parent's id, the device of its file system, the root of the mount
/// within that file system (always "/": there are no bind mounts), the
/// mount point as `ctx` sees it, the per-mount options, no optional fields
/// (no mount is shared), then "-", the type, the source and the file
/// system's options. The ids are statx's stx_mnt_id.
pub fn mountinfo_text(ctx: &FsContext) -> String {
    let mut s = String::new();
    for (id, parent, mp, target) in visible_mounts(ctx) {
        let mount_root = mp.root_location();
        let fstype = String::from(mount_root.filesystem().name());
        let dev = mount_root.metadata().map_or(0, |m| m.device);
        let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
        // The recorded options split into the generic, per-mount ones and
        // the file system's own (size=, mode=, ...); without a record the
        // per-mount ones come from the mount's flags.
        let is_generic = |o: &str| {
            matches!(o, "rw" | "ro" | "relatime" | "strictatime")
                || MOUNT_FLAG_NAMES.iter().any(|(_, n)| *n == o)
        };
        let fs_ro = mp.is_filesystem_readonly();
        let mut super_opts = String::from(if fs_ro { "ro" } else { "rw" });
        let per_mount = match crate::boot::mount_options(id) {
            Some(recorded) => {
                let mut generic = Vec::new();
                for o in recorded.split(',').filter(|o| !o.is_empty()) {
                    if is_generic(o) {
                        generic.push(o);
                    } else {
                        super_opts.push(',');
                        super_opts.push_str(o);
                    }
                }
                generic.join(",")
            }
            None => derived_options(mp.is_readonly() || fs_ro, mp.mount_flags()),
        };
        let parent = if parent == 0 { id } else { parent };
        s.push_str(&format!(
            "{id} {parent} {major}:{minor} / {} {per_mount} - {fstype} {} {super_opts}\n",
            mangle(&target),
            mangle(mp.source()),
        ));
    }
    s
}

/// The file system types Starling can mount (nodev: needs no device).
const FILESYSTEMS: &[(bool, &str)] = &[
    (true, "sysfs"),
    (true, "tmpfs"),
    (true, "proc"),
    (true, "devtmpfs"),
    (true, "pipefs"),
    (false, "ext4"),
];

/// /proc/filesystems: one type a line, `nodev` before those without a
/// block device (fs/filesystems.c `filesystems_proc_show`).
pub fn filesystems() -> String {
    let mut s = String::new();
    for (nodev, name) in FILESYSTEMS {
        s.push_str(if *nodev { "nodev\t" } else { "\t" });
        s.push_str(name);
        s.push('\n');
    }
    s
}
