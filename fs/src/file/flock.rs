//! flock(2) state of one file: its lock table and the callers waiting on it.
//!
//! Linux keeps flock locks in the inode (`i_flctx`, fs/locks.c). Here a
//! [`FlockNode`] lives in the VFS node's user data for files opened through
//! the VFS ([`FileLike::flock_node`](super::FileLike::flock_node)), in the
//! shared buffer of an anonymous pipe (both ends are one inode on Linux),
//! and, for objects with neither (the boot console), in the open file
//! description itself. The lock owner is the open file description
//! ([`OpenFile`](super::OpenFile)), which releases its lock when it is
//! dropped, after the last descriptor referring to it closed.
//!
//! The rules of the table are [`crate::flock`]'s. A blocked caller waits on
//! [`FlockNode::register`] and retries; every release of a lock wakes all
//! waiters, as Linux's `locks_delete_lock_ctx` wakes the requests blocked
//! on the removed lock.
//!
//! The same node holds the file's fcntl(2) record locks ([`RecordLocks`]),
//! which Linux keeps in the same `i_flctx`. Their waiters share the wake-up
//! list: every change of a record lock wakes them all to retry.

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use crate::{
    flock::{FlockKind, FlockTable, WouldBlock},
    reclock::{Conflict, LockOwner, LockRange, LockRecord, RecordLocks, Request},
};

/// The flock locks of one file and its waiters.
pub struct FlockNode {
    table: SpinLock<FlockTable>,
    /// The fcntl(2) record locks of the file.
    records: SpinLock<RecordLocks>,
    /// Woken whenever a lock is released.
    released: PollSet,
    /// The file's write-lifetime hint (F_SET_RW_HINT; `i_write_hint`),
    /// kept here as the per-file state Linux keeps in the inode.
    write_hint: core::sync::atomic::AtomicU64,
}

impl Default for FlockNode {
    fn default() -> Self {
        Self {
            table: SpinLock::new(FlockTable::new()),
            records: SpinLock::new(RecordLocks::new()),
            released: PollSet::new(),
            write_hint: core::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl FlockNode {
    /// The write-lifetime hint (`RWH_WRITE_LIFE_*`, 0 until set).
    pub fn write_hint(&self) -> u64 {
        self.write_hint.load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Sets the write-lifetime hint; the caller checked its range.
    pub fn set_write_hint(&self, hint: u64) {
        self.write_hint
            .store(hint, core::sync::atomic::Ordering::Relaxed);
    }

    /// Asks for a lock of type `kind` for `owner` without waiting. A
    /// conversion releases the owner's old lock even when it then fails.
    pub fn try_lock(&self, owner: usize, kind: FlockKind) -> Result<(), WouldBlock> {
        let (result, released) = {
            let mut table = self.table.lock();
            let released = table.held(owner).is_some_and(|held| held != kind);
            (table.try_lock(owner, kind), released)
        };
        if released {
            self.wake();
        }
        result
    }

    /// Releases the lock of `owner`, if it holds one.
    pub fn unlock(&self, owner: usize) {
        let released = self.table.lock().unlock(owner);
        if released {
            self.wake();
        }
    }

    /// F_GETLK: the lock a request of `owner` over `range` conflicts with.
    pub fn test_record(
        &self,
        owner: LockOwner,
        request: Request,
        range: LockRange,
    ) -> Option<LockRecord> {
        self.records.lock().test(owner, request, range)
    }

    /// F_SETLK: applies a record-lock request; every change wakes the
    /// waiters, since an unlock, a split or a downgrade may free bytes they
    /// wait for.
    pub fn set_record(
        &self,
        owner: LockOwner,
        pid: i32,
        request: Request,
        range: LockRange,
    ) -> Result<(), Conflict> {
        self.records.lock().set(owner, pid, request, range)?;
        self.wake();
        Ok(())
    }

    /// Releases every record lock of `owner` (`locks_remove_posix`,
    /// `locks_remove_file`).
    pub fn remove_records(&self, owner: LockOwner) {
        let removed = self.records.lock().remove_owner(owner);
        if removed {
            self.wake();
        }
    }

    /// Subscribes a waiter to releases of locks.
    pub fn register(&self, sink: &mut dyn SharedRegistrationSink) {
        // SAFETY: the caller holds this node (through its open file
        // description) until it has dropped the registration.
        unsafe { sink.register_shared(&self.released as &dyn PollSource, IoEvents::IN) };
    }

    fn wake(&self) {
        // SAFETY: task context, with the table lock released; the release
        // was published under that lock, which the waiter's retry takes.
        unsafe { self.released.wake(IoEvents::IN) };
    }
}
