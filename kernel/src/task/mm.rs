//! A process's memory: the address space plus its scheduler CPU state.
//!
//! [`Mm`] pairs the `starling_mm` address space with the runtime's
//! per-address-space CPU footprint, which tells TLB shootdown which CPUs
//! may cache its translations. Every thread of the process holds a scheduler
//! token created by [`Mm::task_token`]; the tokens keep the `Mm` (and with
//! it the page-table root) alive until the last CPU stops using it.
//!
//! An `Mm` is also the [`MappingSpace`] that the registries of shared memory
//! objects name: the records of its shared VMAs point at it (weakly), and an
//! object locks it through them to take pages back or revoke write access.

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use ax_runtime::thread::{AddressSpaceCpuState, TaskAddressSpace};
use ax_sync::{Mutex, SpinLock};
use starling_fs::file::{
    mapped::{BUSY_ATTEMPTS, RELIEVE_AFTER, back_off},
    vfs::DenyWrite,
};
use starling_mm::aspace::{AddrSpace, FaultOutcome, MappingSpace, Prot, TlbFlusher};

use crate::error::{Errno, KResult};

/// Where execve put the parts of the program (Linux's `mm->start_code` and
/// friends; /proc/PID/stat fields 26-28 and 45-51).
#[derive(Clone, Copy, Debug, Default)]
pub struct ImageInfo {
    /// Lowest start and highest file end of the executable segments.
    pub start_code: usize,
    pub end_code: usize,
    /// Highest segment start and highest file end of all segments
    /// (fs/binfmt_elf.c computes them so).
    pub start_data: usize,
    pub end_data: usize,
    /// Start of the heap (the first program break).
    pub start_brk: usize,
    /// The initial stack pointer (where argc is).
    pub start_stack: usize,
    /// The argv and envp strings on the initial stack.
    pub arg_start: usize,
    pub arg_end: usize,
    pub env_start: usize,
    pub env_end: usize,
    /// The auxiliary vector the image started with (Linux's
    /// mm->saved_auxv), for /proc/PID/auxv.
    pub auxv: [(usize, usize); crate::loader::stack::AUXV_LEN],
}

/// One user address space in use by a process.
pub struct Mm {
    /// The address space; never held across a user-memory access.
    pub aspace: Mutex<AddrSpace>,
    /// The layout of the program loaded into it.
    pub info: SpinLock<ImageInfo>,
    cpu_state: Arc<AddressSpaceCpuState>,
    /// membarrier(2) registrations of this address space (the
    /// MEMBARRIER_CMD_REGISTER_* bits); a new image starts with none.
    pub membarrier: AtomicU32,
    /// Set once no process uses the address space any more (its last user
    /// exited or exec'd; Linux's mm_users reaching 0): /proc/PID/mem then
    /// reads nothing.
    pub released: core::sync::atomic::AtomicBool,
    /// The program file, denied to writers while this address space
    /// exists (ETXTBSY); a fork's copy holds it too.
    pub exe_deny: SpinLock<Option<DenyWrite>>,
    /// The process that created the address space (0 until claimed), as
    /// the shared-mapping registry reports its holders.
    pid: AtomicI32,
}

impl Mm {
    /// Wraps a freshly built address space.
    ///
    /// The address space must not hold shared mappings yet: their records
    /// would name no owner. (execve's image has private segments only; a
    /// fork child starts empty, see [`Mm::fork`].)
    pub fn new(mut aspace: AddrSpace) -> Arc<Self> {
        let cpu_state = Arc::new(AddressSpaceCpuState::new(aspace.root_paddr()));
        let mask = cpu_state.clone();
        aspace.set_tlb_flusher(TlbFlusher::with_mask(Arc::new(move || mask.active_mask())));
        Arc::new_cyclic(|me: &Weak<Self>| {
            aspace.set_owner(me.clone() as Weak<dyn MappingSpace>);
            Self {
                aspace: Mutex::new(aspace),
                info: SpinLock::new(ImageInfo::default()),
                cpu_state,
                membarrier: AtomicU32::new(0),
                released: core::sync::atomic::AtomicBool::new(false),
                exe_deny: SpinLock::new(None),
                pid: AtomicI32::new(0),
            }
        })
    }

