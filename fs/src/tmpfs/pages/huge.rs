//! Storage of hugetlb files (memfd_create with MFD_HUGETLB, MAP_HUGETLB):
//! whole huge pages from the pool, as fs/hugetlbfs/inode.c keeps them.
//!
//! A block (one huge page, 512 of the store's 4 KiB pages) is allocated as
//! a unit, by the first fault in it or by fallocate, and freed as a unit by
//! truncation and hole punching; sizes are multiples of the huge page.
//! Shared mappings reserve the blocks they cover at mmap time
//! (`reserve_blocks`, Linux's inode resv_map): a reserved block is promised
//! by the pool, so faulting it in cannot fail. Reservations last until the
//! range is truncated or punched, or the file goes away, as on Linux.

use alloc::{collections::BTreeSet, vec::Vec};

use axfs_ng_vfs::{VfsError, VfsResult};

use super::{PAGE_SIZE_U64, PageBudget, SparseData};

/// The huge page size, in bytes.
pub const HPAGE_SIZE_U64: u64 = starling_mm::hugetlb::HPAGE_SIZE as u64;
/// Store pages per block.
pub(super) const BLOCK_PAGES: u64 = HPAGE_SIZE_U64 / PAGE_SIZE_U64;

/// What a hugetlb file keeps besides its pages.
#[derive(Default)]
pub(super) struct HugeState {
    /// Blocks promised by the pool and not allocated yet.
    reserved: BTreeSet<u64>,
}

#[cfg(feature = "kernel")]
mod pool {
    use alloc::vec::Vec;

    use super::super::PageBox;

    pub fn reserve(n: usize) -> bool {
        starling_mm::hugetlb::reserve(n)
    }

    pub fn unreserve(n: usize) {
        starling_mm::hugetlb::unreserve(n);
    }

    pub fn alloc_block(reserved: bool) -> Option<Vec<PageBox>> {
        starling_mm::hugetlb::alloc_block(reserved)
    }

    /// Blocks left the file; in the kernel each returns to the pool when
    /// its last mapping lets go of it.
    pub fn freed(_blocks: usize) {}
}

/// The host's stand-in for the pool (unit tests): a count of blocks that
/// may still be promised or taken (one test at a time changes it).
#[cfg(not(feature = "kernel"))]
pub mod host_pool {
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicUsize, Ordering};

    use super::{super::PageBox, BLOCK_PAGES};

    /// Blocks neither promised nor taken.
    pub static SPARE: AtomicUsize = AtomicUsize::new(usize::MAX);

    pub(super) fn reserve(n: usize) -> bool {
        let mut spare = SPARE.load(Ordering::Relaxed);
        loop {
            let Some(left) = spare.checked_sub(n) else {
                return false;
            };
            match SPARE.compare_exchange(spare, left, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => spare = now,
            }
        }
    }

    pub(super) fn unreserve(n: usize) {
        let mut spare = SPARE.load(Ordering::Relaxed);
        while let Err(now) = SPARE.compare_exchange(
            spare,
            spare.saturating_add(n),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            spare = now;
        }
    }

    pub(super) fn alloc_block(reserved: bool) -> Option<Vec<PageBox>> {
        if !reserved && !reserve(1) {
            return None;
        }
        (0..BLOCK_PAGES)
            .map(|_| super::super::alloc_page().ok())
            .collect()
    }

    /// Blocks left the file: they are spare again.
    pub(super) fn freed(blocks: usize) {
        unreserve(blocks);
    }
}
#[cfg(not(feature = "kernel"))]
use host_pool as pool;

impl SparseData {
    /// Makes an empty file a hugetlb file (its creator does, before any
    /// data exists).
    pub fn make_huge(&mut self) {
        if self.pages.is_empty() && self.len == 0 {
            self.huge = Some(HugeState::default());
        }
    }

    /// Whether this is a hugetlb file.
    pub fn is_huge(&self) -> bool {
        self.huge.is_some()
    }

    fn has_block(&self, block: u64) -> bool {
        self.pages.contains_key(&(block * BLOCK_PAGES))
    }

    /// Allocates block `block`, using its reservation if it has one.
    /// `StorageFull` if the pool has no page to give.
    pub(super) fn alloc_block(&mut self, block: u64, budget: &dyn PageBudget) -> VfsResult<()> {
        budget.reserve(BLOCK_PAGES)?;
        let reserved = self
            .huge
            .as_mut()
            .is_some_and(|h| h.reserved.remove(&block));
        let Some(frames) = pool::alloc_block(reserved) else {
            budget.release(BLOCK_PAGES);
            return Err(VfsError::StorageFull);
        };
        for (i, frame) in (block * BLOCK_PAGES..).zip(frames) {
            self.pages.insert(i, frame);
        }
        Ok(())
    }

    /// Reserves the blocks of `[first, end)` that have neither storage nor a
    /// reservation (a shared mapping of them was made: hugetlb_reserve_pages).
    /// `NoMemory` if the pool cannot promise them all; nothing changes then.
    pub fn reserve_blocks(&mut self, first: u64, end: u64) -> VfsResult<()> {
        let Some(huge) = &self.huge else {
            return Ok(());
        };
        let new: Vec<u64> = (first..end)
            .filter(|b| !huge.reserved.contains(b) && !self.has_block(*b))
            .collect();
        if !pool::reserve(new.len()) {
            return Err(VfsError::NoMemory);
        }
        if let Some(huge) = &mut self.huge {
            huge.reserved.extend(new);
        }
        Ok(())
    }

