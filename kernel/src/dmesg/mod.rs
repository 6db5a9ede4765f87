//! The kernel log buffer: the most recent log records, for dmesg.
//!
//! The klog drain thread (`boot::klog`) appends every record it forwards to
//! the log port: its sequence number, time (µs since boot), Linux log level
//! and message text. Readers are syslog(2) ([`syslog`]), `/dev/kmsg`
//! ([`kmsg`]) and the gdb command `starling-dmesg`, which reads the ring
//! through the unmangled symbol `STARLING_DMESG` (layout: `crate::debug`).
//! A ring of fixed-size entries keeps the format trivial for gdb: record
//! `seq` lives in entry `seq % ENTRIES`, and texts longer than an entry are
//! cut. Records the runtime printed before the kernel took over its log
//! (early boot) are not in it.

pub mod kmsg;
pub mod syslog;

use alloc::{string::String, vec::Vec};
use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering::Relaxed};

use ax_sync::SpinLock;

use crate::debug::Header;

/// Records kept.
pub const ENTRIES: usize = 512;
/// Bytes of text kept per record.
pub const TEXT: usize = 232;

#[repr(C)]
pub struct DmesgEntry {
    pub seq: AtomicU64,
    /// Microseconds since boot.
    pub usec: AtomicU64,
    /// Linux log level (3 error, 4 warning, 6 info, 7 debug).
    pub level: AtomicU8,
    /// syslog facility: 0 (kern) for the kernel's records, 1 (user) by
    /// default for what user space writes to /dev/kmsg.
    pub facility: AtomicU8,
    pub len: AtomicU16,
    pub _pad2: AtomicU32,
    pub text: [AtomicU8; TEXT],
}

#[repr(C)]
pub struct DmesgRing {
    pub header: Header,
    /// The sequence number the next record gets; records
    /// `next_seq - ENTRIES .. next_seq` (those >= 0) are in the ring.
    pub next_seq: AtomicU64,
    pub entries: [DmesgEntry; ENTRIES],
}

/// "SLOG".
const MAGIC: u32 = 0x474f_4c53;

#[unsafe(no_mangle)]
pub static STARLING_DMESG: DmesgRing = DmesgRing {
    header: Header::new::<DmesgEntry>(MAGIC, ENTRIES),
    next_seq: AtomicU64::new(0),
    entries: [const {
        DmesgEntry {
            seq: AtomicU64::new(0),
            usec: AtomicU64::new(0),
            level: AtomicU8::new(0),
            facility: AtomicU8::new(0),
            len: AtomicU16::new(0),
            _pad2: AtomicU32::new(0),
            text: [const { AtomicU8::new(0) }; TEXT],
        }
    }; ENTRIES],
};

/// Serialises writers, and readers inside the kernel.
static LOCK: SpinLock<()> = SpinLock::new(());

/// One record as readers get it.
pub struct Record {
    pub seq: u64,
    pub usec: u64,
    pub level: u8,
    pub facility: u8,
    pub text: String,
}

impl Record {
    /// The syslog priority: facility << 3 | level.
    pub fn prio(&self) -> u32 {
        (u32::from(self.facility) << 3) | u32::from(self.level)
    }
}

/// Appends a kernel record.
pub fn push(level: u8, usec: u64, text: &[u8]) {
    push_with_facility(0, level, usec, text);
}

/// Appends a record of syslog facility `facility`.
pub fn push_with_facility(facility: u8, level: u8, usec: u64, text: &[u8]) {
    let _guard = LOCK.lock();
    let seq = STARLING_DMESG.next_seq.load(Relaxed);
    let entry = &STARLING_DMESG.entries[(seq % ENTRIES as u64) as usize];
    let n = text.len().min(TEXT);
    entry.seq.store(seq, Relaxed);
    entry.usec.store(usec, Relaxed);
    entry.level.store(level, Relaxed);
    entry.facility.store(facility, Relaxed);
    entry.len.store(n as u16, Relaxed);
    for (slot, &b) in entry.text.iter().zip(text[..n].iter()) {
        slot.store(b, Relaxed);
    }
    STARLING_DMESG.next_seq.store(seq + 1, Relaxed);
}

/// Appends a record formatted by the runtime's logger: ANSI colours, a
/// `[time cpu:task target:line]` prefix, the message. The level comes from
/// the colour of the message (ax-log's: red error, yellow warn, green info,
/// cyan debug, grey trace).
pub fn push_formatted(usec: u64, raw: &[u8]) {
    let mut text: Vec<u8> = Vec::with_capacity(raw.len().min(TEXT + 64));
    let mut level = 6;
    let mut prefix_done = false;
    let mut level_seen = false;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == 0x1b && raw.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            let mut code = 0u32;
            while j < raw.len() && (raw[j].is_ascii_digit() || raw[j] == b';') {
                if raw[j] == b';' {
                    code = 0;
                } else {
                    code = code * 10 + u32::from(raw[j] - b'0');
                }
                j += 1;
            }
            if prefix_done && !level_seen && text.is_empty() {
                level_seen = true;
                level = match code {
                    31 => 3,
                    33 => 4,
                    32 => 6,
                    _ => 7,
                };
            }
            i = j + 1;
            continue;
        }
        if !prefix_done {
            if b == b']' && raw.get(i + 1) == Some(&b' ') {
                prefix_done = true;
                i += 2;
                continue;
            }
        } else if b != b'\r' && b != b'\n' {
            text.push(b);
        }
        i += 1;
    }
    if !prefix_done {
        // Not a formatted log record (a raw print): keep it whole.
        text.clear();
        text.extend(
            raw.iter()
                .filter(|&&b| b != b'\r' && b != b'\n' && b != 0x1b),
        );
    }
    if !text.is_empty() {
        push(level, usec, &text);
    }
}

/// The sequence number the next record will get.
pub fn next_seq() -> u64 {
    STARLING_DMESG.next_seq.load(Relaxed)
}

/// The oldest sequence number still in the ring.
pub fn first_seq() -> u64 {
    next_seq().saturating_sub(ENTRIES as u64)
}

/// Record `seq`, if it is still in the ring.
pub fn get(seq: u64) -> Option<Record> {
    let _guard = LOCK.lock();
    if seq < first_seq() || seq >= next_seq() {
        return None;
    }
    let entry = &STARLING_DMESG.entries[(seq % ENTRIES as u64) as usize];
    let len = usize::from(entry.len.load(Relaxed)).min(TEXT);
    let bytes: Vec<u8> = entry.text[..len].iter().map(|b| b.load(Relaxed)).collect();
    Some(Record {
        seq,
        usec: entry.usec.load(Relaxed),
        level: entry.level.load(Relaxed),
        facility: entry.facility.load(Relaxed),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}
