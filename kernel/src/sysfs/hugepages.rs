//! /sys/kernel/mm/hugepages/hugepages-2048kB and the vm.nr_hugepages
//! sysctls: the huge-page pool's size and counters (mm/hugetlb_sysfs.c,
//! mm/hugetlb_sysctl.c). Only the size the pool offers has a directory, so
//! programs (and LTP) learn from its absence that other sizes are missing.
//!
//! | file | meaning |
//! |---|---|
//! | nr_hugepages, nr_hugepages_mempolicy | persistent pool size; a write grows or shrinks the pool (as far as memory allows) |
//! | nr_overcommit_hugepages | how many surplus pages may be allocated beyond it on demand |
//! | free_hugepages, resv_hugepages, surplus_hugepages | HugePages_Free, _Rsvd, _Surp of /proc/meminfo |

use alloc::{format, string::String, sync::Arc};

use axfs_ng_vfs::{DirEntry, VfsError, VfsResult};
use starling_fs::{sysctl, tmpfs};
use starling_mm::hugetlb;

/// The directory name of the pool's page size.
fn size_dir() -> String {
    format!("hugepages-{}kB", hugetlb::HPAGE_SIZE / 1024)
}

/// Parses a page count written to one of the files (kstrtoul /
/// proc_doulongvec_minmax): EINVAL for anything else.
fn count(data: &[u8]) -> Result<usize, VfsError> {
    sysctl::parse_ulong(data, 0, u64::MAX)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or(VfsError::InvalidInput)
}

/// Writes nr_hugepages: the pool grows as far as memory allows (reading
/// back tells how far it got) or shrinks.
pub fn write_nr_hugepages(data: &[u8]) -> Result<(), VfsError> {
    let wanted = count(data)?;
    let reached = hugetlb::set_nr_hugepages(wanted);
    if reached != wanted {
        info!("hugetlb: nr_hugepages {wanted} requested, the pool holds {reached}");
    }
    Ok(())
}

/// Writes nr_overcommit_hugepages.
pub fn write_overcommit(data: &[u8]) -> Result<(), VfsError> {
    hugetlb::set_overcommit(count(data)?);
    Ok(())
}

/// Reads nr_hugepages.
pub fn read_nr_hugepages() -> String {
    format!("{}", hugetlb::counters().persistent())
}

/// Reads nr_overcommit_hugepages.
pub fn read_overcommit() -> String {
    format!("{}", hugetlb::counters().overcommit)
}

/// Adds mm/hugepages/hugepages-<size>kB under /sys/kernel.
pub fn populate(kernel: &DirEntry) -> VfsResult<()> {
    let mm = tmpfs::add_dir(kernel, "mm", 0o755)?;
    let pages = tmpfs::add_dir(&mm, "hugepages", 0o755)?;
    let dir = tmpfs::add_dir(&pages, &size_dir(), 0o755)?;
    for name in ["nr_hugepages", "nr_hugepages_mempolicy"] {
        tmpfs::add_generated_file(
            &dir,
            name,
            0o644,
            super::line(read_nr_hugepages),
            Some(Arc::new(write_nr_hugepages)),
        )?;
    }
    tmpfs::add_generated_file(
        &dir,
        "nr_overcommit_hugepages",
        0o644,
        super::line(read_overcommit),
        Some(Arc::new(write_overcommit)),
    )?;
    let counter = |f: fn(&hugetlb::Counters) -> usize| {
        super::line(move || format!("{}", f(&hugetlb::counters())))
    };
    tmpfs::add_generated_file(&dir, "free_hugepages", 0o444, counter(|c| c.free), None)?;
    tmpfs::add_generated_file(&dir, "resv_hugepages", 0o444, counter(|c| c.resv), None)?;
    tmpfs::add_generated_file(
        &dir,
        "surplus_hugepages",
        0o444,
        counter(|c| c.surplus),
        None,
    )?;
    Ok(())
}
