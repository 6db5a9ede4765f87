//! Waiting for children: the state machine behind wait4 and waitid.

use alloc::sync::Arc;

use axpoll::{IoEvents, PollSource};

use super::{Pid, Process, Thread, block, process::ProcState, table};
use crate::error::{Errno, KResult};

/// Which children a wait selects.
#[derive(Clone, Copy, Debug)]
pub enum WaitTarget {
    Any,
    Pid(Pid),
    Group(Pid),
}

/// wait options (wait(2)).
pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;
pub const WEXITED: u32 = 4;
pub const WCONTINUED: u32 = 8;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const WNOTHREAD: u32 = 0x2000_0000;
pub const WALL: u32 = 0x4000_0000;
pub const WCLONE: u32 = 0x8000_0000;

/// A child state change that a wait reports.
#[derive(Clone, Copy, Debug)]
pub struct WaitResult {
    /// The child's pid as the waiting process sees it (its PID namespace
    /// numbers are gone once the child is reaped).
    pub pid: Pid,
    /// The wait status word.
    pub status: i32,
    pub uid: u32,
    /// CPU time of the reaped child and its reaped descendants (ns).
    pub cpu_ns: u64,
    /// The user-mode part of `cpu_ns`.
    pub user_ns: u64,
    /// The child's ru_maxrss (its own or its descendants', KiB).
    pub maxrss_kb: u64,
    /// A ptrace-stop (waitid reports CLD_TRAPPED).
    pub trapped: bool,
}

fn matches(child: &Process, target: WaitTarget, options: u32) -> bool {
    let selected = match target {
        WaitTarget::Any => true,
        WaitTarget::Pid(pid) => child.pid == pid,
        WaitTarget::Group(pgid) => child.pgid() == pgid,
    };
    // A "clone" child reports its exit with a signal other than SIGCHLD
    // (or none): only __WCLONE waits for those, only __WALL for both.
    let clone_child = *child.exit_signal.lock() != super::signal::SIGCHLD;
    selected && (options & WALL != 0 || clone_child == (options & WCLONE != 0))
}

fn poll_children(
    me: &Arc<Process>,
    target: WaitTarget,
    options: u32,
) -> Option<KResult<Option<WaitResult>>> {
    let mut any = false;
    if let Some(r) = poll_tracees(me, target, options, &mut any) {
        return Some(Ok(Some(r)));
    }
    let children = me.tree.lock().children.clone();
    for child in &children {
        if !matches(child, target, options) {
            continue;
        }
        any = true;
        let uid = child.creds.lock().uid;
        let mut tree = child.tree.lock();
        match tree.state {
            ProcState::Zombie { status } if options & WEXITED != 0 => {
                drop(tree);
                let pid = me.view(child.pid);
                use core::sync::atomic::Ordering::{AcqRel, Acquire};
                let (own, reaped) = (child.cpu_sample(), child.children_cpu());
                let cpu_ns = own.total + reaped.total;
                let user_ns = own.user + reaped.user;
                let maxrss_kb = child
                    .maxrss_kb
                    .load(Acquire)
                    .max(child.children_maxrss_kb.load(Acquire));
                if options & WNOWAIT == 0 {
                    me.tree.lock().children.retain(|c| !Arc::ptr_eq(c, child));
                    me.children_cpu_ns.fetch_add(cpu_ns, AcqRel);
                    me.children_user_ns.fetch_add(user_ns, AcqRel);
                    me.children_maxrss_kb.fetch_max(maxrss_kb, AcqRel);
                    table::remove_process(child.pid);
                }
                return Some(Ok(Some(WaitResult {
                    pid,
                    status,
                    uid,
                    cpu_ns,
                    user_ns,
                    maxrss_kb,
                    trapped: false,
                })));
            }
            ProcState::Stopped { sig, reported } if options & WUNTRACED != 0 && !reported => {
                if options & WNOWAIT == 0 {
                    tree.state = ProcState::Stopped {
                        sig,
                        reported: true,
                    };
                }
                return Some(Ok(Some(WaitResult {
                    pid: me.view(child.pid),
                    status: (sig << 8) | 0x7f,
                    uid,
                    cpu_ns: 0,
                    user_ns: 0,
                    maxrss_kb: 0,
                    trapped: false,
                })));
            }
            _ if options & WCONTINUED != 0 && tree.continued => {
                if options & WNOWAIT == 0 {
                    tree.continued = false;
                }
                return Some(Ok(Some(WaitResult {
                    pid: me.view(child.pid),
                    status: 0xffff,
                    uid,
                    cpu_ns: 0,
                    user_ns: 0,
                    maxrss_kb: 0,
                    trapped: false,
                })));
            }
            _ => {}
        }
    }
    if !any {
        return Some(Err(Errno::ECHILD));
    }
    if options & WNOHANG != 0 {
        return Some(Ok(None));
    }
    None
}

/// The ptrace-stops and exits of the threads `me` traces (kernel/exit.c
/// ptrace_do_wait): every tracee is eligible whatever its exit signal. A
/// tracee that is also a child reports its exit through the child path.
fn poll_tracees(
    me: &Arc<Process>,
    target: WaitTarget,
    options: u32,
    any: &mut bool,
) -> Option<WaitResult> {
    let tracees = me.tracees.lock().clone();
    for t in &tracees {
        let selected = match target {
            WaitTarget::Any => true,
            WaitTarget::Pid(pid) => t.tid() == pid,
            WaitTarget::Group(pgid) => t.process.pgid() == pgid,
        };
        if !selected {
            continue;
        }
        *any = true;
        let result = |status, trapped| WaitResult {
            pid: me.view(t.tid()),
            status,
            uid: t.process.creds.lock().uid,
            cpu_ns: 0,
            user_ns: 0,
            maxrss_kb: 0,
            trapped,
        };
        let zombie = match t.process.tree.lock().state {
            ProcState::Zombie { status } => Some(status),
            _ => None,
        };
        if let Some(status) = zombie {
            let is_parent = t
                .process
                .tree
                .lock()
                .parent
                .upgrade()
                .is_some_and(|p| Arc::ptr_eq(&p, me));
            if is_parent || options & WNOWAIT == 0 {
                me.tracees.lock().retain(|x| !Arc::ptr_eq(x, t));
                *t.ptrace.state.lock() = None;
            }
            if !is_parent && options & WEXITED != 0 {
                return Some(result(status, false));
            }
            continue;
        }
        let mut st = t.ptrace.state.lock();
        if let Some(tr) = st.as_mut()
            && tr.resume.is_none()
            && let Some(stop) = tr.stop.as_mut()
            && !stop.reported
        {
            if options & WNOWAIT == 0 {
                stop.reported = true;
            }
            let status = stop.status;
            drop(st);
            return Some(result(status, true));
        }
    }
    None
}

/// Waits for a child of the calling process to change state.
/// `Ok(None)` is the WNOHANG "nothing yet" answer.
pub fn wait_child(
    thread: &Thread,
    target: WaitTarget,
    options: u32,
) -> KResult<Option<WaitResult>> {
    let me = thread.process.clone();
    block::wait_event(
        thread,
        None,
        block::Interruptible::Restart,
        |sink| {
            // SAFETY: the registration is dropped by `wait_event` before `me`.
            unsafe { sink.register_shared(&me.child_event as &dyn PollSource, IoEvents::IN) };
        },
        || poll_children(&me, target, options),
    )
}
