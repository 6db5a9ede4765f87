//! Tests of the record-lock table: Linux's conflict, split and merge rules,
//! the `struct flock` conversion, F_GETLK reports, the deadlock walk, then a
//! seeded comparison against a per-byte model.

use alloc::{format, vec::Vec};

use LockType::{Read as Rd, Write as Wr};

use super::{
    range::{SEEK_CUR, SEEK_END, SEEK_SET},
    *,
};
use crate::Errno;

const R: Request = Request::Lock(LockType::Read);
const W: Request = Request::Lock(LockType::Write);
const U: Request = Request::Unlock;

const P1: LockOwner = LockOwner::posix(1);
const P2: LockOwner = LockOwner::posix(2);
const O1: LockOwner = LockOwner::ofd(1);
const O2: LockOwner = LockOwner::ofd(2);

fn r(start: u64, end: u64) -> LockRange {
    LockRange::new(start, end).expect("start <= end")
}

/// The locks of `owner` as (type, start, end).
fn held(t: &RecordLocks, owner: LockOwner) -> Vec<(LockType, u64, u64)> {
    t.held_by(owner)
        .map(|l| (l.kind(), l.range().start(), l.range().end()))
        .collect()
}

#[test]
fn read_locks_share_write_locks_exclude() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, R, r(0, 9)), Ok(()));
    assert_eq!(t.set(P2, 20, R, r(5, 14)), Ok(()));
    let err = t.set(P2, 20, W, r(9, 9)).unwrap_err();
    assert_eq!(err.holder.owner(), P1);
    assert_eq!(err.holder.range(), r(0, 9));
    // A failed request changes nothing.
    assert_eq!(held(&t, P2), [(Rd, 5, 14)]);
    // Bytes nobody else holds are free.
    assert_eq!(t.set(P2, 20, W, r(10, 19)), Ok(()));
    assert_eq!(held(&t, P2), [(Rd, 5, 9), (Wr, 10, 19)]);
    assert!(t.test(P1, R, r(10, 10)).is_some());
    assert!(t.test(P1, R, r(0, 4)).is_none());
    assert!(t.test(P1, W, r(0, 4)).is_none());
    assert!(t.test(P1, W, r(0, 5)).is_some());
}

#[test]
fn an_owner_never_conflicts_with_itself() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, W, r(0, 99)), Ok(()));
    assert_eq!(t.test(P1, W, r(0, 99)), None);
    assert_eq!(t.set(P1, 10, W, r(50, 149)), Ok(()));
    assert_eq!(t.set(P1, 10, R, r(0, 9)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 9), (Wr, 10, 149)]);
    assert_eq!(t.set(O1, 0, W, r(0, 9)).unwrap_err().holder.owner(), P1);
    t.remove_owner(P1);
    assert_eq!(t.set(O1, 0, W, r(0, 9)), Ok(()));
    assert_eq!(t.set(O1, 0, W, r(5, 19)), Ok(()));
    assert_eq!(held(&t, O1), [(Wr, 0, 19)]);
}

#[test]
fn unlock_inside_splits() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, W, r(0, 99)), Ok(()));
    assert_eq!(t.set(P1, 10, U, r(10, 19)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, 9), (Wr, 20, 99)]);
    // Unlocking free bytes, or the edges, trims.
    assert_eq!(t.set(P1, 10, U, r(5, 24)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, 4), (Wr, 25, 99)]);
    assert_eq!(t.set(P1, 10, U, r(200, 300)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, 4), (Wr, 25, 99)]);
    assert_eq!(t.set(P1, 10, U, LockRange::to_eof(0)), Ok(()));
    assert!(t.is_empty());
    // Unlocking with no lock at all succeeds.
    assert_eq!(t.set(P2, 20, U, r(0, 0)), Ok(()));
}

