//! In-kernel checks that user space can trigger and read.
//!
//! `ipi_round_trip` sends a synchronous cross-CPU call to every other online
//! CPU and checks that it ran there: the mechanism TLB shootdown relies on.
//! /proc/starling/ipi runs it and prints one line per CPU.

use alloc::{format, string::String};
use core::sync::atomic::{AtomicUsize, Ordering};

use ax_hal::irq::CpuId;

struct Probe {
    ran_on: AtomicUsize,
}

/// Runs on the target CPU in hard-IRQ context.
///
/// # Safety
///
/// `arg` points to a live `Probe` for the duration of the call (the caller
/// waits for completion).
unsafe fn record_cpu(arg: *mut ()) {
    // SAFETY: see the function contract.
    let probe = unsafe { &*(arg as *const Probe) };
    probe
        .ran_on
        .store(ax_hal::percpu::this_cpu_id(), Ordering::Release);
}

/// Calls every other CPU and reports, per CPU, whether the call ran there.
pub fn ipi_round_trip() -> String {
    let me = ax_hal::percpu::this_cpu_id();
    let mut out = format!("cpus {}\nfrom {}\n", ax_hal::cpu_num(), me);
    for cpu in 0..ax_hal::cpu_num() {
        if cpu == me {
            continue;
        }
        let probe = Probe {
            ran_on: AtomicUsize::new(usize::MAX),
        };
        // SAFETY: `record_cpu` does not sleep, allocate or lock, and `probe`
        // outlives the synchronous call.
        let result = unsafe {
            ax_ipi::call_on_cpu(CpuId(cpu), record_cpu, &probe as *const Probe as *mut ())
        };
        let ran = probe.ran_on.load(Ordering::Acquire);
        match result {
            Ok(()) if ran == cpu => out.push_str(&format!("cpu {cpu} ok\n")),
            Ok(()) => out.push_str(&format!("cpu {cpu} wrong-cpu {ran}\n")),
            Err(e) => out.push_str(&format!("cpu {cpu} error {e:?}\n")),
        }
    }
    out
}
