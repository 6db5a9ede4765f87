//! The lease table of one file (F_SETLEASE, F_GETLEASE), by Linux's rules.
//!
//! A lease belongs to an open file description (named by an owner id, the
//! kernel uses the description's address) and carries a handle `H` the
//! kernel uses to reach it (a weak reference) and the descriptor it was set
//! through (the `si_fd` of the break signal). The rules are those of
//! fs/locks.c:
//!
//! - [`Leases::add`] is generic_add_lease: a read lease needs the file open
//!   for writing nowhere, a write lease needs no open but the caller's
//!   (check_conflicting_open, from the counts the caller passes), and
//!   EAGAIN also when another description holds a lease and a write lease
//!   is asked for, or another description's lease is being broken; the
//!   owner's existing lease changes type instead (lease_modify);
//! - [`Leases::remove`] is generic_delete_lease: EAGAIN without a lease;
//! - [`Leases::start_break`] marks the leases an open conflicts with: an
//!   open for writing breaks every lease to "unlock pending", an open for
//!   reading breaks write leases to "downgrade pending" (__break_lease);
//!   each newly broken lease is returned once, to be signalled;
//! - [`Leases::time_out`] applies the breaks whose time ran out
//!   (time_out_leases): downgrade to a read lease or removal;
//! - a pending break is what F_GETLEASE reports (target_leasetype), while
//!   conflicts are judged by the type still held (leases_conflict).
//!
//! The table neither blocks nor signals; the kernel signals the returned
//! holders and makes the opener wait while [`Leases::conflicts`] holds.

use alloc::vec::Vec;

use crate::{
    Errno,
    reclock::{F_RDLCK, F_UNLCK, F_WRLCK},
};

/// Read or write lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseType {
    Read,
    Write,
}

impl LeaseType {
    /// The type named by F_SETLEASE's argument (F_UNLCK is not a type).
    pub fn from_arg(arg: i32) -> Option<Self> {
        match arg {
            a if a == i32::from(F_RDLCK) => Some(Self::Read),
            a if a == i32::from(F_WRLCK) => Some(Self::Write),
            _ => None,
        }
    }
}

/// A break in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// FL_DOWNGRADE_PENDING: a reader opened the file.
    Downgrade,
    /// FL_UNLOCK_PENDING: a writer opened the file.
    Unlock,
}

/// The opens of a file that check_conflicting_open counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenCounts {
    /// Descriptions open for writing (`i_writecount`; negative while the
    /// file runs as a program).
    pub writers: isize,
    /// Descriptions open read-only (`i_readcount`).
    pub readers: usize,
    /// The caller's description is open for writing.
    pub self_writes: bool,
    /// The caller's description is open read-only.
    pub self_reads_only: bool,
}

/// One lease.
#[derive(Clone, Debug)]
pub struct Lease<H> {
    pub owner: usize,
    pub handle: H,
    /// The descriptor F_SETLEASE was called with.
    pub fd: i32,
    /// The process that set it (shown in /proc/locks).
    pub pid: i32,
    pub kind: LeaseType,
    pub pending: Option<Pending>,
    /// When a pending break is applied anyway (time_out_leases); 0: never.
    pub deadline: u64,
}

impl<H> Lease<H> {
    /// F_GETLEASE's answer: the type a pending break leads to.
    pub fn target(&self) -> i16 {
        match (self.pending, self.kind) {
            (Some(Pending::Unlock), _) => F_UNLCK,
            (Some(Pending::Downgrade), _) | (None, LeaseType::Read) => F_RDLCK,
            (None, LeaseType::Write) => F_WRLCK,
        }
    }

    /// Whether an open (for writing when `want_write`) conflicts with it
    /// (leases_conflict: one of the two is a write).
    fn conflicts(&self, want_write: bool) -> bool {
        want_write || self.kind == LeaseType::Write
    }
}

/// The leases held on one file.
#[derive(Debug)]
pub struct Leases<H> {
    list: Vec<Lease<H>>,
}

impl<H> Default for Leases<H> {
    fn default() -> Self {
        Self { list: Vec::new() }
    }
}

/// What an added lease did to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// A new lease.
    New,
    /// The owner's lease changed type.
    Changed,
}

