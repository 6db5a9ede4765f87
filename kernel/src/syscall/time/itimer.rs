//! getitimer(2), setitimer(2), alarm(2): ITIMER_REAL
//! (`task::itimer::RealTimer`).

use core::time::Duration;

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

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
