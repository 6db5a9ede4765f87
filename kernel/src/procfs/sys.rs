//! /proc/sys: kernel parameters.

use alloc::{string::String, sync::Arc};
use core::sync::atomic::Ordering;

use axfs_ng_vfs::{DirEntry, VfsError, VfsResult};
use starling_fs::{file::pipe, tmpfs};

/// Adds /proc/sys/kernel/{osrelease,ostype,hostname,pid_max} and the
/// /proc/sys/fs limits.
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
        0o644,
        line(|| alloc::format!("{}", crate::task::table::pid_max())),
        Some(Arc::new(|data: &[u8]| {
            let v = core::str::from_utf8(data)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok())
                .ok_or(axfs_ng_vfs::VfsError::InvalidInput)?;
            if crate::task::table::set_pid_max(v) {
                Ok(())
            } else {
                Err(axfs_ng_vfs::VfsError::InvalidInput)
            }
        })),
    )?;
    let fs = tmpfs::add_dir(&sys, "fs", 0o555)?;
    tmpfs::add_generated_file(
        &fs,
        "pipe-max-size",
        0o644,
        line(|| alloc::format!("{}", pipe::PIPE_MAX_SIZE.load(Ordering::Relaxed))),
        Some(Arc::new(|data: &[u8]| {
            let v = parse(data)?;
            // Linux rounds to a power-of-two number of pages, at least one.
            let pages = (v as usize)
                .div_ceil(4096)
                .max(1)
                .checked_next_power_of_two();
            let bytes = pages
                .and_then(|p| p.checked_mul(4096))
                .filter(|b| *b <= 1 << 31);
            pipe::PIPE_MAX_SIZE.store(bytes.ok_or(VfsError::InvalidInput)?, Ordering::Relaxed);
            Ok(())
        })),
    )?;
    for (name, limit) in [
        ("pipe-user-pages-soft", &pipe::PIPE_USER_PAGES_SOFT),
        ("pipe-user-pages-hard", &pipe::PIPE_USER_PAGES_HARD),
    ] {
        tmpfs::add_generated_file(
            &fs,
            name,
            0o644,
            line(move || alloc::format!("{}", limit.load(Ordering::Relaxed))),
            Some(Arc::new(move |data: &[u8]| {
                limit.store(parse(data)? as usize, Ordering::Relaxed);
                Ok(())
            })),
        )?;
    }
    tmpfs::add_generated_file(
        &fs,
        "nr_open",
        0o444,
        line(|| String::from("1048576")),
        None,
    )?;
    tmpfs::add_generated_file(
        &fs,
        "file-max",
        0o444,
        line(|| String::from("9223372036854775807")),
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

fn parse(data: &[u8]) -> Result<u64, VfsError> {
    core::str::from_utf8(data)
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .ok_or(VfsError::InvalidInput)
}

fn line(f: impl Fn() -> String + Send + Sync + 'static) -> tmpfs::ReadFn {
    Arc::new(move || {
        let mut s = f();
        s.push('\n');
        s.into_bytes()
    })
}