    /// Names `pid` as the address space's process, unless one already is
    /// (a CLONE_VM child shares its creator's).
    pub fn claim_pid(&self, pid: i32) {
        let _ = self
            .pid
            .compare_exchange(0, pid, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The child's copy of this address space (fork): a new `Mm` whose
    /// address space gets every VMA, copy-on-write for private memory and
    /// registered with its objects for shared memory.
    pub fn fork(&self) -> KResult<Arc<Self>> {
        let layout = *self.aspace.lock().layout();
        let child = Self::new(AddrSpace::new(layout)?);
        self.aspace.lock().fork_into(&mut child.aspace.lock())?;
        Ok(child)
    }

    /// Verifies the shared-mapping registry invariant for this address
    /// space and the objects the last operations touched (`mm-debug`).
    /// A violation is a kernel bug: it is logged and panics the kernel so
    /// that `make test` cannot miss it.
    #[cfg(feature = "mm-debug")]
    pub fn check_registry(&self, after: &str) {
        if let Err(e) = self.aspace.lock().check_registry() {
            error!("mm-debug: registry invariant broken after {after}: {e}");
            panic!("mm-debug: registry invariant broken after {after}: {e}");
        }
    }

    /// Without `mm-debug` the check is compiled out.
    #[cfg(not(feature = "mm-debug"))]
    pub fn check_registry(&self, _after: &str) {}

    /// Resolves a fault at `addr`, retrying while a mapped object is busy
    /// (a truncate or writeback of a mapped file needs this address space's
    /// lock, so the lock is released between attempts). An object that
    /// stays busy gets asked to make room once; past [`BUSY_ATTEMPTS`] the
    /// access fails as a page that cannot be read (SIGBUS).
    ///
    /// A missing page of a range registered with userfaultfd is reported
    /// to its context, and the thread waits until user space fills it; if
    /// the wait ends for a signal or exit, the outcome is
    /// [`FaultOutcome::UserFault`] (the caller returns to user mode to
    /// deliver the signal, or fails a kernel copy with EFAULT).
    pub fn resolve_fault(&self, addr: usize, access: Prot) -> FaultOutcome {
        loop {
            let outcome = self.resolve_fault_once(addr, access);
            if outcome != FaultOutcome::UserFault {
                return outcome;
            }
            let write = access.contains(Prot::WRITE);
            if !crate::syscall::mm::userfaultfd::wait_user_fault(self, addr, write) {
                return FaultOutcome::UserFault;
            }
        }
    }

    fn resolve_fault_once(&self, addr: usize, access: Prot) -> FaultOutcome {
        for attempt in 0..BUSY_ATTEMPTS {
            let outcome = self.aspace.lock().handle_fault(addr, access, false);
            if outcome != FaultOutcome::Retry {
                return outcome;
            }
            if attempt == RELIEVE_AFTER {
                let object = self
                    .aspace
                    .lock()
                    .find_vma(addr)
                    .and_then(|vma| vma.object.clone());
                if let Some(object) = object {
                    object.relieve();
                }
            }
            back_off(attempt);
        }
        warn!("mm: fault at {addr:#x}: the mapped object stayed busy");
        FaultOutcome::BeyondObject
    }

    /// Resident pages in KiB (the RSS of getrusage's ru_maxrss).
    pub fn rss_kb(&self) -> u64 {
        (self.aspace.lock().resident().total() * 4) as u64
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

impl MappingSpace for Mm {
    fn with_aspace(&self, f: &mut dyn FnMut(&mut AddrSpace)) {
        f(&mut self.aspace.lock());
    }

    fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }
}
