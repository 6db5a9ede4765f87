//! A process's memory: the address space plus its scheduler CPU state.
//!
//! [`Mm`] pairs the `starling_mm` address space with the runtime's
//! per-address-space CPU footprint, which tells TLB shootdown which CPUs
//! may cache its translations. Every thread of the process holds a scheduler
//! token created by [`Mm::task_token`]; the tokens keep the `Mm` (and with
//! it the page-table root) alive until the last CPU stops using it.

use alloc::sync::Arc;
use core::sync::atomic::AtomicU32;

use ax_runtime::thread::{AddressSpaceCpuState, TaskAddressSpace};
use ax_sync::Mutex;
use starling_mm::aspace::{AddrSpace, TlbFlusher};

use crate::error::{Errno, KResult};

/// One user address space in use by a process.
pub struct Mm {
    /// The address space; never held across a user-memory access.
    pub aspace: Mutex<AddrSpace>,
    cpu_state: Arc<AddressSpaceCpuState>,
    /// membarrier(2) registrations of this address space (the
    /// MEMBARRIER_CMD_REGISTER_* bits); a new image starts with none.
    pub membarrier: AtomicU32,
}

impl Mm {
    /// Wraps a freshly built address space.
    pub fn new(mut aspace: AddrSpace) -> Arc<Self> {
        let cpu_state = Arc::new(AddressSpaceCpuState::new(aspace.root_paddr()));
        let mask = cpu_state.clone();
        aspace.set_tlb_flusher(TlbFlusher::with_mask(Arc::new(move || mask.active_mask())));
        Arc::new(Self {
            aspace: Mutex::new(aspace),
            cpu_state,
            membarrier: AtomicU32::new(0),
        })
    }

    /// A scheduler token for one thread running in this address space.
    pub fn task_token(self: &Arc<Self>) -> KResult<TaskAddressSpace> {
        let root = self.aspace.lock().root_paddr();
        TaskAddressSpace::new_with_task_detach(root, self.cpu_state.clone(), self.clone(), |_| {})
            .map_err(|e| {
                warn!("mm: cannot create the scheduler token: {e:?}");
                Errno::ENOMEM
            })
    }
}
