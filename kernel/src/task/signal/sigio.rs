//! SIGIO for O_ASYNC descriptions: the owner of an open file description.
//!
//! An [`Owner`] is Linux's `struct fown_struct` (fs/fcntl.c): the target
//! set by F_SETOWN / F_SETOWN_EX (a thread, a process or a process group),
//! the real and effective uid of whoever set it, and the F_SETSIG signal.
//! It is immutable; the fcntl commands build a new one and swap it into the
//! description ([`starling_fs::file::OpenFile::update_owner`]). The file
//! layer calls [`FileOwner::send_sigio`] from an object's wake-up
//! ([`starling_fs::file::fasync`]), in task context with no lock held.
//!
//! A thread or process target is held weakly and counts only while the
//! table still lists that very object, so a recycled number never
//! redirects the signal; a process group is a number, as groups have no
//! object here.

use alloc::sync::{Arc, Weak};
use core::any::Any;

use starling_fs::file::{
    OpenFile,
    fasync::{FileOwner, band},
};

use super::{SI_SIGIO, SIGIO, SIGPOLL_SPECIFIC, SigInfo, send};
use crate::task::{Pid, Process, Thread, table};

/// Who receives the signal (`pid_type` and `pid` of a fown_struct).
#[derive(Clone)]
pub enum Target {
    /// F_OWNER_TID: that thread.
    Thread(Weak<Thread>),
    /// F_OWNER_PID, or F_SETOWN with a positive id: the thread group of
    /// the task that id names; `leader` is whether it named the group
    /// itself (F_GETOWN reports only such a target, as Linux's
    /// `pid_task(pid, PIDTYPE_TGID)`).
    Process {
        process: Weak<Process>,
        leader: bool,
    },
    /// F_OWNER_PGRP, or F_SETOWN with a negative id: every process of the
    /// group (global id).
    Group(Pid),
}

/// The owner of a description.
#[derive(Clone, Default)]
pub struct Owner {
    /// The `F_OWNER_*` type last set (F_OWNER_TID until one is).
    pub kind: i32,
    pub target: Option<Target>,
    /// Real and effective uid of the process that set `target`.
    pub uid: u32,
    pub euid: u32,
    /// F_SETSIG: 0 sends plain SIGIO without `si_fd`.
    pub signum: i32,
}

/// `F_OWNER_*` types of F_SETOWN_EX / F_GETOWN_EX.
pub const F_OWNER_TID: i32 = 0;
pub const F_OWNER_PID: i32 = 1;
pub const F_OWNER_PGRP: i32 = 2;

fn live_thread(t: &Weak<Thread>) -> Option<Arc<Thread>> {
    let t = t.upgrade()?;
    table::thread(t.tid())
        .filter(|listed| Arc::ptr_eq(listed, &t))
        .map(|_| t)
}

fn live_process(p: &Weak<Process>) -> Option<Arc<Process>> {
    let p = p.upgrade()?;
    table::process(p.pid)
        .filter(|listed| Arc::ptr_eq(listed, &p))
        .map(|_| p)
}

impl Owner {
    /// The owner `file` has now (a default one if none was set).
    pub fn of(file: &OpenFile) -> Self {
        file.owner()
            .and_then(|o| o.as_any().downcast_ref::<Owner>().cloned())
            .unwrap_or_default()
    }

    /// Replaces the owner of `file` with `f` applied to the current one.
    pub fn update(file: &OpenFile, f: impl FnOnce(&mut Owner)) {
        file.update_owner(|old| {
            let mut owner = old
                .and_then(|o| o.as_any().downcast_ref::<Owner>().cloned())
                .unwrap_or_default();
            f(&mut owner);
            Some(Arc::new(owner) as Arc<dyn FileOwner>)
        });
    }

    /// __f_setown without force: makes `process` the owner of `file` if
    /// it has none (F_SETLEASE, F_NOTIFY).
    pub fn claim_if_unset(file: &OpenFile, process: &Arc<Process>) {
        let (uid, euid) = {
            let c = process.creds.lock();
            (c.uid, c.euid)
        };
        let weak = Arc::downgrade(process);
        Self::update(file, |o| {
            if o.target.is_none() {
                o.kind = F_OWNER_PID;
                o.target = Some(Target::Process {
                    process: weak,
                    leader: true,
                });
                o.uid = uid;
                o.euid = euid;
            }
        });
    }

    /// F_GETOWN_EX's view: the `F_OWNER_*` type and the global id of a
    /// target that still exists (0 otherwise), as fs/fcntl.c f_getown_ex.
    pub fn get(&self) -> (i32, Pid) {
        match &self.target {
            None => (self.kind, 0),
            Some(Target::Thread(t)) => (F_OWNER_TID, live_thread(t).map_or(0, |t| t.tid())),
            Some(Target::Process { process, leader }) => (
                F_OWNER_PID,
                live_process(process)
                    .filter(|_| *leader)
                    .map_or(0, |p| p.pid),
            ),
            Some(Target::Group(g)) => (
                F_OWNER_PGRP,
                if table::group_members(*g).is_empty() {
                    0
                } else {
                    *g
                },
            ),
        }
    }

    /// sigio_perm: the setter's uid or euid matches the target's uid or
    /// saved uid, or the setter's euid is root.
    fn may_signal(&self, target: &Process) -> bool {
        let c = target.creds.lock();
        self.euid == 0
            || self.euid == c.suid
            || self.euid == c.uid
            || self.uid == c.suid
            || self.uid == c.uid
    }

    /// The signal for `reason` on descriptor `fd` (send_sigio_to_task).
    fn info(&self, fd: i32, reason: i32) -> SigInfo {
        if self.signum == 0 {
            return SigInfo::kernel(SIGIO);
        }
        // POLL_* codes are SIGPOLL's own; signals with codes of their own
        // get SI_SIGIO instead, to stay unambiguous.
        let code = if self.signum != SIGIO && SIGPOLL_SPECIFIC.has(self.signum) {
            SI_SIGIO
        } else {
            reason
        };
        SigInfo {
            signo: self.signum,
            code,
            band: band(reason),
            fd,
            poll: true,
            ..SigInfo::default()
        }
    }
}

impl FileOwner for Owner {
    fn send_sigio(&self, fd: i32, reason: i32) {
        let Some(target) = &self.target else {
            return;
        };
        let info = self.info(fd, reason);
        match target {
            Target::Thread(t) => {
                if let Some(t) = live_thread(t)
                    && self.may_signal(&t.process)
                {
                    send::send_to_thread(&t, info);
                }
            }
            Target::Process { process, .. } => {
                if let Some(p) = live_process(process)
                    && self.may_signal(&p)
                {
                    send::send_to_process(&p, info);
                }
            }
            Target::Group(g) => {
                for p in table::group_members(*g) {
                    if self.may_signal(&p) {
                        send::send_to_process(&p, info);
                    }
                }
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
