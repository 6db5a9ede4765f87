//! /proc/sys/vm.
//!
//! | entry | effect |
//! |---|---|
//! | max_map_count | mmap fails with ENOMEM past this many VMAs (`starling_mm::aspace`) |
//! | overcommit_ratio, overcommit_kbytes | set CommitLimit in /proc/meminfo, as on Linux |
//! | overcommit_memory | kept and read back (0..=2): Starling does not refuse mappings for lack of commit |
//! | min_free_kbytes | kept and read back: the frame allocator keeps no reserve |
//! | memfd_noexec | per pid namespace (0..=2): 1 makes MFD_NOEXEC_SEAL the default of memfd_create, 2 also refuses MFD_EXEC (EACCES); a child namespace starts from, and may not go below, its parent's value (EINVAL) |
//! | memfd_seal_revoke | Starling's: 1 makes F_ADD_SEALS with F_SEAL_WRITE revoke writable shared mappings instead of failing with EBUSY (docs/memfd.md) |
//! | nr_hugepages, nr_hugepages_mempolicy, nr_overcommit_hugepages | the huge-page pool (crate::sysfs::hugepages) |
//! | drop_caches | 1 or 3 evicts the clean pages of the file page cache; 2 has nothing to drop (no dentry or inode caches are kept apart from files in use) |
//!
//! Writes are validated as Linux validates them (mm/util.c, mm/page_alloc.c,
//! fs/drop_caches.c).

use alloc::format;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use axfs_ng_vfs::{DirEntry, VfsError, VfsResult};
use starling_fs::{sysctl, tmpfs};
use starling_mm::aspace::{max_map_count, set_max_map_count};

use super::{add_rw, line, valid};

static OVERCOMMIT_MEMORY: AtomicI32 = AtomicI32::new(0);
/// OVERCOMMIT_RATIO default (percent of RAM in CommitLimit).
static OVERCOMMIT_RATIO: AtomicI32 = AtomicI32::new(50);
/// When non-zero, CommitLimit is this many kB instead of the ratio.
static OVERCOMMIT_KBYTES: AtomicU64 = AtomicU64::new(0);
/// min_free_kbytes: Linux's default for a 1 GiB machine
/// (sqrt(lowmem_kbytes * 16)).
static MIN_FREE_KBYTES: AtomicI32 = AtomicI32::new(4096);
/// The last value written to drop_caches.
static DROP_CACHES: AtomicI32 = AtomicI32::new(0);

/// CommitLimit in bytes for `total` bytes of RAM and no swap (mm/util.c
/// `vm_commit_limit`).
pub fn commit_limit(total: usize) -> usize {
    match OVERCOMMIT_KBYTES.load(Ordering::Relaxed) {
        0 => {
            let ratio = OVERCOMMIT_RATIO.load(Ordering::Relaxed).max(0) as usize;
            total / 100 * ratio
        }
        kb => (kb as usize).saturating_mul(1024),
    }
}

/// Adds the entries of /proc/sys/vm.
pub fn populate(vm: &DirEntry) -> VfsResult<()> {
    add_rw(
        vm,
        "max_map_count",
        || format!("{}", max_map_count()),
        |data| {
            let v = valid(sysctl::parse_int(data, 0, i32::MAX))?;
            set_max_map_count(v as usize);
            Ok(())
        },
    )?;
    add_rw(
        vm,
        "overcommit_memory",
        || format!("{}", OVERCOMMIT_MEMORY.load(Ordering::Relaxed)),
        |data| {
            // OVERCOMMIT_GUESS, OVERCOMMIT_ALWAYS, OVERCOMMIT_NEVER.
            let v = valid(sysctl::parse_int(data, 0, 2))?;
            OVERCOMMIT_MEMORY.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        vm,
        "overcommit_ratio",
        || format!("{}", OVERCOMMIT_RATIO.load(Ordering::Relaxed)),
        |data| {
            // mm/util.c overcommit_ratio_handler: proc_dointvec, and a
            // ratio write switches CommitLimit back from kbytes.
            let v = valid(sysctl::parse_int(data, i32::MIN, i32::MAX))?;
            OVERCOMMIT_RATIO.store(v, Ordering::Relaxed);
            OVERCOMMIT_KBYTES.store(0, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        vm,
        "overcommit_kbytes",
        || format!("{}", OVERCOMMIT_KBYTES.load(Ordering::Relaxed)),
        |data| {
            let v = valid(sysctl::parse_ulong(data, 0, u64::MAX))?;
            OVERCOMMIT_KBYTES.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    add_rw(
        vm,
        "min_free_kbytes",
        || format!("{}", MIN_FREE_KBYTES.load(Ordering::Relaxed)),
        |data| {
            let v = valid(sysctl::parse_int(data, 0, i32::MAX))?;
            MIN_FREE_KBYTES.store(v, Ordering::Relaxed);
            Ok(())
        },
    )?;
    // Per pid namespace (kernel/pid_sysctl.h): the reader's effective
    // value; a write needs CAP_SYS_ADMIN and may not go below the parent
    // namespace's value.
    add_rw(
        vm,
        "memfd_noexec",
        || {
            let scope = crate::task::current().map_or(0, |t| t.process.pid_ns.memfd_noexec_scope());
            format!("{scope}")
        },
        |data| {
            let v = valid(sysctl::parse_int(data, 0, 2))?;
            let thread = crate::task::current().ok_or(VfsError::InvalidInput)?;
            if !thread
                .process
                .creds
                .lock()
                .capable(crate::task::creds::CAP_SYS_ADMIN)
            {
                return Err(VfsError::OperationNotPermitted);
            }
            thread
                .process
                .pid_ns
                .set_memfd_noexec(v as u32)
                .map_err(|_| VfsError::InvalidInput)
        },
    )?;
    // Starling's: F_ADD_SEALS revokes instead of EBUSY (docs/memfd.md).
    add_rw(
        vm,
        "memfd_seal_revoke",
        || {
            format!(
                "{}",
                u8::from(crate::syscall::mm::memfd::SEAL_REVOKE.load(Ordering::Relaxed))
            )
        },
        |data| {
            let v = valid(sysctl::parse_int(data, 0, 1))?;
            crate::syscall::mm::memfd::SEAL_REVOKE.store(v == 1, Ordering::Relaxed);
            Ok(())
        },
    )?;
    use crate::sysfs::hugepages;
    for name in ["nr_hugepages", "nr_hugepages_mempolicy"] {
        add_rw(
            vm,
            name,
            hugepages::read_nr_hugepages,
            hugepages::write_nr_hugepages,
        )?;
    }
    add_rw(
        vm,
        "nr_overcommit_hugepages",
        hugepages::read_overcommit,
        hugepages::write_overcommit,
    )?;
    // Mode 0200 as on Linux: a trigger, not a setting.
    tmpfs::add_generated_file(
        vm,
        "drop_caches",
        0o200,
        line(|| format!("{}", DROP_CACHES.load(Ordering::Relaxed))),
        Some(alloc::sync::Arc::new(|data: &[u8]| {
            let v = valid(sysctl::parse_int(data, 1, 4))?;
            DROP_CACHES.store(v, Ordering::Relaxed);
            if v & 1 != 0 {
                // Clean file pages only, as Linux's drop_pagecache_sb:
                // dirty pages stay until written back.
                let freed = ax_fs_ng::page_cache_reclaim(usize::MAX / 4);
                debug!("drop_caches: {freed} clean page-cache pages released");
            }
            // Bit 2 (slab: dentries and inodes) has nothing separate to
            // drop: the VFS keeps entries only while they are referenced.
            Ok(())
        })),
    )?;
    Ok(())
}
