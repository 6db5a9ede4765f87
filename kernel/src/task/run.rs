//! The life of a user thread: spawning its kernel task and the loop that
//! enters user mode and handles whatever brings it back (syscalls, page
//! faults, exceptions, interrupts), delivering signals before each return.

use alloc::{format, sync::Arc};

use ax_hal::{
    cpu::user::{ReturnReason, UserContext},
    trap::PageFaultFlags,
};
use ax_runtime::thread::{UserContextOptions, UserExecutionContext};
use starling_mm::aspace::{FaultOutcome, Prot};

use super::{
    Thread, cputimer, exit,
    mm::Mm,
    signal::{self, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGSEGV, SigInfo, deliver::Interrupted},
    table, thread,
};
use crate::{error::KResult, syscall};

/// How the new thread's floating-point state starts.
pub enum FpInit {
    /// Clean initial state (init, execve).
    Fresh,
    /// A copy of the calling thread's state (fork, clone). On riscv64 the
    /// caller captures it (`arch::fp::capture`); x86_64 copies it itself.
    #[cfg(target_arch = "x86_64")]
    InheritCurrent,
    #[cfg(target_arch = "riscv64")]
    InheritCurrent(Option<alloc::boxed::Box<ax_hal::cpu::registers::FpState>>),
}

/// Starts a kernel task running `thread` in user mode from `uctx`.
pub fn spawn(thread: Arc<Thread>, uctx: UserContext, mm: &Arc<Mm>, fp: FpInit) -> KResult<()> {
    let token = mm.task_token()?;
    let options = UserContextOptions::new(token);
    #[cfg(target_arch = "x86_64")]
    let options = match fp {
        FpInit::InheritCurrent => options.inherit_current_fp(),
        FpInit::Fresh => options,
    };
    #[cfg(target_arch = "riscv64")]
    let options = match fp {
        FpInit::InheritCurrent(Some(state)) => options.with_fp_state(*state),
        _ => options,
    };
    let builder = ax_runtime::thread::builder(format!("user-{}", thread.tid()))
        .extension(thread.cpu.extension());
    let body_thread = thread.clone();
    // SAFETY: the entry closure enters user mode only through
    // `UserExecutionContext`, bound to the address-space token passed in
    // `options`; inherited FP state belongs to the calling thread.
    let prepared = unsafe {
        ax_runtime::thread::prepare_user_thread(
            builder,
            move || user_main(body_thread, uctx),
            options,
        )
    }
    .map_err(|e| {
        warn!(
            "spawn: cannot prepare the task of tid {}: {e:?}",
            thread.tid()
        );
        crate::error::Errno::EAGAIN
    })?;
    thread::bind_task(prepared.thread_handle().id().as_u64(), &thread);
    table::insert_thread(&thread);
    thread.process.threads.lock().push(thread.clone());
    if let Err(e) = prepared.publish() {
        warn!("spawn: cannot start tid {}: {e:?}", thread.tid());
        thread
            .process
            .threads
            .lock()
            .retain(|t| !Arc::ptr_eq(t, &thread));
        table::remove_thread(thread.tid());
        return Err(crate::error::Errno::EAGAIN);
    }
    Ok(())
}

fn user_main(thread: Arc<Thread>, uctx: UserContext) {
    let mut ctx = match UserExecutionContext::bind(uctx) {
        Ok(ctx) => ctx,
        Err(e) => {
            error!("tid {}: cannot bind the user context: {e:?}", thread.tid());
            exit::group_exit(&thread, SIGSEGV);
            exit::thread_exit(&thread);
            return;
        }
    };
    super::sched::apply_inherited(&thread);
    // A child auto-attached by fork tracing stops (its SIGSTOP or
    // EVENT_STOP) before its first user instruction, as Linux's
    // ret_from_fork does.
    if thread.ptrace.traced() {
        super::ptrace::pending_interrupt(&thread, &mut ctx);
        signal::deliver::deliver_pending(&thread, &mut ctx, Interrupted::No);
    }
    loop {
        let mut interrupted = Interrupted::No;
        // The CPU time until the thread is back in the kernel is user time.
        let entered = thread.cpu.total_ns();
        let reason = ctx.enter();
        thread.cpu.charge_user_since(entered);
        match reason {
            Ok(ReturnReason::Syscall) => interrupted = syscall::handle(&thread, &mut ctx),
            Ok(ReturnReason::PageFault(addr, flags)) => {
                user_page_fault(&thread, addr.as_usize(), flags)
            }
            Ok(ReturnReason::Exception(info)) => {
                let ip = ctx.ip();
                let si = crate::arch::exception_signal(info.kind(), info.fault_addr(), ip);
                info!(
                    "tid {}: exception {:?} at ip {ip:#x}: signal {} code {:#x}",
                    thread.tid(),
                    info.kind(),
                    si.signo,
                    si.code
                );
                signal::send::force_fault(&thread, si);
            }
            Ok(ReturnReason::Interrupt) | Ok(ReturnReason::Unknown) => {}
            Err(e) => {
                error!("tid {}: user entry failed: {e:?}", thread.tid());
                exit::group_exit(&thread, SIGSEGV);
            }
        }
        if thread.is_exiting() {
            break;
        }
        cputimer::run_expired(&thread);
        if thread.ptrace.traced() {
            super::ptrace::pending_interrupt(&thread, &mut ctx);
        }
        signal::deliver::deliver_pending(&thread, &mut ctx, interrupted);
        if thread.is_exiting() {
            break;
        }
    }
    if thread.ptrace.traced() {
        super::ptrace::before_exit(&thread, &mut ctx);
    }
    exit::thread_exit(&thread);
}

/// Resolves a user-mode page fault or turns it into SIGSEGV.
fn user_page_fault(thread: &Arc<Thread>, addr: usize, flags: PageFaultFlags) {
    let access = access_of(flags);
    let outcome = match thread.process.mm() {
        Some(mm) => mm.resolve_fault(addr, access),
        None => FaultOutcome::NoMapping,
    };
    let code = match outcome {
        // A userfault wait cut short by a signal: return to user mode, the
        // signal is delivered and the access faults again afterwards.
        FaultOutcome::Handled | FaultOutcome::UserFault => return,
        FaultOutcome::NoMapping => SEGV_MAPERR,
        FaultOutcome::AccessDenied => SEGV_ACCERR,
        FaultOutcome::OutOfMemory => {
            warn!("tid {}: out of memory at {addr:#x}", thread.tid());
            exit::group_exit(thread, signal::SIGKILL);
            return;
        }
        FaultOutcome::BeyondObject | FaultOutcome::Retry => {
            // Past the end of the mapped file: SIGBUS (mmap(2)).
            signal::send::force_fault(thread, SigInfo::fault(SIGBUS, signal::BUS_ADRERR, addr));
            return;
        }
    };
    debug!("tid {}: SIGSEGV at {addr:#x} ({flags:?})", thread.tid());
    signal::send::force_fault(thread, SigInfo::fault(SIGSEGV, code, addr));
}

/// The access a fault asks for.
pub fn access_of(flags: PageFaultFlags) -> Prot {
    if flags.contains(PageFaultFlags::WRITE) {
        Prot::WRITE
    } else if flags.contains(PageFaultFlags::EXECUTE) {
        Prot::EXEC
    } else {
        Prot::READ
    }
}
