//! ptrace: the tracee's side (its stops) and the tracer links.
//!
//! A traced thread carries a [`Tracee`] record in `Thread::ptrace`; its
//! tracer process lists it in `Process::tracees`. The tracee stops itself
//! ([`stop`]) at the points Linux does: signal delivery, group stop,
//! syscall entry and exit, exec, fork/clone events, exit, and single steps.
//! While stopped its user registers are parked in the record so the tracer
//! can read and change them; the tracer's resume request (`Tracee::resume`)
//! ends the stop. Stops reach the tracer through wait4/waitid
//! ([`crate::task::wait`]), not the real parent.
//!
//! Lock order: `Process::tracees` (tracer) → `Thread::ptrace` (tracee) →
//! `Process::tree`. A tracee never holds its record's lock while it
//! notifies the tracer or blocks.

pub mod regs;
pub mod syscall;

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU32, Ordering};

use ax_hal::cpu::user::UserContext;
use ax_sync::SpinLock;

use super::{
    Process, Thread, block, exit,
    signal::{self, SIGCHLD, SIGKILL, SigInfo, send},
};
use crate::error::{Errno, KResult};

/// PTRACE_O_* options (include/uapi/linux/ptrace.h).
pub const O_TRACESYSGOOD: u32 = 1;
pub const O_TRACEFORK: u32 = 1 << 1;
pub const O_TRACEVFORK: u32 = 1 << 2;
pub const O_TRACECLONE: u32 = 1 << 3;
pub const O_TRACEEXEC: u32 = 1 << 4;
pub const O_TRACEVFORKDONE: u32 = 1 << 5;
pub const O_TRACEEXIT: u32 = 1 << 6;
pub const O_TRACESECCOMP: u32 = 1 << 7;
pub const O_EXITKILL: u32 = 1 << 20;
pub const O_SUSPEND_SECCOMP: u32 = 1 << 21;
/// Every option SETOPTIONS and SEIZE accept (PTRACE_O_MASK). VFORKDONE
/// and TRACESECCOMP are accepted; their events never happen here.
pub const O_MASK: u32 = O_TRACESYSGOOD
    | O_TRACEFORK
    | O_TRACEVFORK
    | O_TRACECLONE
    | O_TRACEEXEC
    | O_TRACEVFORKDONE
    | O_TRACEEXIT
    | O_TRACESECCOMP
    | O_EXITKILL
    | O_SUSPEND_SECCOMP;

/// PTRACE_EVENT_* codes (the byte above the signal in the wait status).
pub const EVENT_FORK: i32 = 1;
pub const EVENT_VFORK: i32 = 2;
pub const EVENT_CLONE: i32 = 3;
pub const EVENT_EXEC: i32 = 4;
pub const EVENT_EXIT: i32 = 6;
pub const EVENT_STOP: i32 = 128;

/// Fast-path flag bits of [`PtraceLink::flags`].
const TRACED: u32 = 1;
const SYSCALL: u32 = 2;
const STEP: u32 = 4;

/// What kind of stop the tracee is in (PTRACE_GET_SYSCALL_INFO's `op`
/// and the requests that need a siginfo).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopKind {
    /// Signal-delivery-stop: GETSIGINFO returns the signal's siginfo.
    Signal,
    /// Group-stop (a stop signal took effect).
    Group,
    SyscallEntry,
    SyscallExit,
    /// PTRACE_EVENT_* stops and the post-exec SIGTRAP.
    Event,
    /// PTRACE_EVENT_EXIT: taken by a thread already on its way out.
    Exit,
}

/// A stop the tracer has not yet resumed.
#[derive(Clone, Copy, Debug)]
pub struct Stop {
    /// The wait status the tracer's wait reports (`sig << 8 | 0x7f`, with
    /// the event in bits 16..).
    pub status: i32,
    /// Whether a wait already reported it.
    pub reported: bool,
    pub kind: StopKind,
}

/// How the tracer resumed the tracee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Continue, delivering `sig` (0: none).
    Cont(i32),
    /// The tracer detached (or went away), delivering `sig`.
    Detach(i32),
}

