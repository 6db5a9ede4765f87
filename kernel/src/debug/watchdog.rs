//! The soft-lockup detector: reports a CPU that has not scheduled for
//! `2 × kernel.watchdog_thresh` seconds (Linux's formula), with the stuck
//! CPU's backtrace.
//!
//! Each CPU runs a `watchdog/N` kernel thread, bound to it at the highest
//! real-time priority, that stamps the time every second and then looks at
//! the other CPUs' stamps. A stamp that stops moving means its CPU runs
//! something that neither sleeps nor lets the scheduler in: a kernel loop
//! with preemption off, or a spin on a lock that is never released. The
//! CPU that notices asks the stuck one for its stack with an IPI (answered
//! unless the stuck CPU runs with interrupts off; then the report says so)
//! and logs one report in the format of [`super::warn`]:
//!
//! ```text
//! ------------[ cut here ]------------
//! watchdog: BUG: soft lockup - CPU#1 stuck for 31s! [sh:42 in write]
//! Call Trace:
//!  …
//! ---[ end trace ]---
//! ```
//!
//! One report per stuck period. Detection needs a second CPU: on a single
//! CPU a stuck kernel stops the detector too, and the host-side timeouts
//! (`make exec`'s TIMEOUT, `make fuzz`'s 60-second progress check) catch it.
//! kernel.watchdog_thresh (1..=60, default 15, so 30 s under TCG's slow
//! clock) sets the threshold; 0 turns the detector off. A user thread at
//! SCHED_FIFO priority 99 that never sleeps keeps the watchdog thread of
//! its CPU off it too and is reported like a stuck kernel (Linux's
//! detector runs above every user priority; Starling's threads share the
//! top real-time priority with user ones).

use alloc::format;
use core::{
    cell::UnsafeCell,
    sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering},
    time::Duration,
};

use ax_task::sched::{CpuId, CpuSet, RtPriority, SchedulePolicy};

use super::{
    backtrace::Trace,
    cpus::{MAX_CPUS, STARLING_DEBUG_CPUS},
    warn::{CUT_HERE, END_TRACE, print_trace},
};

/// kernel.watchdog_thresh, in seconds.
pub static THRESH_SECS: AtomicU32 = AtomicU32::new(15);

/// Per CPU: monotonic ns of its watchdog thread's last run (0: not yet).
static TOUCHED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Per CPU: the stamp a report was made for, so one stuck period gives one
/// report.
static REPORTED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

fn now_ns() -> u64 {
    ax_hal::time::monotonic_time_nanos()
}

/// Starts one watchdog thread per CPU.
pub fn start() {
    let n = ax_hal::cpu_num().min(MAX_CPUS);
    if n < 2 {
        info!("watchdog: one CPU, soft lockups are not detected in the kernel");
    }
    let Ok(priority) = RtPriority::new(99) else {
        return;
    };
    for cpu in 0..n {
        let mut set = CpuSet::empty(ax_hal::cpu_num());
        set.insert(CpuId::new(cpu as u32));
        let spawned = ax_runtime::thread::builder(format!("watchdog/{cpu}"))
            .policy(SchedulePolicy::Fifo { priority })
            .affinity(set)
            .spawn(move || run(cpu, n));
        if let Err(e) = spawned {
            warn!("watchdog: cannot start watchdog/{cpu}: {e:?}");
        }
    }
}

fn run(me: usize, n: usize) -> ! {
    loop {
        let now = now_ns();
        TOUCHED[me].store(now, Ordering::Relaxed);
        let thresh = u64::from(THRESH_SECS.load(Ordering::Relaxed));
        if thresh != 0 {
            for cpu in (0..n).filter(|&c| c != me) {
                check(cpu, now, 2 * thresh * 1_000_000_000);
            }
        }
        ax_task::thread::current::sleep(Duration::from_secs(1));
    }
}

