//! /proc/sys/fs.
//!
//! | entry | effect |
//! |---|---|
//! | pipe-max-size | F_SETPIPE_SZ limit for unprivileged callers, rounded up to a power-of-two number of pages |
//! | pipe-user-pages-soft, pipe-user-pages-hard | per-user pipe buffer limits |
//! | nr_open | ceiling of RLIMIT_NOFILE: setrlimit above it fails with EPERM |
//! | file-max | kept and read back: Starling has no system-wide file limit |
//! | file-nr | open file descriptions now, 0, file-max |
//! | lease-break-time | seconds an open waits for a lease holder before the break is applied (45) |
//! | leases-enable | 0 refuses new leases (EINVAL) |

use alloc::{format, string::String, sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicU64, Ordering};

use axfs_ng_vfs::{DirEntry, VfsResult};
use starling_fs::{file::pipe, sysctl};

use super::{add_ro, add_rw, valid};
use crate::{
    syscall::fs::{LEASE_BREAK_TIME, LEASES_ENABLE},
    task::{process, table},
};

/// file-max: LONG_MAX, what Linux shows when memory does not bound it.
static FILE_MAX: AtomicU64 = AtomicU64::new(i64::MAX as u64);

/// Open file descriptions referenced by any descriptor table.
fn open_files() -> usize {
    let mut seen: Vec<usize> = Vec::new();
    let mut tables: Vec<Arc<process::FileTable>> = Vec::new();
    for p in table::all_processes() {
        let files = p.files();
        if tables.iter().any(|t| Arc::ptr_eq(t, &files)) {
            continue;
        }
        for (_, file, _) in files.lock().iter() {
            seen.push(Arc::as_ptr(file) as usize);
        }
        tables.push(files);
    }
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Adds the entries of /proc/sys/fs.
pub fn populate(fs: &DirEntry) -> VfsResult<()> {
    add_rw(
        fs,
        "pipe-max-size",
        || format!("{}", pipe::PIPE_MAX_SIZE.load(Ordering::Relaxed)),
        |data| {
            // fs/pipe.c round_pipe_size: at least a page, a power of two,
            // at most 2^31 bytes (unsigned: negative is EINVAL).
            let v = valid(sysctl::parse_ulong(data, 0, u64::from(u32::MAX)))?;
            let bytes = valid((v <= 1 << 31).then(|| (v as usize).max(4096).next_power_of_two()))?;
            pipe::PIPE_MAX_SIZE.store(bytes, Ordering::Relaxed);
            Ok(())
        },
    )?;
    for (name, limit) in [
        ("pipe-user-pages-soft", &pipe::PIPE_USER_PAGES_SOFT),
        ("pipe-user-pages-hard", &pipe::PIPE_USER_PAGES_HARD),
    ] {
        add_rw(
            fs,
            name,
            move || format!("{}", limit.load(Ordering::Relaxed)),
            move |data| {
                let v = valid(sysctl::parse_ulong(data, 0, usize::MAX as u64))?;
                limit.store(v as usize, Ordering::Relaxed);
                Ok(())
            },
        )?;
    }
    add_rw(
        fs,
        "nr_open",
        || format!("{}", process::nr_open()),
        |data| {
            // fs/file_table.c: sysctl_nr_open_min..=sysctl_nr_open_max.
            let v = valid(sysctl::parse_ulong(data, 64, 0x7fff_ffc0))?;
            process::set_nr_open(v as usize);
            Ok(())
        },
    )?;
    add_rw(
        fs,
        "file-max",
        || format!("{}", FILE_MAX.load(Ordering::Relaxed)),
        |data| {
            let v = valid(sysctl::parse_ulong(data, 0, i64::MAX as u64))?;
            FILE_MAX.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        fs,
        "lease-break-time",
        || format!("{}", LEASE_BREAK_TIME.load(Ordering::Relaxed)),
        |data| {
            let v = valid(sysctl::parse_ulong(data, 0, i32::MAX as u64))?;
            LEASE_BREAK_TIME.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        fs,
        "leases-enable",
        || format!("{}", u8::from(LEASES_ENABLE.load(Ordering::Relaxed))),
        |data| {
            let v = valid(sysctl::parse_ulong(data, 0, i32::MAX as u64))?;
            LEASES_ENABLE.store(v != 0, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_ro(fs, "file-nr", || -> String {
        format!("{}\t0\t{}", open_files(), FILE_MAX.load(Ordering::Relaxed))
    })?;
    Ok(())
}
