//! The log as syslog(2) reads it: `<level>[seconds.micros] text` lines,
//! the reader position of SYSLOG_ACTION_READ and the mark of
//! SYSLOG_ACTION_CLEAR (kernel/printk/printk.c).

use alloc::{format, string::String};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::{Record, first_seq, get, next_seq};

/// The first record SYSLOG_ACTION_READ returns (syslog_seq).
static READ_SEQ: AtomicU64 = AtomicU64::new(0);
/// The first record READ_ALL returns (clear_seq).
static CLEAR_SEQ: AtomicU64 = AtomicU64::new(0);

/// One record as syslog(2) prints it (printk.c record_print_text with
/// the time prefix).
pub fn line(r: &Record) -> String {
    format!(
        "<{}>[{:5}.{:06}] {}\n",
        r.prio(),
        r.usec / 1_000_000,
        r.usec % 1_000_000,
        r.text
    )
}

/// The text of the records from `from` on.
fn text_from(from: u64) -> String {
    let mut out = String::new();
    for seq in from.max(first_seq())..next_seq() {
        if let Some(r) = get(seq) {
            out.push_str(&line(&r));
        }
    }
    out
}

/// SYSLOG_ACTION_READ_ALL: the newest records since the last clear that
/// fit in `len` bytes, whole lines only (syslog_print_all).
pub fn read_all(len: usize) -> String {
    let text = text_from(CLEAR_SEQ.load(Relaxed));
    if text.len() <= len {
        return text;
    }
    // Drop the oldest lines until the rest fits.
    let mut start = text.len() - len;
    while start < text.len() && !text[..start].ends_with('\n') {
        start += 1;
    }
    String::from(&text[start..])
}

/// SYSLOG_ACTION_CLEAR.
pub fn clear() {
    CLEAR_SEQ.store(next_seq(), Relaxed);
}

/// SYSLOG_ACTION_READ: the unread records (whole lines that fit in `len`);
/// they are consumed.
pub fn read_unread(len: usize) -> String {
    let mut seq = READ_SEQ.load(Relaxed).max(first_seq());
    let mut out = String::new();
    while seq < next_seq() {
        let Some(r) = get(seq) else { break };
        let l = line(&r);
        if out.len() + l.len() > len {
            break;
        }
        out.push_str(&l);
        seq += 1;
    }
    READ_SEQ.store(seq, Relaxed);
    out
}

/// SYSLOG_ACTION_SIZE_UNREAD: bytes READ would return.
pub fn unread_size() -> usize {
    text_from(READ_SEQ.load(Relaxed)).len()
}

/// SYSLOG_ACTION_SIZE_BUFFER: the buffer size (a full ring of full lines).
pub fn buffer_size() -> usize {
    super::ENTRIES * (super::TEXT + 24)
}