fn check(cpu: usize, now: u64, limit: u64) {
    let stamp = TOUCHED[cpu].load(Ordering::Relaxed);
    if stamp == 0 || now.saturating_sub(stamp) <= limit {
        return;
    }
    let reported = REPORTED[cpu].load(Ordering::Relaxed);
    if reported == stamp
        || REPORTED[cpu]
            .compare_exchange(reported, stamp, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let secs = (now - stamp) / 1_000_000_000;
    let entry = &STARLING_DEBUG_CPUS.cpus[cpu];
    let tid = entry.tid.load(Ordering::Relaxed);
    // Lock-free sources only: the stuck CPU may hold any lock.
    let comm = super::tasks::comm_of(tid).unwrap_or(*b"?\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let comm_len = comm.iter().position(|&c| c == 0).unwrap_or(comm.len());
    let comm = core::str::from_utf8(&comm[..comm_len]).unwrap_or("?");
    let syscall = if entry.in_syscall.load(Ordering::Relaxed) != 0 {
        let nr = entry.nr.load(Ordering::Relaxed);
        match crate::syscall::syscall_name(nr) {
            Some(name) => format!(" in {name}"),
            None => format!(" in syscall {nr}"),
        }
    } else {
        alloc::string::String::new()
    };
    warn!("{CUT_HERE}");
    warn!("watchdog: BUG: soft lockup - CPU#{cpu} stuck for {secs}s! [{comm}:{tid}{syscall}]");
    match remote_trace(cpu) {
        Ok(trace) => print_trace(&trace),
        Err(why) => warn!("CPU#{cpu}: no backtrace: {why}"),
    }
    warn!("{END_TRACE}");
}

/// One request for another CPU's stack at a time; `state` is one of the
/// `IDLE`… constants.
struct Remote {
    state: AtomicU8,
    trace: UnsafeCell<Trace>,
}

const IDLE: u8 = 0;
const PENDING: u8 = 1;
const DONE: u8 = 2;
/// The requester gave up; whoever finishes the request frees the slot.
const ABANDONED: u8 = 3;
const FAILED: u8 = 4;

// SAFETY: `trace` is written by the target CPU only while the state is
// PENDING, before it moves to DONE (Release); the requester reads it after
// seeing DONE (Acquire) and then frees the slot.
unsafe impl Sync for Remote {}

static REMOTE: Remote = Remote {
    state: AtomicU8::new(IDLE),
    trace: UnsafeCell::new(Trace::EMPTY),
};

/// Ends the request with `outcome`, or frees the slot if the requester
/// has given up.
fn finish(outcome: u8) {
    if REMOTE
        .state
        .compare_exchange(PENDING, outcome, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        REMOTE.state.store(IDLE, Ordering::Release);
    }
}

/// Runs on the target CPU in hard-IRQ context: the walk starts in the IPI
/// handler and continues into the interrupted code's frames.
///
/// # Safety
///
/// `arg` is unused; the request is the static `REMOTE`, PENDING or
/// ABANDONED.
unsafe fn capture_here(_arg: *mut ()) {
    // SAFETY: see `Remote`: nobody reads `trace` before DONE.
    unsafe { *REMOTE.trace.get() = Trace::capture() };
    finish(DONE);
}

/// `cpu`'s current stack, taken by an IPI. The call is made from a helper
/// thread bound to this CPU, so a target that never answers (interrupts
/// off) costs that thread, not the caller, which gives up after a second.
pub fn remote_trace(cpu: usize) -> Result<Trace, &'static str> {
    if cpu == ax_hal::percpu::this_cpu_id() {
        return Ok(Trace::capture());
    }
    if REMOTE
        .state
        .compare_exchange(IDLE, PENDING, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return Err("an earlier request to a CPU is still unanswered");
    }
    let mut set = CpuSet::empty(ax_hal::cpu_num());
    set.insert(CpuId::new(ax_hal::percpu::this_cpu_id() as u32));
    let spawned = ax_runtime::thread::builder(alloc::string::String::from("watchdog-ipi"))
        .affinity(set)
        .spawn(move || {
            // SAFETY: `capture_here` neither sleeps, allocates nor locks,
            // and ignores its argument.
            let sent = unsafe {
                ax_ipi::call_on_cpu(ax_hal::irq::CpuId(cpu), capture_here, core::ptr::null_mut())
            };
            if sent.is_err() {
                finish(FAILED);
            }
        });
    if spawned.is_err() {
        REMOTE.state.store(IDLE, Ordering::Release);
        return Err("cannot start the IPI thread");
    }
    for _ in 0..100 {
        match REMOTE.state.load(Ordering::Acquire) {
            DONE => {
                // SAFETY: DONE was published after the write (see Remote).
                let trace = unsafe { *REMOTE.trace.get() };
                REMOTE.state.store(IDLE, Ordering::Release);
                return Ok(trace);
            }
            FAILED => {
                REMOTE.state.store(IDLE, Ordering::Release);
                return Err("the IPI could not be sent");
            }
            _ => ax_task::thread::current::sleep(Duration::from_millis(10)),
        }
    }
    match REMOTE
        .state
        .compare_exchange(PENDING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => Err("no answer to an IPI within a second (interrupts off?)"),
        Err(DONE) => {
            // SAFETY: as above.
            let trace = unsafe { *REMOTE.trace.get() };
            REMOTE.state.store(IDLE, Ordering::Release);
            Ok(trace)
        }
        Err(_) => {
            REMOTE.state.store(IDLE, Ordering::Release);
            Err("the IPI could not be sent")
        }
    }
}

/// sysrq `l`: every CPU's current stack (Linux: "Show backtrace of all
/// active CPUs").
pub fn show_all_cpus() {
    warn!("sysrq: Show backtrace of all active CPUs");
    for cpu in 0..ax_hal::cpu_num().min(MAX_CPUS) {
        warn!("Backtrace for cpu {cpu}:");
        match remote_trace(cpu) {
            Ok(trace) => print_trace(&trace),
            Err(why) => warn!("CPU#{cpu}: no backtrace: {why}"),
        }
    }
}