/// The ptrace state of a traced thread.
pub struct Tracee {
    pub tracer: Weak<Process>,
    pub options: u32,
    /// Attached with PTRACE_SEIZE (INTERRUPT/LISTEN allowed, no SIGSTOP).
    pub seized: bool,
    pub stop: Option<Stop>,
    /// The tracer's answer to the current stop.
    pub resume: Option<Resume>,
    /// The user registers while stopped.
    pub regs: Option<UserContext>,
    /// The signal of a signal-delivery-stop (GETSIGINFO/SETSIGINFO).
    pub siginfo: Option<SigInfo>,
    /// PTRACE_GETEVENTMSG.
    pub event_msg: usize,
    /// The syscall number of a syscall-stop (x86_64's orig_rax; the tracer
    /// may replace it, -1 skips the call).
    pub syscall_nr: Option<usize>,
    /// The return value at a syscall-exit-stop.
    pub syscall_ret: usize,
    /// PTRACE_INTERRUPT asked for an event stop (or a listening tracee
    /// was continued and re-traps).
    pub interrupt: bool,
    /// PTRACE_LISTEN: stopped, but not available to requests, until
    /// SIGCONT ends the group-stop.
    pub listening: bool,
    /// The FP state while stopped, and whether the tracer changed it.
    pub fp: Option<(regs::FpRegs, bool)>,
}

/// The per-thread ptrace link: a flag word read on every syscall and the
/// record behind it.
#[derive(Default)]
pub struct PtraceLink {
    flags: AtomicU32,
    pub state: SpinLock<Option<Tracee>>,
}

impl PtraceLink {
    /// Whether the thread is traced (one load; the syscall fast path).
    pub fn traced(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & TRACED != 0
    }

    /// Whether syscall-stops were requested (PTRACE_SYSCALL).
    pub fn syscall_stops(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & SYSCALL != 0
    }

    /// Whether a single step was requested (PTRACE_SINGLESTEP).
    pub fn stepping(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & STEP != 0
    }

    /// Sets the resume mode flags (PTRACE_CONT/SYSCALL/SINGLESTEP).
    pub fn set_mode(&self, syscall: bool, step: bool) {
        let mut f = TRACED;
        if syscall {
            f |= SYSCALL;
        }
        if step {
            f |= STEP;
        }
        self.flags.store(f, Ordering::Release);
    }

    /// The tracer process, if the thread is traced.
    pub fn tracer(&self) -> Option<Arc<Process>> {
        self.state.lock().as_ref()?.tracer.upgrade()
    }
}

/// Makes `tracer` trace `thread`. EPERM if it is already traced.
pub fn link(
    tracer: &Arc<Process>,
    thread: &Arc<Thread>,
    options: u32,
    seized: bool,
) -> KResult<()> {
    let mut tracees = tracer.tracees.lock();
    {
        let mut st = thread.ptrace.state.lock();
        if st.is_some() {
            return Err(Errno::EPERM);
        }
        *st = Some(Tracee {
            tracer: Arc::downgrade(tracer),
            options,
            seized,
            stop: None,
            resume: None,
            regs: None,
            siginfo: None,
            event_msg: 0,
            syscall_nr: None,
            syscall_ret: 0,
            interrupt: false,
            listening: false,
            fp: None,
        });
        thread.ptrace.set_mode(false, false);
    }
    tracees.push(thread.clone());
    Ok(())
}

/// Ends tracing of `thread` by `tracer`: the record goes, a stopped tracee
/// resumes delivering `sig`.
pub fn unlink(tracer: &Process, thread: &Arc<Thread>, sig: i32) {
    tracer.tracees.lock().retain(|t| !Arc::ptr_eq(t, thread));
    let mut st = thread.ptrace.state.lock();
    if let Some(t) = st.as_mut() {
        if t.stop.is_some() {
            // The stopped tracee takes its registers back and clears the
            // record itself (see `stop`); it has no tracer from now on.
            t.resume = Some(Resume::Detach(sig));
            t.tracer = Weak::new();
        } else {
            *st = None;
        }
    }
    thread.ptrace.flags.store(0, Ordering::Release);
    drop(st);
    thread.waiter.wake();
}

/// The tracer process is exiting: every tracee is detached, or killed if
/// it asked for PTRACE_O_EXITKILL (kernel/ptrace.c exit_ptrace).
pub fn tracer_exit(tracer: &Process) {
    let tracees = core::mem::take(&mut *tracer.tracees.lock());
    for t in tracees {
        let kill = t
            .ptrace
            .state
            .lock()
            .as_ref()
            .is_some_and(|s| s.options & O_EXITKILL != 0);
        unlink(tracer, &t, 0);
        if kill {
            send::send_to_process(&t.process, SigInfo::kernel(SIGKILL));
        }
    }
}

