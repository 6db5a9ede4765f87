//! The fcntl(2) record-lock table of one file: POSIX and OFD byte-range locks.
//!
//! A record lock covers the bytes `[start, end]` of a file, inclusive, with
//! `end == EOF` ([`u64::MAX`]) meaning "to the end of the file, however far
//! it grows" (Linux's `OFFSET_MAX`). It belongs to an owner ([`LockOwner`]):
//! for a POSIX lock (F_SETLK/F_SETLKW) the process, which Linux names by its
//! descriptor table (`current->files`); for an OFD lock (F_OFD_SETLK/
//! F_OFD_SETLKW) the open file description. Both kinds live in one list per
//! file and conflict with each other; an owner never conflicts with itself.
//!
//! The rules are those of Linux's `posix_lock_inode` and `posix_test_lock`
//! (fs/locks.c):
//!
//! - two locks of different owners conflict when they overlap and at least
//!   one is a write lock;
//! - a lock request that conflicts with another owner's lock changes
//!   nothing and reports that lock (the first one in list order); the caller
//!   fails with EAGAIN or, for F_SETLKW, checks for a deadlock ([`BlockedOn`])
//!   and waits;
//! - otherwise the request rewrites the owner's own locks: locks of the same
//!   type that overlap or touch the request merge with it, locks of the other
//!   type lose the overlapped bytes (splitting in two when the request falls
//!   inside), and an unlock only removes bytes.
//!
//! # Invariants
//!
//! - The locks of one owner never overlap, and two of its locks of the same
//!   type never touch (they would have merged).
//! - The records of one owner are contiguous in the list and sorted by start;
//!   an owner that had no lock is appended at the end. This is the order of
//!   Linux's `flc_posix` list, so F_GETLK reports the same lock Linux would.
//!
//! The table neither blocks nor wakes; the file layer around it waits and
//! wakes waiters when locks go away. [`range`] turns the fields of a
//! `struct flock` into a byte range, [`deadlock`] holds the global
//! "who waits for whom" map behind EDEADLK.

use alloc::vec::Vec;
use core::fmt;

pub mod deadlock;
pub mod range;

#[cfg(test)]
mod tests;

pub use deadlock::{BlockedOn, MAX_DEADLK_ITERATIONS};
pub use range::{EOF, LockRange};

/// `l_type` of `struct flock`: a read (shared) lock.
pub const F_RDLCK: i16 = 0;
/// `l_type` of `struct flock`: a write (exclusive) lock.
pub const F_WRLCK: i16 = 1;
/// `l_type` of `struct flock`: no lock (unlock, or "no conflict" in F_GETLK).
pub const F_UNLCK: i16 = 2;

/// Whether a lock belongs to a process or to an open file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OwnerKind {
    /// A classic POSIX lock, owned by the process (its descriptor table) and
    /// released when the process closes any descriptor of the file or exits.
    Posix,
    /// An open-file-description lock, released with the description.
    Ofd,
}

/// The owner of a record lock: a kind and an opaque id chosen by the kernel
/// (the address of the descriptor table or of the open file description).
/// Owners of different kinds are different even when the ids are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockOwner {
    kind: OwnerKind,
    id: usize,
}

impl LockOwner {
    /// The POSIX owner named `id`.
    pub const fn posix(id: usize) -> Self {
        Self {
            kind: OwnerKind::Posix,
            id,
        }
    }

    /// The OFD owner named `id`.
    pub const fn ofd(id: usize) -> Self {
        Self {
            kind: OwnerKind::Ofd,
            id,
        }
    }

    /// POSIX or OFD.
    pub const fn kind(self) -> OwnerKind {
        self.kind
    }

    /// The opaque id.
    pub const fn id(self) -> usize {
        self.id
    }
}

/// The type of a held lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockType {
    /// F_RDLCK: shared with other readers.
    Read,
    /// F_WRLCK: excludes every other owner.
    Write,
}

impl LockType {
    /// The `l_type` value.
    pub const fn l_type(self) -> i16 {
        match self {
            LockType::Read => F_RDLCK,
            LockType::Write => F_WRLCK,
        }
    }

    /// Whether a lock of this type and one of `other` may overlap when held by
    /// different owners (Linux's `locks_conflict`, negated).
    pub const fn compatible(self, other: LockType) -> bool {
        matches!((self, other), (LockType::Read, LockType::Read))
    }
}

/// What F_SETLK/F_GETLK ask for: a lock of a type, or unlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// F_RDLCK or F_WRLCK.
    Lock(LockType),
    /// F_UNLCK.
    Unlock,
}

impl Request {
    /// The request named by `l_type`; anything but F_RDLCK, F_WRLCK and
    /// F_UNLCK is EINVAL (Linux's `assign_type`).
    pub fn from_l_type(l_type: i16) -> Option<Self> {
        match l_type {
            F_RDLCK => Some(Request::Lock(LockType::Read)),
            F_WRLCK => Some(Request::Lock(LockType::Write)),
            F_UNLCK => Some(Request::Unlock),
            _ => None,
        }
    }
}

