//! The huge-page pool behind hugetlb memfds and MAP_HUGETLB (Linux's
//! mm/hugetlb.c, for the one huge page size Starling offers: 2 MiB).
//!
//! The pool holds physically contiguous, 2 MiB-aligned blocks taken from
//! the frame allocator when `vm.nr_hugepages` grows. A hugetlb file takes
//! whole blocks from it and maps them with 4 KiB page-table entries (each
//! block is 512 ordinary [`FrameRef`](crate::frame::FrameRef)s to the rest
//! of the memory manager); when the last reference to the last frame of a
//! block goes, the block returns to the pool.
//!
//! Accounting follows Linux's counters: `free` blocks are on the free list,
//! `resv` of them are promised to mappings that have not faulted them in yet
//! (mmap reserves, so that a fault never finds the pool empty), and
//! `surplus` blocks were allocated beyond `nr_hugepages` under
//! `nr_overcommit_hugepages` and go back to the frame allocator when freed.
//! Invariant: `free.len() >= resv`.
//!
//! [`Pool`] is the pure accounting, tested on the host; the kernel wraps it
//! with the frame allocator (feature `kernel`).

use alloc::vec::Vec;

/// log2 of the huge page size.
pub const HPAGE_SHIFT: usize = 21;
/// The huge page size: 2 MiB on x86_64 and on riscv64 (Sv39 megapages).
pub const HPAGE_SIZE: usize = 1 << HPAGE_SHIFT;
/// 4 KiB pages per huge page.
pub const HPAGE_PAGES: usize = HPAGE_SIZE / 4096;

/// Where the pool gets blocks from and gives them back to.
pub trait BlockSource<B> {
    /// A new block, or `None` if there is no contiguous memory left.
    fn alloc(&mut self) -> Option<B>;
    /// Gives a block back.
    fn free(&mut self, block: B);
}

/// The pool's counters, as /proc/meminfo and sysfs show them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Blocks in the pool, surplus included (HugePages_Total).
    pub total: usize,
    /// Blocks on the free list (HugePages_Free).
    pub free: usize,
    /// Free blocks promised to mappings (HugePages_Rsvd).
    pub resv: usize,
    /// Blocks beyond `nr_hugepages` (HugePages_Surp).
    pub surplus: usize,
    /// `nr_overcommit_hugepages`.
    pub overcommit: usize,
}

impl Counters {
    /// `nr_hugepages`: the persistent pool, surplus excluded.
    pub fn persistent(&self) -> usize {
        self.total - self.surplus
    }
}

/// The pool's accounting and free list.
pub struct Pool<B> {
    free: Vec<B>,
    in_use: usize,
    resv: usize,
    surplus: usize,
    overcommit: usize,
}

impl<B> Default for Pool<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B> Pool<B> {
    /// An empty pool (Linux's default: `nr_hugepages` 0).
    pub const fn new() -> Self {
        Self {
            free: Vec::new(),
            in_use: 0,
            resv: 0,
            surplus: 0,
            overcommit: 0,
        }
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        Counters {
            total: self.free.len() + self.in_use,
            free: self.free.len(),
            resv: self.resv,
            surplus: self.surplus,
            overcommit: self.overcommit,
        }
    }

    fn persistent(&self) -> usize {
        self.free.len() + self.in_use - self.surplus
    }

    /// Sets `nr_hugepages` as mm/hugetlb.c set_max_huge_pages does: surplus
    /// blocks become persistent first, then new blocks are allocated (as
    /// many as memory allows); shrinking frees free blocks that are not
    /// reserved, and blocks still in use beyond `count` become surplus.
    /// Returns the resulting `nr_hugepages`.
    pub fn set_persistent(&mut self, count: usize, src: &mut dyn BlockSource<B>) -> usize {
        while self.surplus > 0 && count > self.persistent() {
            self.surplus -= 1;
        }
        while count > self.persistent() {
            match src.alloc() {
                Some(block) => self.free.push(block),
                None => break,
            }
        }
        let min_count = count.max(self.resv + self.in_use);
        while min_count < self.persistent() && self.free.len() > self.resv {
            if let Some(block) = self.free.pop() {
                src.free(block);
            }
        }
        while count < self.persistent() {
            self.surplus += 1;
        }
        self.persistent()
    }

    /// Sets `nr_overcommit_hugepages`.
    pub fn set_overcommit(&mut self, count: usize) {
        self.overcommit = count;
    }

    /// Promises `n` blocks to a mapping (hugetlb_acct_memory), allocating
    /// surplus blocks under the overcommit limit if the free ones that are
    /// not promised yet do not suffice. False (nothing changed) if the
    /// pool cannot cover them.
    pub fn reserve(&mut self, n: usize, src: &mut dyn BlockSource<B>) -> bool {
        let spare = self.free.len() - self.resv;
        if spare < n {
            let needed = n - spare;
            if self.surplus + needed > self.overcommit {
                return false;
            }
            let mut fresh = Vec::new();
            for _ in 0..needed {
                match src.alloc() {
                    Some(block) => fresh.push(block),
                    None => {
                        for block in fresh {
                            src.free(block);
                        }
                        return false;
                    }
                }
            }
            self.surplus += needed;
            self.free.extend(fresh);
        }
        self.resv += n;
        true
    }

    /// Takes back a promise of `n` blocks that were never faulted in;
    /// surplus blocks nobody needs any more go back to `src`.
    pub fn unreserve(&mut self, n: usize, src: &mut dyn BlockSource<B>) {
        debug_assert!(n <= self.resv, "unreserving more than was reserved");
        self.resv -= n.min(self.resv);
        self.return_unused_surplus(src);
    }

    fn return_unused_surplus(&mut self, src: &mut dyn BlockSource<B>) {
        while self.surplus > 0 && self.free.len() > self.resv {
            if let Some(block) = self.free.pop() {
                src.free(block);
                self.surplus -= 1;
            }
        }
    }

    /// Takes a block off the free list: one promised earlier (`reserved`),
    /// or one nobody was promised, allocated as surplus if need be.
    pub fn take(&mut self, reserved: bool, src: &mut dyn BlockSource<B>) -> Option<B> {
        let block = if reserved {
            debug_assert!(self.resv > 0, "taking a reserved block with no reservation");
            self.resv = self.resv.saturating_sub(1);
            self.free.pop()?
        } else if self.free.len() > self.resv {
            self.free.pop()?
        } else if self.surplus < self.overcommit {
            let block = src.alloc()?;
            self.surplus += 1;
            block
        } else {
            return None;
        };
        self.in_use += 1;
        Some(block)
    }

    /// A block nobody uses any more: back on the free list, or to `src` if
    /// the pool holds surplus (free_huge_folio).
    pub fn give_back(&mut self, block: B, src: &mut dyn BlockSource<B>) {
        self.in_use -= 1;
        if self.surplus > 0 {
            self.surplus -= 1;
            src.free(block);
        } else {
            self.free.push(block);
        }
    }
}

#[cfg(feature = "kernel")]
mod kernel;
#[cfg(feature = "kernel")]
pub use kernel::*;

#[cfg(test)]
mod tests;
