//! Blocking: how a thread sleeps until I/O readiness, a timeout or a signal.
//!
//! Every blocking syscall goes through [`wait_event`]. The thread's
//! [`Waiter`] is registered as an `axpoll` waker on the readiness sources the
//! call cares about; signal senders and exit requests wake the same waiter.
//! The loop registers first and checks the condition second, so a wake-up
//! between the two is never lost.

use alloc::{sync::Arc, task::Wake};
use core::{
    sync::atomic::{AtomicBool, Ordering},
    task::Waker,
    time::Duration,
};

use ax_task::sync::WaitQueue;
use axpoll::{PollRegistrar, SharedObserver, SharedRegistrationSink};

use super::Thread;
use crate::error::{Errno, KResult};

/// The per-thread wake-up point.
pub struct Waiter {
    woken: AtomicBool,
    queue: WaitQueue,
}

impl Waiter {
    /// A fresh waiter.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            woken: AtomicBool::new(false),
            queue: WaitQueue::new(),
        })
    }

    /// Wakes the thread if it sleeps (or makes its next sleep return at once).
    pub fn wake(&self) {
        self.woken.store(true, Ordering::Release);
        self.queue.notify_all();
    }

    fn reset(&self) {
        self.woken.store(false, Ordering::Release);
    }

    /// Sleeps until woken or until `timeout` passes; true on timeout.
    fn sleep(&self, timeout: Option<Duration>) -> bool {
        let cond = || self.woken.load(Ordering::Acquire);
        match timeout {
            None => {
                self.queue.wait_until(cond);
                false
            }
            Some(t) => self.queue.wait_timeout_until(t, cond),
        }
    }
}

impl Wake for Waiter {
    fn wake(self: Arc<Self>) {
        Waiter::wake(&self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Waiter::wake(self);
    }
}

/// Monotonic time since boot.
pub fn now() -> Duration {
    ax_hal::time::monotonic_time()
}

/// Whether a wait may be cut short by a signal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Interruptible {
    /// Signals end the wait with ERESTARTSYS (restarted under SA_RESTART).
    Restart,
    /// Signals end the wait with ERESTARTNOHAND-like semantics handled by the
    /// caller; `wait_event` returns EINTR.
    Eintr,
    /// Only exit requests end the wait.
    No,
    /// A ptrace-stop: `attempt` alone decides (an exiting thread may stop
    /// for PTRACE_EVENT_EXIT); /proc shows `t`.
    Traced,
}

/// Blocks `thread` until `attempt` returns `Some`, the deadline passes
/// (`Err(ETIMEDOUT)`) or a signal arrives (see [`Interruptible`]).
///
/// `register` subscribes the thread's waker to the readiness sources whose
/// changes may make `attempt` succeed.
pub fn wait_event<T>(
    thread: &Thread,
    deadline: Option<Duration>,
    interruptible: Interruptible,
    mut register: impl FnMut(&mut dyn SharedRegistrationSink),
    mut attempt: impl FnMut() -> Option<KResult<T>>,
) -> KResult<T> {
    let waker = Waker::from(thread.waiter.clone());
    loop {
        thread.waiter.reset();
        let mut registrar = PollRegistrar::<SharedObserver>::new(&waker);
        register(&mut registrar);
        if let Some(result) = attempt() {
            return result;
        }
        if thread.is_exiting() && interruptible != Interruptible::Traced {
            return Err(Errno::EINTR);
        }
        if matches!(interruptible, Interruptible::Restart | Interruptible::Eintr)
            && thread.has_deliverable_signal()
        {
            return Err(match interruptible {
                Interruptible::Restart => Errno::ERESTARTSYS,
                _ => Errno::EINTR,
            });
        }
        let timeout = match deadline {
            Some(d) => {
                let now = now();
                if now >= d {
                    return Err(Errno::ETIMEDOUT);
                }
                Some(d - now)
            }
            None => None,
        };
        let shown = match interruptible {
            Interruptible::No => b'D',
            Interruptible::Traced => b't',
            _ => b'S',
        };
        thread.state.store(shown, Ordering::Release);
        thread.waiter.sleep(timeout);
        thread.state.store(b'R', Ordering::Release);
        drop(registrar);
    }
}

/// [`wait_event`] for I/O with an optional timeout (a socket's
/// SO_RCVTIMEO/SO_SNDTIMEO): without one, signals end the wait with
/// ERESTARTSYS; with one, with EINTR (sock_intr_errno), and when it runs
/// out the call fails with EAGAIN. A zero timeout makes one attempt.
pub fn wait_io<T>(
    thread: &Thread,
    timeout: Option<Duration>,
    register: impl FnMut(&mut dyn SharedRegistrationSink),
    mut attempt: impl FnMut() -> Option<KResult<T>>,
) -> KResult<T> {
    match timeout {
        None => wait_event(thread, None, Interruptible::Restart, register, attempt),
        Some(t) if t.is_zero() => attempt().unwrap_or(Err(Errno::EAGAIN)),
        Some(t) => match wait_event(
            thread,
            Some(now().saturating_add(t)),
            Interruptible::Eintr,
            register,
            attempt,
        ) {
            Err(Errno::ETIMEDOUT) => Err(Errno::EAGAIN),
            other => other,
        },
    }
}

/// Sleeps until `deadline` or a signal: `Ok(())` when the time passed,
/// `Err(EINTR)` when interrupted.
pub fn sleep_until(thread: &Thread, deadline: Duration) -> KResult<()> {
    match wait_event(
        thread,
        Some(deadline),
        Interruptible::Eintr,
        |_| {},
        || None::<KResult<()>>,
    ) {
        Err(Errno::ETIMEDOUT) => Ok(()),
        Err(e) => Err(e),
        Ok(()) => Ok(()),
    }
}