/// A tracee thread is leaving: it leaves its tracer's list. A tracer that
/// is not the parent learns of the exit through its wait (`exit_status`).
pub fn tracee_exit(thread: &Arc<Thread>) -> Option<Arc<Process>> {
    if !thread.ptrace.traced() {
        return None;
    }
    thread.ptrace.flags.store(0, Ordering::Release);
    thread.ptrace.tracer()
}

fn sigkill_pending(thread: &Thread) -> bool {
    thread.pending.lock().set().has(SIGKILL)
        || thread.process.shared_pending.lock().set().has(SIGKILL)
}

/// Tells the tracer of a new stop: SIGCHLD with CLD_TRAPPED and a wakeup
/// of its waits (kernel/signal.c do_notify_parent_cldstop).
fn notify_tracer(tracer: &Arc<Process>, thread: &Thread, sig: i32) {
    let act = tracer.actions.lock()[(SIGCHLD - 1) as usize];
    if act.flags & signal::SA_NOCLDSTOP == 0 {
        let info = SigInfo {
            signo: SIGCHLD,
            code: signal::CLD_TRAPPED,
            pid: thread.tid(),
            uid: thread.process.creds.lock().uid,
            status: sig,
            ..SigInfo::default()
        };
        send::send_to_process(tracer, info);
    }
    tracer.notify_child_event();
}

/// Puts `thread` into a ptrace-stop reported with wait status `status`,
/// until the tracer resumes it, it is killed, or the tracer goes away.
/// Returns the signal the tracer passed (0 for none), or `None` if the
/// thread is not traced (any more).
pub fn stop(
    thread: &Arc<Thread>,
    ctx: &mut UserContext,
    status: i32,
    kind: StopKind,
    siginfo: Option<SigInfo>,
) -> Option<i32> {
    let tracer = {
        let mut st = thread.ptrace.state.lock();
        let t = st.as_mut()?;
        let tracer = t.tracer.upgrade()?;
        t.stop = Some(Stop {
            status,
            reported: false,
            kind,
        });
        t.resume = None;
        t.regs = Some(*ctx);
        t.fp = Some((regs::save_fp(ctx), false));
        // Syscall and event stops carry a synthetic SIGTRAP siginfo whose
        // code is the stop's signal word (kernel/signal.c ptrace_do_notify);
        // a group stop has none.
        t.siginfo = siginfo.or_else(|| {
            (kind != StopKind::Group).then(|| SigInfo {
                signo: signal::SIGTRAP,
                code: status >> 8,
                pid: thread.process.view(thread.tid()),
                uid: thread.process.creds.lock().uid,
                ..SigInfo::default()
            })
        });
        tracer
    };
    let leaving = |t: &Thread| sigkill_pending(t) || (t.is_exiting() && kind != StopKind::Exit);
    if leaving(thread) {
        finish(thread, ctx);
        return None;
    }
    notify_tracer(&tracer, thread, (status >> 8) & 0xff);
    drop(tracer);
    let _ = block::wait_event(
        thread,
        None,
        block::Interruptible::Traced,
        |_| {},
        || {
            let (resumed, listening) = match thread.ptrace.state.lock().as_ref() {
                None => (true, false),
                Some(t) => (
                    t.resume.is_some() || t.tracer.strong_count() == 0,
                    t.listening,
                ),
            };
            // A listening tracee leaves its group-stop at SIGCONT.
            let continued = listening
                && !matches!(
                    thread.process.tree.lock().state,
                    super::process::ProcState::Stopped { .. }
                );
            (resumed || continued || leaving(thread)).then_some(Ok(()))
        },
    );
    finish(thread, ctx)
}

