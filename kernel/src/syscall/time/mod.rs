//! Clocks and sleeping.

use core::time::Duration;

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs::read_timespec},
    task::block,
    usercopy,
};

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const TIMER_ABSTIME: u32 = 1;

fn now_for(sc: &SyscallContext<'_>, clock: i32) -> KResult<Duration> {
    match clock {
        CLOCK_PROCESS_CPUTIME_ID => Ok(Duration::from_nanos(sc.thread.process.cpu_ns())),
        CLOCK_THREAD_CPUTIME_ID => Ok(Duration::from_nanos(sc.thread.cpu.total_ns())),
        _ => now(clock),
    }
}

fn now(clock: i32) -> KResult<Duration> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(ax_hal::time::wall_time()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            Ok(block::now())
        }
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => Ok(Duration::ZERO),
        _ => Err(Errno::EINVAL),
    }
}

fn write_timespec(addr: usize, d: Duration) -> KResult<()> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&d.as_secs().to_ne_bytes());
    b[8..].copy_from_slice(&u64::from(d.subsec_nanos()).to_ne_bytes());
    usercopy::copy_to_user(addr, &b)
}

/// clock_gettime(2).
pub fn sys_clock_gettime(sc: &mut SyscallContext<'_>, clock: i32, tp: usize) -> SysResult {
    let t = now_for(sc, clock)?;
    write_timespec(tp, t)?;
    Ok(0)
}

/// clock_getres(2).
pub fn sys_clock_getres(_sc: &mut SyscallContext<'_>, clock: i32, res: usize) -> SysResult {
    now(clock)?;
    if res != 0 {
        write_timespec(res, Duration::from_nanos(1))?;
    }
    Ok(0)
}

/// gettimeofday(2).
pub fn sys_gettimeofday(_sc: &mut SyscallContext<'_>, tv: usize, tz: usize) -> SysResult {
    if tv != 0 {
        let t = ax_hal::time::wall_time();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&t.as_secs().to_ne_bytes());
        b[8..].copy_from_slice(&u64::from(t.subsec_micros()).to_ne_bytes());
        usercopy::copy_to_user(tv, &b)?;
    }
    if tz != 0 {
        usercopy::copy_to_user(tz, &[0u8; 8])?;
    }
    Ok(0)
}

fn sleep(sc: &SyscallContext<'_>, deadline: Duration, rem: usize) -> SysResult {
    match block::sleep_until(sc.thread, deadline) {
        Ok(()) => Ok(0),
        Err(Errno::EINTR) => {
            if rem != 0 {
                write_timespec(rem, deadline.saturating_sub(block::now()))?;
            }
            Err(Errno::EINTR)
        }
        Err(e) => Err(e),
    }
}

/// nanosleep(2).
pub fn sys_nanosleep(sc: &mut SyscallContext<'_>, req: usize, rem: usize) -> SysResult {
    let d = read_timespec(req)?;
    sleep(sc, block::now().saturating_add(d), rem)
}

/// clock_nanosleep(2): errors are returned as positive values by libc, but
/// the raw syscall reports them like any other.
pub fn sys_clock_nanosleep(
    sc: &mut SyscallContext<'_>,
    clock: i32,
    flags: u32,
    req: usize,
    rem: usize,
) -> SysResult {
    if flags & !TIMER_ABSTIME != 0 {
        return Err(Errno::EINVAL);
    }
    match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME => {}
        CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EINVAL),
        CLOCK_PROCESS_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EINVAL),
    }
    let d = read_timespec(req)?;
    let deadline = if flags & TIMER_ABSTIME != 0 {
        // Convert an absolute time on `clock` to the monotonic clock.
        let now_clock = now(clock)?;
        block::now().saturating_add(d.saturating_sub(now_clock))
    } else {
        block::now().saturating_add(d)
    };
    let rem = if flags & TIMER_ABSTIME != 0 { 0 } else { rem };
    sleep(sc, deadline, rem)
}

#[cfg(target_arch = "x86_64")]
/// time(2) (x86_64).
pub fn sys_time(_sc: &mut SyscallContext<'_>, tloc: usize) -> SysResult {
    let t = ax_hal::time::wall_time().as_secs();
    if tloc != 0 {
        usercopy::write_u64(tloc, t)?;
    }
    Ok(t as usize)
}

const ITIMER_REAL: i32 = 0;
const ITIMER_VIRTUAL: i32 = 1;
const ITIMER_PROF: i32 = 2;

fn read_timeval(addr: usize) -> KResult<Duration> {
    let sec = usercopy::read_u64(addr)? as i64;
    let usec = usercopy::read_u64(addr + 8)? as i64;
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(sec as u64, usec as u32 * 1000))
}

fn write_itimerval(addr: usize, value: Duration, interval: Duration) -> KResult<()> {
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&interval.as_secs().to_ne_bytes());
    b[8..16].copy_from_slice(&u64::from(interval.subsec_micros()).to_ne_bytes());
    b[16..24].copy_from_slice(&value.as_secs().to_ne_bytes());
    b[24..32].copy_from_slice(&u64::from(value.subsec_micros()).to_ne_bytes());
    usercopy::copy_to_user(addr, &b)
}

fn check_which(which: i32) -> KResult<()> {
    match which {
        ITIMER_REAL => Ok(()),
        ITIMER_VIRTUAL | ITIMER_PROF => {
            warn!("setitimer: ITIMER_VIRTUAL and ITIMER_PROF are not implemented yet");
            Err(Errno::EINVAL)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// getitimer(2).
pub fn sys_getitimer(sc: &mut SyscallContext<'_>, which: i32, value: usize) -> SysResult {
    check_which(which)?;
    let (left, interval) = sc.thread.process.real_timer.get();
    write_itimerval(value, left, interval)?;
    Ok(0)
}

/// setitimer(2).
pub fn sys_setitimer(sc: &mut SyscallContext<'_>, which: i32, new: usize, old: usize) -> SysResult {
    check_which(which)?;
    let (interval, value) = if new == 0 {
        (Duration::ZERO, Duration::ZERO)
    } else {
        (read_timeval(new)?, read_timeval(new + 16)?)
    };
    let process = sc.thread.process.clone();
    let (old_left, old_interval) = process.real_timer.set(&process, value, interval)?;
    if old != 0 {
        write_itimerval(old, old_left, old_interval)?;
    }
    Ok(0)
}

/// alarm(2) (x86_64): seconds left of the previous alarm, rounded.
#[cfg(target_arch = "x86_64")]
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
