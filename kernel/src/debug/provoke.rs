//! /proc/starling/provoke: makes the kernel misbehave on purpose, so the
//! reports of [`super::warn`], [`super::watchdog`] and the panic path can be
//! tested (Linux's lkdtm, with the same command names). Root only (0200).
//!
//! | write | effect |
//! |---|---|
//! | `WARNING` | one [`kwarn!`](crate::kwarn) report; the write succeeds |
//! | `SOFTLOCKUP [secs]` | the writing CPU spins with preemption off for `secs` (default: the lockup threshold + 5 s, at most 600) |
//! | `PANIC` | a kernel panic |
//!
//! Anything else is EINVAL.

use core::time::Duration;

use axfs_ng_vfs::VfsError;

use super::watchdog;

pub fn write(data: &[u8]) -> Result<(), VfsError> {
    let text = core::str::from_utf8(data).map_err(|_| VfsError::InvalidInput)?;
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("WARNING"), None, _) => {
            warning();
            Ok(())
        }
        (Some("SOFTLOCKUP"), secs, None) => {
            let default =
                2 * u64::from(watchdog::THRESH_SECS.load(core::sync::atomic::Ordering::Relaxed))
                    + 5;
            let secs = match secs {
                Some(s) => s.parse::<u64>().map_err(|_| VfsError::InvalidInput)?,
                None => default,
            };
            if !(1..=600).contains(&secs) {
                return Err(VfsError::InvalidInput);
            }
            soft_lockup(Duration::from_secs(secs));
            Ok(())
        }
        (Some("PANIC"), None, _) => panic!("provoke: PANIC written to /proc/starling/provoke"),
        _ => Err(VfsError::InvalidInput),
    }
}

#[inline(never)]
fn warning() {
    crate::kwarn!("provoked through /proc/starling/provoke");
}

/// Spins without letting the scheduler in: the CPU looks stuck to the
/// other CPUs' watchdog threads.
#[inline(never)]
fn soft_lockup(time: Duration) {
    info!(
        "provoke: CPU {} spins for {time:?} with preemption off",
        ax_hal::percpu::this_cpu_id()
    );
    let _no_preempt = ax_sync::PreemptGuard::new();
    let end = ax_hal::time::monotonic_time() + time;
    while ax_hal::time::monotonic_time() < end {
        core::hint::spin_loop();
    }
}