#[test]
fn other_type_replaces_the_overlapped_part() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, W, r(0, 99)), Ok(()));
    assert_eq!(t.set(P1, 10, R, r(10, 19)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, 9), (Rd, 10, 19), (Wr, 20, 99)]);
    // Another reader may now share bytes 10..=19 only.
    assert_eq!(t.set(P2, 20, R, r(10, 19)), Ok(()));
    assert!(t.set(P2, 20, R, r(9, 10)).is_err());
    // Overlapping the edge of a lock of the other type trims it.
    assert_eq!(t.set(P1, 10, R, r(90, 109)), Ok(()));
    assert_eq!(
        held(&t, P1),
        [(Wr, 0, 9), (Rd, 10, 19), (Wr, 20, 89), (Rd, 90, 109)]
    );
    // Covering everything replaces all of it with one lock.
    t.remove_owner(P2);
    assert_eq!(t.set(P1, 10, W, r(0, 200)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, 200)]);
    // Downgrade of the whole range.
    assert_eq!(t.set(P1, 10, R, r(0, 200)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 200)]);
}

#[test]
fn same_type_locks_that_touch_merge() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, R, r(0, 9)), Ok(()));
    assert_eq!(t.set(P1, 10, R, r(10, 19)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 19)]);
    assert_eq!(t.set(P1, 10, R, r(30, 39)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 19), (Rd, 30, 39)]);
    // A lock filling the gap joins all three.
    assert_eq!(t.set(P1, 10, R, r(20, 29)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 39)]);
    // Locks of different types side by side stay apart.
    assert_eq!(t.set(P1, 10, W, r(40, 49)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 39), (Wr, 40, 49)]);
    // A lock inside one of its type changes nothing.
    assert_eq!(t.set(P1, 10, R, r(5, 6)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 39), (Wr, 40, 49)]);
    // Replacing the write lock by a read lock merges it with its neighbour.
    assert_eq!(t.set(P1, 10, R, r(40, 49)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 49)]);
    // Other owners' locks do not merge with it.
    assert_eq!(t.set(P2, 20, R, r(50, 59)), Ok(()));
    assert_eq!(held(&t, P1), [(Rd, 0, 49)]);
}

#[test]
fn ranges_to_eof() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, W, LockRange::to_eof(10)), Ok(()));
    assert!(t.test(P2, R, r(u64::MAX - 1, u64::MAX - 1)).is_some());
    assert!(t.test(P2, R, r(0, 9)).is_none());
    assert_eq!(t.set(P1, 10, U, LockRange::to_eof(20)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 10, 19)]);
    assert_eq!(t.set(P1, 10, W, LockRange::to_eof(20)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 10, EOF)]);
    assert_eq!(t.set(P1, 10, U, r(0, 14)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 15, EOF)]);
    assert_eq!(t.set(P1, 10, R, r(100, 199)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 15, 99), (Rd, 100, 199), (Wr, 200, EOF)]);
    assert_eq!(t.set(P1, 10, W, LockRange::to_eof(0)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, EOF)]);
    assert_eq!(t.set(P1, 10, U, r(0, u64::MAX - 1)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, EOF, EOF)]);
    assert_eq!(t.set(P1, 10, U, LockRange::to_eof(EOF)), Ok(()));
    assert!(t.is_empty());
}

