//! Kernel log routing: every log record goes to the kernel-log port.
//!
//! The console (first serial port) belongs to user space: in `make exec` it
//! must carry only the command's output. At boot the kernel takes the
//! runtime's log subscription, which diverts every record from the console
//! into a queue, and a kernel thread drains that queue to the architecture's
//! log port (COM2 on x86_64, semihosting on riscv64) and keeps a copy in
//! the kernel log buffer (`crate::dmesg`). Panic output bypasses
//! this path and goes to the console through the runtime's emergency writer.

use alloc::string::String;

use crate::arch;

/// Takes over the kernel log. Records published before this call were
/// already printed on the console by the runtime.
pub fn init() {
    arch::log_port_init();
    let subscription = match ax_runtime::console::subscribe_logs() {
        Ok(s) => s,
        Err(err) => {
            warn!("klog: cannot take the log subscription ({err:?}); logs stay on the console");
            return;
        }
    };
    let spawned = ax_runtime::thread::builder(String::from("klog")).spawn(move || {
        let mut dropped = 0;
        loop {
            while let Some(record) = subscription.try_read() {
                arch::log_port_write(record.bytes());
                if record.is_log() {
                    crate::dmesg::push_formatted(record.timestamp_nanos() / 1000, record.bytes());
                }
            }
            let report = subscription.dropped();
            if report.records != dropped {
                dropped = report.records;
                arch::log_port_write(b"klog: records dropped (queue full)\n");
            }
            if subscription.wait_readable().is_err() {
                break;
            }
        }
    });
    if let Err(err) = spawned {
        warn!("klog: cannot start the drain thread: {err:?}");
    }
}

/// Writes a line straight to the log port, bypassing the queue (used for
/// the final status line right before power-off).
pub fn write_direct(line: &str) {
    arch::log_port_write(line.as_bytes());
}
