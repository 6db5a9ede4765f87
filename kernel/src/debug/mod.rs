//! Debug records: fixed-layout tables that the gdb commands read.
//!
//! The commands in `platforms/tools/gdb/starling.py` (`starling-ps`,
//! `starling-memfd`, `starling-syscall`, …) read kernel state through the
//! GDB stub while the machine is stopped. Rather than decoding hash maps,
//! B-trees and intrusive lists from Python, the kernel keeps small
//! `#[repr(C)]` tables under fixed, unmangled symbols:
//!
//! | symbol | module | updated |
//! |---|---|---|
//! | `STARLING_DEBUG_TASKS` | [`tasks`] | thread create/exit, comm change, execve, reparent |
//! | `STARLING_DEBUG_CPUS` | [`cpus`] | every syscall entry and exit |
//! | `STARLING_DEBUG_MEMFDS` | [`memfds`] | memfd creation, seal changes, every change to its mappings |
//! | `STARLING_DMESG` | `crate::dmesg` | every kernel log record |
//!
//! Every table starts with a header of four `u32`: a magic number, a layout
//! version, the size of one entry and the number of entries; the script
//! refuses a table whose header it does not know. Fields are atomics written
//! with `Relaxed` ordering: a reader that stops the machine in the middle
//! of an update may see one entry half written, never a wild pointer,
//! because the tables hold addresses only for display. The layouts are a
//! contract with the script; docs/debugging.md lists them. Nothing here
//! allocates, and the syscall path costs four stores.

pub mod backtrace;
pub mod cpus;
pub mod ksyms;
pub mod memfds;
pub mod provoke;
pub mod tasks;
pub mod warn;
pub mod watchdog;

/// The header every table starts with.
#[repr(C)]
pub struct Header {
    pub magic: u32,
    pub version: u32,
    pub entry_size: u32,
    pub entries: u32,
}

impl Header {
    pub const fn new<T>(magic: u32, entries: usize) -> Self {
        Self {
            magic,
            version: 1,
            entry_size: core::mem::size_of::<T>() as u32,
            entries: entries as u32,
        }
    }
}

/// Copies `src` into a fixed byte field, NUL padded and cut to leave one
/// NUL at the end.
pub fn store_bytes(dst: &[core::sync::atomic::AtomicU8], src: &[u8]) {
    use core::sync::atomic::Ordering::Relaxed;
    let n = src.len().min(dst.len().saturating_sub(1));
    for (i, slot) in dst.iter().enumerate() {
        slot.store(if i < n { src[i] } else { 0 }, Relaxed);
    }
}
