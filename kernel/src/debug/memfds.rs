//! The memfd table: each live memfd with its size, seals and the mapping
//! records of its registry, for `starling-memfd`.
//!
//! `add` claims an entry at memfd_create and asks the tmpfs file to report
//! every change to its registry (`TmpFile::observe_mappings`); the report
//! copies the records into the entry. The entry is freed when the inode
//! goes: a [`Slot`] stored with the inode's data frees it on drop. Size and
//! seals are refreshed with the records, at creation and after F_ADD_SEALS
//! (a write that only grows the file is not reported).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};

use ax_sync::SpinLock;
use starling_fs::tmpfs::TmpFile;
use starling_mm::registry::Span;

use super::{Header, store_bytes};

/// memfds the table can show.
pub const MAX_MEMFDS: usize = 64;
/// Records copied per memfd; `nr_mappings` counts them all.
pub const MAX_MAPPINGS: usize = 16;

/// One mapping record (a VMA mapping the memfd).
#[repr(C)]
pub struct DebugMapping {
    /// The owning address space (`Arc<Mm>` address, as in the task table).
    pub owner: AtomicUsize,
    pub start: AtomicUsize,
    pub end: AtomicUsize,
    pub offset: AtomicU64,
    /// PROT_READ/WRITE/EXEC bits, current and may-become.
    pub prot: AtomicU8,
    pub may: AtomicU8,
    /// 1: MAP_SHARED; 0: a private file mapping.
    pub shared: AtomicU8,
    /// 1: counts as a writer for F_SEAL_WRITE (shared and may-write).
    pub may_write: AtomicU8,
    pub _pad: AtomicU32,
}

#[repr(C)]
pub struct DebugMemfd {
    /// The inode's address (0: free entry).
    pub inode: AtomicUsize,
    pub size: AtomicU64,
    pub seals: AtomicU32,
    /// Records in the registry (only the first [`MAX_MAPPINGS`] are copied).
    pub nr_mappings: AtomicU32,
    /// "memfd:NAME", NUL padded.
    pub name: [AtomicU8; 64],
    pub maps: [DebugMapping; MAX_MAPPINGS],
}

#[repr(C)]
pub struct MemfdTable {
    pub header: Header,
    /// memfds that found no free entry.
    pub overflow: AtomicUsize,
    pub memfds: [DebugMemfd; MAX_MEMFDS],
}

/// "SMFD".
const MAGIC: u32 = 0x4446_4d53;

#[expect(
    clippy::declare_interior_mutable_const,
    reason = "only the initialiser of the static table: each entry gets its own copy"
)]
const EMPTY_MAPPING: DebugMapping = DebugMapping {
    owner: AtomicUsize::new(0),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    offset: AtomicU64::new(0),
    prot: AtomicU8::new(0),
    may: AtomicU8::new(0),
    shared: AtomicU8::new(0),
    may_write: AtomicU8::new(0),
    _pad: AtomicU32::new(0),
};

#[unsafe(no_mangle)]
pub static STARLING_DEBUG_MEMFDS: MemfdTable = MemfdTable {
    header: Header::new::<DebugMemfd>(MAGIC, MAX_MEMFDS),
    overflow: AtomicUsize::new(0),
    memfds: [const {
        DebugMemfd {
            inode: AtomicUsize::new(0),
            size: AtomicU64::new(0),
            seals: AtomicU32::new(0),
            nr_mappings: AtomicU32::new(0),
            name: [const { AtomicU8::new(0) }; 64],
            maps: [EMPTY_MAPPING; MAX_MAPPINGS],
        }
    }; MAX_MEMFDS],
};

/// Serialises writers; readers need no lock.
static WRITERS: SpinLock<()> = SpinLock::new(());

/// Frees its entry when the inode it is stored with goes away.
pub struct Slot(usize);

impl Drop for Slot {
    fn drop(&mut self) {
        let _guard = WRITERS.lock();
        let entry = &STARLING_DEBUG_MEMFDS.memfds[self.0];
        entry.inode.store(0, Relaxed);
        entry.nr_mappings.store(0, Relaxed);
    }
}

/// A new memfd named `name` (without the "memfd:" prefix); the returned
/// slot must live as long as the inode.
pub fn add(file: &Arc<TmpFile>, name: &str) -> Option<Slot> {
    let index = {
        let _guard = WRITERS.lock();
        let Some(index) = STARLING_DEBUG_MEMFDS
            .memfds
            .iter()
            .position(|e| e.inode.load(Relaxed) == 0)
        else {
            STARLING_DEBUG_MEMFDS.overflow.fetch_add(1, Relaxed);
            return None;
        };
        let entry = &STARLING_DEBUG_MEMFDS.memfds[index];
        let mut full = [0u8; 64];
        let prefix = b"memfd:";
        full[..prefix.len()].copy_from_slice(prefix);
        let n = name.len().min(full.len() - prefix.len());
        full[prefix.len()..prefix.len() + n].copy_from_slice(&name.as_bytes()[..n]);
        store_bytes(&entry.name, &full);
        entry.nr_mappings.store(0, Relaxed);
        entry.inode.store(file.inode_id(), Relaxed);
        index
    };
    file.observe_mappings(refresh);
    refresh(file);
    Some(Slot(index))
}

/// Copies size, seals and mapping records of `file` into its entry.
pub fn refresh(file: &TmpFile) {
    let id = file.inode_id();
    let Some(entry) = STARLING_DEBUG_MEMFDS
        .memfds
        .iter()
        .find(|e| e.inode.load(Relaxed) == id)
    else {
        return;
    };
    // May be called with the inode lock held (F_ADD_SEALS): then size and
    // seals keep their last values.
    let sizes = file.try_len_and_seals();
    let mut spans = [None::<(Span, usize)>; MAX_MAPPINGS];
    let mut count = 0u32;
    file.for_each_mapping(|span, owner| {
        if let Some(slot) = spans.get_mut(count as usize) {
            *slot = Some((span, owner));
        }
        count += 1;
    });
    let _guard = WRITERS.lock();
    if entry.inode.load(Relaxed) != id {
        return;
    }
    if let Some((size, seals)) = sizes {
        entry.size.store(size, Relaxed);
        entry.seals.store(seals, Relaxed);
    }
    for (map, span) in entry.maps.iter().zip(spans.iter()) {
        let (span, owner) = span.unwrap_or((
            Span {
                start: 0,
                end: 0,
                offset: 0,
                prot: 0,
                may: 0,
                shared: false,
            },
            0,
        ));
        map.owner.store(owner, Relaxed);
        map.start.store(span.start, Relaxed);
        map.end.store(span.end, Relaxed);
        map.offset.store(span.offset, Relaxed);
        map.prot.store(span.prot, Relaxed);
        map.may.store(span.may, Relaxed);
        map.shared.store(span.shared as u8, Relaxed);
        map.may_write.store(span.may_write() as u8, Relaxed);
    }
    entry.nr_mappings.store(count, Relaxed);
}
