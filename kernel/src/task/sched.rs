//! Scheduling attributes of a thread: policy, priority, nice value and CPU
//! affinity, as sched(7) describes them, applied to the ax-task scheduler
//! (EEVDF fair class for SCHED_OTHER/BATCH/IDLE, the POSIX real-time class
//! for SCHED_FIFO/RR).

use ax_task::{
    runtime::config::{DEFAULT_RR_QUANTUM_NS, NORMALIZED_FAIR_SLICE_NS},
    sched::{CpuId, CpuSet, FairMode, Nice, RtPriority, SchedulePolicy},
    thread::{ThreadHandle, ThreadId},
};

use super::Thread;
use crate::error::{Errno, KResult};

pub const SCHED_OTHER: i32 = 0;
pub const SCHED_FIFO: i32 = 1;
pub const SCHED_RR: i32 = 2;
pub const SCHED_BATCH: i32 = 3;
pub const SCHED_IDLE: i32 = 5;
pub const SCHED_DEADLINE: i32 = 6;
pub const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;

/// A thread's scheduling attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedAttr {
    pub policy: i32,
    /// sched_priority: 1..=99 for FIFO/RR, 0 otherwise.
    pub priority: i32,
    /// -20..=19; used by the fair policies.
    pub nice: i32,
    pub reset_on_fork: bool,
    /// Allowed CPUs, bit n = CPU n.
    pub affinity: u64,
}

impl SchedAttr {
    /// The attributes of init: SCHED_OTHER, nice 0, every CPU.
    pub fn initial() -> Self {
        Self {
            policy: SCHED_OTHER,
            priority: 0,
            nice: 0,
            reset_on_fork: false,
            affinity: online_mask(),
        }
    }

    /// What a child inherits (SCHED_RESET_ON_FORK resets the policy to
    /// SCHED_OTHER and a negative nice value to 0).
    pub fn for_child(&self) -> Self {
        let mut child = *self;
        if self.reset_on_fork {
            child.reset_on_fork = false;
            if matches!(self.policy, SCHED_FIFO | SCHED_RR) {
                child.policy = SCHED_OTHER;
                child.priority = 0;
            }
            child.nice = child.nice.max(0);
        }
        child
    }

    /// The scheduler policy these attributes select.
    fn policy(&self) -> KResult<SchedulePolicy> {
        let rt = || RtPriority::new(self.priority as u8).map_err(|_| Errno::EINVAL);
        let nice = Nice::new(self.nice as i8).map_err(|_| Errno::EINVAL)?;
        Ok(match self.policy {
            SCHED_FIFO => SchedulePolicy::Fifo { priority: rt()? },
            SCHED_RR => SchedulePolicy::RoundRobin {
                priority: rt()?,
                quantum_ns: DEFAULT_RR_QUANTUM_NS,
            },
            SCHED_BATCH => SchedulePolicy::Fair {
                nice,
                mode: FairMode::Batch,
            },
            SCHED_IDLE => SchedulePolicy::Fair {
                nice,
                mode: FairMode::Idle,
            },
            _ => SchedulePolicy::Fair {
                nice,
                mode: FairMode::Normal,
            },
        })
    }

    /// The round-robin interval sched_rr_get_interval reports.
    pub fn rr_interval_ns(&self) -> u64 {
        match self.policy {
            SCHED_FIFO => 0,
            SCHED_RR => DEFAULT_RR_QUANTUM_NS,
            _ => NORMALIZED_FAIR_SLICE_NS,
        }
    }
}

/// Bit mask of the online CPUs.
pub fn online_mask() -> u64 {
    let n = ax_hal::cpu_num().min(64);
    if n == 64 { u64::MAX } else { (1u64 << n) - 1 }
}

fn handle_of(thread: &Thread) -> KResult<ThreadHandle> {
    let raw = thread.task_id();
    let id = ThreadId::from_parts(raw as u32, (raw >> 32) as u32);
    ThreadHandle::lookup(id).map_err(|e| {
        warn!("sched: tid {} has no scheduler thread: {e:?}", thread.tid());
        Errno::ESRCH
    })
}

/// Makes the scheduler run `thread` under `attr` (policy and affinity),
/// then records `attr`.
pub fn apply(thread: &Thread, attr: SchedAttr) -> KResult<()> {
    let handle = handle_of(thread)?;
    let policy = attr.policy()?;
    handle.set_policy(policy).map_err(|e| {
        warn!(
            "sched: tid {}: policy {policy:?} refused: {e:?}",
            thread.tid()
        );
        Errno::EINVAL
    })?;
    let old = *thread.sched.lock();
    if attr.affinity != old.affinity || attr.affinity != online_mask() {
        let n = ax_hal::cpu_num();
        let mut set = CpuSet::empty(n);
        for cpu in (0..n.min(64)).filter(|c| attr.affinity & (1 << c) != 0) {
            set.insert(CpuId::new(cpu as u32));
        }
        handle.set_affinity_and_wait(set).map_err(|e| {
            warn!(
                "sched: tid {}: affinity {:#x} refused: {e:?}",
                thread.tid(),
                attr.affinity
            );
            Errno::EINVAL
        })?;
    }
    *thread.sched.lock() = attr;
    Ok(())
}

/// Applies inherited attributes to a new thread, from its own task, when
/// they differ from the scheduler's defaults.
pub fn apply_inherited(thread: &Thread) {
    let attr = *thread.sched.lock();
    let default = SchedAttr {
        reset_on_fork: attr.reset_on_fork,
        ..SchedAttr::initial()
    };
    if attr != default && apply(thread, attr).is_err() {
        warn!("sched: tid {} runs with default scheduling", thread.tid());
    }
}