/// Leaves a stop: takes the (possibly changed) registers back and the
/// tracer's answer.
fn finish(thread: &Thread, ctx: &mut UserContext) -> Option<i32> {
    let mut st = thread.ptrace.state.lock();
    let t = st.as_mut()?;
    if let Some(regs) = t.regs.take() {
        *ctx = regs;
    }
    if let Some((fp, true)) = t.fp.take() {
        regs::restore_fp(ctx, &fp);
    }
    t.stop = None;
    let resume = t.resume.take();
    if core::mem::take(&mut t.listening) && resume.is_none() {
        t.interrupt = true;
    }
    let gone = t.tracer.strong_count() == 0;
    if matches!(resume, Some(Resume::Detach(_))) || gone {
        *st = None;
        thread.ptrace.flags.store(0, Ordering::Release);
        regs::set_single_step(ctx, false);
    }
    match resume {
        Some(Resume::Cont(sig)) | Some(Resume::Detach(sig)) => Some(sig),
        None => Some(0),
    }
}

/// Signal-delivery-stop for a dequeued signal (kernel/signal.c
/// ptrace_signal): the tracer decides. Returns the signal to act on
/// instead, or `None` to drop it.
pub fn signal_stop(thread: &Arc<Thread>, ctx: &mut UserContext, info: SigInfo) -> Option<SigInfo> {
    let sig = info.signo;
    let answer = stop(thread, ctx, (sig << 8) | 0x7f, StopKind::Signal, Some(info));
    let Some(new) = answer else {
        // Not traced after all (detached meanwhile): act normally.
        return Some(info);
    };
    if new == 0 || !signal::valid(new) {
        return None;
    }
    // SETSIGINFO may have replaced the information; a different signal
    // number makes it a signal from the tracer.
    let mut out = thread
        .ptrace
        .state
        .lock()
        .as_ref()
        .and_then(|t| t.siginfo)
        .unwrap_or(info);
    if new != out.signo {
        let tracer = thread.ptrace.tracer();
        out = SigInfo::user(new, tracer.map_or(0, |p| thread.process.view(p.pid)), 0);
    }
    // A signal that is now blocked goes back to the queue.
    if thread.sigmask().has(new) {
        thread.pending.lock().push(out);
        return None;
    }
    Some(out)
}

/// A ptrace event stop (`PTRACE_EVENT_*`) if the tracer asked for it with
/// `option`; `msg` is what GETEVENTMSG returns.
pub fn event(
    thread: &Arc<Thread>,
    ctx: &mut UserContext,
    option: u32,
    event: i32,
    msg: usize,
) -> bool {
    {
        let mut st = thread.ptrace.state.lock();
        let Some(t) = st.as_mut() else {
            return false;
        };
        if t.options & option == 0 {
            return false;
        }
        t.event_msg = msg;
    }
    let status = (event << 16) | (signal::SIGTRAP << 8) | 0x7f;
    if let Some(sig) = stop(thread, ctx, status, StopKind::Event, None)
        && sig != 0
    {
        send::send_to_thread(thread, SigInfo::kernel(sig));
    }
    true
}

/// PTRACE_EVENT_EXIT with PTRACE_O_TRACEEXIT: the leaving thread stops
/// with its registers intact, the wait status as the event message
/// (kernel/exit.c do_exit).
pub fn before_exit(thread: &Arc<Thread>, ctx: &mut UserContext) {
    let Some(status) = thread.exit_requested() else {
        return;
    };
    {
        let mut st = thread.ptrace.state.lock();
        let Some(t) = st.as_mut() else {
            return;
        };
        if t.options & O_TRACEEXIT == 0 {
            return;
        }
        t.event_msg = status as usize;
    }
    let status = (EVENT_EXIT << 16) | (signal::SIGTRAP << 8) | 0x7f;
    stop(thread, ctx, status, StopKind::Exit, None);
}

/// After a successful execve: PTRACE_EVENT_EXEC with TRACEEXEC, else a
/// plain SIGTRAP (kernel/exec.c ptrace_event(PTRACE_EVENT_EXEC)).
pub fn after_exec(thread: &Arc<Thread>, ctx: &mut UserContext) {
    if !thread.ptrace.traced() {
        return;
    }
    let pid = thread.process.view(thread.process.pid) as usize;
    if !event(thread, ctx, O_TRACEEXEC, EVENT_EXEC, pid) {
        send::send_to_thread(thread, SigInfo::kernel(signal::SIGTRAP));
    }
}

