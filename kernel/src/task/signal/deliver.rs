//! Delivering pending signals on the way back to user mode.

use alloc::sync::Arc;

use ax_hal::cpu::user::UserContext;

use super::{
    DefaultAction, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SIG_DFL, SIG_IGN, SIGKILL,
    SIGSEGV, SIGSTOP, SigAction, SigSet,
    altstack::{AltStack, SS_AUTODISARM},
    default_action,
};
use crate::{
    arch,
    error::Errno,
    task::{Thread, block, exit, process::ProcState},
};

/// How the interrupted syscall (if any) ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// No syscall, or one that completed.
    No,
    /// Returned ERESTARTSYS: restart unless a handler without SA_RESTART runs.
    RestartSys,
    /// Returned ERESTARTNOHAND: restart only if no handler runs.
    RestartNoHandler,
}

fn rewind_syscall(thread: &Thread, ctx: &mut UserContext) {
    if let Some((sysno, arg0)) = *thread.restart.lock() {
        let len = ctx.syscall_insn_len();
        let ip = ctx.ip() - len;
        ctx.set_ip(ip);
        arch::restore_syscall_registers(ctx, sysno, arg0);
    }
}

/// Delivers pending signals: default actions run here, and at most one
/// handler frame is set up. Returns with the context ready to enter user
/// mode (or with the thread asked to exit).
pub fn deliver_pending(thread: &Arc<Thread>, ctx: &mut UserContext, mut interrupted: Interrupted) {
    let mut handled_by_handler = None;
    while let Some(info) = super::dequeue(thread, thread.sigmask()) {
        let cont_seq = thread
            .process
            .cont_seq
            .load(core::sync::atomic::Ordering::Acquire);
        // A tracee's signals go to the tracer first (signal-delivery-stop).
        let info = if thread.ptrace.traced() && info.signo != SIGKILL {
            match crate::task::ptrace::signal_stop(thread, ctx, info) {
                Some(info) => info,
                None => continue,
            }
        } else {
            info
        };
        if thread.is_exiting() {
            return;
        }
        let sig = info.signo;
        let act: SigAction = thread.process.actions.lock()[(sig - 1) as usize];
        let handler = if sig == SIGKILL || sig == SIGSTOP {
            SIG_DFL
        } else {
            act.handler
        };
        if handler == SIG_IGN {
            continue;
        }
        if handler == SIG_DFL {
            match default_action(sig) {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Terminate => {
                    exit::group_exit(thread, sig & 0x7f);
                    return;
                }
                DefaultAction::Core => {
                    crate::task::coredump::fatal_signal(thread, ctx, &info);
                    return;
                }
                DefaultAction::Stop => {
                    // Continued since the stop signal was dequeued (while a
                    // tracer held it, say): it no longer stops
                    // (kernel/signal.c do_signal_stop, JOBCTL_STOP_DEQUEUED).
                    let now = thread
                        .process
                        .cont_seq
                        .load(core::sync::atomic::Ordering::Acquire);
                    if now != cont_seq {
                        continue;
                    }
                    if thread.ptrace.traced() {
                        crate::task::ptrace::group_stop(thread, ctx, sig);
                    } else {
                        stop(thread, sig);
                    }
                    if thread.is_exiting() {
                        return;
                    }
                    continue;
                }
            }
        }
        // A user handler. The frame saves the mask to restore at sigreturn:
        // the one sigsuspend/ppoll replaced, if any.
        let saved_mask = thread.take_saved_sigmask();
        let old_mask = saved_mask.unwrap_or_else(|| thread.sigmask());
        if interrupted != Interrupted::No {
            if interrupted == Interrupted::RestartSys && act.flags & SA_RESTART != 0 {
                rewind_syscall(thread, ctx);
            } else {
                ctx.set_retval((-(Errno::EINTR.0 as isize)) as usize);
            }
            // Settled once: a handler chosen after a failed frame must not
            // rewind or overwrite it again.
            interrupted = Interrupted::No;
        }
        let trampoline = arch::sigreturn_address(act.restorer, act.flags);
        // SA_ONSTACK switches to the alternate stack unless the thread
        // already runs on it; the frame records the stack as it was, and
        // SS_AUTODISARM disarms it while the handler runs.
        let sp = arch::signal::stack_pointer(ctx);
        let (stack_top, uc_stack) = {
            let mut alt = thread.altstack.lock();
            let saved = alt.report(sp);
            let top = (act.flags & SA_ONSTACK != 0 && alt.usable() && !alt.contains(sp))
                .then_some(alt.sp + alt.size);
            if alt.flags & SS_AUTODISARM != 0 {
                *alt = AltStack::DISABLED;
            }
            (top, saved)
        };
        if arch::signal::setup_frame(
            ctx, sig, &info, handler, trampoline, old_mask, stack_top, uc_stack,
        )
        .is_err()
        {
            // The frame cannot be written (kernel/signal.c force_sigsegv):
            // failing to deliver SIGSEGV itself is fatal, with its default
            // action; any other signal turns into a forced SIGSEGV, which
            // its own handler may catch (on another stack).
            if sig == SIGSEGV {
                crate::task::coredump::fatal_signal(thread, ctx, &super::SigInfo::kernel(SIGSEGV));
                return;
            }
            if let Some(mask) = saved_mask {
                thread.set_saved_sigmask(mask);
            }
            super::send::force_fault(thread, super::SigInfo::kernel(SIGSEGV));
            continue;
        }
        let mut mask = SigSet(thread.sigmask().0 | act.mask.0);
        if act.flags & SA_NODEFER == 0 {
            mask.add(sig);
        }
        thread.set_sigmask(mask);
        if act.flags & SA_RESETHAND != 0 {
            // SA_ONESHOT: only the handler goes back to SIG_DFL; the flags
            // and mask stay, as sigaction(2) then reports them.
            thread.process.actions.lock()[(sig - 1) as usize].handler = SIG_DFL;
        }
        handled_by_handler = Some(sig);
        break;
    }
    if handled_by_handler.is_none() {
        if interrupted != Interrupted::No {
            rewind_syscall(thread, ctx);
        }
        if let Some(mask) = thread.take_saved_sigmask() {
            thread.set_sigmask(mask);
        }
    }
    *thread.restart.lock() = None;
}

/// Stops the process until SIGCONT or SIGKILL.
fn stop(thread: &Arc<Thread>, sig: i32) {
    let process = &thread.process;
    {
        let mut tree = process.tree.lock();
        if tree.group_exit.is_some() {
            return;
        }
        tree.state = ProcState::Stopped {
            sig,
            reported: false,
        };
    }
    exit::notify_parent_stopped(process, sig);
    let _ = block::wait_event(
        thread,
        None,
        block::Interruptible::No,
        |_| {},
        || {
            let running = !matches!(process.tree.lock().state, ProcState::Stopped { .. });
            (running || thread.is_exiting()).then_some(Ok(()))
        },
    );
}
