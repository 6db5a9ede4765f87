//! /proc/stat, /proc/loadavg and /proc/uptime.
//!
//! The numbers come from [`crate::task::stats`]: a CPU's user time is the
//! time user threads ran on it (Starling does not split user from system
//! time, and kernel threads count as idle), its idle time is the rest of
//! the uptime. Interrupt and softirq counts are not kept, so those lines
//! carry totals of 0 (fs/proc/stat.c prints them the same way on a system
//! with no interrupts).

use alloc::{format, string::String};
use core::fmt::Write;

use crate::task::{stats, table};

/// Nanoseconds to USER_HZ ticks.
fn ticks(ns: u64) -> u64 {
    ns / 10_000_000
}

/// (busy, idle) nanoseconds of each CPU.
fn cpu_times() -> impl Iterator<Item = (u64, u64)> {
    let up = ax_hal::time::monotonic_time_nanos();
    (0..ax_hal::cpu_num()).map(move |cpu| {
        let busy = stats::cpu_busy_ns(cpu).min(up);
        (busy, up - busy)
    })
}

/// /proc/uptime: seconds since boot and idle seconds summed over CPUs.
pub fn uptime() -> String {
    let up = ax_hal::time::monotonic_time_nanos();
    let idle: u64 = cpu_times().map(|(_, idle)| idle).sum();
    let centis = |ns: u64| (ns / 1_000_000_000, (ns / 10_000_000) % 100);
    let (us, uc) = centis(up);
    let (is, ic) = centis(idle);
    format!("{us}.{uc:02} {is}.{ic:02}\n")
}

/// /proc/loadavg: the 1, 5 and 15 minute load averages, runnable/all
/// threads, and the last pid handed out.
pub fn loadavg() -> String {
    let [one, five, fifteen] = stats::load_averages();
    let (running, _, all) = stats::thread_counts();
    format!(
        "{one} {five} {fifteen} {running}/{all} {}\n",
        table::last_pid()
    )
}

/// /proc/stat.
pub fn stat() -> String {
    let mut s = String::with_capacity(512);
    let line = |s: &mut String, name: &str, busy: u64, idle: u64| {
        let _ = writeln!(s, "{name} {} 0 0 {} 0 0 0 0 0 0", ticks(busy), ticks(idle));
    };
    let (busy, idle) = cpu_times().fold((0, 0), |(b, i), (cb, ci)| (b + cb, i + ci));
    line(&mut s, "cpu ", busy, idle);
    for (cpu, (busy, idle)) in cpu_times().enumerate() {
        line(&mut s, &format!("cpu{cpu}"), busy, idle);
    }
    let boot_secs = ax_hal::time::wall_time_nanos()
        .saturating_sub(ax_hal::time::monotonic_time_nanos())
        / 1_000_000_000;
    let (running, blocked, _) = stats::thread_counts();
    let _ = write!(
        s,
        "intr 0\nctxt {}\nbtime {boot_secs}\nprocesses {}\nprocs_running {running}\nprocs_blocked {blocked}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
        stats::context_switches(),
        stats::forks()
    );
    s
}
