//! Directory notification: fcntl(F_NOTIFY) (fs/notify/dnotify/dnotify.c,
//! Documentation/filesystems/dnotify.rst).
//!
//! A watch ties an open directory description and the descriptor table it
//! was set through to the directory (identified by file system and inode
//! number) with a mask of DN_* events. The file-system syscalls report
//! what they did ([`child_event`] for a change inside a directory,
//! [`node_event`] for a change of a node, which its own watches and its
//! parent's hear), and each watch that wants the event gets SIGIO — or the
//! description's F_SETSIG signal with `si_fd` — through the description's
//! owner, exactly as O_ASYNC does (POLL_MSG). A watch without DN_MULTISHOT
//! is removed after its first event; closing the descriptor removes the
//! watches it set (dnotify_flush).
//!
//! Events, as fsnotify maps them for dnotify: a read is DN_ACCESS, a
//! write or truncation DN_MODIFY, chmod/chown/utimes DN_ATTRIB, creating a
//! name (open O_CREAT, mkdir, mknod, symlink, link) DN_CREATE, removing one
//! DN_DELETE; a rename inside one directory is DN_RENAME (plus DN_DELETE and
//! DN_CREATE), across directories DN_DELETE on the old and DN_CREATE on the
//! new one.
//!
//! Cost when nobody watches: one atomic load per hook.

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicUsize, Ordering};

use ax_fs_ng::vfs::FsContext;
use ax_sync::SpinLock;
use axfs_ng_vfs::{Location, NodeType};
use starling_fs::file::{
    OpenFile,
    fasync::POLL_MSG,
    vfs::{VfsDir, VfsFile},
};

use crate::error::{Errno, KResult};

pub const DN_ACCESS: u32 = 0x0000_0001;
pub const DN_MODIFY: u32 = 0x0000_0002;
pub const DN_CREATE: u32 = 0x0000_0004;
pub const DN_DELETE: u32 = 0x0000_0008;
pub const DN_RENAME: u32 = 0x0000_0010;
pub const DN_ATTRIB: u32 = 0x0000_0020;
pub const DN_MULTISHOT: u32 = 0x8000_0000;

/// A directory: its file system and inode number.
type Key = (usize, u64);

struct Watch {
    file: Weak<OpenFile>,
    /// The descriptor table the watch was set through (dn_owner).
    table: usize,
    /// The descriptor number, for `si_fd`.
    fd: i32,
    mask: u32,
}

static WATCHES: SpinLock<BTreeMap<Key, Vec<Watch>>> = SpinLock::new(BTreeMap::new());
/// Number of watches (the hooks return at once while it is zero).
static COUNT: AtomicUsize = AtomicUsize::new(0);

fn key_of(loc: &Location) -> Key {
    let fs = loc.filesystem() as *const dyn axfs_ng_vfs::FilesystemOps as *const () as usize;
    (fs, loc.inode())
}

/// The location an open file description refers to, if it is a file or
/// directory of a file system.
fn location_of(file: &OpenFile) -> Option<Location> {
    let any = file.file().as_any();
    if let Some(f) = any.downcast_ref::<VfsFile>() {
        return Some(f.location().clone());
    }
    any.downcast_ref::<VfsDir>().map(|d| d.location().clone())
}

/// fcntl(fd, F_NOTIFY, arg) for `file`, open as `fd` in the table `table`
/// (fcntl_dirnotify): no events but DN_MULTISHOT removes the watches this
/// description has through this table; otherwise the description must be
/// a directory (ENOTDIR) and its watch gets `arg` added to its mask. The
/// description's owner becomes the caller if it has none.
pub fn fcntl_notify(file: &Arc<OpenFile>, fd: i32, table: usize, arg: u32) -> KResult<usize> {
    // dir_notify_enable is always on.
    if arg & !DN_MULTISHOT == 0 {
        flush(file, table);
        return Ok(0);
    }
    let loc = location_of(file)
        .filter(|l| l.node_type() == NodeType::Directory)
        .ok_or(Errno::ENOTDIR)?;
    let caller = crate::task::current().ok_or(Errno::ESRCH)?;
    crate::task::signal::sigio::Owner::claim_if_unset(file, &caller.process);
    let mut watches = WATCHES.lock();
    let list = watches.entry(key_of(&loc)).or_default();
    let me = Arc::downgrade(file);
    if let Some(w) = list
        .iter_mut()
        .find(|w| w.table == table && Weak::ptr_eq(&w.file, &me))
    {
        w.fd = fd;
        w.mask |= arg;
    } else {
        list.push(Watch {
            file: me,
            table,
            fd,
            mask: arg,
        });
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
    Ok(0)
}

/// Removes the watches `file` set through `table` (a descriptor of it
/// there was closed, or F_NOTIFY 0).
pub fn flush(file: &OpenFile, table: usize) {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let me: *const OpenFile = file;
    let mut watches = WATCHES.lock();
    watches.retain(|_, list| {
        let before = list.len();
        list.retain(|w| !(w.table == table && core::ptr::eq(w.file.as_ptr(), me)));
        COUNT.fetch_sub(before - list.len(), Ordering::Relaxed);
        !list.is_empty()
    });
}

/// Delivers `mask` to the watches of directory `dir`.
fn deliver(dir: &Location, mask: u32) {
    let key = key_of(dir);
    let mut targets = Vec::new();
    {
        let mut watches = WATCHES.lock();
        let Some(list) = watches.get_mut(&key) else {
            return;
        };
        list.retain(|w| {
            let Some(file) = w.file.upgrade() else {
                COUNT.fetch_sub(1, Ordering::Relaxed);
                return false;
            };
            if w.mask & mask == 0 {
                return true;
            }
            targets.push((file, w.fd));
            if w.mask & DN_MULTISHOT != 0 {
                return true;
            }
            COUNT.fetch_sub(1, Ordering::Relaxed);
            false
        });
        if list.is_empty() {
            watches.remove(&key);
        }
    }
    // Signals go out with no lock held.
    for (file, fd) in targets {
        if let Some(owner) = file.owner() {
            owner.send_sigio(fd, POLL_MSG);
        }
    }
}

/// Something changed inside directory `dir` (a name was created, removed
/// or renamed there).
pub fn child_event(dir: &Location, mask: u32) {
    if COUNT.load(Ordering::Relaxed) != 0 {
        deliver(dir, mask);
    }
}

/// Node `loc` was read, written or had its attributes changed: its own
/// watches (a directory's) and its parent directory's hear it.
pub fn node_event(loc: &Location, mask: u32) {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    if loc.node_type() == NodeType::Directory {
        deliver(loc, mask);
    }
    if let Some(parent) = loc.parent() {
        deliver(&parent, mask);
    }
}

/// [`node_event`] for the file behind an open file description.
pub fn file_event(file: &OpenFile, mask: u32) {
    if COUNT.load(Ordering::Relaxed) != 0
        && let Some(loc) = location_of(file)
    {
        node_event(&loc, mask);
    }
}

/// [`child_event`] for the directory that holds `path` (resolved in
/// `ctx` after the operation that changed it).
pub fn path_child_event(ctx: &FsContext, path: &str, mask: u32) {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Ok(split) = starling_fs::path::split_parent(path.as_bytes()) else {
        return;
    };
    let Ok(parent) = core::str::from_utf8(split.parent) else {
        return;
    };
    if let Ok(dir) = ctx.resolve(parent) {
        child_event(&dir, mask);
    }
}
