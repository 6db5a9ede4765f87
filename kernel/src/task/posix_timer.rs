//! POSIX per-process timers (timer_create(2) and friends).
//!
//! A process owns its timers in a [`TimerTable`], under small integer ids
//! handed out in increasing order (as Linux's posix_timer_add), so an id is
//! not reused soon after timer_delete. Timers are deleted at exit and at
//! execve, and a forked child starts with none.
//!
//! Expiry is detected per clock:
//! - CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME timers are kept on
//!   the monotonic clock (an absolute realtime expiry is converted once,
//!   see `task::clock`) and armed as restartable ax-task kernel timers. The
//!   callback runs in the runtime's timer service thread: it takes the
//!   timer's state lock, moves the expiry forward, drops the lock and sends
//!   the signal. A generation number makes a callback of an older arming
//!   finish without effect.
//! - CPU-clock timers sit in the [`CpuTimers`] list of the process or thread
//!   they measure and fire from `cputimer::run_expired`, on a return to user
//!   mode of one of its threads.
//! - SIGEV_NONE timers are never armed anywhere: timer_gettime computes
//!   their state from the clock, as Linux does.
//!
//! Overruns follow Linux's send_sigqueue: each timer has one signal. While it
//! is still queued an expiry only adds to that signal's `si_overrun`
//! (`Pending::push_timer`); when it is dequeued the count becomes the
//! timer's timer_getoverrun value ([`delivered`]). An expiry that finds its
//! signal still queued or ignored re-arms the kernel timer no sooner than a
//! scheduler tick later, so a short interval cannot flood the timer service;
//! the overruns of the skipped periods are counted at the next expiry.
//!
//! Locks: table → timer state; `CpuTimers` list → timer state. The state lock
//! is never held while sending a signal, arming or cancelling a kernel timer,
//! or taking another lock. No user memory is touched here.

use alloc::{
    boxed::Box,
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use ax_sync::SpinLock;
use ax_task::time::{
    MonotonicDeadline,
    timer::{
        KernelTimerAction, KernelTimerHandle, cancel_kernel_timer,
        register_restartable_kernel_timer,
    },
};

use super::{
    Process, Thread,
    clock::{self, Clock, CpuOwner},
    cputime::{CpuSample, CpuWhich},
    cputimer::CpuTimers,
    signal::{NSIG, SI_TIMER, SIGALRM, SigInfo, send},
    table,
};
use crate::error::{Errno, KResult};

/// `sigev_notify` values.
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;

/// Timers one process may own. Linux bounds them by RLIMIT_SIGPENDING (one
/// preallocated signal each); beyond this timer_create fails with EAGAIN.
const MAX_TIMERS: usize = 1024;

/// Earliest re-arm of a timer whose signal is still queued or ignored: one
/// scheduler tick.
const BUSY_REARM_NS: u64 = 10_000_000;

/// Distinguishes timer incarnations in queued signals ([`SigInfo::timer_key`]).
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// A `struct sigevent` as user space passed it.
#[derive(Clone, Copy, Debug)]
pub struct SigEvent {
    pub value: usize,
    pub signo: i32,
    pub notify: i32,
    /// `sigev_notify_thread_id`.
    pub tid: i32,
}

/// A timer setting (`struct itimerspec`) in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerSpec {
    pub value: u64,
    pub interval: u64,
}

/// The clock a timer measures.
enum TimerClock {
    /// CLOCK_MONOTONIC and CLOCK_BOOTTIME.
    Monotonic,
    /// CLOCK_REALTIME: kept on the monotonic clock; only an absolute expiry
    /// differs (converted when set).
    Realtime,
    Process(Weak<Process>, CpuWhich),
    Thread(Weak<Thread>, CpuWhich),
}

/// What an expiry does.
enum Notify {
    None,
    Signal {
        signo: i32,
        value: usize,
        /// SIGEV_THREAD_ID: this thread, else the process.
        thread: Option<Weak<Thread>>,
    },
}

