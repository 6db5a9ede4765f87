//! Whether one process may inspect or change another's memory
//! (kernel/ptrace.c __ptrace_may_access in PTRACE_MODE_ATTACH): used by
//! /proc/PID/mem, process_vm_readv/writev (and ptrace, later).

use core::sync::atomic::Ordering;

use super::{Process, creds::CAP_SYS_PTRACE};

/// Which of the caller's ids are compared (PTRACE_MODE_FSCREDS: the
/// file-system ids, for /proc files; PTRACE_MODE_REALCREDS: the real ids).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AccessCreds {
    Fs,
    Real,
}

/// __ptrace_may_access(PTRACE_MODE_ATTACH): a process may always attach
/// to itself; otherwise the caller's uid and gid must equal all of the
/// target's real, effective and saved ids, and the target must be dumpable,
/// unless the caller has CAP_SYS_PTRACE.
pub fn may_attach(caller: &Process, target: &Process, which: AccessCreds) -> bool {
    if core::ptr::eq(caller, target) {
        return true;
    }
    let c = caller.creds.lock().clone();
    let privileged = c.capable(CAP_SYS_PTRACE);
    let t = target.creds.lock().clone();
    let (uid, gid) = match which {
        AccessCreds::Fs => (c.fsuid, c.fsgid),
        AccessCreds::Real => (c.uid, c.gid),
    };
    let same_ids = [t.uid, t.euid, t.suid].iter().all(|&id| id == uid)
        && [t.gid, t.egid, t.sgid].iter().all(|&id| id == gid);
    if !same_ids && !privileged {
        return false;
    }
    // SUID_DUMP_USER (1); 0 and 2 need the capability.
    target.dumpable.load(Ordering::Relaxed) == 1 || privileged
}
