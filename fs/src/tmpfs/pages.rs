//! Sparse page store behind a tmpfs regular file.
//!
//! A file is a length plus a `BTreeMap` from page index to a 4 KiB page.
//! Pages that were never written are holes and read as zeros, so `set_len`
//! grows a file without allocating and shrinks it by splitting the map.
//!
//! Invariant: every byte of an allocated page that lies at or beyond `len`
//! is zero. Writes inside the last page never leave stale bytes past the new
//! end, and a shrink zeroes the tail of the page that straddles the new end,
//! so a later grow exposes zeros exactly as Linux does (mm/shmem.c,
//! shmem_undo_range zeroes the partial page).
//!
//! Page accounting goes through [`PageBudget`]: a page is reserved before it
//! is allocated and released when it leaves the map. The store itself holds
//! no lock; its owner (the file inode) serializes access.

mod huge;

#[cfg(not(feature = "kernel"))]
use alloc::boxed::Box;
use alloc::{collections::BTreeMap, vec::Vec};

use axfs_ng_vfs::{VfsError, VfsResult};

/// Size of one data page; also the `st_blksize` tmpfs reports.
pub const PAGE_SIZE: usize = 4096;

const PAGE_SIZE_U64: u64 = PAGE_SIZE as u64;

/// Largest file size, `MAX_LFS_FILESIZE` on 64-bit Linux (`EFBIG` past it).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// Accounting of pages against a file system's size limit.
pub trait PageBudget {
    /// Reserves `pages` pages or fails with [`VfsError::StorageFull`].
    fn reserve(&self, pages: u64) -> VfsResult<()>;
    /// Returns `pages` previously reserved pages.
    fn release(&self, pages: u64);
}

/// One page of file data. In the kernel it is a reference-counted user
/// frame, so mmap can map the very page read() and write() use; on the
/// host (unit tests) it is a heap page with the same interface.
#[cfg(feature = "kernel")]
type PageBox = starling_mm::frame::FrameRef;

#[cfg(feature = "kernel")]
fn alloc_page() -> VfsResult<PageBox> {
    starling_mm::frame::FrameRef::alloc_zeroed().ok_or(VfsError::NoMemory)
}

#[cfg(not(feature = "kernel"))]
struct PageBox(Box<[u8; PAGE_SIZE]>);

#[cfg(not(feature = "kernel"))]
impl PageBox {
    fn read(&self, offset: usize, dst: &mut [u8]) {
        dst.copy_from_slice(&self.0[offset..offset + dst.len()]);
    }

    fn write(&mut self, offset: usize, src: &[u8]) {
        self.0[offset..offset + src.len()].copy_from_slice(src);
    }

    fn zero(&mut self, offset: usize, len: usize) {
        self.0[offset..offset + len].fill(0);
    }
}

/// Allocates a zeroed page, reporting exhaustion instead of aborting.
#[cfg(not(feature = "kernel"))]
fn alloc_page() -> VfsResult<PageBox> {
    let mut pages: Vec<[u8; PAGE_SIZE]> = Vec::new();
    pages.try_reserve_exact(1).map_err(|_| VfsError::NoMemory)?;
    pages.push([0; PAGE_SIZE]);
    let b: Box<[[u8; PAGE_SIZE]]> = pages.into_boxed_slice();
    let b: Box<[[u8; PAGE_SIZE]; 1]> = b.try_into().map_err(|_| VfsError::NoMemory)?;
    let [page] = *b;
    Ok(PageBox(Box::new(page)))
}

/// Splits a byte position into (page index, offset inside the page).
fn split(pos: u64) -> (u64, usize) {
    (pos / PAGE_SIZE_U64, (pos % PAGE_SIZE_U64) as usize)
}

/// Number of pages needed to cover `len` bytes.
fn pages_for(len: u64) -> u64 {
    len.div_ceil(PAGE_SIZE_U64)
}

pub use huge::HPAGE_SIZE_U64;
#[cfg(not(feature = "kernel"))]
pub use huge::host_pool;

/// The data of one regular file.
#[derive(Default)]
pub struct SparseData {
    pages: BTreeMap<u64, PageBox>,
    len: u64,
    /// Set for a hugetlb file: storage comes in whole huge pages from the
    /// pool ([`huge`]).
    huge: Option<huge::HugeState>,
}

