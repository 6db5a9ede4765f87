//! clock_gettime(2), clock_getres(2), gettimeofday(2), time(2).

use core::time::Duration;

use super::write_timespec;
use crate::{
    syscall::{SysResult, SyscallContext},
    task::clock::Clock,
    usercopy,
};

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
        usercopy::copy_to_user(tz, &[0u8; 8])?;
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
