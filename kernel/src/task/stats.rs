//! System-wide scheduling statistics: /proc/stat and /proc/loadavg.
//!
//! Three sources:
//! - the switch hooks of user threads ([`super::cputime`]) charge the time a
//!   user thread ran to the CPU it ran on and count context switches, so a
//!   CPU's idle time is its uptime minus what user threads used;
//! - [`note_fork`] counts every thread and process created (Linux's
//!   `total_forks`, /proc/stat `processes`);
//! - a kernel thread samples the number of runnable and uninterruptible
//!   user threads every 5 seconds and folds it into the 1, 5 and 15 minute
//!   exponential averages with Linux's fixed-point arithmetic
//!   (kernel/sched/loadavg.c `calc_load`), which /proc/loadavg prints.
//!
//! Kernel threads are not counted anywhere: their time is idle time and
//! they never contribute to the load.

use alloc::{string::String, vec::Vec};
use core::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use ax_task::sync::WaitQueue;

use super::{process::ProcState, table, thread::Thread};

/// CPUs whose time is kept (more are folded into the last slot).
const MAX_CPUS: usize = 64;

/// Nanoseconds user threads ran on each CPU, up to their last switch-out.
static CPU_BUSY_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Monotonic time a user thread was switched in on each CPU (0: none runs).
static CPU_RUNNING_SINCE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Context switches to a user thread since boot (/proc/stat `ctxt`).
static SWITCHES: AtomicU64 = AtomicU64::new(0);
/// Threads and processes created since boot (/proc/stat `processes`).
static FORKS: AtomicU64 = AtomicU64::new(0);

fn slot(cpu: usize) -> usize {
    cpu.min(MAX_CPUS - 1)
}

/// Switch-in hook: a user thread starts running on the current CPU at `now`.
pub fn user_switch_in(now: u64) {
    let cpu = slot(ax_hal::percpu::this_cpu_id());
    CPU_RUNNING_SINCE[cpu].store(now.max(1), Ordering::Release);
    SWITCHES.fetch_add(1, Ordering::Relaxed);
}

/// Switch-out hook: the user thread on the current CPU stops at `now`.
pub fn user_switch_out(now: u64) {
    let cpu = slot(ax_hal::percpu::this_cpu_id());
    let since = CPU_RUNNING_SINCE[cpu].swap(0, Ordering::AcqRel);
    if since != 0 {
        CPU_BUSY_NS[cpu].fetch_add(now.saturating_sub(since), Ordering::AcqRel);
    }
}

/// Time user threads have run on `cpu`, including the running interval.
pub fn cpu_busy_ns(cpu: usize) -> u64 {
    let cpu = slot(cpu);
    let busy = CPU_BUSY_NS[cpu].load(Ordering::Acquire);
    match CPU_RUNNING_SINCE[cpu].load(Ordering::Acquire) {
        0 => busy,
        since => busy + ax_hal::time::monotonic_time_nanos().saturating_sub(since),
    }
}

/// Context switches to user threads since boot.
pub fn context_switches() -> u64 {
    SWITCHES.load(Ordering::Relaxed)
}

/// Counts one created thread or process.
pub fn note_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// Threads and processes created since boot.
pub fn forks() -> u64 {
    FORKS.load(Ordering::Relaxed)
}

/// What a thread counts as for the scheduler statistics.
fn thread_state(t: &Thread) -> u8 {
    match t.process.tree.lock().state {
        ProcState::Running => t.state.load(Ordering::Acquire),
        ProcState::Stopped { .. } => b'T',
        ProcState::Zombie { .. } => b'Z',
    }
}

/// (runnable, uninterruptible, all) user threads right now.
pub fn thread_counts() -> (usize, usize, usize) {
    let threads: Vec<_> = table::all_threads();
    let mut running = 0;
    let mut blocked = 0;
    for t in &threads {
        match thread_state(t) {
            b'R' => running += 1,
            b'D' => blocked += 1,
            _ => {}
        }
    }
    (running, blocked, threads.len())
}

/// Fixed-point load averages (kernel/sched/loadavg.c): FSHIFT bits of
/// fraction, and the decay factors of one sample every 5 seconds for 1, 5
/// and 15 minutes (1/exp(5s/1min) etc. in fixed point).
const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;
const EXP: [u64; 3] = [1884, 2014, 2037];
/// LOAD_FREQ: one sample every 5 seconds.
const LOAD_FREQ: Duration = Duration::from_secs(5);

static AVENRUN: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// One step of Linux's `calc_load`: `load` decayed by `exp` towards
/// `active` (both fixed point), rounded up while rising.
const fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let mut newload = load * exp + active * (FIXED_1 - exp);
    if active >= load {
        newload += FIXED_1 - 1;
    }
    newload / FIXED_1
}

fn sample_load() {
    let (running, blocked, _) = thread_counts();
    let active = (running + blocked) as u64 * FIXED_1;
    for (avg, exp) in AVENRUN.iter().zip(EXP) {
        let old = avg.load(Ordering::Relaxed);
        avg.store(calc_load(old, exp, active), Ordering::Relaxed);
    }
}

/// Starts the kernel thread that samples the load every 5 seconds.
pub fn start_load_sampler() {
    static TICK: WaitQueue = WaitQueue::new();
    let spawned = ax_runtime::thread::builder(String::from("loadavg")).spawn(|| {
        loop {
            TICK.wait_timeout_until(LOAD_FREQ, || false);
            sample_load();
        }
    });
    if let Err(e) = spawned {
        warn!("stats: cannot start the load sampler: {e:?}; /proc/loadavg stays 0");
    }
}

/// The load averages as sysinfo(2) reports them: fixed point with
/// SI_LOAD_SHIFT (16) bits of fraction.
pub fn load_averages_si() -> [u64; 3] {
    core::array::from_fn(|i| AVENRUN[i].load(Ordering::Relaxed) << (16 - FSHIFT))
}

/// The three load averages as /proc/loadavg prints them ("0.42"), rounded
/// as Linux's `get_avenrun(.., FIXED_1/200, ..)`.
pub fn load_averages() -> [String; 3] {
    core::array::from_fn(|i| {
        let v = AVENRUN[i].load(Ordering::Relaxed) + FIXED_1 / 200;
        let int = v >> FSHIFT;
        let frac = ((v & (FIXED_1 - 1)) * 100) >> FSHIFT;
        alloc::format!("{int}.{frac:02}")
    })
}