#[test]
fn flock_fields_to_range() {
    let f = LockRange::from_flock;
    let max = i64::MAX;
    let umax = max as u64;
    assert_eq!(f(SEEK_SET, 0, 0, 7, 100), Ok(LockRange::to_eof(0)));
    assert_eq!(f(SEEK_SET, 10, 5, 7, 100), Ok(r(10, 14)));
    assert_eq!(f(SEEK_CUR, 3, 5, 7, 100), Ok(r(10, 14)));
    assert_eq!(f(SEEK_CUR, -7, 1, 7, 100), Ok(r(0, 0)));
    assert_eq!(f(SEEK_END, 0, 0, 7, 100), Ok(LockRange::to_eof(100)));
    assert_eq!(f(SEEK_END, -10, 10, 7, 100), Ok(r(90, 99)));
    // A negative length covers the bytes before the start.
    assert_eq!(f(SEEK_SET, 10, -5, 7, 100), Ok(r(5, 9)));
    assert_eq!(f(SEEK_END, 0, -100, 7, 100), Ok(r(0, 99)));
    assert_eq!(f(SEEK_SET, 10, -10, 0, 0), Ok(r(0, 9)));
    assert_eq!(f(SEEK_SET, 10, -11, 0, 0), Err(Errno::EINVAL));
    assert_eq!(f(SEEK_SET, 0, -1, 0, 0), Err(Errno::EINVAL));
    assert_eq!(f(SEEK_SET, max, i64::MIN, 0, 0), Err(Errno::EINVAL));
    // A start before 0 is EINVAL.
    assert_eq!(f(SEEK_SET, -1, 1, 0, 0), Err(Errno::EINVAL));
    assert_eq!(f(SEEK_CUR, -8, 1, 7, 100), Err(Errno::EINVAL));
    assert_eq!(f(SEEK_END, -101, 0, 7, 100), Err(Errno::EINVAL));
    assert_eq!(f(SEEK_SET, i64::MIN, 0, 0, 0), Err(Errno::EINVAL));
    // A start past OFFSET_MAX is EOVERFLOW.
    assert_eq!(f(SEEK_END, max - 99, 0, 0, 100), Err(Errno::EOVERFLOW));
    assert_eq!(
        f(SEEK_END, max - 100, 0, 0, 100),
        Ok(LockRange::to_eof(umax))
    );
    assert_eq!(f(SEEK_CUR, max, 1, 1, 0), Err(Errno::EOVERFLOW));
    // An end past OFFSET_MAX is EOVERFLOW; an end at OFFSET_MAX is EOF.
    assert_eq!(f(SEEK_SET, 1, max, 0, 0), Ok(LockRange::to_eof(1)));
    assert_eq!(f(SEEK_SET, 2, max, 0, 0), Err(Errno::EOVERFLOW));
    assert_eq!(f(SEEK_SET, 0, max, 0, 0), Ok(r(0, umax - 1)));
    assert_eq!(f(SEEK_SET, max, 1, 0, 0), Ok(LockRange::to_eof(umax)));
    assert_eq!(f(SEEK_SET, max, 2, 0, 0), Err(Errno::EOVERFLOW));
    // Unknown whence values, SEEK_DATA and SEEK_HOLE among them.
    for whence in [-1, 3, 4, i16::MAX] {
        assert_eq!(f(whence, 0, 0, 0, 0), Err(Errno::EINVAL));
    }
    // Nothing panics at the extremes.
    for whence in [SEEK_SET, SEEK_CUR, SEEK_END] {
        for a in [i64::MIN, -1, 0, 1, max] {
            for b in [i64::MIN, -1, 0, 1, max] {
                for pos in [i64::MIN, -1, 0, max] {
                    if let Ok(range) = f(whence, a, b, pos, pos) {
                        assert!(range.start() <= umax);
                    }
                }
            }
        }
    }
}

#[test]
fn l_type_values() {
    assert_eq!(Request::from_l_type(F_RDLCK), Some(R));
    assert_eq!(Request::from_l_type(F_WRLCK), Some(W));
    assert_eq!(Request::from_l_type(F_UNLCK), Some(U));
    assert_eq!(Request::from_l_type(3), None);
    assert_eq!(Request::from_l_type(-1), None);
}

