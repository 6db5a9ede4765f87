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

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::OpenFile;
use crate::{
    flock::{FlockKind, FlockTable, WouldBlock},
    lease::Leases,
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
    /// The pid that took each flock lock (by owner), for /proc/locks.
    flock_pids: SpinLock<BTreeMap<usize, i32>>,
    /// The file's device and inode numbers as stat reports them, recorded
    /// when the node is first [`published`](FlockNode::publish).
    ident: SpinLock<Option<(u64, u64)>>,
    /// The file's leases (`flc_lease`), each with its description.
    leases: SpinLock<Leases<Weak<OpenFile>>>,
    /// Blocked flock and record-lock requests by wait id, with the lock
    /// each last found in its way (Linux's `flc_blocked_requests`).
    waiting: SpinLock<BTreeMap<u64, Waiting>>,
}

/// The nodes that ever held a lock and still exist, for /proc/locks
/// (Linux's global file_lock_list holds the locks themselves). A leaf lock.
static PUBLISHED: SpinLock<Vec<Weak<FlockNode>>> = SpinLock::new(Vec::new());

/// One lock of a node as /proc/locks shows it.
#[derive(Clone, Copy, Debug)]
pub enum ShownLock {
    /// A flock lock: its owner (the description), exclusive or not, pid.
    Flock { owner: usize, write: bool, pid: i32 },
    /// A record lock.
    Record(LockRecord),
    /// A lease: the type F_GETLEASE reports (F_RDLCK, F_WRLCK, F_UNLCK),
    /// whether a break is pending, the pid that set it.
    Lease {
        owner: usize,
        l_type: i16,
        breaking: bool,
        pid: i32,
    },
}

/// The lock a blocked request waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// The flock lock of this owner.
    Flock(usize),
    /// This record lock.
    Record(LockRecord),
}

/// A blocked request as /proc/locks shows it (` -> ` under its blocker).
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    pub class: crate::reclock::LockClass,
    /// F_RDLCK or F_WRLCK.
    pub l_type: i16,
    /// The waiting process (-1 for an OFD request).
    pub pid: i32,
    /// The requested bytes (record locks); `None`: flock.
    pub range: Option<LockRange>,
    pub blocker: Blocker,
}

static NEXT_WAIT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// Every published node that holds a lock now, in publication order.
pub fn locked_nodes() -> Vec<Arc<FlockNode>> {
    // Upgraded under the registry's lock, looked at after it (a leaf).
    let all: Vec<Arc<FlockNode>> = PUBLISHED.lock().iter().filter_map(Weak::upgrade).collect();
    all.into_iter()
        .filter(|n| {
            !n.table.lock().is_empty()
                || !n.records.lock().is_empty()
                || !n.leases.lock().is_empty()
        })
        .collect()
}

impl Default for FlockNode {
    fn default() -> Self {
        Self {
            table: SpinLock::new(FlockTable::new()),
            records: SpinLock::new(RecordLocks::new()),
            released: PollSet::new(),
            write_hint: core::sync::atomic::AtomicU64::new(0),
            flock_pids: SpinLock::new(BTreeMap::new()),
            ident: SpinLock::new(None),
            leases: SpinLock::new(Leases::default()),
            waiting: SpinLock::new(BTreeMap::new()),
        }
    }
}

