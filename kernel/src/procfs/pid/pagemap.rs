//! /proc/PID/pagemap: one native-endian 64-bit entry per virtual page, the
//! entry of page `n` at file offset `8 * n` (fs/proc/task_mmu.c
//! `pagemap_read`; Documentation/admin-guide/mm/pagemap.rst).
//!
//! Bit 63: present; bit 61: a file page or shared anonymous memory; bit 56:
//! mapped exactly once; bits 0-54: the page frame number, shown only to a
//! reader with CAP_SYS_ADMIN (zero for others). Pages outside any VMA and
//! absent pages read as zero; reads end at the top of the user address
//! space. The file is as large as the address space, so a read produces
//! only the entries it asks for, never the whole text.

use starling_fs::tmpfs::{GeneratedNode, ReadAtFn};

use super::Target;
use crate::task::creds::CAP_SYS_ADMIN;

/// Bytes per entry (PM_ENTRY_BYTES).
const ENTRY_BYTES: usize = 8;

/// Entries produced per hold of the address-space lock.
const BATCH: usize = 512;

/// The node of /proc/PID/pagemap (mode 0400, as in fs/proc/base.c).
pub fn node(target: Target) -> GeneratedNode {
    let read: ReadAtFn =
        alloc::sync::Arc::new(move |buf: &mut [u8], offset: u64| read_at(target, buf, offset));
    GeneratedNode::ranged_file(0o400, read)
}

fn read_at(target: Target, buf: &mut [u8], offset: u64) -> axfs_ng_vfs::VfsResult<usize> {
    let Some(mm) = target.resolve().and_then(|(p, _)| p.mm()) else {
        return Ok(0);
    };
    // pagemap_read: EINVAL unless both the position and the count are
    // whole entries.
    if !offset.is_multiple_of(ENTRY_BYTES as u64) || !buf.len().is_multiple_of(ENTRY_BYTES) {
        return Err(axfs_ng_vfs::VfsError::InvalidInput);
    }
    // Decided by the reader (Linux asks of the opener's credentials).
    let show_pfn =
        crate::task::current().is_some_and(|t| t.process.creds.lock().capable(CAP_SYS_ADMIN));
    let first = usize::try_from(offset / ENTRY_BYTES as u64).unwrap_or(usize::MAX);
    let mut entries = [0u64; BATCH];
    let mut done = 0;
    while done < buf.len() {
        let want = ((buf.len() - done) / ENTRY_BYTES).min(BATCH);
        let page = first.saturating_add(done / ENTRY_BYTES);
        let n = mm
            .aspace
            .lock()
            .pagemap(page, &mut entries[..want], show_pfn);
        for (dst, entry) in buf[done..]
            .as_chunks_mut::<ENTRY_BYTES>()
            .0
            .iter_mut()
            .zip(&entries[..n])
        {
            dst.copy_from_slice(&entry.to_ne_bytes());
        }
        done += n * ENTRY_BYTES;
        if n < want {
            break;
        }
    }
    Ok(done)
}
