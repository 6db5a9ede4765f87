//! Clock ids (`clockid_t`) and reading the clocks they name.
//!
//! Ids 0..=7 are Linux's static clocks. A negative id names the CPU clock of
//! a process or thread (include/linux/posix-timers.h):
//! `~pid << 3 | perthread << 2 | which`, where `which` is PROF (0), VIRT (1)
//! or SCHED (2) and pid 0 means the caller; clock_getcpuclockid(3) and
//! pthread_getcpuclockid(3) make these. CLOCK_PROCESS_CPUTIME_ID and
//! CLOCK_THREAD_CPUTIME_ID are the caller's SCHED clocks.
//!
//! CLOCK_REALTIME is the monotonic clock plus a constant offset (ax-plat's
//! wall clock; there is no clock_settime), so a realtime deadline converts
//! to a monotonic one once ([`realtime_to_monotonic`]). CLOCK_BOOTTIME is
//! CLOCK_MONOTONIC: the machine never suspends.

use alloc::sync::Arc;
use core::time::Duration;

use super::{
    Process, Thread,
    cputime::{CpuSample, CpuWhich},
    table,
};
use crate::error::{Errno, KResult};

pub const CLOCK_REALTIME: i32 = 0;
pub const CLOCK_MONOTONIC: i32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
pub const CLOCK_MONOTONIC_RAW: i32 = 4;
pub const CLOCK_REALTIME_COARSE: i32 = 5;
pub const CLOCK_MONOTONIC_COARSE: i32 = 6;
pub const CLOCK_BOOTTIME: i32 = 7;

/// Whose CPU time a CPU clock measures.
#[derive(Clone)]
pub enum CpuOwner {
    Process(Arc<Process>),
    Thread(Arc<Thread>),
}

impl CpuOwner {
    /// A reading of the owner's clocks.
    pub fn sample(&self) -> CpuSample {
        match self {
            Self::Process(p) => p.cpu_sample(),
            Self::Thread(t) => t.cpu.sample(),
        }
    }
}

/// A clock, resolved from its id.
#[derive(Clone)]
pub enum Clock {
    Realtime,
    RealtimeCoarse,
    Monotonic,
    MonotonicRaw,
    MonotonicCoarse,
    Boottime,
    Cpu(CpuOwner, CpuWhich),
}

impl Clock {
    /// Resolves clock id `id` as seen by `caller`: EINVAL for an unknown id,
    /// a CPU clock of a process that does not exist, or of a thread outside
    /// the caller's process (posix-cpu-timers.c, lookup_task).
    pub fn from_id(caller: &Arc<Thread>, id: i32) -> KResult<Self> {
        Ok(match id {
            CLOCK_REALTIME => Self::Realtime,
            CLOCK_MONOTONIC => Self::Monotonic,
            CLOCK_PROCESS_CPUTIME_ID => {
                Self::Cpu(CpuOwner::Process(caller.process.clone()), CpuWhich::Sched)
            }
            CLOCK_THREAD_CPUTIME_ID => Self::Cpu(CpuOwner::Thread(caller.clone()), CpuWhich::Sched),
            CLOCK_MONOTONIC_RAW => Self::MonotonicRaw,
            CLOCK_REALTIME_COARSE => Self::RealtimeCoarse,
            CLOCK_MONOTONIC_COARSE => Self::MonotonicCoarse,
            CLOCK_BOOTTIME => Self::Boottime,
            id if id < 0 => {
                // Ids ending in 0b011 name a posix-clock file descriptor
                // (CLOCKFD); Starling has no such devices.
                let which = CpuWhich::from_bits(id & 3).ok_or(Errno::EINVAL)?;
                let per_thread = id & 4 != 0;
                let pid = !(id >> 3);
                let owner = match (pid, per_thread) {
                    (0, true) => CpuOwner::Thread(caller.clone()),
                    (0, false) => CpuOwner::Process(caller.process.clone()),
                    (tid, true) => {
                        let t = table::thread(tid)
                            .filter(|t| Arc::ptr_eq(&t.process, &caller.process))
                            .ok_or(Errno::EINVAL)?;
                        CpuOwner::Thread(t)
                    }
                    (pid, false) => CpuOwner::Process(table::process(pid).ok_or(Errno::EINVAL)?),
                };
                Self::Cpu(owner, which)
            }
            _ => return Err(Errno::EINVAL),
        })
    }

    /// The clock's current value.
    pub fn now(&self) -> Duration {
        match self {
            Self::Realtime | Self::RealtimeCoarse => ax_hal::time::wall_time(),
            Self::Monotonic | Self::MonotonicRaw | Self::MonotonicCoarse | Self::Boottime => {
                ax_hal::time::monotonic_time()
            }
            Self::Cpu(owner, which) => Duration::from_nanos(owner.sample().of(*which)),
        }
    }
}

/// The monotonic time at which CLOCK_REALTIME reads `t` (the past, zero,
/// if it already did). The wall clock is read first, so the result is never
/// earlier than the exact conversion.
pub fn realtime_to_monotonic(t: Duration) -> Duration {
    let wall = ax_hal::time::wall_time();
    let mono = ax_hal::time::monotonic_time();
    t.saturating_sub(wall.saturating_sub(mono))
}

/// `d` in nanoseconds, saturating at Linux's KTIME_MAX as
/// timespec64_to_ktime does.
pub fn ktime_ns(d: Duration) -> u64 {
    const KTIME_MAX: u64 = i64::MAX as u64;
    u64::try_from(d.as_nanos()).map_or(KTIME_MAX, |n| n.min(KTIME_MAX))
}
