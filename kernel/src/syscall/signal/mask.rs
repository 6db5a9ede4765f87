//! rt_sigprocmask, rt_sigpending, rt_sigsuspend.

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::{
        block,
        signal::{self, SigSet},
    },
    usercopy,
};

const SIG_BLOCK: i32 = 0;
const SIG_UNBLOCK: i32 = 1;
const SIG_SETMASK: i32 = 2;

/// rt_sigprocmask(2).
#[inline(never)]
pub fn sys_rt_sigprocmask(
    sc: &mut SyscallContext<'_>,
    how: i32,
    set: usize,
    oldset: usize,
    sigsetsize: usize,
) -> SysResult {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let old = sc.thread.sigmask();
    if set != 0 {
        let s = SigSet(usercopy::read_u64(set)?);
        let new = match how {
            SIG_BLOCK => SigSet(old.0 | s.0),
            SIG_UNBLOCK => SigSet(old.0 & !s.0),
            SIG_SETMASK => s,
            _ => return Err(Errno::EINVAL),
        };
        sc.thread.set_sigmask(new);
    }
    if oldset != 0 {
        usercopy::write_u64(oldset, old.0)?;
    }
    Ok(0)
}

/// rt_sigpending(2).
#[inline(never)]
pub fn sys_rt_sigpending(sc: &mut SyscallContext<'_>, set: usize, sigsetsize: usize) -> SysResult {
    if sigsetsize > 8 {
        return Err(Errno::EINVAL);
    }
    let own = sc.thread.pending.lock().set();
    let shared = sc.thread.process.shared_pending.lock().set();
    let pending = (own.0 | shared.0) & sc.thread.sigmask().0;
    usercopy::copy_to_user(set, &pending.to_ne_bytes()[..sigsetsize])?;
    Ok(0)
}

/// rt_sigsuspend(2): waits for a signal with a temporary mask. The mask is
/// restored by the signal frame (the handler's return restores the old one).
#[inline(never)]
pub fn sys_rt_sigsuspend(sc: &mut SyscallContext<'_>, mask: usize, sigsetsize: usize) -> SysResult {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let new = SigSet(usercopy::read_u64(mask)?);
    let old = sc.thread.sigmask();
    sc.thread.set_sigmask(new);
    let _ = block::wait_event(
        sc.thread,
        None,
        block::Interruptible::Eintr,
        |_| {},
        || None::<Result<(), Errno>>,
    );
    // Deliver under the temporary mask; the frame saves `old` for sigreturn.
    // EINTR once a handler ran; restarted if the signal only stopped and
    // continued the process.
    sc.thread.set_saved_sigmask(old);
    Err(crate::syscall::ERESTARTNOHAND)
}

/// rt_sigtimedwait(2): dequeues a pending signal from `set`, waiting up to
/// `timeout` (EAGAIN when it passes, EINTR when another signal arrives).
#[inline(never)]
pub fn sys_rt_sigtimedwait(
    sc: &mut SyscallContext<'_>,
    set: usize,
    info: usize,
    timeout: usize,
    sigsetsize: usize,
) -> SysResult {
    use crate::task::signal::{SIGKILL, SIGSTOP};
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let mut wanted = SigSet(usercopy::read_u64(set)?);
    wanted.remove(SIGKILL);
    wanted.remove(SIGSTOP);
    let deadline = if timeout == 0 {
        None
    } else {
        Some(block::now().saturating_add(crate::syscall::fs::read_timespec(timeout)?))
    };
    let thread = sc.thread;
    let others = SigSet(!wanted.0);
    // An interruptible sleep (state S, as do_sigtimedwait's
    // TASK_INTERRUPTIBLE); the attempt itself answers EINTR for a
    // deliverable signal it does not wait for.
    let taken = block::wait_event(
        thread,
        deadline,
        block::Interruptible::Eintr,
        |_| {},
        || {
            if let Some(i) = signal::dequeue(thread, others) {
                return Some(Ok(i));
            }
            thread.has_deliverable_signal().then_some(Err(Errno::EINTR))
        },
    );
    let taken = match taken {
        Err(Errno::ETIMEDOUT) => return Err(Errno::EAGAIN),
        other => other?,
    };
    if info != 0 {
        usercopy::copy_to_user(info, &taken.to_user())?;
    }
    Ok(taken.signo as usize)
}

#[cfg(target_arch = "x86_64")]
/// pause(2): sleeps until a signal is delivered; returns EINTR after a
/// handler ran, and restarts if the signal only stopped and continued the
/// process.
#[inline(never)]
pub fn sys_pause(sc: &mut SyscallContext<'_>) -> SysResult {
    let _ = block::wait_event(
        sc.thread,
        None,
        block::Interruptible::Eintr,
        |_| {},
        || None::<Result<(), Errno>>,
    );
    Err(crate::syscall::ERESTARTNOHAND)
}
