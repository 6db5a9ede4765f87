//! TLB shootdown for user address spaces.
//!
//! A page-table change that removes or narrows a translation is flushed on
//! the local CPU by the page-table code itself. Other CPUs that may cache
//! translations of the same address space (they run one of its threads, or
//! still hold its root lazily after switching to a kernel thread) are flushed
//! synchronously through an IPI before the operation returns, so no stale
//! translation survives the syscall that removed it.
//!
//! Which CPUs those are is known to the scheduler's per-address-space CPU
//! state; the owner installs a closure that reads it.

use alloc::sync::Arc;

use ax_hal::irq::CpuId;

/// Reads the mask of CPUs that may hold translations of one address space.
pub type CpuMaskFn = dyn Fn() -> usize + Send + Sync;

/// Flushes remote TLBs for one address space.
#[derive(Clone, Default)]
pub struct TlbFlusher {
    mask: Option<Arc<CpuMaskFn>>,
}

impl TlbFlusher {
    /// A flusher that knows no remote CPUs (address space not yet running).
    pub const fn new() -> Self {
        Self { mask: None }
    }

    /// A flusher reading the CPU mask through `mask`.
    pub fn with_mask(mask: Arc<CpuMaskFn>) -> Self {
        Self { mask: Some(mask) }
    }

    /// Flushes one page on every other CPU that may cache it.
    pub fn flush_page_remote(&self, _page: usize) {
        self.flush_all_remote();
    }

    /// Flushes a range on every other CPU that may cache it.
    pub fn flush_range_remote(&self, _start: usize, _end: usize) {
        self.flush_all_remote();
    }

    /// Flushes the whole user TLB on every other CPU that may cache it.
    pub fn flush_all_remote(&self) {
        let Some(mask) = &self.mask else {
            return;
        };
        let this = ax_hal::percpu::this_cpu_id();
        let mut cpus = mask() & !(1usize << this);
        while cpus != 0 {
            let cpu = cpus.trailing_zeros() as usize;
            cpus &= cpus - 1;
            // SAFETY: `flush_local` takes no argument, does not sleep,
            // allocate or lock, and always terminates.
            let result =
                unsafe { ax_ipi::call_on_cpu(CpuId(cpu), flush_local, core::ptr::null_mut()) };
            if let Err(err) = result {
                log::warn!("tlb: shootdown IPI to cpu {cpu} failed: {err:?}");
            }
        }
    }
}

/// Runs on the target CPU in hard-IRQ context.
///
/// # Safety
///
/// Called only through `call_on_cpu`; the argument is unused.
unsafe fn flush_local(_arg: *mut ()) {
    ax_hal::cpu::mmu::flush_tlb(None);
}
