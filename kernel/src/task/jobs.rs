//! The process layer's side of terminal job control.

use starling_fs::file::tty::JobControl;

use super::{
    current,
    signal::{SIG_IGN, SigInfo, send},
    table,
};

/// Connects the console terminal to process groups and sessions.
pub struct ProcessJobs;

impl JobControl for ProcessJobs {
    fn signal_group(&self, pgrp: i32, sig: i32) {
        for p in table::group_members(pgrp) {
            send::send_to_process(&p, SigInfo::kernel(sig));
        }
    }

    fn caller(&self) -> (i32, i32, i32) {
        current().map_or((0, 0, 0), |t| {
            let p = &t.process;
            (p.pid, p.pgid(), p.sid())
        })
    }

    fn group_in_session(&self, pgrp: i32, sid: i32) -> bool {
        table::group_members(pgrp).iter().any(|p| p.sid() == sid)
    }

    fn group_exists(&self, pgrp: i32) -> bool {
        !table::group_members(pgrp).is_empty()
    }

    fn caller_ignores(&self, sig: i32) -> bool {
        current().is_some_and(|t| {
            let handler = t.process.actions.lock()[(sig - 1) as usize].handler;
            handler == SIG_IGN || t.sigmask().has(sig)
        })
    }

    fn group_orphaned(&self, pgrp: i32) -> bool {
        // POSIX: orphaned unless some member's parent is in a different
        // group of the same session.
        !table::group_members(pgrp).iter().any(|p| {
            let sid = p.sid();
            p.tree.lock().parent.upgrade().is_some_and(|parent| {
                let (ppg, psid) = (parent.pgid(), parent.sid());
                ppg != pgrp && psid == sid
            })
        })
    }
}
