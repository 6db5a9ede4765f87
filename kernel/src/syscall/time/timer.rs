//! POSIX timers: timer_create(2), timer_settime(2), timer_gettime(2),
//! timer_getoverrun(2), timer_delete(2).
//!
//! The kernel's `timer_t` is an `int`; ids are those of
//! `task::posix_timer`, which owns the timers' behaviour.

use core::time::Duration;

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{
        clock::{Clock, ktime_ns},
        posix_timer::{self, SigEvent, TimerSpec},
    },
    usercopy,
};

const TIMER_ABSTIME: i32 = 1;

/// `sizeof(struct sigevent)`: Linux copies all of it.
const SIGEVENT_SIZE: usize = 64;

/// Reads a `struct sigevent`: sigev_value at 0, sigev_signo at 8,
/// sigev_notify at 12, sigev_notify_thread_id at 16.
fn read_sigevent(addr: usize) -> KResult<SigEvent> {
    let mut b = [0u8; SIGEVENT_SIZE];
    usercopy::copy_from_user(&mut b, addr)?;
    let word = |o: usize| i32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut value = [0u8; 8];
    value.copy_from_slice(&b[0..8]);
    Ok(SigEvent {
        value: usize::from_ne_bytes(value),
        signo: word(8),
        notify: word(12),
        tid: word(16),
    })
}

/// A `struct timespec` field of an itimerspec; EINVAL unless tv_sec >= 0
/// and 0 <= tv_nsec < 1e9 (timespec64_valid).
fn timespec_ns(b: &[u8]) -> KResult<u64> {
    let mut sec = [0u8; 8];
    let mut nsec = [0u8; 8];
    sec.copy_from_slice(&b[0..8]);
    nsec.copy_from_slice(&b[8..16]);
    let (sec, nsec) = (i64::from_ne_bytes(sec), i64::from_ne_bytes(nsec));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ktime_ns(Duration::new(sec as u64, nsec as u32)))
}

/// Reads a `struct itimerspec` (it_interval, then it_value): copied whole
/// (EFAULT) before it is checked (EINVAL).
fn read_itimerspec(addr: usize) -> KResult<TimerSpec> {
    let mut b = [0u8; 32];
    usercopy::copy_from_user(&mut b, addr)?;
    Ok(TimerSpec {
        interval: timespec_ns(&b[0..16])?,
        value: timespec_ns(&b[16..32])?,
    })
}

fn write_itimerspec(addr: usize, spec: TimerSpec) -> KResult<()> {
    let mut b = [0u8; 32];
    for (i, ns) in [spec.interval, spec.value].into_iter().enumerate() {
        let o = i * 16;
        b[o..o + 8].copy_from_slice(&(ns / 1_000_000_000).to_ne_bytes());
        b[o + 8..o + 16].copy_from_slice(&(ns % 1_000_000_000).to_ne_bytes());
    }
    usercopy::copy_to_user(addr, &b)
}

/// timer_create(2). A NULL `sevp` means SIGEV_SIGNAL with SIGALRM and the
/// timer id as `sival_int`. If the id cannot be stored the timer is
/// deleted again (EFAULT), as in do_timer_create.
#[inline(never)]
pub fn sys_timer_create(
    sc: &mut SyscallContext<'_>,
    clock: i32,
    sevp: usize,
    timerid: usize,
) -> SysResult {
    let event = if sevp == 0 {
        None
    } else {
        Some(read_sigevent(sevp)?)
    };
    let clock = Clock::from_id(sc.thread, clock)?;
    let id = posix_timer::create(sc.thread, clock, event)?;
    if let Err(e) = usercopy::write_i32(timerid, id) {
        let _ = posix_timer::delete(&sc.thread.process, id);
        return Err(e);
    }
    Ok(0)
}

/// timer_settime(2): `flags` other than TIMER_ABSTIME are ignored, as on
/// Linux. The old setting is written after the change (a bad `old` pointer
/// fails with EFAULT, the new setting in force).
#[inline(never)]
pub fn sys_timer_settime(
    sc: &mut SyscallContext<'_>,
    id: i32,
    flags: i32,
    new: usize,
    old: usize,
) -> SysResult {
    if new == 0 {
        return Err(Errno::EINVAL);
    }
    let spec = read_itimerspec(new)?;
    let previous = posix_timer::settime(&sc.thread.process, id, flags & TIMER_ABSTIME != 0, spec)?;
    if old != 0 {
        write_itimerspec(old, previous)?;
    }
    Ok(0)
}

/// timer_gettime(2).
#[inline(never)]
pub fn sys_timer_gettime(sc: &mut SyscallContext<'_>, id: i32, curr: usize) -> SysResult {
    let spec = posix_timer::gettime(&sc.thread.process, id)?;
    write_itimerspec(curr, spec)?;
    Ok(0)
}

/// timer_getoverrun(2).
#[inline(never)]
pub fn sys_timer_getoverrun(sc: &mut SyscallContext<'_>, id: i32) -> SysResult {
    Ok(posix_timer::getoverrun(&sc.thread.process, id)? as usize)
}

/// timer_delete(2).
#[inline(never)]
pub fn sys_timer_delete(sc: &mut SyscallContext<'_>, id: i32) -> SysResult {
    posix_timer::delete(&sc.thread.process, id)?;
    Ok(0)
}
