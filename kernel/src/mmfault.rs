//! Kernel-mode page faults on user addresses.
//!
//! When a user copy touches a page that is not present (or is still
//! copy-on-write), the architecture calls the page-fault handler installed
//! here. It resolves the fault in the current process's address space; an
//! unresolvable fault makes the copy stop, and the copy helper reports
//! EFAULT. Faults on kernel addresses go to the runtime's handler.

use ax_hal::{mem::VirtAddr, trap::PageFaultFlags};
use ax_lazyinit::LazyInit;
use starling_mm::aspace::FaultOutcome;

use crate::{task, usercopy};

static RUNTIME_HANDLER: LazyInit<fn(VirtAddr, PageFaultFlags) -> bool> = LazyInit::new();

/// Installs the handler (once, at boot).
pub fn install() {
    let previous = ax_hal::trap::set_page_fault_handler(handle);
    RUNTIME_HANDLER.init_once(previous);
}

fn handle(addr: VirtAddr, flags: PageFaultFlags) -> bool {
    if addr.as_usize() < usercopy::user_end() {
        let Some(thread) = task::current() else {
            return false;
        };
        let Some(mm) = thread.process.mm() else {
            return false;
        };
        let access = task::run::access_of(flags);
        return mm.resolve_fault(addr.as_usize(), access) == FaultOutcome::Handled;
    }
    match RUNTIME_HANDLER.get() {
        Some(h) => h(addr, flags),
        None => false,
    }
}
