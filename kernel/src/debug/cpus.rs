//! What each CPU executes: the syscall in progress, for `starling-syscall`
//! and the CPU column of `starling-ps`.
//!
//! `enter` runs at every syscall entry and `exit` at its end (four relaxed
//! stores each, no lock). A syscall that sleeps keeps its entry until it
//! returns, while the CPU runs other tasks: the script shows the thread's
//! state next to it, and an entry whose thread sleeps is not what the CPU
//! runs now. A thread that wakes on another CPU clears the entry it left
//! behind.

use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering::Relaxed};

use super::Header;
use crate::task::Pid;

/// CPUs the table covers (the runtime's SMP limit).
pub const MAX_CPUS: usize = 16;

#[repr(C)]
pub struct DebugCpu {
    /// The thread that last entered a syscall on this CPU (0: none yet).
    pub tid: AtomicI32,
    /// 1 while that syscall runs.
    pub in_syscall: AtomicI32,
    /// Its number (the architecture's numbering).
    pub nr: AtomicUsize,
    /// Its first argument.
    pub arg0: AtomicUsize,
}

#[repr(C)]
pub struct CpuTable {
    pub header: Header,
    pub cpus: [DebugCpu; MAX_CPUS],
}

/// "SCPU".
const MAGIC: u32 = 0x5550_4353;

#[unsafe(no_mangle)]
pub static STARLING_DEBUG_CPUS: CpuTable = CpuTable {
    header: Header::new::<DebugCpu>(MAGIC, MAX_CPUS),
    cpus: [const {
        DebugCpu {
            tid: AtomicI32::new(0),
            in_syscall: AtomicI32::new(0),
            nr: AtomicUsize::new(0),
            arg0: AtomicUsize::new(0),
        }
    }; MAX_CPUS],
};

/// Thread `tid` enters syscall `nr`; returns the CPU to pass to [`exit`].
#[inline]
pub fn enter(tid: Pid, nr: usize, arg0: usize) -> usize {
    let cpu = ax_hal::percpu::this_cpu_id();
    if let Some(entry) = STARLING_DEBUG_CPUS.cpus.get(cpu) {
        entry.in_syscall.store(0, Relaxed);
        entry.tid.store(tid, Relaxed);
        entry.nr.store(nr, Relaxed);
        entry.arg0.store(arg0, Relaxed);
        entry.in_syscall.store(1, Relaxed);
    }
    cpu
}

/// Thread `tid`'s syscall, entered on `cpu`, returns.
#[inline]
pub fn exit(tid: Pid, cpu: usize) {
    let now = ax_hal::percpu::this_cpu_id();
    for c in [cpu, now] {
        if let Some(entry) = STARLING_DEBUG_CPUS.cpus.get(c)
            && entry.tid.load(Relaxed) == tid
        {
            entry.in_syscall.store(0, Relaxed);
        }
        if cpu == now {
            break;
        }
    }
}