#[derive(Default)]
struct State {
    /// Next expiry on the timer's clock in ns (monotonic ns for the clock
    /// timers), `None` while disarmed.
    expires: Option<u64>,
    interval: u64,
    /// Bumped by every timer_settime and by deletion.
    generation: u64,
    /// The kernel timer of a clock timer, while armed.
    handle: Option<KernelTimerHandle>,
    /// `si_overrun` of the last delivered signal.
    overrun_last: i32,
}

/// One POSIX timer.
pub struct PosixTimer {
    id: i32,
    key: u64,
    owner: Weak<Process>,
    clock: TimerClock,
    notify: Notify,
    state: SpinLock<State>,
}

/// The timers of one process.
#[derive(Default)]
pub struct TimerTable {
    inner: SpinLock<TableInner>,
}

#[derive(Default)]
struct TableInner {
    next_id: i32,
    timers: BTreeMap<i32, Arc<PosixTimer>>,
}

impl TableInner {
    /// The next free id at or after `next_id`, wrapping at i32::MAX.
    fn alloc_id(&mut self) -> KResult<i32> {
        if self.timers.len() >= MAX_TIMERS {
            return Err(Errno::EAGAIN);
        }
        loop {
            let id = self.next_id;
            self.next_id = id.checked_add(1).unwrap_or(0);
            if !self.timers.contains_key(&id) {
                return Ok(id);
            }
        }
    }
}

/// Moves an expiry that passed at `now` to the next period: returns the
/// expirations missed after the first one (the overrun) and the next expiry,
/// `None` for a one-shot timer. Linux's hrtimer_forward / bump_cpu_timer.
fn forward(expires: u64, interval: u64, now: u64) -> (i32, Option<u64>) {
    if interval == 0 {
        return (0, None);
    }
    let missed = now.saturating_sub(expires) / interval;
    let next = expires.saturating_add(missed.saturating_add(1).saturating_mul(interval));
    (i32::try_from(missed).unwrap_or(i32::MAX), Some(next))
}

fn monotonic_ns() -> u64 {
    ax_hal::time::monotonic_time_nanos()
}

impl PosixTimer {
    fn cpu_owner(&self) -> Option<(CpuOwner, CpuWhich)> {
        match &self.clock {
            TimerClock::Process(p, which) => Some((CpuOwner::Process(p.upgrade()?), *which)),
            TimerClock::Thread(t, which) => Some((CpuOwner::Thread(t.upgrade()?), *which)),
            TimerClock::Monotonic | TimerClock::Realtime => None,
        }
    }

    fn is_cpu(&self) -> bool {
        matches!(self.clock, TimerClock::Process(..) | TimerClock::Thread(..))
    }

    /// The list a CPU-clock timer is armed in.
    fn cpu_list(owner: &CpuOwner) -> &CpuTimers {
        match owner {
            CpuOwner::Process(p) => &p.cpu_timers,
            CpuOwner::Thread(t) => &t.cpu_timers,
        }
    }

    /// The current value of the timer's clock in ns; `None` when the process
    /// or thread a CPU clock measured is gone.
    fn clock_now(&self) -> Option<u64> {
        match self.cpu_owner() {
            Some((owner, which)) => Some(owner.sample().of(which)),
            None if self.is_cpu() => None,
            None => Some(monotonic_ns()),
        }
    }

    /// The expiry of an armed CPU-clock timer: its clock and the time.
    pub fn cpu_expiry(&self) -> Option<(CpuWhich, u64)> {
        let which = match self.clock {
            TimerClock::Process(_, w) | TimerClock::Thread(_, w) => w,
            TimerClock::Monotonic | TimerClock::Realtime => return None,
        };
        self.state.lock().expires.map(|e| (which, e))
    }

