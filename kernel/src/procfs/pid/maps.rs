//! /proc/PID/maps: one line per VMA, as fs/proc/task_mmu.c `show_map_vma`
//! prints it:
//!
//! ```text
//! 00400000-00401000 r-xp 00000000 00:05 1234                               /bin/busybox
//! ```
//!
//! start and end address, permissions (`s` for a shared mapping, `p`
//! otherwise), the file offset, the device as `major:minor` in hex, the
//! inode, and for a named mapping the name after padding to column 73.
//! Names: the file a mapping or executable segment came from (the path it
//! was opened by), `[heap]`, `[stack]`, `[vdso]` for the riscv64 signal
//! return page, and `/dev/zero (deleted)` for shared anonymous memory,
//! which Linux backs with an unlinked shmem file.

use alloc::string::String;
use core::fmt::Write;

use starling_mm::aspace::{Prot, UserVma, VmaFlags, VmaKind};

use super::Task;

/// Width of the fixed part of a line before the name (`25 + 6 *
/// sizeof(void *) - 1` in task_mmu.c).
pub(super) const NAME_COLUMN: usize = 25 + 6 * 8 - 1;

/// The (major, minor) that user space decodes from an `st_dev` value
/// (glibc `gnu_dev_major`/`gnu_dev_minor`).
pub fn dev_parts(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// Appends the line of `vma` (shared with /proc/PID/smaps).
pub(super) fn line(s: &mut String, vma: &UserVma) {
    let start_len = s.len();
    let perm = |p: Prot, c: char| if vma.prot.contains(p) { c } else { '-' };
    let shared = if vma.flags.contains(VmaFlags::SHARED) {
        's'
    } else {
        'p'
    };
    let (dev, ino) = vma.file.as_ref().map_or((0, 0), |f| (f.dev, f.ino));
    let (major, minor) = dev_parts(dev);
    let _ = write!(
        s,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        vma.start,
        vma.end,
        perm(Prot::READ, 'r'),
        perm(Prot::WRITE, 'w'),
        perm(Prot::EXEC, 'x'),
        shared,
        vma.offset,
        major,
        minor,
        ino
    );
    let name = match (&vma.file, vma.kind) {
        (Some(f), _) => Some(f.path.as_str()),
        (None, VmaKind::Heap) => Some("[heap]"),
        (None, VmaKind::Stack) => Some("[stack]"),
        (None, VmaKind::Trampoline) => Some("[vdso]"),
        (None, _) if vma.object.is_some() => Some("/dev/zero (deleted)"),
        (None, _) => None,
    };
    if let Some(name) = name {
        // seq_pad: spaces up to the name column, then one more.
        while s.len() - start_len < NAME_COLUMN {
            s.push(' ');
        }
        s.push(' ');
        s.push_str(name);
    }
    s.push('\n');
}

/// The text of /proc/PID/maps.
pub fn maps(t: &Task) -> String {
    let Some(mm) = t.process.mm() else {
        return String::new();
    };
    let aspace = mm.aspace.lock();
    let mut s = String::with_capacity(aspace.vma_count() * 80);
    for vma in aspace.vmas() {
        line(&mut s, vma);
    }
    s
}