/// One held lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockRecord {
    owner: LockOwner,
    kind: LockType,
    range: LockRange,
    /// The pid F_GETLK reports: the locking process for POSIX locks, -1 for
    /// OFD locks (Linux's `locks_translate_pid`).
    pid: i32,
}

impl LockRecord {
    /// Who holds the lock.
    pub const fn owner(&self) -> LockOwner {
        self.owner
    }

    /// Read or write.
    pub const fn kind(&self) -> LockType {
        self.kind
    }

    /// The locked bytes.
    pub const fn range(&self) -> LockRange {
        self.range
    }

    /// The pid to report in `l_pid` and /proc/locks: -1 for an OFD lock.
    pub const fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether a request of `owner` for `kind` over `range` conflicts with
    /// this lock (Linux's `posix_locks_conflict`).
    fn conflicts(&self, owner: LockOwner, kind: LockType, range: LockRange) -> bool {
        self.owner != owner && self.range.overlaps(range) && !self.kind.compatible(kind)
    }
}

/// A lock request that conflicts with another owner's lock: EAGAIN for
/// F_SETLK, a wait (after the deadlock check) for F_SETLKW.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The first conflicting lock in list order; F_SETLKW waits for its
    /// owner.
    pub holder: LockRecord,
}

/// The record locks held on one file.
#[derive(Debug, Default)]
pub struct RecordLocks {
    /// Every lock, in the order of Linux's `flc_posix` list (see the module
    /// invariants).
    records: Vec<LockRecord>,
}

impl RecordLocks {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            records: Vec::new(),
        }
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every lock, in list order (for /proc/locks).
    pub fn iter(&self) -> impl Iterator<Item = &LockRecord> {
        self.records.iter()
    }

    /// The locks of `owner`, sorted by start.
    pub fn held_by(&self, owner: LockOwner) -> impl Iterator<Item = &LockRecord> {
        self.records.iter().filter(move |r| r.owner == owner)
    }

    /// F_GETLK: the first lock in list order that a request of `owner` over
    /// `range` conflicts with, or `None` when it could be granted. An unlock
    /// request instead finds the first lock of `owner` itself overlapping
    /// `range`, which Linux allows for F_OFD_GETLK only ("is this range
    /// locked through this description?"); the caller rejects it for F_GETLK.
    pub fn test(&self, owner: LockOwner, request: Request, range: LockRange) -> Option<LockRecord> {
        self.records
            .iter()
            .find(|r| match request {
                Request::Lock(kind) => r.conflicts(owner, kind, range),
                Request::Unlock => r.owner == owner && r.range.overlaps(range),
            })
            .copied()
    }

    /// F_SETLK: applies a lock or unlock request of `owner` (with `pid`, the
    /// process to report for a POSIX lock) over `range`. A lock request that
    /// conflicts with another owner's lock changes nothing and returns it.
    pub fn set(
        &mut self,
        owner: LockOwner,
        pid: i32,
        request: Request,
        range: LockRange,
    ) -> Result<(), Conflict> {
        if let Request::Lock(_) = request
            && let Some(holder) = self.test(owner, request, range)
        {
            return Err(Conflict { holder });
        }
        let pid = match owner.kind {
            OwnerKind::Posix => pid,
            OwnerKind::Ofd => -1,
        };
        let first = self
            .records
            .iter()
            .position(|r| r.owner == owner)
            .unwrap_or(self.records.len());
        let last = first
            + self.records[first..]
                .iter()
                .take_while(|r| r.owner == owner)
                .count();

        // The new lock grows over the locks of its type that it touches.
        // Linux extends the first such lock in place, so the merged lock keeps
        // that lock's pid, unless a lock of the other type that the request
        // covers whole came first: that one is replaced by a copy of the
        // request.
        let mut new = match request {
            Request::Lock(kind) => Some(LockRecord {
                owner,
                kind,
                range,
                pid,
            }),
            Request::Unlock => None,
        };
        let mut pid_settled = false;
        let mut rebuilt = Vec::with_capacity(last - first + 2);
        for old in &self.records[first..last] {
            if let Some(new) = new.as_mut().filter(|n| n.kind == old.kind) {
                if old.range.touches(new.range) {
                    new.range = new.range.union(old.range);
                    if !pid_settled {
                        new.pid = old.pid;
                        pid_settled = true;
                    }
                } else {
                    rebuilt.push(*old);
                }
                continue;
            }
            // An unlock, or a lock of the other type: keep the bytes of `old`
            // outside the request. (Linux cuts with the request as grown by
            // merges so far; the bytes it grew over belong to locks of the
            // request's type, which never overlap this one, so the cut is
            // the same.)
            if !old.range.overlaps(range) {
                rebuilt.push(*old);
                continue;
            }
            let (left, right) = old.range.minus(range);
            if left.is_none() && right.is_none() {
                pid_settled = true;
            }
            for piece in [left, right].into_iter().flatten() {
                rebuilt.push(LockRecord {
                    range: piece,
                    ..*old
                });
            }
        }
        rebuilt.extend(new);
        rebuilt.sort_unstable_by_key(|r| r.range.start());
        self.records.splice(first..last, rebuilt);
        Ok(())
    }

    /// Releases every lock of `owner`: a POSIX owner closing any descriptor
    /// of the file or exiting (`locks_remove_posix`), an OFD owner's
    /// description going away (`locks_remove_file`). Whether it held any.
    pub fn remove_owner(&mut self, owner: LockOwner) -> bool {
        let before = self.records.len();
        self.records.retain(|r| r.owner != owner);
        self.records.len() != before
    }
}

