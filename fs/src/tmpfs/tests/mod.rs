//! Host tests of tmpfs, run through the same `DirNode`/`Location` API the
//! kernel uses. `DirNode::inner()` reaches the tmpfs operations directly
//! where the VFS would catch an error before tmpfs sees it.

mod generated;
mod host_sync;
mod namespace;
mod pages;
mod rename;

use alloc::{string::String, vec, vec::Vec};
use core::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axfs_ng_vfs::{DirEntry, DirectoryCursor, Filesystem, NodePermission, NodeType};

use super::{TmpfsOptions, new_tmpfs_with};

/// A clock that advances one second per reading, so every timestamp a test
/// observes is distinct and ordered.
fn tick() -> Duration {
    static NOW: AtomicU64 = AtomicU64::new(1_000_000);
    Duration::from_secs(NOW.fetch_add(1, Ordering::Relaxed))
}

fn new_fs(size_limit: Option<u64>) -> Filesystem {
    new_tmpfs_with(
        "tmpfs",
        TmpfsOptions {
            size_limit,
            clock: tick,
            ..TmpfsOptions::default()
        },
    )
}

fn perm(mode: u16) -> NodePermission {
    NodePermission::from_bits_truncate(mode)
}

fn create(dir: &DirEntry, name: &str, node_type: NodeType) -> DirEntry {
    dir.as_dir()
        .unwrap()
        .create(name, node_type, perm(0o644), 1000, 1000)
        .unwrap()
}

fn lookup(dir: &DirEntry, name: &str) -> DirEntry {
    dir.as_dir().unwrap().lookup(name).unwrap()
}

fn write(file: &DirEntry, offset: u64, data: &[u8]) -> usize {
    file.as_file().unwrap().write_at(data, offset).unwrap()
}

fn read_all(file: &DirEntry) -> Vec<u8> {
    let file = file.as_file().unwrap();
    let mut buf = vec![0; file.len().unwrap() as usize];
    let n = file.read_at(&mut buf, 0).unwrap();
    buf.truncate(n);
    buf
}

/// Every (name, ino, type) of a directory, read in batches of `batch` to
/// exercise cursor resumption.
fn list(dir: &DirEntry, batch: usize) -> Vec<(String, u64, NodeType)> {
    let mut out = Vec::new();
    let mut cursor = DirectoryCursor::START;
    loop {
        let mut taken = 0;
        let mut next = cursor;
        dir.as_dir()
            .unwrap()
            .read_dir(cursor, &mut |name: &[u8], ino, ty, c| {
                if taken == batch {
                    return false;
                }
                taken += 1;
                out.push((String::from_utf8(name.to_vec()).unwrap(), ino, ty));
                next = c;
                true
            })
            .unwrap();
        if taken == 0 {
            return out;
        }
        cursor = next;
    }
}

fn names(dir: &DirEntry) -> Vec<String> {
    list(dir, 1000).into_iter().map(|(name, ..)| name).collect()
}
