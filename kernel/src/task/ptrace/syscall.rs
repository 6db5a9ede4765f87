//! Syscall-stops (PTRACE_SYSCALL): a stop before the call, where the tracer
//! may change the number and arguments (number -1 skips the call), and one
//! after it, where it may change the result. PTRACE_GET_SYSCALL_INFO
//! describes the stop.

use alloc::sync::Arc;

use ax_runtime::thread::UserExecutionContext;

use super::{O_TRACESYSGOOD, StopKind, regs, stop};
use crate::task::{
    Thread,
    signal::{SIGTRAP, deliver::Interrupted},
};

/// Runs one syscall of a thread with syscall-stops requested; `run` runs
/// syscall `nr` as the untraced path does.
pub fn traced(
    thread: &Arc<Thread>,
    uctx: &mut UserExecutionContext,
    run: fn(&Arc<Thread>, &mut UserExecutionContext, usize) -> Interrupted,
) -> Interrupted {
    let nr = uctx.sysno();
    let status = match set_nr(thread, Some(nr)) {
        Some(options) => trap_status(options),
        None => return run(thread, uctx, nr),
    };
    // x86_64: at the entry stop rax reads -ENOSYS and the number is in
    // orig_rax (arch/x86/entry/common.c do_syscall_64).
    #[cfg(target_arch = "x86_64")]
    uctx.set_retval((-(crate::error::Errno::ENOSYS.0 as isize)) as usize);
    stop(thread, uctx, status, StopKind::SyscallEntry, None);
    if thread.is_exiting() {
        return Interrupted::No;
    }
    let recorded = thread
        .ptrace
        .state
        .lock()
        .as_ref()
        .and_then(|t| t.syscall_nr)
        .unwrap_or(nr);
    let nr = regs::syscall_nr(uctx, recorded);
    let interrupted = if nr == usize::MAX {
        // Skipped: the return register keeps what the tracer left there.
        Interrupted::No
    } else {
        #[cfg(target_arch = "x86_64")]
        {
            uctx.regs.rax = nr as u64;
        }
        run(thread, uctx, nr)
    };
    if thread.ptrace.syscall_stops() {
        let ret = uctx.retval();
        if let Some(t) = thread.ptrace.state.lock().as_mut() {
            t.syscall_ret = ret;
        }
        if let Some(options) = set_nr(thread, Some(nr)) {
            stop(
                thread,
                uctx,
                trap_status(options),
                StopKind::SyscallExit,
                None,
            );
        }
    }
    set_nr(thread, None);
    interrupted
}

/// Records the syscall number of the stop; returns the tracer's options,
/// or `None` if the thread is no longer traced.
fn set_nr(thread: &Thread, nr: Option<usize>) -> Option<u32> {
    let mut st = thread.ptrace.state.lock();
    let t = st.as_mut()?;
    t.syscall_nr = nr;
    Some(t.options)
}

/// SIGTRAP, or SIGTRAP | 0x80 with PTRACE_O_TRACESYSGOOD.
fn trap_status(options: u32) -> i32 {
    let sig = if options & O_TRACESYSGOOD != 0 {
        SIGTRAP | 0x80
    } else {
        SIGTRAP
    };
    (sig << 8) | 0x7f
}

/// PTRACE_SYSCALL_INFO_* ops.
const INFO_NONE: u8 = 0;
const INFO_ENTRY: u8 = 1;
const INFO_EXIT: u8 = 2;

/// `struct ptrace_syscall_info` for the stop the tracee is in: the bytes
/// and how many of them the op defines (kernel/ptrace.c
/// ptrace_get_syscall_info).
pub fn info(thread: &Thread) -> ([u8; 88], usize) {
    let mut b = [0u8; 88];
    let st = thread.ptrace.state.lock();
    let Some(t) = st.as_ref() else {
        return (b, 0);
    };
    let Some(ctx) = t.regs.as_ref() else {
        return (b, 0);
    };
    let op = match t.stop.map(|s| s.kind) {
        Some(StopKind::SyscallEntry) => INFO_ENTRY,
        Some(StopKind::SyscallExit) => INFO_EXIT,
        _ => INFO_NONE,
    };
    b[0] = op;
    b[4..8].copy_from_slice(&regs::AUDIT_ARCH.to_ne_bytes());
    b[8..16].copy_from_slice(&(ctx.ip() as u64).to_ne_bytes());
    b[16..24].copy_from_slice(&(ctx.sp() as u64).to_ne_bytes());
    let len = match op {
        INFO_ENTRY => {
            let nr = regs::syscall_nr(ctx, t.syscall_nr.unwrap_or(usize::MAX)) as u64;
            b[24..32].copy_from_slice(&nr.to_ne_bytes());
            for (i, a) in regs::syscall_args(ctx).iter().enumerate() {
                b[32 + i * 8..40 + i * 8].copy_from_slice(&a.to_ne_bytes());
            }
            80
        }
        INFO_EXIT => {
            let rval = t.syscall_ret as i64;
            b[24..32].copy_from_slice(&rval.to_ne_bytes());
            // IS_ERR_VALUE: the last 4095 values are errors.
            b[32] = u8::from((-4095..0).contains(&rval));
            33
        }
        _ => 24,
    };
    (b, len)
}
