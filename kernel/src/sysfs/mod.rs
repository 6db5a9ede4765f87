//! /sys: the few attributes user space reads at startup.
//!
//! sysfs is a tmpfs instance with generated files: the CPU masks under
//! /sys/devices/system/cpu (online, possible, present: every CPU the
//! runtime started; offline: none; kernel_max) and the active console under
//! /sys/class/tty/console (busybox cttyhack finds the console's real tty
//! there); and the loop devices under /sys/block and
//! /sys/devices/virtual/block ([`block`]); and the huge-page pool under
//! /sys/kernel/mm/hugepages ([`hugepages`]).

mod block;
pub mod hugepages;

use alloc::{format, string::String, sync::Arc};

use axfs_ng_vfs::{DirEntry, VfsResult};
use starling_fs::tmpfs;

fn line(f: impl Fn() -> String + Send + Sync + 'static) -> tmpfs::ReadFn {
    Arc::new(move || {
        let mut s = f();
        s.push('\n');
        s.into_bytes()
    })
}

/// Populates a freshly created sysfs root.
pub fn populate(root: &DirEntry) -> VfsResult<()> {
    let devices = tmpfs::add_dir(root, "devices", 0o755)?;
    let system = tmpfs::add_dir(&devices, "system", 0o755)?;
    let cpu = tmpfs::add_dir(&system, "cpu", 0o755)?;
    let virt = tmpfs::add_dir(&devices, "virtual", 0o755)?;
    tmpfs::add_generated_dir(&virt, "block", 0o755, Arc::new(block::VirtualBlock))?;
    tmpfs::add_generated_dir(root, "block", 0o755, Arc::new(block::BlockLinks))?;
    let range = || {
        let n = ax_hal::cpu_num();
        if n == 1 {
            String::from("0")
        } else {
            format!("0-{}", n - 1)
        }
    };
    for name in ["online", "possible", "present"] {
        tmpfs::add_generated_file(&cpu, name, 0o444, line(range), None)?;
    }
    // No CPU is ever offline; kernel_max is NR_CPUS - 1 (see
    // /proc/config.gz).
    tmpfs::add_generated_file(&cpu, "offline", 0o444, line(String::new), None)?;
    tmpfs::add_generated_file(&cpu, "kernel_max", 0o444, line(|| String::from("15")), None)?;
    let class = tmpfs::add_dir(root, "class", 0o755)?;
    let tty = tmpfs::add_dir(&class, "tty", 0o755)?;
    let console = tmpfs::add_dir(&tty, "console", 0o755)?;
    tmpfs::add_generated_file(
        &console,
        "active",
        0o444,
        line(|| String::from("ttyS0")),
        None,
    )?;
    let kernel = tmpfs::add_dir(root, "kernel", 0o755)?;
    hugepages::populate(&kernel)?;
    // Linux 6.2+: WARN reports since boot.
    tmpfs::add_generated_file(
        &kernel,
        "warn_count",
        0o444,
        line(|| {
            format!(
                "{}",
                crate::debug::warn::WARN_COUNT.load(core::sync::atomic::Ordering::Relaxed)
            )
        }),
        None,
    )?;
    tmpfs::add_dir(root, "fs", 0o755)?;
    Ok(())
}