impl<H: Clone> Leases<H> {
    /// Whether there is no lease.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every lease, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Lease<H>> {
        self.list.iter()
    }

    /// F_GETLEASE for `owner`: F_UNLCK without a lease.
    pub fn get(&self, owner: usize) -> i16 {
        self.list
            .iter()
            .find(|l| l.owner == owner)
            .map_or(F_UNLCK, Lease::target)
    }

    /// F_SETLEASE with F_RDLCK or F_WRLCK (generic_add_lease): `new` is
    /// the lease asked for (no break pending); `enabled` is
    /// /proc/sys/fs/leases-enable, which only new leases need.
    pub fn add(
        &mut self,
        new: Lease<H>,
        counts: OpenCounts,
        enabled: bool,
    ) -> Result<Added, Errno> {
        let (owner, kind, fd) = (new.owner, new.kind, new.fd);
        // check_conflicting_open.
        let conflicting_open = match kind {
            LeaseType::Read => counts.writers > 0,
            LeaseType::Write => {
                counts.writers != isize::from(counts.self_writes)
                    || counts.readers != usize::from(counts.self_reads_only)
            }
        };
        if conflicting_open {
            return Err(Errno::EAGAIN);
        }
        let mut mine = None;
        for (i, l) in self.list.iter().enumerate() {
            if l.owner == owner {
                mine = Some(i);
                continue;
            }
            if kind == LeaseType::Write || l.pending == Some(Pending::Unlock) {
                return Err(Errno::EAGAIN);
            }
        }
        if let Some(i) = mine {
            // lease_modify: the new type; a downgrade ends a pending
            // downgrade, an upgrade leaves a pending break as it is.
            let l = &mut self.list[i];
            l.kind = kind;
            l.fd = fd;
            if kind == LeaseType::Read && l.pending == Some(Pending::Downgrade) {
                l.pending = None;
                l.deadline = 0;
            }
            return Ok(Added::Changed);
        }
        if !enabled {
            return Err(Errno::EINVAL);
        }
        self.list.push(new);
        Ok(Added::New)
    }

    /// F_SETLEASE with F_UNLCK (generic_delete_lease): EAGAIN without a
    /// lease of `owner`.
    pub fn remove(&mut self, owner: usize) -> Result<(), Errno> {
        let i = self
            .list
            .iter()
            .position(|l| l.owner == owner)
            .ok_or(Errno::EAGAIN)?;
        self.list.remove(i);
        Ok(())
    }

    /// Whether an open (for writing when `want_write`) conflicts with a
    /// lease held now (any_leases_conflict).
    pub fn conflicts(&self, want_write: bool) -> bool {
        self.list.iter().any(|l| l.conflicts(want_write))
    }

    /// The earliest deadline of a conflicting lease (0: none).
    pub fn next_deadline(&self, want_write: bool) -> u64 {
        self.list
            .iter()
            .filter(|l| l.conflicts(want_write) && l.deadline != 0)
            .map(|l| l.deadline)
            .min()
            .unwrap_or(0)
    }

    /// __break_lease's marking for an open (for writing when
    /// `want_write`): the leases it newly breaks, to be signalled, with
    /// `deadline` (0: none) as their break time.
    pub fn start_break(&mut self, want_write: bool, deadline: u64) -> Vec<(H, i32)> {
        let mut broken = Vec::new();
        for l in &mut self.list {
            if !l.conflicts(want_write) {
                continue;
            }
            if want_write {
                if l.pending == Some(Pending::Unlock) {
                    continue;
                }
                l.pending = Some(Pending::Unlock);
            } else {
                if l.pending.is_some() {
                    continue;
                }
                l.pending = Some(Pending::Downgrade);
            }
            l.deadline = deadline;
            broken.push((l.handle.clone(), l.fd));
        }
        broken
    }

    /// time_out_leases at time `now`: expired downgrades become read
    /// leases, expired unlocks go. Returns the handles of removed leases.
    pub fn time_out(&mut self, now: u64) -> Vec<H> {
        let mut removed = Vec::new();
        let mut i = 0;
        while i < self.list.len() {
            let l = &mut self.list[i];
            if l.pending.is_some() && l.deadline != 0 && now >= l.deadline {
                if l.pending == Some(Pending::Unlock) {
                    removed.push(self.list.remove(i).handle);
                    continue;
                }
                l.kind = LeaseType::Read;
                l.pending = None;
                l.deadline = 0;
            }
            i += 1;
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease<H>(owner: usize, handle: H, fd: i32, kind: LeaseType) -> Lease<H> {
        Lease {
            owner,
            handle,
            fd,
            pid: 10,
            kind,
            pending: None,
            deadline: 0,
        }
    }

    fn ro() -> OpenCounts {
        OpenCounts {
            readers: 1,
            self_reads_only: true,
            ..OpenCounts::default()
        }
    }

    #[test]
    fn read_lease_needs_no_writer() {
        let mut t: Leases<()> = Leases::default();
        let mut c = ro();
        c.writers = 1;
        assert_eq!(
            t.add(lease(1, (), 3, LeaseType::Read), c, true),
            Err(Errno::EAGAIN)
        );
        assert_eq!(
            t.add(lease(1, (), 3, LeaseType::Read), ro(), true),
            Ok(Added::New)
        );
        assert_eq!(t.get(1), F_RDLCK);
        assert_eq!(t.get(2), F_UNLCK);
        // Another reader may share it, but not take a write lease.
        let mut two = ro();
        two.readers = 2;
        assert_eq!(
            t.add(lease(2, (), 4, LeaseType::Read), two, true),
            Ok(Added::New)
        );
        assert_eq!(
            t.add(lease(2, (), 4, LeaseType::Write), two, true),
            Err(Errno::EAGAIN)
        );
    }

    #[test]
    fn write_lease_needs_the_only_open() {
        let mut t: Leases<()> = Leases::default();
        let rw = OpenCounts {
            writers: 1,
            self_writes: true,
            ..OpenCounts::default()
        };
        assert_eq!(
            t.add(lease(1, (), 3, LeaseType::Write), rw, true),
            Ok(Added::New)
        );
        assert_eq!(t.get(1), F_WRLCK);
        // A read lease on a description open for writing: EAGAIN.
        assert_eq!(
            t.add(lease(1, (), 3, LeaseType::Read), rw, true),
            Err(Errno::EAGAIN)
        );
        let mut more = rw;
        more.readers = 1;
        assert_eq!(
            t.add(lease(1, (), 3, LeaseType::Write), more, true),
            Err(Errno::EAGAIN)
        );
        assert_eq!(t.remove(1), Ok(()));
        assert_eq!(t.remove(1), Err(Errno::EAGAIN));
        assert_eq!(
            t.add(lease(1, (), 3, LeaseType::Write), rw, false),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn breaks_downgrade_unlock_and_time_out() {
        let mut t: Leases<u8> = Leases::default();
        let rw = OpenCounts {
            writers: 1,
            self_writes: true,
            ..OpenCounts::default()
        };
        t.add(lease(1, 7, 3, LeaseType::Write), rw, true).unwrap();
        // A reader: downgrade pending, signalled once.
        assert!(t.conflicts(false));
        assert_eq!(t.start_break(false, 100), [(7, 3)]);
        assert!(t.start_break(false, 100).is_empty());
        assert_eq!(t.get(1), F_RDLCK);
        assert!(t.conflicts(false));
        assert_eq!(t.next_deadline(false), 100);
        assert!(t.time_out(99).is_empty());
        assert!(t.time_out(100).is_empty());
        assert!(!t.conflicts(false));
        assert_eq!(t.get(1), F_RDLCK);
        // A writer: unlock pending; the holder's downgrade keeps it.
        assert_eq!(t.start_break(true, 200), [(7, 3)]);
        assert_eq!(t.get(1), F_UNLCK);
        let ro = OpenCounts {
            readers: 1,
            self_reads_only: true,
            ..OpenCounts::default()
        };
        assert_eq!(
            t.add(lease(1, 7, 3, LeaseType::Read), ro, true),
            Ok(Added::Changed)
        );
        assert_eq!(t.get(1), F_UNLCK);
        // Another description cannot lease while an unlock is pending.
        let mut two = ro;
        two.readers = 2;
        assert_eq!(
            t.add(lease(2, 8, 4, LeaseType::Read), two, true),
            Err(Errno::EAGAIN)
        );
        assert_eq!(t.time_out(200), [7]);
        assert!(t.is_empty());
    }
}