#[test]
fn getlk_reports_the_first_conflict_in_list_order() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P2, 20, R, r(50, 59)), Ok(()));
    assert_eq!(t.set(O1, 99, R, r(0, 9)), Ok(()));
    assert_eq!(t.set(P2, 20, W, LockRange::to_eof(100)), Ok(()));
    // P2's locks come first in the list even where O1's start lower.
    let found = t.test(P1, W, LockRange::to_eof(0)).expect("conflict");
    assert_eq!((found.owner(), found.range()), (P2, r(50, 59)));
    // A reader conflicts with the write lock only.
    let found = t.test(P1, R, LockRange::to_eof(0)).expect("conflict");
    assert_eq!(
        found.to_flock(),
        Some(FlockReport {
            l_type: F_WRLCK,
            l_whence: SEEK_SET,
            l_start: 100,
            l_len: 0,
            l_pid: 20,
        })
    );
    let found = t.test(P1, W, r(0, 0)).expect("conflict");
    assert_eq!(
        found.to_flock(),
        Some(FlockReport {
            l_type: F_RDLCK,
            l_whence: SEEK_SET,
            l_start: 0,
            l_len: 10,
            // OFD locks report no process.
            l_pid: -1,
        })
    );
    assert_eq!(t.test(P1, R, r(0, 99)), None);
    assert_eq!(t.test(P2, W, r(50, 59)), None);
    // An owner whose locks all went away comes back at the end.
    t.remove_owner(P2);
    assert_eq!(t.set(P2, 20, W, r(0, 9)).unwrap_err().holder.owner(), O1);
    assert_eq!(t.set(P2, 20, R, r(0, 9)), Ok(()));
    let owners: Vec<LockOwner> = t.iter().map(|l| l.owner()).collect();
    assert_eq!(owners, [O1, P2]);
}

#[test]
fn getlk_of_an_unlock_finds_the_owners_own_lock() {
    // F_OFD_GETLK with F_UNLCK: is this range locked through this
    // description?
    let mut t = RecordLocks::new();
    assert_eq!(t.set(O2, 0, W, r(0, 9)), Ok(()));
    assert_eq!(t.test(O1, U, r(0, 9)), None);
    assert_eq!(t.set(O1, 0, R, r(20, 29)), Ok(()));
    let found = t.test(O1, U, LockRange::to_eof(0)).expect("own lock");
    assert_eq!((found.owner(), found.range()), (O1, r(20, 29)));
    assert_eq!(t.test(O1, U, r(30, 40)), None);
}

#[test]
fn report_fails_for_offsets_past_off_t() {
    let mut t = RecordLocks::new();
    let huge = i64::MAX as u64 + 1;
    assert_eq!(t.set(P1, 10, W, r(huge, huge)), Ok(()));
    assert_eq!(t.set(P1, 10, W, r(0, huge - 2)), Ok(()));
    let reports: Vec<Option<FlockReport>> = t.iter().map(|l| l.to_flock()).collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].map(|f| f.l_len), Some(i64::MAX));
    assert_eq!(reports[1], None);
}

#[test]
fn posix_and_ofd_locks_conflict() {
    let mut t = RecordLocks::new();
    // Equal ids of different kinds are different owners.
    assert_eq!(t.set(P1, 10, W, r(0, 9)), Ok(()));
    assert_eq!(t.set(O1, 0, R, r(5, 5)).unwrap_err().holder.owner(), P1);
    assert_eq!(t.set(O1, 0, W, r(10, 19)), Ok(()));
    assert_eq!(t.set(P1, 10, R, r(10, 10)).unwrap_err().holder.owner(), O1);
    assert_eq!(t.set(O2, 0, R, r(15, 15)).unwrap_err().holder.owner(), O1);
    assert_eq!(t.set(O2, 0, R, r(20, 29)), Ok(()));
    assert_eq!(t.set(O1, 0, R, r(20, 29)), Ok(()));
    assert_eq!(held(&t, O1), [(Wr, 10, 19), (Rd, 20, 29)]);
    assert_eq!(
        t.iter().find(|l| l.owner() == O1).map(|l| l.pid()),
        Some(-1)
    );
    // Unlocks of one kind leave the other kind alone.
    assert_eq!(t.set(P1, 10, U, LockRange::to_eof(0)), Ok(()));
    assert_eq!(held(&t, O1), [(Wr, 10, 19), (Rd, 20, 29)]);
    assert_eq!(held(&t, P1), []);
}

