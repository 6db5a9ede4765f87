//! kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo.

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{
        Process,
        signal::{SI_TKILL, SigInfo, send, valid},
        table,
    },
    usercopy,
};

fn may_signal(sender: &Process, target: &Process, sig: i32) -> bool {
    if core::ptr::eq(sender, target) {
        return true;
    }
    // SIGCONT may always be sent within a session (kill(2)).
    if sig == crate::task::signal::SIGCONT && sender.sid() == target.sid() {
        return true;
    }
    let me = sender.creds.lock().clone();
    let them = target.creds.lock().clone();
    me.may_signal(&them)
}

/// kill(2).
pub fn sys_kill(sc: &mut SyscallContext<'_>, pid: i32, sig: i32) -> SysResult {
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    let me = &sc.thread.process;
    let uid = me.creds.lock().uid;
    let targets = match pid {
        p if p > 0 => alloc::vec![table::process(p).ok_or(Errno::ESRCH)?],
        0 => table::group_members(me.pgid()),
        -1 => table::all_processes()
            .into_iter()
            .filter(|p| p.pid != 1 && p.pid != me.pid)
            .collect(),
        p => table::group_members(p.checked_neg().ok_or(Errno::ESRCH)?),
    };
    let targets: alloc::vec::Vec<_> = targets
        .into_iter()
        .filter(|p| !p.is_zombie() || pid > 0)
        .collect();
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let mut sent = false;
    for t in &targets {
        if !may_signal(me, t, sig) {
            continue;
        }
        sent = true;
        if sig != 0 {
            send::send_to_process(t, SigInfo::user(sig, me.pid, uid));
        }
    }
    if sent { Ok(0) } else { Err(Errno::EPERM) }
}

/// tgkill(2); tkill(2) is tgid == -1.
pub fn sys_tgkill(sc: &mut SyscallContext<'_>, tgid: i32, tid: i32, sig: i32) -> SysResult {
    if (sig != 0 && !valid(sig)) || tid <= 0 || (tgid != -1 && tgid <= 0) {
        return Err(Errno::EINVAL);
    }
    let t = table::thread(tid).ok_or(Errno::ESRCH)?;
    if tgid != -1 && t.process.pid != tgid {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        let me = &sc.thread.process;
        let mut info = SigInfo::user(sig, me.pid, me.creds.lock().uid);
        info.code = SI_TKILL;
        send::send_to_thread(&t, info);
    }
    Ok(0)
}

/// Reads a user `siginfo_t` for sigqueue: the code and the sender fields
/// the caller chose. A code of the kernel's or kill's (>= 0, SI_TKILL) may
/// only be forged towards oneself.
fn queued_info(sc: &SyscallContext<'_>, sig: i32, uinfo: usize, target: i32) -> KResult<SigInfo> {
    let mut b = [0u8; 128];
    usercopy::copy_from_user(&mut b, uinfo)?;
    let word = |o: usize| i32::from_ne_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let code = word(8);
    if (code >= 0 || code == SI_TKILL) && target != sc.thread.tid() {
        return Err(Errno::EPERM);
    }
    // An SI_TIMER code selects the timer layout: the same two words are
    // si_tid and si_overrun there, delivered as the caller wrote them.
    Ok(SigInfo {
        signo: sig,
        errno: word(4),
        code,
        pid: word(16),
        uid: word(20) as u32,
        value: usize::from_ne_bytes(b[24..32].try_into().unwrap_or([0; 8])),
        timer_id: word(16),
        overrun: word(20),
        ..SigInfo::default()
    })
}

/// rt_sigqueueinfo(2): a process-directed signal with caller-supplied data.
pub fn sys_rt_sigqueueinfo(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    sig: i32,
    uinfo: usize,
) -> SysResult {
    let info = queued_info(sc, sig, uinfo, pid)?;
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let target = table::process(pid).ok_or(Errno::ESRCH)?;
    if !may_signal(&sc.thread.process, &target, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 {
        send::send_to_process(&target, info);
    }
    Ok(0)
}

/// rt_tgsigqueueinfo(2): the same, directed at thread `tid` of `tgid`.
pub fn sys_rt_tgsigqueueinfo(
    sc: &mut SyscallContext<'_>,
    tgid: i32,
    tid: i32,
    sig: i32,
    uinfo: usize,
) -> SysResult {
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let info = queued_info(sc, sig, uinfo, tid)?;
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    let t = table::thread(tid).ok_or(Errno::ESRCH)?;
    if t.process.pid != tgid {
        return Err(Errno::ESRCH);
    }
    if !may_signal(&sc.thread.process, &t.process, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 {
        send::send_to_thread(&t, info);
    }
    Ok(0)
}
