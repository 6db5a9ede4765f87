//! getdents for tmpfs directories.
//!
//! Positions: 0 is `.`, 1 is `..`, then the slot numbers of the directory's
//! own entries (assigned once per name, increasing, never reused), then from
//! `GENERATED_BASE` on the indices into its generator's list. A cursor is
//! the position after the entry just returned, so a reader resumes after the
//! last name it saw even if names before or after it came and went.
//!
//! Entries are copied out in batches under the directory's state lock, and
//! the `DirEntrySink` and the generator are called with no lock held.

use axfs_ng_vfs::{DirEntrySink, DirectoryCursor, NodeType, VfsError, VfsResult};

use super::{dir::TmpDir, generated::GeneratedDir, inode::dynamic_ino};

/// First position of generated names.
const GENERATED_BASE: u64 = 1 << 62;

/// Entries copied out per lock hold.
const READ_DIR_BATCH: usize = 64;

/// Feeds `sink` from `cursor` until it is full or the directory ends;
/// returns how many entries it took.
pub(super) fn read_dir(
    dir: &TmpDir,
    cursor: DirectoryCursor,
    sink: &mut dyn DirEntrySink,
) -> VfsResult<usize> {
    let inode = dir.inode();
    let (removed, generator) = {
        let state = inode.state.lock();
        (state.removed, state.generator.clone())
    };
    // fs/readdir.c iterate_dir: a removed directory lists nothing, ENOENT.
    if removed {
        return Err(VfsError::NotFound);
    }
    let mut count = 0;
    let mut pos = cursor.offset();
    if pos == 0 {
        let next = DirectoryCursor::new(1);
        if !sink.accept(b".", inode.ino, NodeType::Directory, next) {
            return Ok(count);
        }
        count += 1;
        pos = 1;
    }
    if pos == 1 {
        let next = DirectoryCursor::new(2);
        if !sink.accept(b"..", inode.parent_ino(), NodeType::Directory, next) {
            return Ok(count);
        }
        count += 1;
        pos = 2;
    }
    while pos < GENERATED_BASE {
        let batch = inode.state.lock().slots_from(pos, READ_DIR_BATCH);
        if batch.is_empty() {
            pos = GENERATED_BASE;
            break;
        }
        for view in batch {
            let next = DirectoryCursor::new(view.slot + 1);
            if !sink.accept(view.name.as_bytes(), view.ino, view.node_type, next) {
                return Ok(count);
            }
            count += 1;
            pos = view.slot + 1;
        }
    }
    if let Some(generator) = generator {
        count += read_generated(dir, &*generator, pos - GENERATED_BASE, sink);
    }
    Ok(count)
}

/// Feeds the generator's names from list index `from`.
fn read_generated(
    dir: &TmpDir,
    generator: &dyn GeneratedDir,
    from: u64,
    sink: &mut dyn DirEntrySink,
) -> usize {
    let mut count = 0;
    let start = usize::try_from(from).unwrap_or(usize::MAX);
    for (index, (name, node_type)) in generator.list().iter().enumerate().skip(start) {
        let next = DirectoryCursor::new(GENERATED_BASE + index as u64 + 1);
        let ino = dynamic_ino(dir.inode().ino, name);
        if !sink.accept(name.as_bytes(), ino, *node_type, next) {
            break;
        }
        count += 1;
    }
    count
}

/// The position past the last entry, the origin of `SEEK_END`.
pub(super) fn end_cursor(dir: &TmpDir) -> VfsResult<DirectoryCursor> {
    let (end, generator) = {
        let state = dir.inode().state.lock();
        (state.end_slot(), state.generator.clone())
    };
    Ok(DirectoryCursor::new(match generator {
        Some(generator) => GENERATED_BASE + generator.list().len() as u64,
        None => end,
    }))
}
