//! Asynchronous I/O notification: O_ASYNC and the owner of a description.
//!
//! As Linux's fasync (fs/fcntl.c): an object that can signal readiness
//! keeps a [`FasyncList`] of the open file descriptions that turned O_ASYNC
//! on (F_SETFL, FIOASYNC), each with the descriptor number it was turned on
//! through (the `si_fd` of the signal). Where the object wakes its waiters
//! it also calls [`FasyncList::kill`] with a `POLL_*` reason, which asks
//! each description's owner ([`FileOwner`], set by F_SETOWN and friends and
//! implemented by the kernel, which knows processes and signals) to send
//! SIGIO or the F_SETSIG signal.
//!
//! Invariants: the list holds descriptions weakly, so it never keeps one
//! alive; entries of descriptions already gone are skipped and purged. An
//! empty list costs [`FasyncList::kill`] one atomic load, so objects call
//! it on every wake-up without slowing the common case. `kill` takes the
//! list's spin lock only to copy the entries and sends the signals after
//! releasing it; callers hold none of their own locks (the same rule as
//! for waking a `PollSet`).

use alloc::{
    sync::{Arc, Weak},
    vec::Vec,
};
use core::{
    any::Any,
    sync::atomic::{AtomicBool, Ordering},
};

use ax_sync::SpinLock;

use super::OpenFile;

/// `si_code` reasons of a SIGIO (asm-generic/siginfo.h).
pub const POLL_IN: i32 = 1;
pub const POLL_OUT: i32 = 2;
pub const POLL_MSG: i32 = 3;
pub const POLL_ERR: i32 = 4;
pub const POLL_PRI: i32 = 5;
pub const POLL_HUP: i32 = 6;

/// `si_band` of each reason, from POLL_IN on (fs/fcntl.c band_table):
/// poll bits in their user (EPOLL*) values.
pub fn band(reason: i32) -> i64 {
    const IN: i64 = 0x001;
    const PRI: i64 = 0x002;
    const OUT: i64 = 0x004;
    const ERR: i64 = 0x008;
    const HUP: i64 = 0x010;
    const RDNORM: i64 = 0x040;
    const RDBAND: i64 = 0x080;
    const WRNORM: i64 = 0x100;
    const WRBAND: i64 = 0x200;
    const MSG: i64 = 0x400;
    match reason {
        POLL_IN => IN | RDNORM,
        POLL_OUT => OUT | WRNORM | WRBAND,
        POLL_MSG => IN | RDNORM | MSG,
        POLL_ERR => ERR,
        POLL_PRI => PRI | RDBAND,
        POLL_HUP => HUP | ERR,
        _ => !0,
    }
}

/// The owner of an open file description (Linux's `struct fown_struct`):
/// who gets its SIGIO and which signal. Implemented by the kernel; the
/// description holds it behind [`OpenFile::owner`].
pub trait FileOwner: Send + Sync + Any {
    /// Sends the owner's signal for `reason` (a `POLL_*` code), naming
    /// descriptor `fd` (fs/fcntl.c send_sigio).
    fn send_sigio(&self, fd: i32, reason: i32);

    /// Downcasting support.
    fn as_any(&self) -> &dyn Any;
}

/// The descriptions to notify of one object's readiness (a
/// `fasync_struct` list).
#[derive(Default)]
pub struct FasyncList {
    /// Whether `entries` may be non-empty: the fast path of `kill`.
    active: AtomicBool,
    entries: SpinLock<Vec<(Weak<OpenFile>, i32)>>,
}

impl FasyncList {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            active: AtomicBool::new(false),
            entries: SpinLock::new(Vec::new()),
        }
    }

    /// fasync_helper: adds `file` (turned on through descriptor `fd`), or
    /// only updates its descriptor if it is already there; with `on` false
    /// removes it.
    pub fn helper(&self, file: &Arc<OpenFile>, fd: i32, on: bool) {
        let mut entries = self.entries.lock();
        entries.retain(|(f, _)| f.strong_count() > 0);
        let me = Arc::as_ptr(file);
        let pos = entries.iter().position(|(f, _)| f.as_ptr() == me);
        // The description's O_ASYNC follows its entries; a removal that
        // finds none leaves the flag as it is (an O_ASYNC from open(2)).
        match (pos, on) {
            (Some(i), true) => entries[i].1 = fd,
            (None, true) => {
                entries.push((Arc::downgrade(file), fd));
                file.set_async_flag(true);
            }
            (Some(i), false) => {
                entries.remove(i);
                file.set_async_flag(false);
            }
            (None, false) => {}
        }
        self.active.store(!entries.is_empty(), Ordering::Release);
    }

    /// kill_fasync: signals the owner of every description on the list
    /// that has one.
    pub fn kill(&self, reason: i32) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let targets: Vec<(Arc<OpenFile>, i32)> = self
            .entries
            .lock()
            .iter()
            .filter_map(|(f, fd)| Some((f.upgrade()?, *fd)))
            .collect();
        for (file, fd) in targets {
            if let Some(owner) = file.owner() {
                owner.send_sigio(fd, reason);
            }
        }
    }
}
