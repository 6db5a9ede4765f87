//! /proc/sys: kernel parameters.

use alloc::{string::String, sync::Arc};

use axfs_ng_vfs::{DirEntry, VfsResult};
use starling_fs::tmpfs;

/// Adds /proc/sys/kernel/{osrelease,ostype,hostname,pid_max}.
pub fn populate(root: &DirEntry) -> VfsResult<()> {
    let sys = tmpfs::add_dir(root, "sys", 0o555)?;
    let kernel = tmpfs::add_dir(&sys, "kernel", 0o555)?;
    tmpfs::add_generated_file(
        &kernel,
        "osrelease",
        0o444,
        line(|| String::from(crate::syscall::RELEASE)),
        None,
    )?;
    tmpfs::add_generated_file(
        &kernel,
        "ostype",
        0o444,
        line(|| String::from("Linux")),
        None,
    )?;
    tmpfs::add_generated_file(
        &kernel,
        "pid_max",
        0o444,
        line(|| alloc::format!("{}", crate::task::table::PID_MAX)),
        None,
    )?;
    tmpfs::add_generated_file(
        &kernel,
        "hostname",
        0o644,
        line(crate::boot::hostname),
        Some(Arc::new(|data: &[u8]| {
            let s = String::from_utf8_lossy(data);
            crate::boot::set_hostname(String::from(s.trim_end_matches('\n')));
            Ok(())
        })),
    )?;
    Ok(())
}

fn line(f: impl Fn() -> String + Send + Sync + 'static) -> tmpfs::ReadFn {
    Arc::new(move || {
        let mut s = f();
        s.push('\n');
        s.into_bytes()
    })
}
