//! The global "who waits for whom" map behind F_SETLKW's EDEADLK.
//!
//! When a POSIX lock request of owner A must wait for a lock held by owner
//! B, Linux first follows the chain "B waits for C, C waits for D, ..." and
//! fails with EDEADLK if it leads back to A (`posix_locks_deadlock` in
//! fs/locks.c). The chain crosses files, so this map is global, while the
//! lock tables ([`super::RecordLocks`]) are per file. An entry is one
//! waiting request: the waiter and the owner of the lock it waits for.
//!
//! As on Linux:
//!
//! - OFD locks take no part: an OFD waiter is never recorded and an OFD
//!   request never sees a deadlock (an open file description is not a
//!   thread of control that could be stuck), so a chain stops at an OFD
//!   owner;
//! - the walk gives up after [`MAX_DEADLK_ITERATIONS`] + 1 steps and lets
//!   the request wait, which bounds the time spent under the global lock and
//!   ends walks around cycles that do not contain the requester;
//! - threads sharing a descriptor table are one POSIX owner and may wait at
//!   once; the walk follows the most recent of their waits (Linux's
//!   `blocked_hash` buckets are searched newest first).

use alloc::vec::Vec;

use super::{LockOwner, OwnerKind};

/// Linux's bound on the deadlock walk. The walk stops when its step counter,
/// checked before it is incremented, exceeds this: it compares 11 owners
/// with the requester, so cycles of up to 12 owners are found.
pub const MAX_DEADLK_ITERATIONS: usize = 10;

/// The waiting POSIX requests of the whole system.
#[derive(Debug, Default)]
pub struct BlockedOn {
    /// (waiter, holder of the lock it waits for), oldest first.
    waits: Vec<(LockOwner, LockOwner)>,
}

impl BlockedOn {
    /// No one waits.
    pub const fn new() -> Self {
        Self { waits: Vec::new() }
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.waits.is_empty()
    }

    /// The owner that `waiter` waits for (its most recent wait), if any.
    pub fn waits_for(&self, waiter: LockOwner) -> Option<LockOwner> {
        self.waits
            .iter()
            .rev()
            .find(|(w, _)| *w == waiter)
            .map(|(_, holder)| *holder)
    }

    /// Whether `waiter` waiting for a lock of `holder` would close a cycle
    /// (EDEADLK), as Linux's `posix_locks_deadlock`.
    pub fn would_deadlock(&self, waiter: LockOwner, holder: LockOwner) -> bool {
        if waiter.kind() == OwnerKind::Ofd {
            return false;
        }
        let mut steps = 0;
        let mut owner = holder;
        while let Some(next) = self.waits_for(owner) {
            if steps > MAX_DEADLK_ITERATIONS {
                return false;
            }
            steps += 1;
            if next == waiter {
                return true;
            }
            owner = next;
        }
        false
    }

    /// Records that `waiter` now waits for a lock of `holder`. An OFD waiter
    /// is not recorded.
    pub fn block(&mut self, waiter: LockOwner, holder: LockOwner) {
        if waiter.kind() == OwnerKind::Posix {
            self.waits.push((waiter, holder));
        }
    }

    /// Ends one wait of `waiter` for `holder` (granted, interrupted or
    /// woken to retry); whether there was one.
    pub fn unblock(&mut self, waiter: LockOwner, holder: LockOwner) -> bool {
        match self.waits.iter().rposition(|&w| w == (waiter, holder)) {
            Some(i) => {
                self.waits.remove(i);
                true
            }
            None => false,
        }
    }

    /// Ends every wait of `waiter` (the process exits).
    pub fn remove_waiter(&mut self, waiter: LockOwner) {
        self.waits.retain(|(w, _)| *w != waiter);
    }
}