impl SparseData {
    /// Logical size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Number of allocated pages.
    pub fn allocated_pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Whether page `index` has storage (mincore of a shared mapping).
    pub fn has_page(&self, index: u64) -> bool {
        self.pages.contains_key(&index)
    }

    /// The allocated pages from the one holding `offset` on, as merged
    /// byte ranges, at most `limit` of them (SEEK_DATA/SEEK_HOLE).
    pub fn data_ranges(&self, offset: u64, limit: usize) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for &index in self.pages.range(offset / PAGE_SIZE_U64..).map(|(i, _)| i) {
            let start = index * PAGE_SIZE_U64;
            if let Some(last) = out.last_mut()
                && last.1 == start
            {
                last.1 += PAGE_SIZE_U64;
            } else if out.len() == limit {
                break;
            } else {
                out.push((start, start + PAGE_SIZE_U64));
            }
        }
        out
    }

    /// Copies bytes at `offset` into `buf`; holes read as zeros. Returns 0 at
    /// or past the end of the file.
    pub fn read(&self, buf: &mut [u8], offset: u64) -> usize {
        if offset >= self.len {
            return 0;
        }
        let total = buf
            .len()
            .min((self.len - offset).try_into().unwrap_or(usize::MAX));
        let mut done = 0;
        while done < total {
            let (index, in_page) = split(offset + done as u64);
            let n = (PAGE_SIZE - in_page).min(total - done);
            let dst = &mut buf[done..done + n];
            match self.pages.get(&index) {
                Some(page) => page.read(in_page, dst),
                None => dst.fill(0),
            }
            done += n;
        }
        total
    }

    /// Writes `buf` at `offset`, allocating pages for holes it covers.
    ///
    /// Like Linux, a write that runs out of space part-way returns the short
    /// count; only a write that stores nothing reports the error.
    pub fn write(&mut self, buf: &[u8], offset: u64, budget: &dyn PageBudget) -> VfsResult<usize> {
        // hugetlbfs has no write operation: vfs_write fails with EINVAL
        // before it looks at the buffer.
        if self.huge.is_some() {
            return Err(VfsError::InvalidInput);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(VfsError::FileTooLarge);
        }
        let room = MAX_FILE_SIZE - offset;
        let buf = &buf[..buf.len().min(room.try_into().unwrap_or(usize::MAX))];
        let mut done = 0;
        while done < buf.len() {
            let (index, in_page) = split(offset + done as u64);
            let n = (PAGE_SIZE - in_page).min(buf.len() - done);
            let page = match self.page_mut_or_alloc(index, budget) {
                Ok(page) => page,
                Err(_) if done > 0 => break,
                Err(err) => return Err(err),
            };
            page.write(in_page, &buf[done..done + n]);
            done += n;
        }
        self.len = self.len.max(offset + done as u64);
        Ok(done)
    }

    fn page_mut_or_alloc(
        &mut self,
        index: u64,
        budget: &dyn PageBudget,
    ) -> VfsResult<&mut PageBox> {
        use alloc::collections::btree_map::Entry;
        if self.huge.is_some() && !self.pages.contains_key(&index) {
            self.alloc_block(index / huge::BLOCK_PAGES, budget)?;
        }
        match self.pages.entry(index) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                budget.reserve(1)?;
                match alloc_page() {
                    Ok(page) => Ok(entry.insert(page)),
                    Err(err) => {
                        budget.release(1);
                        Err(err)
                    }
                }
            }
        }
    }

    /// Sets the logical size. Growing leaves a hole; shrinking frees whole
    /// pages past the end and zeroes the tail of the straddling page.
    pub fn set_len(&mut self, len: u64, budget: &dyn PageBudget) -> VfsResult<()> {
        if len > MAX_FILE_SIZE {
            return Err(VfsError::FileTooLarge);
        }
        if self.huge.is_some() {
            return self.huge_set_len(len, budget);
        }
        if len < self.len {
            let freed = self.pages.split_off(&pages_for(len));
            budget.release(freed.len() as u64);
            let (index, in_page) = split(len);
            if in_page != 0
                && let Some(page) = self.pages.get_mut(&index)
            {
                page.zero(in_page, PAGE_SIZE - in_page);
            }
        }
        self.len = len;
        Ok(())
    }

    /// Deallocates `[offset, offset + len)` without changing the size
    /// (`FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE`).
    pub fn punch_hole(&mut self, offset: u64, len: u64, budget: &dyn PageBudget) {
        if self.huge.is_some() {
            return self.huge_punch_hole(offset, len, budget);
        }
        let end = offset.saturating_add(len).min(self.len.max(offset));
        if offset >= end {
            return;
        }
        let first_full = pages_for(offset);
        let end_full = end / PAGE_SIZE_U64;
        if first_full < end_full {
            let mut middle = self.pages.split_off(&first_full);
            let mut tail = middle.split_off(&end_full);
            budget.release(middle.len() as u64);
            self.pages.append(&mut tail);
        }
        // Partial pages at either edge keep their storage and are zeroed.
        let mut pos = offset;
        while pos < end {
            let (index, in_page) = split(pos);
            let n = (PAGE_SIZE - in_page).min((end - pos).try_into().unwrap_or(usize::MAX));
            if let Some(page) = self.pages.get_mut(&index) {
                page.zero(in_page, n);
            }
            pos += n as u64;
        }
    }

    /// Allocates every page of `[offset, offset + len)` (`fallocate` mode 0
    /// or `FALLOC_FL_KEEP_SIZE`). On failure the pages allocated by this call
    /// are freed again, as mm/shmem.c shmem_fallocate undoes its range.
    pub fn allocate(
        &mut self,
        offset: u64,
        len: u64,
        keep_size: bool,
        budget: &dyn PageBudget,
    ) -> VfsResult<()> {
        let end = offset.checked_add(len).ok_or(VfsError::FileTooLarge)?;
        if end > MAX_FILE_SIZE {
            return Err(VfsError::FileTooLarge);
        }
        if len == 0 {
            return Ok(());
        }
        if self.huge.is_some() {
            return self.huge_allocate(offset, end, keep_size, budget);
        }
        let mut added = Vec::new();
        for index in offset / PAGE_SIZE_U64..pages_for(end) {
            if self.pages.contains_key(&index) {
                continue;
            }
            let result = added
                .try_reserve(1)
                .map_err(|_| VfsError::NoMemory)
                .and_then(|()| self.page_mut_or_alloc(index, budget).map(|_| ()));
            if let Err(err) = result {
                budget.release(added.len() as u64);
                for index in added {
                    self.pages.remove(&index);
                }
                return Err(err);
            }
            added.push(index);
        }
        if !keep_size {
            self.len = self.len.max(end);
        }
        Ok(())
    }

    /// Frees every page; used when the inode goes away.
    pub fn clear(&mut self, budget: &dyn PageBudget) {
        self.drop_reservations_from(0);
        budget.release(self.allocated_pages());
        self.pages.clear();
        self.len = 0;
    }
}

