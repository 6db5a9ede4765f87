//! CPU time of threads, from the scheduler's switch hooks.
//!
//! Each user thread's kernel task carries a [`CpuClock`] as its scheduler
//! extension. At switch-in the scheduler reports the runtime it has charged
//! the thread so far; at switch-out the clock adds the interval that just
//! ended. The run loop (`task/run.rs`) brackets every stay in user mode with
//! [`CpuClock::total_ns`] readings and charges the CPU time in between as
//! user time ([`CpuClock::charge_user_since`]); the rest is system time.
//! The user time feeds ITIMER_VIRTUAL and the CPUCLOCK_VIRT clock ids;
//! getrusage and times still report all CPU time as user time
//! (docs/syscalls.md lists this). The same hooks feed the per-CPU times of
//! /proc/stat ([`super::stats`]).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ax_task::{
    sched::SchedulePolicy,
    thread::{SwitchReason, ThreadExtension, ThreadExtensionOps, ThreadId},
};

/// Accumulated CPU time of one thread.
#[derive(Default)]
pub struct CpuClock {
    charged_ns: AtomicU64,
    /// Monotonic time of the last switch-in, 0 while not running.
    running_since: AtomicU64,
    /// The part of the CPU time spent in user mode.
    user_ns: AtomicU64,
    /// The CPU the thread last ran on (/proc/PID/stat `processor`).
    last_cpu: AtomicUsize,
}

impl CpuClock {
    /// A clock at zero.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// CPU time so far, including the current interval.
    pub fn total_ns(&self) -> u64 {
        let charged = self.charged_ns.load(Ordering::Acquire);
        let since = self.running_since.load(Ordering::Acquire);
        if since == 0 {
            charged
        } else {
            charged + ax_hal::time::monotonic_time_nanos().saturating_sub(since)
        }
    }

    /// CPU time spent in user mode so far (never more than [`Self::total_ns`]
    /// read afterwards).
    pub fn user_ns(&self) -> u64 {
        self.user_ns.load(Ordering::Acquire)
    }

    /// Charges the CPU time since `mark`, a [`Self::total_ns`] reading taken
    /// when the thread entered user mode, as user time. Only the thread
    /// itself calls this, on its way back from user mode.
    pub fn charge_user_since(&self, mark: u64) {
        let ran = self.total_ns().saturating_sub(mark);
        self.user_ns.fetch_add(ran, Ordering::AcqRel);
    }

    /// A reading of this thread's clock.
    pub fn sample(&self) -> CpuSample {
        // User time first: it only grows, and never past the total read after it.
        let user = self.user_ns();
        CpuSample {
            total: self.total_ns().max(user),
            user,
        }
    }

    /// The CPU the thread runs on or last ran on.
    pub fn last_cpu(&self) -> usize {
        self.last_cpu.load(Ordering::Relaxed)
    }

    /// The scheduler extension that keeps this clock.
    pub fn extension(self: &Arc<Self>) -> ThreadExtension {
        let data = Arc::into_raw(self.clone()) as usize;
        // SAFETY: `data` is an `Arc<CpuClock>` leaked for the extension; the
        // callbacks only touch its atomics (no allocation, blocking or
        // scheduler re-entry) and `drop_clock` releases it exactly once.
        unsafe { ThreadExtension::new(data, &OPS) }
    }
}

/// Which reading of a CPU clock a clock id or timer uses (Linux's
/// CPUCLOCK_PROF, CPUCLOCK_VIRT and CPUCLOCK_SCHED, in that encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuWhich {
    /// User + system time (ITIMER_PROF).
    Prof,
    /// User time (ITIMER_VIRTUAL).
    Virt,
    /// Scheduler runtime (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID).
    Sched,
}

impl CpuWhich {
    /// The low two bits of a CPU clock id; 3 is not a clock.
    pub const fn from_bits(bits: i32) -> Option<Self> {
        match bits {
            0 => Some(Self::Prof),
            1 => Some(Self::Virt),
            2 => Some(Self::Sched),
            _ => None,
        }
    }
}

/// One reading of a thread's or process's CPU clocks, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuSample {
    /// User + system time; also the scheduler runtime (one clock measures both).
    pub total: u64,
    pub user: u64,
}

impl CpuSample {
    /// The value of clock `which` in this reading.
    pub const fn of(self, which: CpuWhich) -> u64 {
        match which {
            CpuWhich::Prof | CpuWhich::Sched => self.total,
            CpuWhich::Virt => self.user,
        }
    }
}

static OPS: ThreadExtensionOps = ThreadExtensionOps {
    on_switch_in,
    on_switch_out,
    on_exit,
    on_deadline_overrun,
    drop: drop_clock,
};

/// # Safety
/// `data` is the pointer made by [`CpuClock::extension`].
unsafe fn on_switch_in(data: usize, _thread: ThreadId, _policy: SchedulePolicy, charged: u64) {
    // SAFETY: see the function contract; the Arc is alive until `drop_clock`.
    let clock = unsafe { &*(data as *const CpuClock) };
    clock.charged_ns.store(charged, Ordering::Release);
    let now = ax_hal::time::monotonic_time_nanos().max(1);
    clock.running_since.store(now, Ordering::Release);
    clock
        .last_cpu
        .store(ax_hal::percpu::this_cpu_id(), Ordering::Relaxed);
    super::stats::user_switch_in(now);
}

/// # Safety
/// As [`on_switch_in`].
unsafe fn on_switch_out(data: usize, _thread: ThreadId, _reason: SwitchReason) {
    // SAFETY: see the function contract.
    let clock = unsafe { &*(data as *const CpuClock) };
    let since = clock.running_since.swap(0, Ordering::AcqRel);
    let now = ax_hal::time::monotonic_time_nanos();
    if since != 0 {
        clock
            .charged_ns
            .fetch_add(now.saturating_sub(since), Ordering::AcqRel);
    }
    super::stats::user_switch_out(now);
}

/// # Safety
/// As [`on_switch_in`].
unsafe fn on_exit(_data: usize, _thread: ThreadId) {}

/// # Safety
/// As [`on_switch_in`].
unsafe fn on_deadline_overrun(_data: usize, _thread: ThreadId) {}

/// # Safety
/// `data` is the pointer made by [`CpuClock::extension`], released once.
unsafe fn drop_clock(data: usize) {
    // SAFETY: see the function contract.
    drop(unsafe { Arc::from_raw(data as *const CpuClock) });
}