impl FlockNode {
    /// Lists the node in /proc/locks from now on, as the lock state of the
    /// file with device `dev` and inode `ino`; `ident` is asked only the
    /// first time.
    pub fn publish(self: &Arc<Self>, ident: impl FnOnce() -> Option<(u64, u64)>) {
        if self.ident.lock().is_some() {
            return;
        }
        let Some(id) = ident() else {
            return;
        };
        if self.ident.lock().replace(id).is_some() {
            return;
        }
        let mut all = PUBLISHED.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(self));
    }

    /// The device and inode numbers recorded by [`publish`](Self::publish).
    pub fn ident(&self) -> Option<(u64, u64)> {
        *self.ident.lock()
    }

    /// The locks held now: flock locks first, then record locks in list
    /// order (the order of show_fd_locks).
    pub fn shown_locks(&self) -> Vec<ShownLock> {
        let pids = self.flock_pids.lock().clone();
        let mut out: Vec<ShownLock> = self
            .table
            .lock()
            .holders()
            .map(|(owner, kind)| ShownLock::Flock {
                owner,
                write: kind == FlockKind::Exclusive,
                pid: pids.get(&owner).copied().unwrap_or(0),
            })
            .collect();
        out.extend(self.records.lock().iter().copied().map(ShownLock::Record));
        out.extend(self.leases.lock().iter().map(|l| ShownLock::Lease {
            owner: l.owner,
            l_type: l.target(),
            breaking: l.pending.is_some(),
            pid: l.pid,
        }));
        out
    }

    /// Records (or, with the `id` of an earlier call, updates) a blocked
    /// request and the lock in its way; returns its wait id.
    pub fn set_waiting(&self, id: Option<u64>, waiting: Waiting) -> u64 {
        let id =
            id.unwrap_or_else(|| NEXT_WAIT.fetch_add(1, core::sync::atomic::Ordering::Relaxed));
        self.waiting.lock().insert(id, waiting);
        id
    }

    /// Forgets a blocked request once its wait ended.
    pub fn clear_waiting(&self, id: u64) {
        self.waiting.lock().remove(&id);
    }

    /// The requests blocked on `lock`, oldest first.
    pub fn waiting_on(&self, lock: &ShownLock) -> Vec<Waiting> {
        let blocker = match lock {
            ShownLock::Flock { owner, .. } => Blocker::Flock(*owner),
            ShownLock::Record(r) => Blocker::Record(*r),
            ShownLock::Lease { .. } => return Vec::new(),
        };
        self.waiting
            .lock()
            .values()
            .filter(|w| w.blocker == blocker)
            .copied()
            .collect()
    }

    /// The flock lock a request of `owner` for `kind` would wait for.
    pub fn flock_blocker(&self, owner: usize, kind: FlockKind) -> Option<usize> {
        self.table.lock().first_conflict(owner, kind)
    }

    /// Runs `f` on the file's leases and wakes the waiters afterwards (an
    /// opener waiting for a break re-checks after every change).
    pub fn with_leases<R>(&self, f: impl FnOnce(&mut Leases<Weak<OpenFile>>) -> R) -> R {
        let r = f(&mut self.leases.lock());
        self.wake();
        r
    }

    /// Looks at the leases without changing them.
    pub fn peek_leases<R>(&self, f: impl FnOnce(&Leases<Weak<OpenFile>>) -> R) -> R {
        f(&self.leases.lock())
    }

    /// Drops the lease of description `owner` when it closes
    /// (locks_remove_file); whether it had one.
    pub fn release_lease(&self, owner: usize) -> bool {
        let had = self.leases.lock().remove(owner).is_ok();
        if had {
            self.wake();
        }
        had
    }

    /// The write-lifetime hint (`RWH_WRITE_LIFE_*`, 0 until set).
    pub fn write_hint(&self) -> u64 {
        self.write_hint.load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Sets the write-lifetime hint; the caller checked its range.
    pub fn set_write_hint(&self, hint: u64) {
        self.write_hint
            .store(hint, core::sync::atomic::Ordering::Relaxed);
    }

    /// Asks for a lock of type `kind` for `owner` (taken by process `pid`)
    /// without waiting. A conversion releases the owner's old lock even
    /// when it then fails.
    pub fn try_lock(&self, owner: usize, kind: FlockKind, pid: i32) -> Result<(), WouldBlock> {
        let (result, released) = {
            let mut table = self.table.lock();
            let released = table.held(owner).is_some_and(|held| held != kind);
            (table.try_lock(owner, kind), released)
        };
        if result.is_ok() {
            self.flock_pids.lock().insert(owner, pid);
        }
        if released {
            self.wake();
        }
        result
    }

    /// Releases the lock of `owner`, if it holds one.
    pub fn unlock(&self, owner: usize) {
        let released = self.table.lock().unlock(owner);
        self.flock_pids.lock().remove(&owner);
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