#[cfg(feature = "kernel")]
impl SparseData {
    /// The frame of page `index`, if the page exists.
    pub fn page_frame(&self, index: u64) -> Option<starling_mm::frame::PhysAddr> {
        self.pages.get(&index).map(|page| page.paddr())
    }

    /// The frame of page `index` for a shared mapping, allocated if it is a
    /// hole, with a new reference the mapping owns. Pages at or beyond the
    /// end of the file do not exist (the mapping's access is SIGBUS).
    pub fn frame_for_mapping(
        &mut self,
        index: u64,
        budget: &dyn PageBudget,
    ) -> VfsResult<starling_mm::frame::PhysAddr> {
        if index >= pages_for(self.len) {
            return Err(VfsError::InvalidInput);
        }
        Ok(self.page_mut_or_alloc(index, budget)?.share())
    }
}

#[cfg(feature = "kernel")]
impl SparseData {
    /// The frame of page `index` for a private mapping: the page with a new
    /// reference if it has storage, `None` for a hole (the mapping fills it
    /// with a zeroed page of its own). Past the end: `InvalidInput`.
    pub fn frame_if_present(&self, index: u64) -> VfsResult<Option<starling_mm::frame::PhysAddr>> {
        if index >= pages_for(self.len) {
            return Err(VfsError::InvalidInput);
        }
        Ok(self.pages.get(&index).map(|page| page.share()))
    }
}