#[test]
fn remove_owner_releases_all_of_its_locks() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, W, r(0, 9)), Ok(()));
    assert_eq!(t.set(P1, 10, R, r(20, 29)), Ok(()));
    assert_eq!(t.set(O1, 0, R, r(20, 29)), Ok(()));
    assert_eq!(t.set(P2, 20, R, r(20, 29)), Ok(()));
    assert!(t.remove_owner(P1));
    assert!(!t.remove_owner(P1));
    assert_eq!(held(&t, P1), []);
    assert_eq!(t.set(P2, 20, W, r(0, 9)), Ok(()));
    assert!(t.remove_owner(O1));
    assert!(t.remove_owner(P2));
    assert!(t.is_empty());
}

#[test]
fn merged_lock_keeps_the_pid_of_the_lock_it_extends() {
    // Two processes sharing a descriptor table are one POSIX owner with
    // different pids; Linux grows the first lock it merges with in place.
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 10, W, r(10, 19)), Ok(()));
    assert_eq!(t.set(P1, 11, W, r(20, 29)), Ok(()));
    assert_eq!(t.iter().map(|l| l.pid()).collect::<Vec<_>>(), [10]);
    assert_eq!(t.set(P1, 11, W, r(0, 5)), Ok(()));
    assert_eq!(t.iter().map(|l| l.pid()).collect::<Vec<_>>(), [11, 10]);
    // A lock that replaces a whole lock of the other type before merging is
    // a new lock with the requester's pid.
    assert_eq!(t.set(P1, 12, R, r(0, 5)), Ok(()));
    assert_eq!(t.set(P1, 13, W, r(0, 9)), Ok(()));
    assert_eq!(held(&t, P1), [(Wr, 0, 29)]);
    assert_eq!(t.iter().map(|l| l.pid()).collect::<Vec<_>>(), [13]);
    // Pieces left by a split keep the pid of the lock they came from.
    assert_eq!(t.set(P1, 14, U, r(10, 10)), Ok(()));
    assert_eq!(t.iter().map(|l| l.pid()).collect::<Vec<_>>(), [13, 13]);
}

