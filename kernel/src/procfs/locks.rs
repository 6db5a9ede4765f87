//! /proc/locks and the `lock:` lines of /proc/PID/fdinfo/N.
//!
//! Written from fs/locks.c (locks_show, lock_get_status, show_fd_locks).
//! The lock state of a file is its `FlockNode`; a node is published (listed
//! here) by the first flock(2) or fcntl(2) lock request on it, with the
//! device and inode numbers stat reports for the file, and listed while it
//! holds a lock. Pids are shown as the reader's PID namespace sees them; a
//! lock whose owner it cannot see (pid 0) is left out of /proc/locks, as
//! Linux does. OFD locks show pid -1.
//!
//! A blocked flock or record-lock request is shown as a ` -> ` line under
//! the lock it last found in its way, with that lock's number.
//!
//! Deviations: only one level of blocked requests (Linux also nests
//! requests blocked behind other blocked requests); a waiter's blocker is
//! the one it found at its last retry; lines come per file in publication order,
//! not in Linux's global insertion order; fdinfo shows a POSIX lock of the
//! process for every descriptor of the file, where Linux shows it only for
//! the description it was set through.

use alloc::{format, string::String, sync::Arc};

use starling_fs::{
    file::{
        OpenFile,
        flock::{FlockNode, ShownLock, locked_nodes},
    },
    reclock::{F_RDLCK, F_WRLCK, LockClass, LockOwner, OwnerKind, ProcLocksLine},
};

use crate::task;

/// Publishes `node`, the lock state of `file`, in /proc/locks.
pub fn publish_locks(file: &OpenFile, node: &Arc<FlockNode>) {
    node.publish(|| file.file().stat().ok().map(|st| (st.dev, st.ino)));
}

/// Major and minor number of a user `dev_t` (glibc's gnu_dev_major/minor).
fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    (major as u32, minor as u32)
}

/// A global pid as the reader sees it (0: outside its namespace).
fn view(pid: i32) -> i32 {
    if pid < 0 {
        return pid;
    }
    task::current().map_or(pid, |t| t.process.view(pid))
}

/// The line of one lock, its pid already translated.
fn line(ordinal: usize, lock: &ShownLock, pid: i32, dev: (u32, u32), ino: u64) -> ProcLocksLine {
    match lock {
        ShownLock::Record(r) => ProcLocksLine::of_record(ordinal, r, pid, dev, ino),
        ShownLock::Lease {
            l_type, breaking, ..
        } => ProcLocksLine {
            ordinal,
            class: LockClass::Lease {
                breaking: *breaking,
            },
            l_type: *l_type,
            pid,
            dev_major: dev.0,
            dev_minor: dev.1,
            ino,
            range: None,
            waiter: false,
        },
        ShownLock::Flock { write, .. } => ProcLocksLine {
            ordinal,
            class: LockClass::Flock,
            l_type: if *write { F_WRLCK } else { F_RDLCK },
            pid,
            dev_major: dev.0,
            dev_minor: dev.1,
            ino,
            range: None,
            waiter: false,
        },
    }
}

fn global_pid(lock: &ShownLock) -> i32 {
    match lock {
        ShownLock::Record(r) => r.pid(),
        ShownLock::Flock { pid, .. } | ShownLock::Lease { pid, .. } => *pid,
    }
}

/// The text of /proc/locks.
pub fn proc_locks() -> String {
    let mut text = String::new();
    let mut ordinal = 0;
    for node in locked_nodes() {
        let Some((dev, ino)) = node.ident() else {
            continue;
        };
        let dev = split_dev(dev);
        for lock in node.shown_locks() {
            let pid = view(global_pid(&lock));
            if pid == 0 {
                continue;
            }
            ordinal += 1;
            text.push_str(&format!("{}", line(ordinal, &lock, pid, dev, ino)));
            // locks_show: the requests blocked on it, with its number.
            for w in node.waiting_on(&lock) {
                let waiter = ProcLocksLine {
                    ordinal,
                    class: w.class,
                    l_type: w.l_type,
                    pid: view(w.pid),
                    dev_major: dev.0,
                    dev_minor: dev.1,
                    ino,
                    range: w.range,
                    waiter: true,
                };
                text.push_str(&format!("{waiter}"));
            }
        }
    }
    text
}

/// The `lock:` lines of /proc/PID/fdinfo for `file` in the process whose
/// descriptor table has address `files`: the flock and OFD locks of this
/// description and the process's POSIX locks on the file.
pub fn fdinfo_lock_lines(file: &OpenFile, files: usize) -> String {
    let Some(node) = file.existing_flock_node() else {
        return String::new();
    };
    let (dev, ino) = node
        .ident()
        .unwrap_or_else(|| file.file().stat().map_or((0, 0), |st| (st.dev, st.ino)));
    let dev = split_dev(dev);
    let me = file.flock_owner();
    let mut text = String::new();
    let mut ordinal = 0;
    for lock in node.shown_locks() {
        let mine = match &lock {
            ShownLock::Flock { owner, .. } | ShownLock::Lease { owner, .. } => *owner == me,
            ShownLock::Record(r) => match r.owner().kind() {
                OwnerKind::Posix => r.owner() == LockOwner::posix(files),
                OwnerKind::Ofd => r.owner() == LockOwner::ofd(me),
            },
        };
        if !mine {
            continue;
        }
        ordinal += 1;
        let pid = view(global_pid(&lock));
        text.push_str(&format!("lock:\t{}", line(ordinal, &lock, pid, dev, ino)));
    }
    text
}
