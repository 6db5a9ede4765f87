//! Time syscalls: clocks (clock_gettime, clock_getres, gettimeofday, time),
//! sleeping (nanosleep, clock_nanosleep), the interval timers (getitimer,
//! setitimer, alarm) and POSIX timers (timer_create and friends).
//!
//! The handlers convert user structures (`timespec`, `timeval`,
//! `itimerspec`, `itimerval`, `sigevent`) and call `task::clock`,
//! `task::itimer`, `task::cputimer` or `task::posix_timer`.

mod clock;
mod itimer;
mod sleep;
mod timer;

use core::time::Duration;

pub use self::{clock::*, itimer::*, sleep::*, timer::*};
use crate::{error::KResult, usercopy};

/// Writes a `struct timespec`.
fn write_timespec(addr: usize, d: Duration) -> KResult<()> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&d.as_secs().to_ne_bytes());
    b[8..].copy_from_slice(&u64::from(d.subsec_nanos()).to_ne_bytes());
    usercopy::copy_to_user(addr, &b)
}
