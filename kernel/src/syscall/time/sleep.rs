//! nanosleep(2) and clock_nanosleep(2).

use core::time::Duration;

use super::write_timespec;
use crate::{
    error::Errno,
    syscall::{ERESTARTNOHAND, SysResult, SyscallContext, fs::read_timespec},
    task::{
        block,
        clock::{self, Clock, CpuOwner},
    },
};

const TIMER_ABSTIME: u32 = 1;

/// Sleeps until monotonic `deadline`. Interrupted, a relative sleep writes
/// the time left to `rem` (if not 0) and fails with EINTR.
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
#[inline(never)]
pub fn sys_nanosleep(sc: &mut SyscallContext<'_>, req: usize, rem: usize) -> SysResult {
    let d = read_timespec(req)?;
    sleep(sc, block::now().saturating_add(d), rem)
}

/// clock_nanosleep(2): errors are returned as positive values by libc, but
/// the raw syscall reports them like any other.
///
/// As Linux, bits of `flags` other than TIMER_ABSTIME are ignored. An
/// absolute sleep interrupted by a signal that runs no handler (a stop and
/// SIGCONT) is restarted with the same deadline; with a handler it fails
/// with EINTR.
#[inline(never)]
pub fn sys_clock_nanosleep(
    sc: &mut SyscallContext<'_>,
    clock: i32,
    flags: u32,
    req: usize,
    rem: usize,
) -> SysResult {
    let id = clock;
    // kernel/time/posix-timers.c: a CPU clock id (negative, not a clock
    // fd) has an nsleep, so the request is copied in (EFAULT) before
    // posix_cpu_nsleep looks at the clock.
    if id < 0 && id & 7 != 3 {
        crate::usercopy::read_u64(req)?;
        crate::usercopy::read_u64(req + 8)?;
    }
    let clock = Clock::from_id(sc.thread, id)?;
    match clock {
        Clock::Realtime | Clock::Monotonic | Clock::Boottime => {}
        // posix_cpu_nsleep refuses a thread clock given by pid-encoded id.
        Clock::Cpu(CpuOwner::Thread(_), _) if id < 0 => return Err(Errno::EINVAL),
        // CLOCK_THREAD_CPUTIME_ID and the raw and coarse clocks have no
        // nsleep on Linux either; sleeping on a process CPU clock is not
        // implemented.
        _ => return Err(Errno::EOPNOTSUPP),
    }
    let d = read_timespec(req)?;
    if flags & TIMER_ABSTIME == 0 {
        return sleep(sc, block::now().saturating_add(d), rem);
    }
    let deadline = match clock {
        Clock::Realtime => clock::realtime_to_monotonic(d),
        _ => d,
    };
    match sleep(sc, deadline, 0) {
        Err(Errno::EINTR) => Err(ERESTARTNOHAND),
        other => other,
    }
}
