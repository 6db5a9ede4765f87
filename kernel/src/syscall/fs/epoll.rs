//! epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
//! epoll_pwait2 (fs/eventpoll.c).
//!
//! The handlers check their arguments in Linux's order and call the epoll
//! instance (`starling_fs::file::epoll`). `struct epoll_event` is packed
//! (12 bytes) on x86_64 and 16 bytes on riscv64. epoll_wait is never
//! restarted after a signal handler: it fails with EINTR.

use alloc::sync::Arc;
use core::time::Duration;

use starling_fs::{
    eventpoll::{
        EPOLL_CLOEXEC, EPOLLWAKEUP, check_exclusive, decode_event, encode_event, event_size,
        max_events, op_has_event,
    },
    file::{OpenFile, epoll::Epoll, flags::O_RDWR},
};

use super::{file_of, install, poll::read_timespec};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{Thread, block, signal::SigSet},
    usercopy,
};

/// Whether `struct epoll_event` is packed (x86_64's EPOLL_PACKED).
const PACKED: bool = cfg!(target_arch = "x86_64");

/// CAP_BLOCK_SUSPEND: needed for EPOLLWAKEUP, which is dropped without it.
const CAP_BLOCK_SUSPEND: u32 = 36;

/// How long epoll_wait may sleep.
#[derive(Clone, Copy)]
enum Timeout {
    /// Report what is ready now; never sleep, never EINTR.
    Poll,
    Forever,
    Until(Duration),
}

impl Timeout {
    fn after(d: Duration) -> Self {
        if d.is_zero() {
            Self::Poll
        } else {
            Self::Until(block::now().saturating_add(d))
        }
    }

    /// epoll_wait's `int timeout` in milliseconds (ep_timeout_to_timespec).
    fn from_ms(ms: i32) -> Self {
        if ms < 0 {
            Self::Forever
        } else {
            Self::after(Duration::from_millis(ms as u64))
        }
    }
}