/// The fields F_GETLK writes back into `struct flock` for a conflicting
/// lock (Linux's `posix_lock_to_flock`): `l_whence` is SEEK_SET, `l_len` 0
/// for a lock to EOF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlockReport {
    /// F_RDLCK or F_WRLCK.
    pub l_type: i16,
    /// Always SEEK_SET (0).
    pub l_whence: i16,
    /// The first locked byte.
    pub l_start: i64,
    /// The number of locked bytes, 0 for "to EOF".
    pub l_len: i64,
    /// The owning process, -1 for an OFD lock.
    pub l_pid: i32,
}

impl LockRecord {
    /// The `struct flock` fields F_GETLK reports for this lock; `None` when
    /// the range does not fit in `off_t` (EOVERFLOW), which a range made by
    /// [`LockRange::from_flock`] always does.
    pub fn to_flock(&self) -> Option<FlockReport> {
        let l_start = i64::try_from(self.range.start()).ok()?;
        let l_len = match self.range.byte_len() {
            None => 0,
            Some(len) => i64::try_from(len).ok()?,
        };
        Some(FlockReport {
            l_type: self.kind.l_type(),
            l_whence: 0,
            l_start,
            l_len,
            l_pid: self.pid,
        })
    }
}

/// The kind of lock a /proc/locks line shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockClass {
    /// A process-owned record lock.
    Posix,
    /// An open-file-description record lock.
    Ofd,
    /// A flock(2) lock.
    Flock,
    /// A lease (F_SETLEASE), with a break pending or not.
    Lease { breaking: bool },
}

impl fmt::Display for LockClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LockClass::Posix => "POSIX  ADVISORY ",
            LockClass::Ofd => "OFDLCK ADVISORY ",
            LockClass::Flock => "FLOCK  ADVISORY ",
            LockClass::Lease { breaking: false } => "LEASE  ACTIVE   ",
            LockClass::Lease { breaking: true } => "LEASE  BREAKING ",
        })
    }
}

/// One line of /proc/locks (or, after `lock:\t`, of /proc/PID/fdinfo), as
/// Linux's `lock_get_status` prints it:
/// `1: POSIX  ADVISORY  WRITE 42 00:1a:1234 0 EOF`.
#[derive(Clone, Copy, Debug)]
pub struct ProcLocksLine {
    /// The line number, from 1.
    pub ordinal: usize,
    pub class: LockClass,
    /// F_WRLCK (WRITE; also LOCK_EX), F_RDLCK (READ) or F_UNLCK (UNLCK: a
    /// lease being broken to nothing).
    pub l_type: i16,
    /// The owner's pid as the reader sees it; -1 for OFD locks.
    pub pid: i32,
    /// Major number of the file system's device.
    pub dev_major: u32,
    /// Minor number of the file system's device.
    pub dev_minor: u32,
    /// Inode number.
    pub ino: u64,
    /// The locked bytes of a record lock; flock locks and leases print
    /// `0 EOF`.
    pub range: Option<LockRange>,
    /// A blocked request, shown under the lock it waits for with the same
    /// number and `-> ` (locks_show's first level).
    pub waiter: bool,
}

impl ProcLocksLine {
    /// The line of record lock `record`, its pid shown as `pid`.
    pub fn of_record(
        ordinal: usize,
        record: &LockRecord,
        pid: i32,
        dev: (u32, u32),
        ino: u64,
    ) -> Self {
        Self {
            ordinal,
            class: match record.owner.kind {
                OwnerKind::Posix => LockClass::Posix,
                OwnerKind::Ofd => LockClass::Ofd,
            },
            l_type: record.kind.l_type(),
            pid,
            dev_major: dev.0,
            dev_minor: dev.1,
            ino,
            range: Some(record.range),
            waiter: false,
        }
    }
}

impl fmt::Display for ProcLocksLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = self.class;
        let arrow = if self.waiter { "-> " } else { "" };
        let kind = match self.l_type {
            F_WRLCK => "WRITE",
            F_RDLCK => "READ",
            _ => "UNLCK",
        };
        write!(
            f,
            "{}: {arrow}{class} {kind} {} {:02x}:{:02x}:{} ",
            self.ordinal, self.pid, self.dev_major, self.dev_minor, self.ino,
        )?;
        match self.range {
            None => writeln!(f, "0 EOF"),
            Some(r) if r.end() == EOF => writeln!(f, "{} EOF", r.start()),
            Some(r) => writeln!(f, "{} {}", r.start(), r.end()),
        }
    }
}
