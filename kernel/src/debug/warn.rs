//! Kernel warnings: a report with a symbolised backtrace, then on.
//!
//! [`kwarn!`](crate::kwarn) is Linux's `WARN()`: for a state the kernel
//! should never reach but can survive. Every report, and every lockup
//! report of [`super::watchdog`], is one block in the kernel log:
//!
//! ```text
//! ------------[ cut here ]------------
//! WARNING: CPU: 0 PID: 12 at kernel/src/debug/provoke.rs:40: provoked through /proc/starling/provoke
//! Call Trace:
//!  #0  0xffffffff800a1234 starling::debug::provoke::warning+0x54/0x120
//!  …
//! ---[ end trace ]---
//! ```
//!
//! The first line is what tooling counts (`make fuzz` counts warnings by
//! it); /sys/kernel/warn_count counts them too, as on Linux.

use core::{
    fmt,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};

use super::backtrace::{self, Trace};

/// Reports since boot (/sys/kernel/warn_count).
pub static WARN_COUNT: AtomicU64 = AtomicU64::new(0);

pub const CUT_HERE: &str = "------------[ cut here ]------------";
pub const END_TRACE: &str = "---[ end trace ]---";

/// `kwarn!("format", args…)`: logs a warning report with the caller's
/// backtrace and goes on.
#[macro_export]
macro_rules! kwarn {
    ($($arg:tt)+) => {
        $crate::debug::warn::report(file!(), line!(), format_args!($($arg)+))
    };
}

/// The report behind [`kwarn!`](crate::kwarn).
#[inline(never)]
pub fn report(file: &str, line: u32, message: fmt::Arguments<'_>) {
    WARN_COUNT.fetch_add(1, Relaxed);
    let trace = Trace::capture();
    let cpu = ax_hal::percpu::this_cpu_id();
    let (pid, comm) = crate::task::current().map_or((0, None), |t| (t.tid(), Some(t.comm())));
    warn!("{CUT_HERE}");
    warn!(
        "WARNING: CPU: {cpu} PID: {pid} Comm: {} at {file}:{line}: {message}",
        comm.as_deref().unwrap_or("kernel")
    );
    print_trace(&trace);
    warn!("{END_TRACE}");
}

/// Logs `trace` under a "Call Trace:" line.
pub fn print_trace(trace: &Trace) {
    warn!("Call Trace:");
    if trace.len == 0 {
        warn!(" (no frames)");
    }
    backtrace::for_each_line(trace, |l| warn!("{l}"));
}