    /// Blocks reserved and not allocated yet.
    pub fn reserved_blocks(&self) -> usize {
        self.huge.as_ref().map_or(0, |h| h.reserved.len())
    }

    /// Gives back the reservations of blocks `first..` (up to `end`).
    pub(super) fn drop_reservations(&mut self, first: u64, end: u64) {
        if let Some(huge) = &mut self.huge {
            let dropped: Vec<u64> = huge.reserved.range(first..end).copied().collect();
            for b in &dropped {
                huge.reserved.remove(b);
            }
            pool::unreserve(dropped.len());
        }
    }

    /// Gives back every reservation from block `first` on.
    pub(super) fn drop_reservations_from(&mut self, first: u64) {
        self.drop_reservations(first, u64::MAX);
    }

    /// Frees the blocks of `[first, end)` and their reservations.
    fn free_blocks(&mut self, first: u64, end: u64, budget: &dyn PageBudget) {
        let mut middle = self.pages.split_off(&(first * BLOCK_PAGES));
        let mut tail = middle.split_off(&end.saturating_mul(BLOCK_PAGES));
        budget.release(middle.len() as u64);
        pool::freed(middle.len() / BLOCK_PAGES as usize);
        drop(middle);
        self.pages.append(&mut tail);
        self.drop_reservations(first, end);
    }

    /// ftruncate of a hugetlb file (hugetlbfs_setattr): only to multiples of
    /// the huge page size.
    pub(super) fn huge_set_len(&mut self, len: u64, budget: &dyn PageBudget) -> VfsResult<()> {
        if !len.is_multiple_of(HPAGE_SIZE_U64) {
            return Err(VfsError::InvalidInput);
        }
        if len < self.len {
            self.free_blocks(len / HPAGE_SIZE_U64, u64::MAX, budget);
        }
        self.len = len;
        Ok(())
    }

    /// Zeroes `[start, end)` where the file has storage.
    fn zero_range(&mut self, start: u64, end: u64) {
        let mut pos = start;
        while pos < end {
            let index = pos / PAGE_SIZE_U64;
            let in_page = (pos % PAGE_SIZE_U64) as usize;
            let n = (PAGE_SIZE_U64 - in_page as u64).min(end - pos);
            if let Some(page) = self.pages.get_mut(&index) {
                page.zero(in_page, n as usize);
            }
            pos += n;
        }
    }

    /// FALLOC_FL_PUNCH_HOLE (hugetlbfs_punch_hole): whole huge pages inside
    /// the range are freed, the partial ones at its edges zeroed; pages
    /// past the end of the file (fallocate KEEP_SIZE) count too.
    pub(super) fn huge_punch_hole(&mut self, offset: u64, len: u64, budget: &dyn PageBudget) {
        let end = offset.saturating_add(len);
        if offset >= end {
            return;
        }
        let hole_start = offset.div_ceil(HPAGE_SIZE_U64) * HPAGE_SIZE_U64;
        let hole_end = end / HPAGE_SIZE_U64 * HPAGE_SIZE_U64;
        if hole_start < hole_end {
            self.zero_range(offset, hole_start);
            self.zero_range(hole_end, end);
            self.free_blocks(
                hole_start / HPAGE_SIZE_U64,
                hole_end / HPAGE_SIZE_U64,
                budget,
            );
        } else {
            self.zero_range(offset, end);
        }
    }

    /// fallocate mode 0 / KEEP_SIZE (hugetlbfs_fallocate): every huge page
    /// the range touches gets storage; ENOSPC (`StorageFull`) if the pool
    /// runs out, after freeing what this call allocated. The size becomes
    /// `end` exactly, as on Linux.
    pub(super) fn huge_allocate(
        &mut self,
        offset: u64,
        end: u64,
        keep_size: bool,
        budget: &dyn PageBudget,
    ) -> VfsResult<()> {
        let mut added: Vec<(u64, bool)> = Vec::new();
        for block in offset / HPAGE_SIZE_U64..end.div_ceil(HPAGE_SIZE_U64) {
            if self.has_block(block) {
                continue;
            }
            let reserved = self
                .huge
                .as_ref()
                .is_some_and(|h| h.reserved.contains(&block));
            let result = added
                .try_reserve(1)
                .map_err(|_| VfsError::NoMemory)
                .and_then(|()| self.alloc_block(block, budget));
            if let Err(err) = result {
                // Undo: free what this call allocated and give the blocks
                // that had a reservation their reservation back.
                for (block, reserved) in added {
                    self.free_blocks(block, block + 1, budget);
                    if reserved
                        && pool::reserve(1)
                        && let Some(huge) = &mut self.huge
                    {
                        huge.reserved.insert(block);
                    }
                }
                return Err(err);
            }
            added.push((block, reserved));
        }
        if !keep_size {
            self.len = self.len.max(end);
        }
        Ok(())
    }
}
