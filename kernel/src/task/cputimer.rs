//! CPU-time timers: ITIMER_VIRTUAL and ITIMER_PROF.
//!
//! A CPU clock only advances while a thread of its owner runs, so expiry is
//! detected by the running threads themselves, as Linux's
//! run_posix_cpu_timers does from the tick: on every way back to user mode
//! (after a syscall, a fault, or an interrupt — the 10 ms scheduler tick
//! interrupts a thread spinning in user mode) the run loop calls
//! [`run_expired`]. It reads the process's clocks when it has armed timers,
//! and fires what expired, in the thread's own task context: signals go
//! through the ordinary send paths. Expiry is therefore seen with tick
//! granularity, never early.
//!
//! Each process has one [`CpuTimers`] with its two CPU itimers. No lock is
//! held while a signal is sent.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use ax_sync::SpinLock;

use super::{
    Process, Thread,
    cputime::{CpuSample, CpuWhich},
    signal::{SIGPROF, SIGVTALRM, SigInfo, send},
};

/// The two CPU-time interval timers of setitimer(2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuItimer {
    /// ITIMER_VIRTUAL: user time, SIGVTALRM.
    Virtual,
    /// ITIMER_PROF: user + system time, SIGPROF.
    Prof,
}

impl CpuItimer {
    const fn index(self) -> usize {
        match self {
            Self::Virtual => 0,
            Self::Prof => 1,
        }
    }

    const fn clock(self) -> CpuWhich {
        match self {
            Self::Virtual => CpuWhich::Virt,
            Self::Prof => CpuWhich::Prof,
        }
    }

    const fn signal(self) -> i32 {
        match self {
            Self::Virtual => SIGVTALRM,
            Self::Prof => SIGPROF,
        }
    }
}

/// One CPU itimer: absolute expiry on its clock (0 = disarmed) and interval.
#[derive(Clone, Copy, Default)]
struct Itimer {
    expires: u64,
    interval: u64,
}

#[derive(Default)]
struct Inner {
    itimers: [Itimer; 2],
}

impl Inner {
    fn any_armed(&self) -> bool {
        self.itimers.iter().any(|it| it.expires != 0)
    }
}

/// The CPU-time timers of one process.
#[derive(Default)]
pub struct CpuTimers {
    /// Whether anything may be armed; the run loop's fast path reads only
    /// this. Written under `inner`.
    armed: AtomicBool,
    inner: SpinLock<Inner>,
}

impl CpuTimers {
    /// (remaining, interval) of an itimer at clock reading `now`, in ns. An
    /// armed timer whose expiry has passed but has not fired yet reports 1 µs,
    /// so that an armed timer never reads as disarmed (Linux reports a tick).
    fn itimer_value(it: Itimer, now: u64) -> (u64, u64) {
        let left = match it.expires {
            0 => 0,
            e if e > now => e - now,
            _ => 1_000,
        };
        (left, it.interval)
    }

    /// getitimer(2) for ITIMER_VIRTUAL/ITIMER_PROF: (remaining, interval) in ns.
    pub fn get_itimer(&self, which: CpuItimer, now: CpuSample) -> (u64, u64) {
        let it = self.inner.lock().itimers[which.index()];
        Self::itimer_value(it, now.of(which.clock()))
    }

    /// setitimer(2): arms the itimer to expire after `value` ns of its clock
    /// (0 disarms), then every `interval` ns; returns the previous
    /// (remaining, interval).
    pub fn set_itimer(
        &self,
        which: CpuItimer,
        now: CpuSample,
        value: u64,
        interval: u64,
    ) -> (u64, u64) {
        let now = now.of(which.clock());
        let mut inner = self.inner.lock();
        let it = &mut inner.itimers[which.index()];
        let old = Self::itimer_value(*it, now);
        *it = Itimer {
            expires: if value == 0 {
                0
            } else {
                now.saturating_add(value).max(1)
            },
            interval,
        };
        self.armed.store(inner.any_armed(), Ordering::Release);
        old
    }

    /// Disarms everything (the owner exited).
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        *inner = Inner::default();
        self.armed.store(false, Ordering::Release);
    }

    /// Fires what expired at reading `now` of `process`'s clocks.
    fn expire(&self, process: &Arc<Process>, now: CpuSample) {
        let mut itimer_signals = [0; 2];
        {
            let mut inner = self.inner.lock();
            for which in [CpuItimer::Virtual, CpuItimer::Prof] {
                let it = &mut inner.itimers[which.index()];
                // check_cpu_itimer (kernel/time/posix-cpu-timers.c): one
                // signal per check; the next check catches up.
                if it.expires != 0 && now.of(which.clock()) >= it.expires {
                    it.expires = if it.interval == 0 {
                        0
                    } else {
                        it.expires.saturating_add(it.interval)
                    };
                    itimer_signals[which.index()] = which.signal();
                }
            }
            self.armed.store(inner.any_armed(), Ordering::Release);
        }
        for sig in itimer_signals.into_iter().filter(|&s| s != 0) {
            // Linux sends these with SEND_SIG_PRIV: si_code SI_KERNEL.
            send::send_to_process(process, SigInfo::kernel(sig));
        }
    }
}

/// Fires the expired CPU-time timers of `thread`'s process. Called by the
/// run loop on every return to user mode.
pub fn run_expired(thread: &Arc<Thread>) {
    let process = &thread.process;
    if process.cpu_timers.armed.load(Ordering::Acquire) {
        process.cpu_timers.expire(process, process.cpu_sample());
    }
}