#[test]
fn proc_locks_lines() {
    let mut t = RecordLocks::new();
    assert_eq!(t.set(P1, 42, W, LockRange::to_eof(0)), Ok(()));
    assert!(t.set(O1, 7, R, r(10, 19)).is_err());
    t.remove_owner(P1);
    assert_eq!(t.set(P1, 42, W, r(0, 9)), Ok(()));
    assert_eq!(t.set(O1, 7, R, r(10, 19)), Ok(()));
    let lines: Vec<_> = t
        .iter()
        .enumerate()
        .map(|(i, record)| {
            format!(
                "{}",
                ProcLocksLine::of_record(i + 1, record, record.pid(), (0, 0x1a), 1234)
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "1: POSIX  ADVISORY  WRITE 42 00:1a:1234 0 9\n",
            "2: OFDLCK ADVISORY  READ -1 00:1a:1234 10 19\n",
        ]
    );
    t.remove_owner(O1);
    assert_eq!(t.set(P1, 42, R, LockRange::to_eof(5)), Ok(()));
    let last = t.iter().last().expect("lock");
    let line = ProcLocksLine::of_record(3, last, last.pid(), (8, 1), 5);
    assert_eq!(
        format!("{line}"),
        "3: POSIX  ADVISORY  READ 42 08:01:5 5 EOF\n"
    );
    let flock = ProcLocksLine {
        ordinal: 4,
        class: LockClass::Flock,
        l_type: F_WRLCK,
        pid: 7,
        dev_major: 0,
        dev_minor: 0x2b,
        ino: 9,
        range: None,
        waiter: false,
    };
    assert_eq!(
        format!("{flock}"),
        "4: FLOCK  ADVISORY  WRITE 7 00:2b:9 0 EOF\n"
    );
    let lease = ProcLocksLine {
        class: LockClass::Lease { breaking: true },
        l_type: F_UNLCK,
        ..flock
    };
    assert_eq!(
        format!("{lease}"),
        "4: LEASE  BREAKING  UNLCK 7 00:2b:9 0 EOF\n"
    );
    let lease = ProcLocksLine {
        class: LockClass::Lease { breaking: false },
        l_type: F_RDLCK,
        ..flock
    };
    assert_eq!(
        format!("{lease}"),
        "4: LEASE  ACTIVE    READ 7 00:2b:9 0 EOF\n"
    );
    let waiter = ProcLocksLine {
        waiter: true,
        ..flock
    };
    assert_eq!(
        format!("{waiter}"),
        "4: -> FLOCK  ADVISORY  WRITE 7 00:2b:9 0 EOF\n"
    );
}

#[test]
fn deadlock_cycle_of_two() {
    let mut g = BlockedOn::new();
    assert!(!g.would_deadlock(P1, P2));
    g.block(P1, P2);
    // P2 waiting for P1 closes the cycle; a third owner does not.
    assert!(g.would_deadlock(P2, P1));
    let p3 = LockOwner::posix(3);
    assert!(!g.would_deadlock(p3, P1));
    assert!(g.unblock(P1, P2));
    assert!(!g.unblock(P1, P2));
    assert!(!g.would_deadlock(P2, P1));
    assert!(g.is_empty());
}

#[test]
fn deadlock_cycle_of_three() {
    let mut g = BlockedOn::new();
    let p3 = LockOwner::posix(3);
    g.block(P1, P2);
    g.block(P2, p3);
    assert!(g.would_deadlock(p3, P1));
    // P3 waiting for P2 closes the shorter cycle P3 -> P2 -> P3.
    assert!(g.would_deadlock(p3, P2));
    g.remove_waiter(P2);
    assert!(!g.would_deadlock(p3, P1));
    assert_eq!(g.waits_for(P1), Some(P2));
}

#[test]
fn deadlock_walk_gives_up_after_the_iteration_limit() {
    // The requester A waits for h[0]; h[0] waits for h[1], ...; the last
    // waits for A. The cycle has `hops + 1` owners.
    let cycle = |hops: usize| {
        let mut g = BlockedOn::new();
        let a = LockOwner::posix(1000);
        let h: Vec<LockOwner> = (0..hops).map(LockOwner::posix).collect();
        for pair in h.windows(2) {
            g.block(pair[0], pair[1]);
        }
        g.block(h[hops - 1], a);
        g.would_deadlock(a, h[0])
    };
    for hops in 1..=MAX_DEADLK_ITERATIONS + 1 {
        assert!(cycle(hops), "cycle of {} owners", hops + 1);
    }
    assert!(!cycle(MAX_DEADLK_ITERATIONS + 2));
    assert!(!cycle(50));
}

#[test]
fn deadlock_walk_ends_on_cycles_without_the_requester() {
    let mut g = BlockedOn::new();
    let p3 = LockOwner::posix(3);
    g.block(P2, p3);
    g.block(p3, P2);
    assert!(!g.would_deadlock(P1, P2));
}

#[test]
fn ofd_locks_take_no_part_in_deadlock_detection() {
    let mut g = BlockedOn::new();
    // An OFD requester never deadlocks, and an OFD waiter is not recorded.
    g.block(P1, O1);
    assert!(!g.would_deadlock(O1, P1));
    g.block(O1, P1);
    assert_eq!(g.waits_for(O1), None);
    // A POSIX chain through a lock held by an OFD owner stops there.
    assert!(!g.would_deadlock(P2, P1));
    assert!(!g.would_deadlock(O2, O1));
}

#[test]
fn newest_wait_of_an_owner_is_followed() {
    // Two threads of P1 wait: for P2, then for P3.
    let mut g = BlockedOn::new();
    let p3 = LockOwner::posix(3);
    g.block(P1, P2);
    g.block(P1, p3);
    assert_eq!(g.waits_for(P1), Some(p3));
    assert!(g.would_deadlock(p3, P1));
    assert!(g.unblock(P1, p3));
    assert!(g.would_deadlock(P2, P1));
    assert!(!g.would_deadlock(p3, P1));
}

/// SplitMix64, for the seeded model test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

const OWNERS: [LockOwner; 4] = [P1, P2, O1, O2];

/// Per owner, per cell: the lock held there. A cell is the bytes from its
/// start to the next cell's start, the last one to EOF. Written from the
/// rules: a lock request is granted when no other owner holds an
/// incompatible lock on any of its bytes, and then sets every byte; an
/// unlock clears every byte.
struct Model {
    starts: Vec<u64>,
    held: Vec<Vec<Option<LockType>>>,
}

impl Model {
    fn new(starts: Vec<u64>) -> Self {
        let held = alloc::vec![alloc::vec![None; starts.len()]; OWNERS.len()];
        Self { starts, held }
    }

    fn cells(&self) -> usize {
        self.starts.len()
    }

    /// The bytes of cells `a..=b`.
    fn range(&self, a: usize, b: usize) -> LockRange {
        let end = match self.starts.get(b + 1) {
            Some(next) => next - 1,
            None => EOF,
        };
        r(self.starts[a], end)
    }

    fn random_cells(&self, rng: &mut Rng) -> (usize, usize) {
        let n = self.cells();
        let a = rng.below(n as u64) as usize;
        let b = a + rng.below((n - a) as u64) as usize;
        (a, b)
    }

    fn conflicts(&self, o: usize, kind: LockType, a: usize, b: usize) -> bool {
        (0..OWNERS.len()).filter(|&p| p != o).any(|p| {
            self.held[p][a..=b]
                .iter()
                .flatten()
                .any(|held| !held.compatible(kind))
        })
    }

    /// The maximal runs of one type: the locks the table must hold.
    fn locks(&self, o: usize) -> Vec<(LockType, u64, u64)> {
        let mut out: Vec<(LockType, u64, u64)> = Vec::new();
        let mut c = 0;
        while c < self.cells() {
            let Some(kind) = self.held[o][c] else {
                c += 1;
                continue;
            };
            let start = c;
            while c + 1 < self.cells() && self.held[o][c + 1] == Some(kind) {
                c += 1;
            }
            let range = self.range(start, c);
            out.push((kind, range.start(), range.end()));
            c += 1;
        }
        out
    }
}

fn check(t: &RecordLocks, model: &Model, rng: &mut Rng, full: bool, at: &str) {
    // Per owner: exactly the model's maximal runs, so no overlap and no
    // mergeable neighbours; one contiguous group per owner.
    for (o, &owner) in OWNERS.iter().enumerate() {
        assert_eq!(held(t, owner), model.locks(o), "{at} owner {o}");
    }
    let owners: Vec<LockOwner> = t.iter().map(|l| l.owner()).collect();
    for (i, owner) in owners.iter().enumerate() {
        if i > 0 && owners[i - 1] != *owner {
            assert!(!owners[..i].contains(owner), "{at}: owner group split");
        }
    }
    let probe = |o: usize, kind: LockType, a: usize, b: usize| {
        let range = model.range(a, b);
        let got = t.test(OWNERS[o], Request::Lock(kind), range);
        assert_eq!(
            got.is_some(),
            model.conflicts(o, kind, a, b),
            "{at} test {o} {kind:?} {a}..={b}"
        );
        if let Some(found) = got {
            assert_ne!(found.owner(), OWNERS[o]);
            assert!(found.range().overlaps(range) && !found.kind().compatible(kind));
            let first = t.iter().find(|l| {
                l.owner() != OWNERS[o] && l.range().overlaps(range) && !l.kind().compatible(kind)
            });
            assert_eq!(Some(&found), first, "{at}: not the first conflict");
        }
        let own = t.test(OWNERS[o], U, range);
        let model_own = model.held[o][a..=b].iter().any(Option::is_some);
        assert_eq!(own.is_some(), model_own, "{at} own {o} {a}..={b}");
    };
    for o in 0..OWNERS.len() {
        for kind in [Rd, Wr] {
            if full {
                for a in 0..model.cells() {
                    for b in a..model.cells() {
                        probe(o, kind, a, b);
                    }
                }
            } else {
                for c in 0..model.cells() {
                    probe(o, kind, c, c);
                }
                for _ in 0..8 {
                    let (a, b) = model.random_cells(rng);
                    probe(o, kind, a, b);
                }
            }
        }
    }
}

/// Runs `steps` random requests from four owners, two POSIX and two OFD,
/// over ranges made of whole cells of `starts`, comparing the table with
/// the model after every step; returns how many lock requests were
/// granted and refused.
fn run_against_model(starts: &[u64], seeds: u64, steps: usize) -> (usize, usize) {
    let (mut granted, mut refused) = (0, 0);
    for seed in 0..seeds {
        let mut rng = Rng(seed);
        let mut t = RecordLocks::new();
        let mut model = Model::new(starts.to_vec());
        for step in 0..steps {
            let at = format!("seed {seed} step {step}");
            let o = rng.below(OWNERS.len() as u64) as usize;
            let owner = OWNERS[o];
            let pid = o as i32 + 100;
            let (a, b) = model.random_cells(&mut rng);
            let range = model.range(a, b);
            let op = rng.below(20);
            if op == 0 {
                t.remove_owner(owner);
                model.held[o].fill(None);
            } else {
                let request = match op % 3 {
                    0 => U,
                    1 => R,
                    _ => W,
                };
                let got = t.set(owner, pid, request, range);
                match request {
                    Request::Lock(kind) if model.conflicts(o, kind, a, b) => {
                        refused += 1;
                        let err = got.expect_err(&at);
                        assert_ne!(err.holder.owner(), owner, "{at}");
                        assert!(err.holder.range().overlaps(range), "{at}");
                    }
                    Request::Lock(kind) => {
                        granted += 1;
                        assert_eq!(got, Ok(()), "{at}");
                        model.held[o][a..=b].fill(Some(kind));
                    }
                    Request::Unlock => {
                        assert_eq!(got, Ok(()), "{at}");
                        model.held[o][a..=b].fill(None);
                    }
                }
            }
            for l in t.iter() {
                let want = match l.owner().kind() {
                    OwnerKind::Posix => {
                        OWNERS.iter().position(|&w| w == l.owner()).unwrap() as i32 + 100
                    }
                    OwnerKind::Ofd => -1,
                };
                assert_eq!(l.pid(), want, "{at}");
            }
            check(&t, &model, &mut rng, step % 50 == 49, &at);
        }
    }
    (granted, refused)
}

/// Bytes 0..64 one by one, and the tail [64, EOF].
#[test]
fn random_operations_match_byte_model() {
    let starts: Vec<u64> = (0..=64).collect();
    let (granted, refused) = run_against_model(&starts, 12, 400);
    // Both outcomes are common enough to exercise the rules.
    assert!(
        granted > 500 && refused > 500,
        "{granted} granted, {refused} refused"
    );
}

/// Ranges that start and end at the edges of u64 and of `off_t`, where a
/// careless `end + 1` or `start - 1` would overflow.
#[test]
fn random_operations_at_the_edges_of_u64() {
    let half = i64::MAX as u64;
    let starts = [
        0,
        1,
        2,
        100,
        half - 1,
        half,
        half + 1,
        u64::MAX - 2,
        u64::MAX - 1,
        u64::MAX,
    ];
    let (granted, refused) = run_against_model(&starts, 12, 300);
    assert!(
        granted > 300 && refused > 300,
        "{granted} granted, {refused} refused"
    );
}
