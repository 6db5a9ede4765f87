//! getitimer(2), setitimer(2), alarm(2).
//!
//! ITIMER_REAL is `task::itimer::RealTimer`; ITIMER_VIRTUAL and ITIMER_PROF
//! count the process's CPU time (`task::cputimer`).

use core::time::Duration;

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{Process, cputimer::CpuItimer},
    usercopy,
};

const ITIMER_REAL: i32 = 0;
const ITIMER_VIRTUAL: i32 = 1;
const ITIMER_PROF: i32 = 2;

enum Which {
    Real,
    Cpu(CpuItimer),
}

fn which_of(which: i32) -> KResult<Which> {
    match which {
        ITIMER_REAL => Ok(Which::Real),
        ITIMER_VIRTUAL => Ok(Which::Cpu(CpuItimer::Virtual)),
        ITIMER_PROF => Ok(Which::Cpu(CpuItimer::Prof)),
        _ => Err(Errno::EINVAL),
    }
}

/// A `struct timeval`; EINVAL unless 0 <= tv_usec < 1000000 and tv_sec >= 0
/// (timeval_valid).
fn timeval(b: &[u8]) -> KResult<Duration> {
    let sec = i64::from_ne_bytes(b[0..8].try_into().map_err(|_| Errno::EFAULT)?);
    let usec = i64::from_ne_bytes(b[8..16].try_into().map_err(|_| Errno::EFAULT)?);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(sec as u64, usec as u32 * 1000))
}

/// Reads a `struct itimerval` as (interval, value): the whole structure is
/// copied (EFAULT) before either field is checked (EINVAL).
fn read_itimerval(addr: usize) -> KResult<(Duration, Duration)> {
    let mut b = [0u8; 32];
    usercopy::copy_from_user(&mut b, addr)?;
    Ok((timeval(&b[0..16])?, timeval(&b[16..32])?))
}

/// Writes a `struct itimerval`; microseconds are truncated, except that a
/// running timer with less than 1 µs left reads 1 µs, never disarmed.
fn write_itimerval(addr: usize, value: Duration, interval: Duration) -> KResult<()> {
    let value = if value > Duration::ZERO && value < Duration::from_micros(1) {
        Duration::from_micros(1)
    } else {
        value
    };
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&interval.as_secs().to_ne_bytes());
    b[8..16].copy_from_slice(&u64::from(interval.subsec_micros()).to_ne_bytes());
    b[16..24].copy_from_slice(&value.as_secs().to_ne_bytes());
    b[24..32].copy_from_slice(&u64::from(value.subsec_micros()).to_ne_bytes());
    usercopy::copy_to_user(addr, &b)
}

fn ns(d: Duration) -> u64 {
    crate::task::clock::ktime_ns(d)
}

/// The (remaining, interval) of a CPU itimer.
fn get_cpu(process: &Process, which: CpuItimer) -> (Duration, Duration) {
    let (left, interval) = process.cpu_timers.get_itimer(which, process.cpu_sample());
    (Duration::from_nanos(left), Duration::from_nanos(interval))
}

/// getitimer(2).
#[inline(never)]
pub fn sys_getitimer(sc: &mut SyscallContext<'_>, which: i32, value: usize) -> SysResult {
    let process = &sc.thread.process;
    let (left, interval) = match which_of(which)? {
        Which::Real => process.real_timer.get(),
        Which::Cpu(w) => get_cpu(process, w),
    };
    write_itimerval(value, left, interval)?;
    Ok(0)
}

/// setitimer(2). A NULL new value disarms the timer (Linux still accepts
/// it). The old value is written after the timer was changed, so a bad `old`
/// pointer fails with EFAULT with the new setting in force, as on Linux.
#[inline(never)]
pub fn sys_setitimer(sc: &mut SyscallContext<'_>, which: i32, new: usize, old: usize) -> SysResult {
    let (interval, value) = if new == 0 {
        (Duration::ZERO, Duration::ZERO)
    } else {
        read_itimerval(new)?
    };
    let process = sc.thread.process.clone();
    let (old_left, old_interval) = match which_of(which)? {
        Which::Real => process.real_timer.set(&process, value, interval)?,
        Which::Cpu(w) => {
            let (left, iv) =
                process
                    .cpu_timers
                    .set_itimer(w, process.cpu_sample(), ns(value), ns(interval));
            (Duration::from_nanos(left), Duration::from_nanos(iv))
        }
    };
    if old != 0 {
        write_itimerval(old, old_left, old_interval)?;
    }
    Ok(0)
}

/// alarm(2) (x86_64): seconds left of the previous alarm, rounded.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
pub fn sys_alarm(sc: &mut SyscallContext<'_>, seconds: u32) -> SysResult {
    let process = sc.thread.process.clone();
    let (left, _) = process.real_timer.set(
        &process,
        Duration::from_secs(u64::from(seconds)),
        Duration::ZERO,
    )?;
    let mut secs = left.as_secs() + u64::from(left.subsec_micros() >= 500_000);
    if secs == 0 && !left.is_zero() {
        secs = 1;
    }
    Ok(secs as usize)
}