    /// (remaining, interval) at clock value `now`, as Linux's
    /// common_timer_get: an interval timer whose expiry passed reports the
    /// time to its next period; an expired one-shot timer reports 1 ns until
    /// it has fired, except a SIGEV_NONE one, which reports 0.
    fn current(&self, st: &State, now: u64) -> TimerSpec {
        let Some(mut expires) = st.expires else {
            return TimerSpec {
                value: 0,
                interval: st.interval,
            };
        };
        if expires <= now
            && let (_, Some(next)) = forward(expires, st.interval, now)
        {
            expires = next;
        }
        let value = if expires > now {
            expires - now
        } else if matches!(self.notify, Notify::None) {
            0
        } else {
            1
        };
        TimerSpec {
            value,
            interval: st.interval,
        }
    }

    /// Sends the expiry signal standing for `1 + overrun` expirations.
    /// Returns true when a new signal was queued.
    fn notify(&self, overrun: i32) -> bool {
        let Notify::Signal {
            signo,
            value,
            thread,
        } = &self.notify
        else {
            return false;
        };
        let Some(process) = self.owner.upgrade() else {
            return false;
        };
        let info = SigInfo {
            signo: *signo,
            code: SI_TIMER,
            value: *value,
            timer_id: self.id,
            overrun,
            timer_key: self.key,
            ..SigInfo::default()
        };
        match thread {
            // The target thread exited: Linux finds no task for its pid and
            // drops the signal.
            Some(t) => t
                .upgrade()
                .is_some_and(|t| send::send_timer(&process, Some(&t), info)),
            None => send::send_timer(&process, None, info),
        }
    }

    /// Kernel-timer callback of a clock timer armed in `generation`.
    fn clock_expired(&self, generation: u64) -> KernelTimerAction {
        let now = monotonic_ns();
        let (overrun, next) = {
            let mut st = self.state.lock();
            let Some(expires) = st.expires.filter(|_| st.generation == generation) else {
                return KernelTimerAction::Complete;
            };
            if now < expires {
                return rearm_at(expires);
            }
            let (overrun, next) = forward(expires, st.interval, now);
            st.expires = next;
            if next.is_none() {
                st.handle = None;
            }
            (overrun, next)
        };
        let queued = self.notify(overrun);
        match next {
            None => KernelTimerAction::Complete,
            Some(next) if queued => rearm_at(next),
            Some(next) => rearm_at(next.max(now.saturating_add(BUSY_REARM_NS))),
        }
    }

    /// Fires a CPU-clock timer whose expiry `sample` reached (called by
    /// `cputimer` without its list lock held).
    pub fn cpu_expired(&self, sample: CpuSample) {
        let (TimerClock::Process(_, which) | TimerClock::Thread(_, which)) = self.clock else {
            return;
        };
        self.fire_cpu(sample.of(which));
    }

    fn fire_cpu(&self, now: u64) {
        let overrun = {
            let mut st = self.state.lock();
            let Some(expires) = st.expires.filter(|&e| e <= now) else {
                return;
            };
            let (overrun, next) = forward(expires, st.interval, now);
            st.expires = next;
            overrun
        };
        self.notify(overrun);
    }

    /// Registers the kernel timer of a clock timer armed in `generation`.
    fn arm_clock(self: &Arc<Self>, expires: u64, generation: u64) -> KResult<()> {
        let weak = Arc::downgrade(self);
        let callback = Box::new(move |_now| match weak.upgrade() {
            Some(timer) => timer.clock_expired(generation),
            None => KernelTimerAction::Complete,
        });
        let deadline = MonotonicDeadline::from_nanos(expires).ok_or(Errno::EINVAL)?;
        let handle = register_restartable_kernel_timer(deadline, callback).map_err(|e| {
            warn!("timer_settime: cannot arm the kernel timer: {e:?}");
            Errno::EAGAIN
        })?;
        let mut st = self.state.lock();
        if st.generation == generation {
            st.handle = Some(handle);
        } else {
            drop(st);
            let _ = cancel_kernel_timer(handle);
        }
        Ok(())
    }

