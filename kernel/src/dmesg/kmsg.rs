//! /dev/kmsg (char 1:11): the log buffer one record per read, and a way
//! for user space to add records (Documentation/ABI/testing/dev-kmsg).
//!
//! A read returns exactly one record as `prio,seq,usec,-;text\n` (prio =
//! facility << 3 | level); a buffer too small for it is EINVAL. A reader
//! whose next record was overwritten gets EPIPE once and continues at the
//! oldest record kept. Nothing new is EAGAIN: Starling's /dev/kmsg does not
//! block (Linux blocks unless O_NONBLOCK). A write adds one record of
//! facility user at level 4 (LOGLEVEL_DEFAULT); a leading `<N>` sets the
//! level to N & 7 and, if N >> 3 is not 0, the facility (devkmsg_write).

use alloc::{format, string::String, sync::Arc};
use core::{
    any::Any,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};

use axpoll::IoEvents;
use starling_fs::file::{FileLike, Kstat, mode};

use crate::error::{Errno, KResult};

/// The device number (major 1, minor 11).
pub const KMSG_RDEV: (u32, u32) = (1, 11);

/// Opens /dev/kmsg: reading starts at the oldest record kept.
pub fn open() -> Arc<dyn FileLike> {
    Arc::new(Kmsg {
        seq: AtomicU64::new(super::first_seq()),
    })
}

struct Kmsg {
    /// The next record this open file reads.
    seq: AtomicU64,
}

impl FileLike for Kmsg {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        let seq = self.seq.load(Relaxed);
        if seq < super::first_seq() {
            self.seq.store(super::first_seq(), Relaxed);
            return Err(Errno::EPIPE);
        }
        let record = super::get(seq).ok_or(Errno::EAGAIN)?;
        let line = format!(
            "{},{},{},-;{}\n",
            record.prio(),
            record.seq,
            record.usec,
            record.text
        );
        if line.len() > buf.len() {
            return Err(Errno::EINVAL);
        }
        buf[..line.len()].copy_from_slice(line.as_bytes());
        self.seq.store(seq + 1, Relaxed);
        Ok(line.len())
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        let mut text = buf;
        let (mut facility, mut level) = (1u32, 4u32);
        if let Some(rest) = text.strip_prefix(b"<") {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 && rest.get(digits) == Some(&b'>') {
                let prio = rest[..digits].iter().fold(0u32, |n, d| {
                    n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
                });
                level = prio & 7;
                if prio >> 3 != 0 {
                    facility = (prio >> 3) & 0xff;
                }
                text = &rest[digits + 1..];
            }
        }
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let usec = ax_hal::time::monotonic_time_nanos() / 1000;
        super::push_with_facility(facility as u8, level as u8, usec, text);
        Ok(buf.len())
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            mode: mode::S_IFCHR | 0o644,
            nlink: 1,
            rdev: (u64::from(KMSG_RDEV.0) << 8) | u64::from(KMSG_RDEV.1),
            blksize: 4096,
            ..Kstat::default()
        })
    }

    fn poll(&self) -> IoEvents {
        let mut events = IoEvents::OUT;
        if self.seq.load(Relaxed) < super::next_seq() {
            events |= IoEvents::IN;
        }
        events
    }

    fn path(&self) -> String {
        String::from("/dev/kmsg")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
