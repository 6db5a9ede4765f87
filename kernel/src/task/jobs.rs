//! The process layer's side of terminal job control.

use starling_fs::file::tty::JobControl;

use super::{
    current,
    signal::{SigInfo, send},
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
}
