//! /proc/sys/kernel.
//!
//! | entry | source of truth / effect of a write |
//! |---|---|
//! | osrelease, ostype, version | uname(2)'s release, sysname and version |
//! | hostname | uname's nodename; a write renames the host (up to 64 bytes) |
//! | pid_max | the pid allocator wraps below it (301..=4194304) |
//! | watchdog_thresh | the soft-lockup detector (debug/watchdog.rs) reports a CPU stuck for twice this many seconds (0 off, default 15, up to 60) |
//! | randomize_va_space | ASLR of new images (loader/aslr.rs): 0 off, 1 stack/mmap/PIE/interpreter, 2 (default) also the heap |
//! | threads-max | clone fails with EAGAIN at this many threads (1..=2^30-1) |
//! | tainted | taint flags; a root write ORs bits in (kernel/panic.c `proc_taint`) |
//! | core_pattern | the core file name pattern (task/coredump.rs); pipes are refused |
//! | core_uses_pid | nonzero: ".PID" appended to a core name without `%p` |
//! | overflowuid, overflowgid | kept and read back (0..=65535): no 16-bit id interfaces |
//! | cap_last_cap, ngroups_max | constants of the ABI Starling follows |
//! | random/boot_id | a UUID drawn at the first read, the same until reboot |
//! | random/uuid | a new random UUID at every read |
//! | random/entropy_avail, poolsize | 256, as Linux since 5.18 |

use alloc::{format, string::String};
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use ax_sync::SpinLock;
use axfs_ng_vfs::{DirEntry, VfsError, VfsResult};
use starling_fs::{file::device::fill_random, sysctl, tmpfs};

use super::{add_ro, add_rw, valid};
use crate::task::table;

/// Taint flags (always 0 unless written: Starling has no taint sources).
static TAINTED: AtomicU64 = AtomicU64::new(0);
/// core_pattern once written (CORENAME_MAX_SIZE is 128 with the NUL);
/// `None` reads as Linux's default, "core".
static CORE_PATTERN: SpinLock<Option<String>> = SpinLock::new(None);
/// core_uses_pid (an int, 0 by default).
static CORE_USES_PID: AtomicI32 = AtomicI32::new(0);

/// The current core_pattern.
pub fn core_pattern() -> String {
    CORE_PATTERN
        .lock()
        .clone()
        .unwrap_or_else(|| String::from("core"))
}

/// Whether core_uses_pid is set.
pub fn core_uses_pid() -> bool {
    CORE_USES_PID.load(Ordering::Relaxed) != 0
}
/// overflowuid and overflowgid (DEFAULT_OVERFLOWUID).
static OVERFLOW_UID: AtomicI32 = AtomicI32::new(65534);
static OVERFLOW_GID: AtomicI32 = AtomicI32::new(65534);
static BOOT_ID: SpinLock<Option<String>> = SpinLock::new(None);

/// A random (version 4) UUID in its text form.
fn random_uuid() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6],
        b[7],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// Whether the writer is root (CAP_SYS_ADMIN).
fn caller_is_root() -> bool {
    crate::task::current().is_none_or(|t| t.process.creds.lock().euid == 0)
}

/// Adds the entries of /proc/sys/kernel.
pub fn populate(kernel: &DirEntry) -> VfsResult<()> {
    add_ro(kernel, "osrelease", || {
        String::from(crate::syscall::RELEASE)
    })?;
    add_ro(kernel, "ostype", || String::from("Linux"))?;
    add_ro(kernel, "version", || String::from(crate::syscall::VERSION))?;
    add_rw(kernel, "hostname", crate::boot::hostname, |data| {
        // __NEW_UTS_LEN: 64 bytes and the NUL.
        crate::boot::set_hostname(sysctl::parse_string(data, 65));
        Ok(())
    })?;
    add_rw(
        kernel,
        "pid_max",
        || format!("{}", table::pid_max()),
        |data| {
            let v = valid(sysctl::parse_int(data, 301, table::PID_MAX_LIMIT))?;
            valid(table::set_pid_max(v).then_some(()))
        },
    )?;
    add_rw(
        kernel,
        "watchdog_thresh",
        || {
            let v = crate::debug::watchdog::THRESH_SECS.load(Ordering::Relaxed);
            format!("{v}")
        },
        |data| {
            // Linux's range (kernel/watchdog.c): 0 (off) to 60 seconds.
            let v = valid(sysctl::parse_int(data, 0, 60))?;
            crate::debug::watchdog::THRESH_SECS.store(v as u32, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        kernel,
        "randomize_va_space",
        || {
            let v = crate::loader::aslr::RANDOMIZE_VA_SPACE.load(Ordering::Relaxed);
            format!("{v}")
        },
        |data| {
            // proc_dointvec: any int is stored; nonzero randomises, 2 and
            // above also the heap.
            let v = valid(sysctl::parse_int(data, i32::MIN, i32::MAX))?;
            crate::loader::aslr::RANDOMIZE_VA_SPACE.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        kernel,
        "threads-max",
        || format!("{}", table::threads_max()),
        |data| {
            // kernel/fork.c sysctl_max_threads: 1..=MAX_THREADS.
            let v = valid(sysctl::parse_int(data, 1, *table::THREADS_MAX_RANGE.end()))?;
            table::set_threads_max(v);
            Ok(())
        },
    )?;
    add_rw(
        kernel,
        "tainted",
        || format!("{}", TAINTED.load(Ordering::Relaxed)),
        |data| {
            if !caller_is_root() {
                return Err(VfsError::OperationNotPermitted);
            }
            let bits = valid(sysctl::parse_ulong(data, 0, u64::MAX))?;
            TAINTED.fetch_or(bits, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(kernel, "core_pattern", core_pattern, |data| {
        if !caller_is_root() {
            return Err(VfsError::OperationNotPermitted);
        }
        *CORE_PATTERN.lock() = Some(sysctl::parse_string(data, 128));
        Ok(())
    })?;
    add_rw(
        kernel,
        "core_uses_pid",
        || format!("{}", CORE_USES_PID.load(Ordering::Relaxed)),
        |data| {
            if !caller_is_root() {
                return Err(VfsError::OperationNotPermitted);
            }
            let v = valid(sysctl::parse_int(data, i32::MIN, i32::MAX))?;
            CORE_USES_PID.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    for (name, cell) in [
        ("overflowuid", &OVERFLOW_UID),
        ("overflowgid", &OVERFLOW_GID),
    ] {
        add_rw(
            kernel,
            name,
            move || format!("{}", cell.load(Ordering::Relaxed)),
            move |data| {
                cell.store(valid(sysctl::parse_int(data, 0, 65535))?, Ordering::Relaxed);
                Ok(())
            },
        )?;
    }
    // CAP_LAST_CAP and NGROUPS_MAX of Linux 6.13.
    add_ro(kernel, "cap_last_cap", || String::from("40"))?;
    add_ro(kernel, "ngroups_max", || String::from("65536"))?;

    let random = tmpfs::add_dir(kernel, "random", 0o555)?;
    add_ro(&random, "boot_id", || {
        BOOT_ID.lock().get_or_insert_with(random_uuid).clone()
    })?;
    add_ro(&random, "uuid", random_uuid)?;
    add_ro(&random, "entropy_avail", || String::from("256"))?;
    add_ro(&random, "poolsize", || String::from("256"))?;
    Ok(())
}
