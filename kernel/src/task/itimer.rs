//! ITIMER_REAL: the per-process real-time interval timer behind alarm(2)
//! and setitimer(2). (ITIMER_VIRTUAL and ITIMER_PROF count CPU time and live
//! in `cputimer`.)
//!
//! The timer is a restartable kernel timer whose callback runs in the
//! runtime's timer service thread and sends SIGALRM to the process, with
//! si_code SI_KERNEL as Linux's it_real_fn (SEND_SIG_PRIV). A generation
//! number makes a callback that raced with a later setitimer finish without
//! effect.

use alloc::{boxed::Box, sync::Arc};
use core::time::Duration;

use ax_sync::SpinLock;
use ax_task::time::{
    MonotonicDeadline,
    timer::{
        KernelTimerAction, KernelTimerHandle, cancel_kernel_timer,
        register_restartable_kernel_timer,
    },
};

use super::{
    Process, block,
    signal::{SIGALRM, SigInfo, send},
};
use crate::error::{Errno, KResult};

#[derive(Default)]
struct State {
    handle: Option<KernelTimerHandle>,
    /// Monotonic expiry of the next tick, if armed.
    expires: Option<Duration>,
    interval: Duration,
    generation: u64,
}

/// The real-time interval timer of one process.
#[derive(Default)]
pub struct RealTimer {
    state: SpinLock<State>,
}

impl RealTimer {
    /// Current (remaining time, interval); zero remaining when disarmed.
    pub fn get(&self) -> (Duration, Duration) {
        let st = self.state.lock();
        let left = st
            .expires
            .map_or(Duration::ZERO, |e| e.saturating_sub(block::now()));
        (left, st.interval)
    }

    /// Arms (value > 0) or disarms (value == 0) the timer; returns the
    /// previous (remaining, interval).
    pub fn set(
        &self,
        process: &Arc<Process>,
        value: Duration,
        interval: Duration,
    ) -> KResult<(Duration, Duration)> {
        let old = self.get();
        let (old_handle, generation) = {
            let mut st = self.state.lock();
            st.generation += 1;
            st.expires = None;
            st.interval = interval;
            (st.handle.take(), st.generation)
        };
        if let Some(h) = old_handle {
            let _ = cancel_kernel_timer(h);
        }
        if value.is_zero() {
            return Ok(old);
        }
        let first = block::now().saturating_add(value);
        self.state.lock().expires = Some(first);
        let weak = Arc::downgrade(process);
        let callback = Box::new(move |_now| {
            let Some(process) = weak.upgrade() else {
                return KernelTimerAction::Complete;
            };
            let timer = &process.real_timer;
            let next = {
                let mut st = timer.state.lock();
                if st.generation != generation {
                    return KernelTimerAction::Complete;
                }
                if st.interval.is_zero() {
                    st.expires = None;
                    st.handle = None;
                    None
                } else {
                    let next = block::now().saturating_add(st.interval);
                    st.expires = Some(next);
                    Some(next)
                }
            };
            send::send_to_process(&process, SigInfo::kernel(SIGALRM));
            match next {
                Some(n) => KernelTimerAction::Rearm(MonotonicDeadline::from_duration(n)),
                None => KernelTimerAction::Complete,
            }
        });
        let handle =
            register_restartable_kernel_timer(MonotonicDeadline::from_duration(first), callback)
                .map_err(|e| {
                    warn!("itimer: cannot arm the timer: {e:?}");
                    Errno::EAGAIN
                })?;
        let mut st = self.state.lock();
        if st.generation == generation {
            st.handle = Some(handle);
        } else {
            drop(st);
            let _ = cancel_kernel_timer(handle);
        }
        Ok(old)
    }

    /// Disarms the timer (process exit).
    pub fn cancel(&self) {
        let handle = {
            let mut st = self.state.lock();
            st.generation += 1;
            st.expires = None;
            st.handle.take()
        };
        if let Some(h) = handle {
            let _ = cancel_kernel_timer(h);
        }
    }
}
