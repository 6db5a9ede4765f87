//! Sending signals: kill, tkill, the terminal's job-control signals and the
//! kernel's own (SIGCHLD, SIGPIPE, fault signals).

use alloc::sync::Arc;

use super::{
    DefaultAction, SIG_DFL, SIG_IGN, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SigInfo,
    SigSet, default_action,
};
use crate::task::{Process, Thread, process::ProcState};

fn stop_signals() -> SigSet {
    SigSet(
        SigSet::of(SIGSTOP).0
            | SigSet::of(SIGTSTP).0
            | SigSet::of(SIGTTIN).0
            | SigSet::of(SIGTTOU).0,
    )
}

/// Whether delivering `sig` to `p` would have no effect at all, so it can
/// be dropped at send time (signal(7): ignored signals are discarded).
fn is_ignored(p: &Process, sig: i32) -> bool {
    if sig == SIGKILL || sig == SIGSTOP {
        return false;
    }
    // A tracer sees even ignored signals (kernel/signal.c sig_ignored).
    if p.threads.lock().iter().any(|t| t.ptrace.traced()) {
        return false;
    }
    let act = p.actions.lock()[(sig - 1) as usize];
    act.handler == SIG_IGN
        || (act.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore)
}

/// Whether a thread of `p` blocks `sig`. A blocked signal is never
/// discarded when it is generated, whatever its disposition: the handler
/// may change before it is unblocked, and sigtimedwait(2) takes it from
/// the pending set (kernel/signal.c sig_ignored, "Blocked signals are
/// never ignored"). A program that blocks SIGCHLD and waits for it with
/// sigtimedwait relies on this, trinity's main loop for one.
fn blocked_in(p: &Process, sig: i32) -> bool {
    p.threads.lock().iter().any(|t| t.sigmask().has(sig))
}

/// Side effects that happen when a signal is generated, before queueing:
/// SIGCONT resumes a stopped process and discards pending stop signals; a
/// stop signal discards pending SIGCONT; SIGKILL resumes a stopped process
/// so it can die.
fn generate_side_effects(p: &Arc<Process>, sig: i32) {
    if sig == SIGCONT || sig == SIGKILL {
        p.cont_seq
            .fetch_add(1, core::sync::atomic::Ordering::AcqRel);
        for t in p.threads.lock().iter() {
            t.pending.lock().discard(stop_signals());
        }
        p.shared_pending.lock().discard(stop_signals());
        let resumed = {
            let mut tree = p.tree.lock();
            if matches!(tree.state, ProcState::Stopped { .. }) {
                tree.state = ProcState::Running;
                tree.continued = sig == SIGCONT;
                true
            } else {
                false
            }
        };
        if resumed {
            for t in p.threads.lock().iter() {
                t.waiter.wake();
            }
            if sig == SIGCONT {
                crate::task::exit::notify_parent_continued(p);
            }
        }
    } else if stop_signals().has(sig) {
        for t in p.threads.lock().iter() {
            t.pending.lock().discard(SigSet::of(SIGCONT));
        }
        p.shared_pending.lock().discard(SigSet::of(SIGCONT));
    }
}

/// Sends a process-directed signal (kill(2)).
pub fn send_to_process(p: &Arc<Process>, info: SigInfo) {
    let info = info.for_receiver(p);
    let sig = info.signo;
    if p.is_zombie() {
        return;
    }
    generate_side_effects(p, sig);
    if is_ignored(p, sig) && !blocked_in(p, sig) {
        return;
    }
    p.shared_pending.lock().push(info);
    wake_for(p, sig);
}

/// Wakes a thread of `p` that does not block `sig` (or the first one).
fn wake_for(p: &Process, sig: i32) {
    let threads = p.threads.lock().clone();
    let target = threads
        .iter()
        .find(|t| !t.sigmask().has(sig))
        .or(threads.first());
    if let Some(t) = target {
        t.waiter.wake();
    }
}

/// Sends the signal of a POSIX timer expiry (`info.timer_key` set) to
/// process `p`, or to `thread` of it for SIGEV_THREAD_ID. While the
/// timer's previous signal is still queued the expiry only raises that
/// signal's overrun count (Linux's send_sigqueue). Returns true when a new
/// signal was queued, false when it was ignored or merged into a queued one.
pub fn send_timer(p: &Arc<Process>, thread: Option<&Arc<Thread>>, info: SigInfo) -> bool {
    let sig = info.signo;
    if p.is_zombie() {
        return false;
    }
    generate_side_effects(p, sig);
    match thread {
        Some(t) => {
            if is_ignored(p, sig) && !t.sigmask().has(sig) {
                return false;
            }
            let queued = t.pending.lock().push_timer(info);
            if queued {
                t.waiter.wake();
            }
            queued
        }
        None => {
            if is_ignored(p, sig) && !blocked_in(p, sig) {
                return false;
            }
            let queued = p.shared_pending.lock().push_timer(info);
            if queued {
                wake_for(p, sig);
            }
            queued
        }
    }
}

/// Sends a thread-directed signal (tkill, synchronous faults).
pub fn send_to_thread(t: &Arc<Thread>, info: SigInfo) {
    let info = info.for_receiver(&t.process);
    let sig = info.signo;
    generate_side_effects(&t.process, sig);
    if is_ignored(&t.process, sig) && !t.sigmask().has(sig) {
        return;
    }
    t.pending.lock().push(info);
    t.waiter.wake();
}

/// Delivers a synchronous fault signal (SIGSEGV, SIGILL, …). As Linux's
/// `force_sig_fault`, a blocked or ignored fault signal is unblocked and
/// reset to its default action: the faulting instruction would otherwise
/// fault again forever.
pub fn force_fault(t: &Arc<Thread>, info: SigInfo) {
    let sig = info.signo;
    let blocked = t.sigmask().has(sig);
    {
        let mut actions = t.process.actions.lock();
        let act = &mut actions[(sig - 1) as usize];
        if blocked || act.handler == SIG_IGN {
            *act = super::SigAction::default();
        }
    }
    if blocked {
        let mut mask = t.sigmask();
        mask.remove(sig);
        t.set_sigmask(mask);
    }
    t.pending.lock().push(info);
}