    /// timer_settime(2): returns the previous setting.
    fn set(self: &Arc<Self>, absolute: bool, new: TimerSpec) -> KResult<TimerSpec> {
        // A CPU clock whose process or thread is gone cannot be sampled
        // (posix_cpu_timer_set returns ESRCH).
        let now = self.clock_now().ok_or(Errno::ESRCH)?;
        let expires = (new.value != 0).then(|| match (&self.clock, absolute) {
            (TimerClock::Realtime, true) => clock::ktime_ns(clock::realtime_to_monotonic(
                Duration::from_nanos(new.value),
            )),
            (_, true) => new.value,
            (_, false) => now.saturating_add(new.value).min(i64::MAX as u64),
        });
        let (old, old_handle, generation) = {
            let mut st = self.state.lock();
            let old = self.current(&st, now);
            st.generation += 1;
            st.overrun_last = 0;
            st.expires = expires;
            st.interval = if expires.is_some() { new.interval } else { 0 };
            (old, st.handle.take(), st.generation)
        };
        if let Some(h) = old_handle {
            let _ = cancel_kernel_timer(h);
        }
        let signals = !matches!(self.notify, Notify::None);
        if let Some((owner, _)) = self.cpu_owner() {
            let list = Self::cpu_list(&owner);
            match expires {
                Some(e) if signals => {
                    list.add(self);
                    // An expiry already reached fires now, even if the clock's
                    // owner never runs again (posix_cpu_timer_set).
                    if e <= now {
                        self.fire_cpu(now);
                    }
                }
                _ => list.remove(self),
            }
        } else if let Some(e) = expires.filter(|_| signals)
            && let Err(err) = self.arm_clock(e, generation)
        {
            self.disarm();
            return Err(err);
        }
        Ok(old)
    }

    /// Disarms the timer for good or until the next timer_settime.
    fn disarm(self: &Arc<Self>) {
        let handle = {
            let mut st = self.state.lock();
            st.generation += 1;
            st.expires = None;
            st.interval = 0;
            st.handle.take()
        };
        if let Some(h) = handle {
            let _ = cancel_kernel_timer(h);
        }
        if let Some((owner, _)) = self.cpu_owner() {
            Self::cpu_list(&owner).remove(self);
        }
    }
}

fn rearm_at(ns: u64) -> KernelTimerAction {
    KernelTimerAction::Rearm(MonotonicDeadline::from_duration(Duration::from_nanos(ns)))
}

/// Creates a timer of `caller`'s process on `clock`, notifying as `event`
/// says (`None`: SIGALRM with the timer id as `si_value`). Returns its id.
///
/// EOPNOTSUPP for clocks without timers (the raw and coarse ones); EINVAL
/// for a bad `sigev_notify`, a signal number outside 1..=64, or a
/// SIGEV_THREAD_ID thread outside the caller's process (good_sigevent);
/// EAGAIN past [`MAX_TIMERS`].
pub fn create(caller: &Arc<Thread>, clock: Clock, event: Option<SigEvent>) -> KResult<i32> {
    let clock = match clock {
        Clock::Realtime => TimerClock::Realtime,
        Clock::Monotonic | Clock::Boottime => TimerClock::Monotonic,
        Clock::MonotonicRaw | Clock::RealtimeCoarse | Clock::MonotonicCoarse => {
            return Err(Errno::EOPNOTSUPP);
        }
        Clock::Cpu(CpuOwner::Process(p), which) => TimerClock::Process(Arc::downgrade(&p), which),
        Clock::Cpu(CpuOwner::Thread(t), which) => TimerClock::Thread(Arc::downgrade(&t), which),
    };
    let valid_signo = |signo: i32| (1..=NSIG).contains(&signo);
    let notify = match event {
        None => None,
        Some(ev) => Some(match ev.notify {
            SIGEV_NONE => Notify::None,
            SIGEV_SIGNAL | SIGEV_THREAD if valid_signo(ev.signo) => Notify::Signal {
                signo: ev.signo,
                value: ev.value,
                thread: None,
            },
            SIGEV_THREAD_ID if valid_signo(ev.signo) => {
                let target = table::thread(ev.tid)
                    .filter(|t| Arc::ptr_eq(&t.process, &caller.process))
                    .ok_or(Errno::EINVAL)?;
                Notify::Signal {
                    signo: ev.signo,
                    value: ev.value,
                    thread: Some(Arc::downgrade(&target)),
                }
            }
            _ => return Err(Errno::EINVAL),
        }),
    };
    let process = &caller.process;
    let mut table = process.posix_timers.inner.lock();
    let id = table.alloc_id()?;
    let notify = notify.unwrap_or(Notify::Signal {
        signo: SIGALRM,
        value: id as u32 as usize,
        thread: None,
    });
    let timer = Arc::new(PosixTimer {
        id,
        key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
        owner: Arc::downgrade(process),
        clock,
        notify,
        state: SpinLock::new(State::default()),
    });
    table.timers.insert(id, timer);
    Ok(id)
}

