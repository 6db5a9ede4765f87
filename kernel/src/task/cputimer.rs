//! CPU-time timers: ITIMER_VIRTUAL, ITIMER_PROF, and POSIX timers on CPU-time
//! clocks.
//!
//! A CPU clock only advances while a thread of its owner runs, so expiry is
//! detected by the running threads themselves, as Linux's
//! run_posix_cpu_timers does from the tick: on every way back to user mode
//! (after a syscall, a fault, or an interrupt — the 10 ms scheduler tick
//! interrupts a thread spinning in user mode) the run loop calls
//! [`run_expired`]. It reads the thread's clock, and its process's when that
//! has armed timers, and fires what expired, in the thread's own task
//! context: signals go through the ordinary send paths. Expiry is therefore
//! seen with tick granularity, never early.
//!
//! Each clock owner (a [`Process`] or a [`Thread`]) has one [`CpuTimers`]:
//! the two CPU itimers (processes only) and the POSIX timers measuring it.
//! The list of POSIX timers is a hint: a timer's own state decides whether
//! and when it is armed, and disarmed entries are dropped on the next check.
//!
//! Locks: `CpuTimers::inner` may be held while a POSIX timer's state lock is
//! taken (list → timer), never the other way round; no lock is held while a
//! signal is sent.

use alloc::{sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicBool, Ordering};

use ax_sync::SpinLock;

use super::{
    Process, Thread,
    cputime::{CpuSample, CpuWhich},
    posix_timer::PosixTimer,
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
    posix: Vec<Arc<PosixTimer>>,
    /// RLIMIT_CPU's soft limit is finite (process clocks only).
    cpu_limit: bool,
}

impl Inner {
    fn any_armed(&self) -> bool {
        self.itimers.iter().any(|it| it.expires != 0) || !self.posix.is_empty() || self.cpu_limit
    }
}

/// The CPU-time timers measuring one process or thread.
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

    /// Watches RLIMIT_CPU (a process's timers, when its soft limit is
    /// finite: update_rlimit_cpu).
    pub fn watch_cpu_limit(&self, on: bool) {
        let mut inner = self.inner.lock();
        inner.cpu_limit = on;
        self.armed.store(inner.any_armed(), Ordering::Release);
    }

    /// Adds a POSIX timer that measures this clock owner (no-op if present).
    pub fn add(&self, timer: &Arc<PosixTimer>) {
        let mut inner = self.inner.lock();
        if !inner.posix.iter().any(|t| Arc::ptr_eq(t, timer)) {
            inner.posix.push(timer.clone());
        }
        self.armed.store(true, Ordering::Release);
    }

    /// Removes a POSIX timer.
    pub fn remove(&self, timer: &Arc<PosixTimer>) {
        let mut inner = self.inner.lock();
        inner.posix.retain(|t| !Arc::ptr_eq(t, timer));
        self.armed.store(inner.any_armed(), Ordering::Release);
    }

    /// Disarms everything (the owner exited).
    pub fn clear(&self) {
        let old = {
            let mut inner = self.inner.lock();
            self.armed.store(false, Ordering::Release);
            core::mem::take(&mut *inner)
        };
        // Timers are released outside the lock.
        drop(old);
    }

    /// Fires what expired at reading `now`. `process` is the clock owner's
    /// process (the target of the itimers' signals).
    fn expire(&self, process: &Arc<Process>, now: CpuSample) {
        let mut itimer_signals = [0; 2];
        let cpu_limit;
        let due: Vec<Arc<PosixTimer>> = {
            let mut inner = self.inner.lock();
            cpu_limit = inner.cpu_limit;
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
            inner.posix.retain(|t| t.cpu_expiry().is_some());
            self.armed.store(inner.any_armed(), Ordering::Release);
            inner
                .posix
                .iter()
                .filter(|t| t.cpu_expiry().is_some_and(|(which, e)| now.of(which) >= e))
                .cloned()
                .collect()
        };
        for sig in itimer_signals.into_iter().filter(|&s| s != 0) {
            // Linux sends these with SEND_SIG_PRIV: si_code SI_KERNEL.
            send::send_to_process(process, SigInfo::kernel(sig));
        }
        for timer in due {
            timer.cpu_expired(now);
        }
        if cpu_limit {
            check_cpu_rlimit(process, now.total);
        }
    }
}

/// kernel/time/posix-cpu-timers.c check_process_timers: at RLIMIT_CPU's
/// hard limit SIGKILL; at the soft limit SIGXCPU, and the soft limit moves
/// one second on, so SIGXCPU repeats every further second of CPU time.
fn check_cpu_rlimit(process: &Arc<Process>, cpu_ns: u64) {
    use super::rlimit::{RLIM_INFINITY, RLIMIT_CPU};
    const SEC: u64 = 1_000_000_000;
    let sig = {
        let mut limits = process.rlimits.lock();
        let lim = &mut limits[RLIMIT_CPU as usize];
        if lim.cur == RLIM_INFINITY {
            return;
        }
        if lim.max != RLIM_INFINITY && cpu_ns >= lim.max.saturating_mul(SEC) {
            super::signal::SIGKILL
        } else if cpu_ns >= lim.cur.saturating_mul(SEC) {
            lim.cur = lim.cur.saturating_add(1);
            super::signal::SIGXCPU
        } else {
            return;
        }
    };
    send::send_to_process(process, SigInfo::kernel(sig));
}

/// Fires the expired CPU-time timers of `thread`'s clock and of its
/// process's clock. Called by the run loop on every return to user mode.
pub fn run_expired(thread: &Arc<Thread>) {
    let process = &thread.process;
    if thread.cpu_timers.armed.load(Ordering::Acquire) {
        thread.cpu_timers.expire(process, thread.cpu.sample());
    }
    if process.cpu_timers.armed.load(Ordering::Acquire) {
        process.cpu_timers.expire(process, process.cpu_sample());
    }
}
