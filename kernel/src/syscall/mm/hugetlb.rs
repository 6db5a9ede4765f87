//! Huge pages for user space: hugetlb memfds (memfd_create MFD_HUGETLB)
//! and MAP_HUGETLB, backed by the pool of `starling_mm::hugetlb`
//! (vm.nr_hugepages), with Linux's rules (mm/hugetlb.c, fs/hugetlbfs).
//!
//! A hugetlb file is an internal tmpfs file whose storage comes in whole
//! huge pages (fs/src/tmpfs/pages/huge.rs); Starling maps those pages with
//! 4 KiB page-table entries. mmap rounds lengths up to the huge page,
//! wants huge-page-aligned offsets and fixed addresses, and reserves the
//! pages a mapping may fault in: a shared mapping reserves the file's
//! missing pages (the reservation stays with the file), a private one a
//! page per huge page it covers (kept by the mapping until its last piece
//! goes). Private pages are ordinary 4 KiB copies; the reservation is what
//! keeps a private mapping within the pool.

use alloc::{format, sync::Arc};

use starling_fs::{file::OpenFile, tmpfs::TmpFile};
use starling_mm::{
    aspace::{MapRequest, VmaFlags},
    hugetlb::{HPAGE_SHIFT, HPAGE_SIZE, Reservation},
};

use crate::{
    error::{Errno, KResult},
    syscall::SyscallContext,
};

/// Whether `log` (the MFD_HUGE_* / MAP_HUGE_* size field) names a huge
/// page size Starling offers: 0 (the default) or 2 MiB.
pub fn has_size_log(log: u32) -> bool {
    log == 0 || log as usize == HPAGE_SHIFT
}

/// The hugetlb file behind `file`, if it is one.
pub fn hugetlb_file(file: &OpenFile) -> Option<Arc<TmpFile>> {
    let tmp = super::memfd::tmpfs_file(file)?;
    tmp.huge_page_size().is_some().then_some(tmp)
}

/// `len` rounded up to whole huge pages (ksys_mmap_pgoff).
pub fn round_len(len: usize) -> KResult<usize> {
    len.checked_next_multiple_of(HPAGE_SIZE)
        .ok_or(Errno::ENOMEM)
}

/// The file MAP_HUGETLB without a descriptor maps (hugetlb_file_setup for
/// HUGETLB_ANON_FILE): a new, empty hugetlb file opened read-write.
pub fn anon_file(sc: &SyscallContext<'_>) -> KResult<Arc<OpenFile>> {
    let creds = sc.thread.process.creds.lock().clone();
    let (loc, tmp) = super::memfd::new_shm_file(&creds, 0o600)?;
    tmp.make_hugetlb();
    super::memfd::open_shm_file(loc, format!("/anon_hugepage (deleted)"), &creds)
}

/// hugetlbfs_file_mmap for a mapping of `len` bytes (a multiple of the
/// huge page) at byte `offset` of `tmp`: checks the alignment, reserves
/// the huge pages the mapping may need (not with MAP_NORESERVE), extends
/// the file for a writable mapping, and makes the request a hugetlb one.
pub fn prepare_mapping(
    tmp: &TmpFile,
    req: &mut MapRequest,
    fixed_addr: Option<usize>,
    shared: bool,
    noreserve: bool,
    writable: bool,
) -> KResult<()> {
    // hugetlb_get_unmapped_area / prepare_hugepage_range.
    if fixed_addr.is_some_and(|addr| !addr.is_multiple_of(HPAGE_SIZE)) {
        return Err(Errno::EINVAL);
    }
    if !req.offset.is_multiple_of(HPAGE_SIZE as u64) {
        return Err(Errno::EINVAL);
    }
    let end = req
        .offset
        .checked_add(req.len as u64)
        .ok_or(Errno::EINVAL)?;
    if !shared && !noreserve {
        let pages = req.len / HPAGE_SIZE;
        let reservation = Reservation::new(pages).ok_or_else(|| {
            debug!("mmap: the huge page pool cannot reserve {pages} pages");
            Errno::ENOMEM
        })?;
        req.pin = Some(reservation);
    }
    tmp.prepare_huge_mapping(req.offset, end, shared && !noreserve, writable)
        .map_err(|e| match e {
            axfs_ng_vfs::VfsError::NoMemory => Errno::ENOMEM,
            other => Errno::from(other),
        })?;
    req.align = HPAGE_SIZE;
    // hugetlb mappings have a close operation: never merged.
    req.flags |= VmaFlags::NOMERGE;
    Ok(())
}
