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

/// Whether a signal to the init of a PID namespace is dropped: init only
/// receives signals it installed a handler for, except SIGKILL and
/// SIGSTOP sent from an ancestor namespace (pid_namespaces(7)). The
/// sender's permission check still happened, so the call succeeds.
fn init_protected(sender: &Process, target: &Process, sig: i32) -> bool {
    use crate::task::signal::{SIG_DFL, SIGKILL, SIGSTOP};
    if !target.is_ns_init() {
        return false;
    }
    let from_ancestor = !core::ptr::eq(&*sender.pid_ns, &*target.pid_ns)
        && sender.pid_ns.is_ancestor_of(&target.pid_ns);
    if from_ancestor && (sig == SIGKILL || sig == SIGSTOP) {
        return false;
    }
    target.actions.lock()[(sig - 1) as usize].handler == SIG_DFL
}

/// kill(2). As in kernel/signal.c, the targets are found first (ESRCH when
/// there are none), then the signal number is checked (EINVAL).
#[inline(never)]
pub fn sys_kill(sc: &mut SyscallContext<'_>, pid: i32, sig: i32) -> SysResult {
    let me = &sc.thread.process;
    let uid = me.creds.lock().uid;
    let group = |pgid: Option<i32>| pgid.map(table::group_members).unwrap_or_default();
    let targets = match pid {
        p if p > 0 => alloc::vec![process_of(sc, p).ok_or(Errno::ESRCH)?],
        0 => table::group_members(me.pgid()),
        // Every process the caller's namespace can see, but its init and
        // the caller.
        -1 => table::all_processes()
            .into_iter()
            .filter(|p| {
                me.pid_ns.local(p.pid).is_some() && !p.is_ns_init_of(&me.pid_ns) && p.pid != me.pid
            })
            .collect(),
        p => group(p.checked_neg().and_then(|g| sc.global_id(g))),
    };
    let targets: alloc::vec::Vec<_> = targets
        .into_iter()
        .filter(|p| !p.is_zombie() || pid > 0)
        .collect();
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    let mut sent = false;
    for t in &targets {
        if !may_signal(me, t, sig) {
            continue;
        }
        sent = true;
        if sig != 0 && !init_protected(me, t, sig) {
            send::send_to_process(t, SigInfo::user(sig, me.pid, uid));
        }
    }
    if sent { Ok(0) } else { Err(Errno::EPERM) }
}

/// The process a positive kill/sigqueue id names: a process id, or the id
/// of any of its threads (kill_pid_info looks the number up as a task and
/// signals its thread group).
fn process_of(sc: &SyscallContext<'_>, id: i32) -> Option<alloc::sync::Arc<crate::task::Process>> {
    sc.process_by_pid(id)
        .or_else(|| sc.thread_by_tid(id).map(|t| t.process.clone()))
}

/// tgkill(2).
#[inline(never)]
pub fn sys_tgkill(sc: &mut SyscallContext<'_>, tgid: i32, tid: i32, sig: i32) -> SysResult {
    // kernel/signal.c: "This is only valid for single tasks", tgid > 0.
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    thread_kill(sc, Some(tgid), tid, sig)
}

/// tkill(2).
#[inline(never)]
pub fn sys_tkill(sc: &mut SyscallContext<'_>, tid: i32, sig: i32) -> SysResult {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    thread_kill(sc, None, tid, sig)
}

/// do_send_specific: `sig` to thread `tid`, which must belong to `tgid` if
/// given. The thread is looked up (ESRCH) before the signal number is
/// checked (EINVAL), then the permission (EPERM).
fn thread_kill(sc: &mut SyscallContext<'_>, tgid: Option<i32>, tid: i32, sig: i32) -> SysResult {
    let t = sc.thread_by_tid(tid).ok_or(Errno::ESRCH)?;
    if tgid.is_some_and(|g| Some(t.process.pid) != sc.global_id(g)) {
        return Err(Errno::ESRCH);
    }
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    if !may_signal(&sc.thread.process, &t.process, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && !init_protected(&sc.thread.process, &t.process, sig) {
        let me = &sc.thread.process;
        let mut info = SigInfo::user(sig, me.pid, me.creds.lock().uid);
        info.code = SI_TKILL;
        send::send_to_thread(&t, info);
    }
    Ok(0)
}

/// Reads a user `siginfo_t` for sigqueue (copied in before anything is
/// checked, EFAULT, as kernel/signal.c does).
fn read_info(uinfo: usize) -> KResult<[u8; 128]> {
    let mut b = [0u8; 128];
    usercopy::copy_from_user(&mut b, uinfo)?;
    Ok(b)
}

/// The signal sigqueue sends: the code and the sender fields the caller
/// chose. A code of the kernel's or kill's (>= 0, SI_TKILL) may only be
/// forged towards oneself.
fn queued_info(sc: &SyscallContext<'_>, sig: i32, b: &[u8; 128], target: i32) -> KResult<SigInfo> {
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
        // The sender names a pid in its own namespace; queueing translates
        // it for the receiver.
        pid: sc.global_id(word(16)).unwrap_or(0),
        uid: word(20) as u32,
        value: usize::from_ne_bytes(b[24..32].try_into().unwrap_or([0; 8])),
        timer_id: word(16),
        overrun: word(20),
        ..SigInfo::default()
    })
}

/// rt_sigqueueinfo(2): a process-directed signal with caller-supplied data.
#[inline(never)]
pub fn sys_rt_sigqueueinfo(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    sig: i32,
    uinfo: usize,
) -> SysResult {
    let raw = read_info(uinfo)?;
    let info = queued_info(sc, sig, &raw, pid)?;
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let target = process_of(sc, pid).ok_or(Errno::ESRCH)?;
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    if !may_signal(&sc.thread.process, &target, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && !init_protected(&sc.thread.process, &target, sig) {
        send::send_to_process(&target, info);
    }
    Ok(0)
}

/// rt_tgsigqueueinfo(2): the same, directed at thread `tid` of `tgid`.
#[inline(never)]
pub fn sys_rt_tgsigqueueinfo(
    sc: &mut SyscallContext<'_>,
    tgid: i32,
    tid: i32,
    sig: i32,
    uinfo: usize,
) -> SysResult {
    let raw = read_info(uinfo)?;
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let info = queued_info(sc, sig, &raw, tid)?;
    let t = sc.thread_by_tid(tid).ok_or(Errno::ESRCH)?;
    if Some(t.process.pid) != sc.global_id(tgid) {
        return Err(Errno::ESRCH);
    }
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL);
    }
    if !may_signal(&sc.thread.process, &t.process, sig) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && !init_protected(&sc.thread.process, &t.process, sig) {
        send::send_to_thread(&t, info);
    }
    Ok(0)
}