fn lookup(process: &Process, id: i32) -> KResult<Arc<PosixTimer>> {
    process
        .posix_timers
        .inner
        .lock()
        .timers
        .get(&id)
        .cloned()
        .ok_or(Errno::EINVAL)
}

/// timer_settime(2): arms (value > 0) or disarms timer `id`; `absolute`
/// is TIMER_ABSTIME. Returns the previous setting.
pub fn settime(process: &Process, id: i32, absolute: bool, new: TimerSpec) -> KResult<TimerSpec> {
    lookup(process, id)?.set(absolute, new)
}

/// timer_gettime(2).
pub fn gettime(process: &Process, id: i32) -> KResult<TimerSpec> {
    let timer = lookup(process, id)?;
    let now = timer.clock_now();
    let st = timer.state.lock();
    Ok(match now {
        Some(now) => timer.current(&st, now),
        None => TimerSpec {
            value: 0,
            interval: st.interval,
        },
    })
}

/// timer_getoverrun(2): the overrun count of the last delivered signal.
pub fn getoverrun(process: &Process, id: i32) -> KResult<i32> {
    Ok(lookup(process, id)?.state.lock().overrun_last)
}

/// timer_delete(2). A signal of the timer that is already queued stays
/// queued.
pub fn delete(process: &Process, id: i32) -> KResult<()> {
    let timer = process
        .posix_timers
        .inner
        .lock()
        .timers
        .remove(&id)
        .ok_or(Errno::EINVAL)?;
    timer.disarm();
    Ok(())
}

/// Deletes every timer of `process` (exit).
pub fn delete_all(process: &Process) {
    let timers: Vec<_> = core::mem::take(&mut process.posix_timers.inner.lock().timers)
        .into_values()
        .collect();
    for timer in timers {
        timer.disarm();
    }
}

/// The timer side of a successful execve: every timer is deleted and the
/// signals they queued are discarded (begin_new_exec: exit_itimers,
/// flush_itimer_signals). Interval timers (setitimer) are kept.
pub fn exec(process: &Process) {
    delete_all(process);
    process.shared_pending.lock().discard_timer_signals();
    for t in process.threads.lock().iter() {
        t.pending.lock().discard_timer_signals();
    }
}

/// Records that the signal `info` of one of `process`'s timers left its
/// queue: its overrun count is what timer_getoverrun reports from now on.
pub fn delivered(process: &Process, info: &SigInfo) {
    let Ok(timer) = lookup(process, info.timer_id) else {
        return;
    };
    if timer.key == info.timer_key {
        timer.state.lock().overrun_last = info.overrun;
    }
}