/// A group stop of a traced thread is reported to the tracer and ends when
/// the tracer resumes it (not at SIGCONT), as for a non-seized tracee on
/// Linux.
pub fn group_stop(thread: &Arc<Thread>, ctx: &mut UserContext, sig: i32) {
    {
        let mut tree = thread.process.tree.lock();
        if tree.group_exit.is_some() {
            return;
        }
        tree.state = super::process::ProcState::Stopped {
            sig,
            reported: false,
        };
    }
    exit::notify_parent_stopped(&thread.process, sig);
    // A seized tracee reports it as PTRACE_EVENT_STOP (ptrace(2)
    // "group-stop"), with a siginfo whose code is that stop word.
    let seized = thread
        .ptrace
        .state
        .lock()
        .as_ref()
        .is_some_and(|t| t.seized);
    if seized {
        let info = SigInfo {
            signo: sig,
            code: (EVENT_STOP << 8) | sig,
            pid: thread.process.view(thread.tid()),
            uid: thread.process.creds.lock().uid,
            ..SigInfo::default()
        };
        let status = (EVENT_STOP << 16) | (sig << 8) | 0x7f;
        stop(thread, ctx, status, StopKind::Group, Some(info));
    } else {
        stop(thread, ctx, (sig << 8) | 0x7f, StopKind::Group, None);
    }
    {
        let mut tree = thread.process.tree.lock();
        if matches!(tree.state, super::process::ProcState::Stopped { .. }) {
            tree.state = super::process::ProcState::Running;
        }
    }
    // Continued while listening: re-trap (kernel/signal.c
    // ptrace_trap_notify) before SIGCONT's own stop.
    pending_interrupt(thread, ctx);
}

/// PTRACE_INTERRUPT / a pending SEIZE stop: an EVENT_STOP stop taken on
/// the way to user mode.
pub fn pending_interrupt(thread: &Arc<Thread>, ctx: &mut UserContext) {
    let wanted = thread
        .ptrace
        .state
        .lock()
        .as_mut()
        .is_some_and(|t| core::mem::take(&mut t.interrupt));
    if wanted {
        let status = (EVENT_STOP << 16) | (signal::SIGTRAP << 8) | 0x7f;
        stop(thread, ctx, status, StopKind::Event, None);
    }
}

/// The tracee `tid_global` of `tracer`, which must be in a ptrace-stop
/// (ESRCH otherwise, as kernel/ptrace.c ptrace_check_attach).
pub fn stopped_tracee(tracer: &Process, tid_global: super::Pid) -> KResult<Arc<Thread>> {
    let thread = tracer
        .tracees
        .lock()
        .iter()
        .find(|t| t.tid() == tid_global)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    let stopped = thread
        .ptrace
        .state
        .lock()
        .as_ref()
        .is_some_and(|t| t.stop.is_some() && t.resume.is_none() && !t.listening);
    if !stopped {
        return Err(Errno::ESRCH);
    }
    Ok(thread)
}

/// CLONE_UNTRACED and CLONE_VFORK (the bits that choose a fork event).
const CLONE_VFORK: u64 = 0x4000;
const CLONE_UNTRACED: u64 = 0x0080_0000;

/// Which event a clone by a traced `parent` reports, if its tracer asked
/// for it (kernel/fork.c kernel_clone): auto-attaches `child` to the same
/// tracer with a SIGSTOP queued, before it first runs.
pub fn fork_attach(parent: &Arc<Thread>, child: &Arc<Thread>, flags: u64) -> Option<(u32, i32)> {
    if !parent.ptrace.traced() || flags & CLONE_UNTRACED != 0 {
        return None;
    }
    let exit_signal = (flags & 0xff) as i32;
    let (option, event) = if flags & CLONE_VFORK != 0 {
        (O_TRACEVFORK, EVENT_VFORK)
    } else if exit_signal != SIGCHLD {
        (O_TRACECLONE, EVENT_CLONE)
    } else {
        (O_TRACEFORK, EVENT_FORK)
    };
    let (tracer, options, seized) = {
        let st = parent.ptrace.state.lock();
        let t = st.as_ref()?;
        if t.options & option == 0 {
            return None;
        }
        (t.tracer.upgrade()?, t.options, t.seized)
    };
    link(&tracer, child, options, seized).ok()?;
    // A seized child reports an EVENT_STOP instead of a SIGSTOP.
    if seized {
        if let Some(t) = child.ptrace.state.lock().as_mut() {
            t.interrupt = true;
        }
    } else {
        child.pending.lock().push(SigInfo::kernel(signal::SIGSTOP));
    }
    Some((option, event))
}
