//! clock_gettime(2), clock_getres(2), gettimeofday(2), time(2), and
//! setting the wall clock: clock_settime(2), settimeofday(2).
//!
//! CLOCK_REALTIME is the platform's wall clock (read from the RTC at boot)
//! plus an adjustment that setting it changes (`ax_hal::time::set_wall_time`);
//! every reader of the wall clock — clocks, file times, timers armed
//! afterwards — sees the new time. Timers armed on CLOCK_REALTIME before
//! the change keep the monotonic deadline they were converted to.

use core::{
    sync::atomic::{AtomicI32, Ordering},
    time::Duration,
};

use super::write_timespec;
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{clock::Clock, creds::CAP_SYS_TIME},
    usercopy,
};

/// The timezone settimeofday(2) stored and gettimeofday(2) reports
/// (sys_tz: minutes west of Greenwich, DST correction type).
static TZ_MINUTESWEST: AtomicI32 = AtomicI32::new(0);
static TZ_DSTTIME: AtomicI32 = AtomicI32::new(0);

/// Largest settable second (KTIME_SETTOD_MAX: KTIME_SEC_MAX less 30 years).
const SETTOD_MAX_SEC: i64 = i64::MAX / 1_000_000_000 - 30 * 365 * 86400;

/// timespec64_valid_settod: seconds in range, nanoseconds below one second.
fn settod_time(sec: i64, nsec: i64) -> KResult<Duration> {
    if !(0..SETTOD_MAX_SEC).contains(&sec) || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(sec as u64, nsec as u32))
}

/// do_settimeofday64 once the value and the capability are checked: a
/// time earlier than the monotonic clock is EINVAL.
fn set_realtime(sc: &SyscallContext<'_>, t: Duration) -> KResult<()> {
    ax_hal::time::set_wall_time(t).map_err(|e| {
        debug!("settime: {e}");
        Errno::EINVAL
    })?;
    info!(
        "time: pid {} set the wall clock to {}.{:09}",
        sc.thread.process.pid,
        t.as_secs(),
        t.subsec_nanos()
    );
    Ok(())
}

fn may_set_time(sc: &SyscallContext<'_>) -> KResult<()> {
    if sc.thread.process.creds.lock().capable(CAP_SYS_TIME) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// clock_settime(2): only CLOCK_REALTIME can be set (the other clocks have
/// no clock_set: EINVAL; CPU clocks: EPERM once the value is read); then
/// the value (EFAULT, EINVAL), then CAP_SYS_TIME (EPERM).
#[inline(never)]
pub fn sys_clock_settime(sc: &mut SyscallContext<'_>, clock: i32, tp: usize) -> SysResult {
    let settable = match Clock::from_id(sc.thread, clock)? {
        Clock::Realtime => true,
        // The CPU clocks of a pid or tid (negative ids): posix_cpu_clock_set
        // refuses, after the value was read. CLOCK_PROCESS_CPUTIME_ID and
        // CLOCK_THREAD_CPUTIME_ID have no clock_set at all.
        Clock::Cpu(..) if clock < 0 => false,
        _ => return Err(Errno::EINVAL),
    };
    let mut b = [0u8; 16];
    usercopy::copy_from_user(&mut b, tp)?;
    if !settable {
        return Err(Errno::EPERM);
    }
    let sec = i64::from_ne_bytes(b[..8].try_into().map_err(|_| Errno::EFAULT)?);
    let nsec = i64::from_ne_bytes(b[8..].try_into().map_err(|_| Errno::EFAULT)?);
    let t = settod_time(sec, nsec)?;
    may_set_time(sc)?;
    set_realtime(sc, t)?;
    Ok(0)
}

/// settimeofday(2) (do_sys_settimeofday64): the values are read (EFAULT)
/// and the time checked (EINVAL) first, then CAP_SYS_TIME (EPERM), then the
/// timezone's range (±15 hours: EINVAL); either pointer may be NULL.
#[inline(never)]
pub fn sys_settimeofday(sc: &mut SyscallContext<'_>, tv: usize, tz: usize) -> SysResult {
    let time = if tv != 0 {
        let mut b = [0u8; 16];
        usercopy::copy_from_user(&mut b, tv)?;
        let sec = i64::from_ne_bytes(b[..8].try_into().map_err(|_| Errno::EFAULT)?);
        let usec = i64::from_ne_bytes(b[8..].try_into().map_err(|_| Errno::EFAULT)?);
        // timeval_valid, then the settod range.
        if !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Some(settod_time(sec, usec * 1000)?)
    } else {
        None
    };
    let zone = if tz != 0 {
        let mut b = [0u8; 8];
        usercopy::copy_from_user(&mut b, tz)?;
        let west = i32::from_ne_bytes(b[..4].try_into().map_err(|_| Errno::EFAULT)?);
        let dst = i32::from_ne_bytes(b[4..].try_into().map_err(|_| Errno::EFAULT)?);
        Some((west, dst))
    } else {
        None
    };
    may_set_time(sc)?;
    if let Some((west, dst)) = zone {
        if !(-15 * 60..=15 * 60).contains(&west) {
            return Err(Errno::EINVAL);
        }
        TZ_MINUTESWEST.store(west, Ordering::Relaxed);
        TZ_DSTTIME.store(dst, Ordering::Relaxed);
    }
    if let Some(t) = time {
        set_realtime(sc, t)?;
    }
    Ok(0)
}

/// clock_gettime(2): any clock id `Clock::from_id` knows, including the CPU
/// clocks of other processes and of the caller's threads.
#[inline(never)]
pub fn sys_clock_gettime(sc: &mut SyscallContext<'_>, clock: i32, tp: usize) -> SysResult {
    let t = Clock::from_id(sc.thread, clock)?.now();
    write_timespec(tp, t)?;
    Ok(0)
}

/// clock_getres(2): 1 ns for every clock (the CPU clocks are read from the
/// scheduler's nanosecond accounting, as Linux's CPUCLOCK_SCHED).
#[inline(never)]
pub fn sys_clock_getres(sc: &mut SyscallContext<'_>, clock: i32, res: usize) -> SysResult {
    Clock::from_id(sc.thread, clock)?;
    if res != 0 {
        write_timespec(res, Duration::from_nanos(1))?;
    }
    Ok(0)
}

/// gettimeofday(2).
#[inline(never)]
pub fn sys_gettimeofday(_sc: &mut SyscallContext<'_>, tv: usize, tz: usize) -> SysResult {
    if tv != 0 {
        let t = ax_hal::time::wall_time();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&t.as_secs().to_ne_bytes());
        b[8..].copy_from_slice(&u64::from(t.subsec_micros()).to_ne_bytes());
        usercopy::copy_to_user(tv, &b)?;
    }
    if tz != 0 {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&TZ_MINUTESWEST.load(Ordering::Relaxed).to_ne_bytes());
        b[4..].copy_from_slice(&TZ_DSTTIME.load(Ordering::Relaxed).to_ne_bytes());
        usercopy::copy_to_user(tz, &b)?;
    }
    Ok(0)
}

#[cfg(target_arch = "x86_64")]
/// time(2) (x86_64).
#[inline(never)]
pub fn sys_time(_sc: &mut SyscallContext<'_>, tloc: usize) -> SysResult {
    let t = ax_hal::time::wall_time().as_secs();
    if tloc != 0 {
        usercopy::write_u64(tloc, t)?;
    }
    Ok(t as usize)
}
