//! The per-address-space set of virtual memory areas.
//!
//! [`VmaSet`] owns the VMAs of one address space, ordered by start address in a
//! `BTreeMap`, so lookup, insertion, splitting and removal are O(log n) (plus the
//! number of VMAs touched). It is generic over the VMA payload through the [`Vma`]
//! trait: the kernel supplies its own VMA type (permissions, backing file, flags)
//! and this module only manipulates address ranges.
//!
//! # Invariants
//!
//! Between calls, for every entry `(key, vma)` of the map and every two successive
//! VMAs `a`, `b`:
//!
//! - `key == vma.start()`;
//! - `vma.start() < vma.end()` (no empty VMA);
//! - `a.end() <= b.start()` (sorted and non-overlapping).
//!
//! The set changes a VMA's bounds only through [`Vma::split_off`] and [`Vma::merge`];
//! it debug-asserts that implementations of those keep the bounds they promise.
//! Closures handed a `&mut V` ([`VmaSet::find_mut`], [`VmaSet::update_range`]) must
//! not change `start()`/`end()`.
//!
//! Nothing merges automatically: [`VmaSet::insert`] and [`VmaSet::update_range`]
//! leave neighbours alone and the caller coalesces explicitly with
//! [`VmaSet::merge_around`], as Linux's mmap/mprotect paths try `vma_merge` after
//! changing a range.
//!
//! # Relation to the rest of `mm`
//!
//! The map/unmap/protect/remap operations hold the address-space lock, use this set
//! to decide which ranges change, and update the page tables themselves; this module
//! knows nothing about page tables or page size. Page alignment of VMA bounds is the
//! caller's invariant; [`VmaSet::find_free_area`] aligns to the `align` it is given.
//!
//! No operation panics on any argument (ranges with `start >= end`, addresses near
//! `usize::MAX`); they return `None`/`Err`/an empty result instead. All address
//! arithmetic is checked.

use alloc::{collections::BTreeMap, vec::Vec};
use core::ops::Bound::{Excluded, Unbounded};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod model_tests;

/// A virtual memory area as seen by [`VmaSet`]: a half-open address range plus
/// whatever the kernel attaches to it.
pub trait Vma: Sized {
    /// First address of the area.
    fn start(&self) -> usize;

    /// One past the last address of the area; `start() < end()`.
    fn end(&self) -> usize;

    /// Splits the area at `addr`, where `start() < addr < end()`: `self` keeps
    /// `[start, addr)` and the returned area is `[addr, end)`.
    ///
    /// Anything offset-like (the file offset of a file mapping) must be advanced
    /// by `addr - start()` for the returned half.
    fn split_off(&mut self, addr: usize) -> Self;

    /// Whether `next`, which begins exactly at `self.end()`, may be absorbed into
    /// `self`: same attributes, same backing object, contiguous file offset.
    fn can_merge(&self, next: &Self) -> bool;

    /// Absorbs `next`, which begins at `self.end()` and for which
    /// [`can_merge`](Vma::can_merge) returned true; afterwards
    /// `self.end() == next.end()`.
    fn merge(&mut self, next: Self);
}

/// The ordered, non-overlapping VMAs of one address space.
///
/// See the [module documentation](self) for the invariants.
#[derive(Clone, Debug)]
pub struct VmaSet<V: Vma> {
    map: BTreeMap<usize, V>,
}

impl<V: Vma> Default for VmaSet<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Vma> VmaSet<V> {
    /// Creates an empty set.
    pub const fn new() -> Self {
        Self {
            map: BTreeMap::new(),
        }
    }