/// The open file description behind `fd`; O_PATH descriptors are EBADF,
/// as fdget gives them to no file operation.
fn description(thread: &Thread, fd: i32) -> KResult<Arc<OpenFile>> {
    let file = file_of(thread, fd)?;
    if file.is_path() {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

#[cfg(target_arch = "x86_64")]
/// epoll_create(2): `size` is only checked to be positive.
#[inline(never)]
pub fn sys_epoll_create(sc: &mut SyscallContext<'_>, size: i32) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    sys_epoll_create1(sc, 0)
}

/// epoll_create1(2).
#[inline(never)]
pub fn sys_epoll_create1(sc: &mut SyscallContext<'_>, flags: i32) -> SysResult {
    if flags as u32 & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    install(
        sc,
        OpenFile::new(Epoll::new(), O_RDWR),
        flags as u32 & EPOLL_CLOEXEC != 0,
    )
}

/// epoll_ctl(2), in do_epoll_ctl's order: EFAULT (the event is read for
/// every `op` but DEL), EBADF, EPERM (no poll operation), EINVAL (same
/// file, not an epoll descriptor, EPOLLEXCLUSIVE misuse), then ELOOP,
/// EEXIST, ENOENT and EINVAL for an unknown `op`.
#[inline(never)]
pub fn sys_epoll_ctl(
    sc: &mut SyscallContext<'_>,
    epfd: i32,
    op: i32,
    fd: i32,
    event: usize,
) -> SysResult {
    let (mut events, data) = if op_has_event(op) {
        let mut raw = [0u8; 16];
        let raw = &mut raw[..event_size(PACKED)];
        usercopy::copy_from_user(raw, event)?;
        decode_event(raw, PACKED).ok_or(Errno::EFAULT)?
    } else {
        (0, 0)
    };
    let ep_file = description(sc.thread, epfd)?;
    let target = description(sc.thread, fd)?;
    if !target.file().can_poll() {
        return Err(Errno::EPERM);
    }
    if op_has_event(op) && !sc.thread.process.creds.lock().capable(CAP_BLOCK_SUSPEND) {
        events &= !EPOLLWAKEUP;
    }
    let ep = Epoll::of(ep_file.file().as_ref()).ok_or(Errno::EINVAL)?;
    if Arc::ptr_eq(&ep_file, &target) {
        return Err(Errno::EINVAL);
    }
    check_exclusive(op, events, Epoll::of(target.file().as_ref()).is_some())?;
    ep.ctl(op, fd, &target, events, data)?;
    Ok(0)
}

/// do_epoll_wait: EBADF, then (ep_check_params) EINVAL for `maxevents` out
/// of range, EFAULT for a buffer outside user space and EINVAL for a
/// descriptor that is no epoll instance; then the events, 0 on timeout,
/// or EINTR.
fn do_wait(
    sc: &SyscallContext<'_>,
    epfd: i32,
    events: usize,
    maxevents: i32,
    timeout: Timeout,
) -> SysResult {
    let file = description(sc.thread, epfd)?;
    if maxevents <= 0 || maxevents as usize > max_events(PACKED) {
        return Err(Errno::EINVAL);
    }
    let max = maxevents as usize;
    let size = event_size(PACKED);
    // access_ok: the whole buffer must lie in user space; whether it is
    // mapped shows only when an event is copied.
    if events
        .checked_add(max * size)
        .is_none_or(|end| end > usercopy::user_end())
    {
        return Err(Errno::EFAULT);
    }
    let ep = Epoll::of(file.file().as_ref()).ok_or(Errno::EINVAL)?;
    let attempt = || {
        let mut at = events;
        ep.wait(max, &mut |ev, data| {
            usercopy::copy_to_user(at, &encode_event(ev, data, PACKED)[..size])?;
            at += size;
            Ok(())
        })
    };
    let deadline = match timeout {
        Timeout::Poll => return attempt(),
        Timeout::Forever => None,
        Timeout::Until(d) => Some(d),
    };
    let result = block::wait_event(
        sc.thread,
        deadline,
        block::Interruptible::Eintr,
        // SAFETY: the registrar is dropped before `file`, which keeps the
        // instance alive.
        |sink| unsafe { ep.register_waiter(sink) },
        || match attempt() {
            Ok(0) => None,
            other => Some(other),
        },
    );
    match result {
        Err(Errno::ETIMEDOUT) => Ok(0),
        other => other,
    }
}

#[cfg(target_arch = "x86_64")]
/// epoll_wait(2).
#[inline(never)]
pub fn sys_epoll_wait(
    sc: &mut SyscallContext<'_>,
    epfd: i32,
    events: usize,
    maxevents: i32,
    timeout: i32,
) -> SysResult {
    do_wait(sc, epfd, events, maxevents, Timeout::from_ms(timeout))
}

/// do_epoll_pwait: waits under the signal mask at `sigmask` (if not NULL;
/// `sigsetsize` must be 8). After EINTR the mask stays in force until the
/// handler has run, which then restores the old one (as sigsuspend).
fn pwait(
    sc: &SyscallContext<'_>,
    epfd: i32,
    events: usize,
    maxevents: i32,
    timeout: Timeout,
    sigmask: usize,
    sigsetsize: usize,
) -> SysResult {
    let old = sc.thread.sigmask();
    if sigmask != 0 {
        if sigsetsize != 8 {
            return Err(Errno::EINVAL);
        }
        sc.thread.set_sigmask(SigSet(usercopy::read_u64(sigmask)?));
    }
    let r = do_wait(sc, epfd, events, maxevents, timeout);
    if sigmask != 0 {
        if r == Err(Errno::EINTR) {
            sc.thread.set_saved_sigmask(old);
        } else {
            sc.thread.set_sigmask(old);
        }
    }
    r
}

/// epoll_pwait(2).
#[inline(never)]
pub fn sys_epoll_pwait(
    sc: &mut SyscallContext<'_>,
    epfd: i32,
    events: usize,
    maxevents: i32,
    timeout: i32,
    sigmask: usize,
    sigsetsize: usize,
) -> SysResult {
    pwait(
        sc,
        epfd,
        events,
        maxevents,
        Timeout::from_ms(timeout),
        sigmask,
        sigsetsize,
    )
}

/// epoll_pwait2(2): the timeout is a `struct timespec` (NULL: none);
/// EFAULT or EINVAL for a bad one come first.
#[inline(never)]
pub fn sys_epoll_pwait2(
    sc: &mut SyscallContext<'_>,
    epfd: i32,
    events: usize,
    maxevents: i32,
    timeout: usize,
    sigmask: usize,
    sigsetsize: usize,
) -> SysResult {
    let timeout = if timeout == 0 {
        Timeout::Forever
    } else {
        Timeout::after(read_timespec(timeout)?)
    };
    pwait(sc, epfd, events, maxevents, timeout, sigmask, sigsetsize)
}