    /// Number of VMAs.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set holds no VMA.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// All VMAs in ascending address order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &V> + '_ {
        self.map.values()
    }

    /// The lowest VMA.
    pub fn first(&self) -> Option<&V> {
        self.map.values().next()
    }

    /// The highest VMA.
    pub fn last(&self) -> Option<&V> {
        self.map.values().next_back()
    }

    /// Sum of the lengths of all VMAs (for `RLIMIT_AS`-style accounting),
    /// saturating at `usize::MAX`.
    pub fn total_len(&self) -> usize {
        self.map
            .values()
            .fold(0usize, |acc, v| acc.saturating_add(v.end() - v.start()))
    }

    /// The VMA containing `addr`.
    pub fn find(&self, addr: usize) -> Option<&V> {
        self.map
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end())
    }

    /// The VMA containing `addr`, mutably. The caller must not change its bounds.
    pub fn find_mut(&mut self, addr: usize) -> Option<&mut V> {
        self.map
            .range_mut(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end())
    }

    /// The first VMA that ends above `addr`: the one containing `addr`, or else
    /// the next one above it. This is Linux's `find_vma`, used for stack growth
    /// and guard-gap checks.
    pub fn find_next(&self, addr: usize) -> Option<&V> {
        self.find(addr).or_else(|| {
            self.map
                .range((Excluded(addr), Unbounded))
                .next()
                .map(|(_, v)| v)
        })
    }

    /// The last VMA that starts below `addr` (Linux's `vma_prev` of the
    /// gap or VMA at `addr`).
    pub fn find_prev(&self, addr: usize) -> Option<&V> {
        self.map.range(..addr).next_back().map(|(_, v)| v)
    }

    /// The VMAs intersecting `[start, end)`, ascending. Empty if `start >= end`.
    pub fn overlapping(
        &self,
        start: usize,
        end: usize,
    ) -> impl DoubleEndedIterator<Item = &V> + '_ {
        // Clamping keeps `range` from panicking on a reversed range; the result
        // is then empty because `start < end` fails below and `start..start` is empty.
        let end = end.max(start);
        let head = self
            .map
            .range(..start)
            .next_back()
            .map(|(_, v)| v)
            .filter(move |v| start < end && start < v.end());
        head.into_iter()
            .chain(self.map.range(start..end).map(|(_, v)| v))
    }

    /// Number of VMAs intersecting `[start, end)`.
    pub fn count_in(&self, start: usize, end: usize) -> usize {
        self.overlapping(start, end).count()
    }

    /// Whether no VMA intersects `[start, end)`. An empty range is free.
    pub fn is_free(&self, start: usize, end: usize) -> bool {
        self.overlapping(start, end).next().is_none()
    }

    /// Inserts `vma` as is, without merging it with its neighbours.
    ///
    /// Returns `Err(vma)` if it is empty (`start >= end`) or overlaps a VMA
    /// already in the set.
    pub fn insert(&mut self, vma: V) -> Result<(), V> {
        let (start, end) = (vma.start(), vma.end());
        if start >= end || !self.is_free(start, end) {
            return Err(vma);
        }
        self.map.insert(start, vma);
        Ok(())
    }

    /// Makes `addr` a VMA boundary: if `addr` lies strictly inside a VMA, splits
    /// it there with [`Vma::split_off`]. Returns whether a split happened; a split
    /// at an existing boundary or in a gap is a no-op.
    pub fn split_at(&mut self, addr: usize) -> bool {
        let Some((&key, vma)) = self.map.range_mut(..addr).next_back() else {
            return false;
        };
        let end = vma.end();
        if addr >= end {
            return false;
        }
        // key < addr < end, so this is a proper split.
        let tail = vma.split_off(addr);
        debug_assert!(
            vma.start() == key && vma.end() == addr,
            "Vma::split_off must leave [start, addr) in self"
        );
        debug_assert!(
            tail.start() == addr && tail.end() == end,
            "Vma::split_off must return [addr, end)"
        );
        let previous = self.map.insert(addr, tail);
        debug_assert!(previous.is_none(), "split produced a duplicate start");
        true
    }

    /// Removes everything inside `[start, end)` and returns it in ascending order.
    ///
    /// VMAs straddling either boundary are split first, so the parts outside the
    /// range stay in the set; gaps inside the range are fine. This is the core of
    /// `munmap` and of `MAP_FIXED` replacement. Empty if `start >= end`.
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<V> {
        if start >= end {
            return Vec::new();
        }
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<usize> = self.map.range(start..end).map(|(&k, _)| k).collect();
        keys.into_iter()
            .filter_map(|k| self.map.remove(&k))
            .collect()
    }

    /// Applies `f` to every VMA inside `[start, end)`, after splitting those that
    /// straddle a boundary, and returns how many VMAs `f` saw. This is the core of
    /// `mprotect` and `madvise`. `f` must not change a VMA's bounds.
    ///
    /// Neighbours are not re-merged; follow with [`merge_around`](Self::merge_around).
    pub fn update_range(&mut self, start: usize, end: usize, mut f: impl FnMut(&mut V)) -> usize {
        if start >= end {
            return 0;
        }
        self.split_at(start);
        self.split_at(end);
        let mut seen = 0;
        for (&key, vma) in self.map.range_mut(start..end) {
            let vma_end = vma.end();
            f(vma);
            debug_assert!(
                vma.start() == key && vma.end() == vma_end,
                "update_range closure changed a VMA's bounds"
            );
            seen += 1;
        }
        seen
    }

    /// Merges VMAs in and around `[start, end]` with their successors where
    /// [`Vma::can_merge`] allows, including the VMA ending at (or containing)
    /// `start` with its successor and the VMA ending at `end` with the one
    /// starting there. Considered pairs are those whose second VMA starts within
    /// `[start, end]`. Returns the number of merges; a no-op if `start > end`.
    pub fn merge_around(&mut self, start: usize, end: usize) -> usize {
        if start > end {
            return 0;
        }
        // The last VMA starting below `start` may end exactly at `start` or
        // contain it; either way it is the first candidate.
        let first = self
            .map
            .range(..start)
            .next_back()
            .or_else(|| self.map.range(start..).next());
        let Some((&first_key, _)) = first else {
            return 0;
        };
        let mut cur = first_key;
        let mut merges = 0;
        while let Some((&next_key, next)) = self.map.range((Excluded(cur), Unbounded)).next() {
            if next_key > end {
                break;
            }
            let mergeable = self
                .map
                .get(&cur)
                .is_some_and(|c| c.end() == next_key && c.can_merge(next));
            if !mergeable {
                cur = next_key;
                continue;
            }
            let Some(next) = self.map.remove(&next_key) else {
                break;
            };
            let next_end = next.end();
            let Some(c) = self.map.get_mut(&cur) else {
                break;
            };
            c.merge(next);
            debug_assert!(
                c.start() == cur && c.end() == next_end,
                "Vma::merge must extend self to next.end()"
            );
            merges += 1;
        }
        merges
    }

    /// The free intervals inside `[lo, hi)`, ascending, each as `(start, end)`.
    pub fn gaps(&self, lo: usize, hi: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut vmas = self.overlapping(lo, hi);
        let mut cursor = lo;
        let mut done = lo >= hi;
        core::iter::from_fn(move || {
            while !done {
                match vmas.next() {
                    Some(v) => {
                        let gap = (cursor, v.start());
                        cursor = cursor.max(v.end());
                        if gap.0 < gap.1 {
                            return Some(gap);
                        }
                    }
                    None => {
                        done = true;
                        if cursor < hi {
                            return Some((cursor, hi));
                        }
                    }
                }
            }
            None
        })
    }

    /// The free intervals inside `[lo, hi)`, descending, each as `(start, end)`.
    pub fn gaps_rev(&self, lo: usize, hi: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut vmas = self.overlapping(lo, hi);
        let mut cursor = hi;
        let mut done = lo >= hi;
        core::iter::from_fn(move || {
            while !done {
                match vmas.next_back() {
                    Some(v) => {
                        let gap = (v.end(), cursor);
                        cursor = cursor.min(v.start());
                        if gap.0 < gap.1 {
                            return Some(gap);
                        }
                    }
                    None => {
                        done = true;
                        if lo < cursor {
                            return Some((lo, cursor));
                        }
                    }
                }
            }
            None
        })
    }

    /// The lowest `align`-aligned address `a` with `[a, a + len)` free and inside
    /// `[limit_start, limit_end)` (bottom-up placement).
    ///
    /// `None` if nothing fits, `len == 0`, or `align` is not a power of two.
    pub fn lowest_free_area(
        &self,
        len: usize,
        limit_start: usize,
        limit_end: usize,
        align: usize,
    ) -> Option<usize> {
        if len == 0 || !align.is_power_of_two() {
            return None;
        }
        for (gap_start, gap_end) in self.gaps(limit_start, limit_end) {
            // Gaps ascend, so if aligning up overflows no later gap can fit either.
            let addr = align_up(gap_start, align)?;
            if addr.checked_add(len).is_some_and(|end| end <= gap_end) {
                return Some(addr);
            }
        }
        None
    }

    /// The highest `align`-aligned address `a` with `[a, a + len)` free and inside
    /// `[limit_start, limit_end)` (top-down placement).
    ///
    /// `None` if nothing fits, `len == 0`, or `align` is not a power of two.
    pub fn highest_free_area(
        &self,
        len: usize,
        limit_start: usize,
        limit_end: usize,
        align: usize,
    ) -> Option<usize> {
        if len == 0 || !align.is_power_of_two() {
            return None;
        }
        self.gaps_rev(limit_start, limit_end)
            .find_map(|(gap_start, gap_end)| {
                let addr = gap_end.checked_sub(len)? & !(align - 1);
                (addr >= gap_start).then_some(addr)
            })
    }

    /// Chooses where a new mapping of `len` bytes goes, with Linux's default
    /// (top-down) `mmap` placement:
    ///
    /// - if `hint` is non-zero, `align`-aligned, and `[hint, hint + len)` is free
    ///   and inside `[limit_start, limit_end)`, the hint is used as is;
    /// - otherwise the highest fitting free gap below `limit_end` is used
    ///   (`generic_get_unmapped_area_topdown` in Linux `mm/mmap.c`).
    ///
    /// Linux page-aligns the hint first (`PAGE_ALIGN(addr)`); the caller does that
    /// before calling, and a hint still not aligned to `align` is ignored rather
    /// than rounded. `limit_start` plays the part of `mmap_min_addr` (the kernel
    /// passes at least one page, so address 0 is never chosen) and `limit_end`
    /// that of `mmap_base`/`TASK_SIZE`.
    ///
    /// `None` if nothing fits, `len == 0`, or `align` is not a power of two.
    pub fn find_free_area(
        &self,
        hint: usize,
        len: usize,
        limit_start: usize,
        limit_end: usize,
        align: usize,
    ) -> Option<usize> {
        if len == 0 || !align.is_power_of_two() {
            return None;
        }
        if hint != 0
            && hint.is_multiple_of(align)
            && hint >= limit_start
            && let Some(hint_end) = hint.checked_add(len)
            && hint_end <= limit_end
            && self.is_free(hint, hint_end)
        {
            return Some(hint);
        }
        self.highest_free_area(len, limit_start, limit_end, align)
    }
}

impl<V: Vma> IntoIterator for VmaSet<V> {
    type Item = V;
    type IntoIter = alloc::collections::btree_map::IntoValues<usize, V>;

    /// Consumes the set, yielding its VMAs in ascending order (address-space
    /// teardown).
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_values()
    }
}

/// `addr` rounded up to a multiple of `align` (a power of two); `None` on overflow.
fn align_up(addr: usize, align: usize) -> Option<usize> {
    Some(addr.checked_add(align - 1)? & !(align - 1))
}
