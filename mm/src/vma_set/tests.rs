//! Unit tests for [`VmaSet`], one group per operation, plus the [`TestVma`]
//! payload shared with the randomized model test.

use alloc::vec::Vec;

use super::{Vma, VmaSet};

pub(super) const PG: usize = 0x1000;

/// A test VMA: an attribute standing for permissions/flags, and a file offset
/// that must stay contiguous across splits and merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TestVma {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) attr: u8,
    pub(super) off: u64,
}

impl TestVma {
    pub(super) fn new(start: usize, end: usize, attr: u8, off: u64) -> Self {
        Self {
            start,
            end,
            attr,
            off,
        }
    }
}

impl Vma for TestVma {
    fn start(&self) -> usize {
        self.start
    }

    fn end(&self) -> usize {
        self.end
    }

    fn split_off(&mut self, addr: usize) -> Self {
        assert!(
            self.start < addr && addr < self.end,
            "split outside the VMA"
        );
        let tail = Self {
            start: addr,
            end: self.end,
            attr: self.attr,
            off: self.off + (addr - self.start) as u64,
        };
        self.end = addr;
        tail
    }

    fn can_merge(&self, next: &Self) -> bool {
        assert_eq!(
            self.end, next.start,
            "can_merge asked about non-adjacent VMAs"
        );
        self.attr == next.attr
            && self.off.checked_add((self.end - self.start) as u64) == Some(next.off)
    }

    fn merge(&mut self, next: Self) {
        assert!(self.can_merge(&next), "merge of unmergeable VMAs");
        self.end = next.end;
    }
}

/// An anonymous-like VMA whose offset is its address, so equal-attribute
/// neighbours are always mergeable.
fn anon(start_pg: usize, end_pg: usize, attr: u8) -> TestVma {
    TestVma::new(start_pg * PG, end_pg * PG, attr, (start_pg * PG) as u64)
}

fn set_of(vmas: &[TestVma]) -> VmaSet<TestVma> {
    let mut set = VmaSet::new();
    for v in vmas {
        set.insert(v.clone()).expect("test fixture overlaps");
    }
    set
}

/// `(start_pg, end_pg, attr)` of every VMA, ascending.
fn shape(set: &VmaSet<TestVma>) -> Vec<(usize, usize, u8)> {
    set.iter()
        .map(|v| (v.start / PG, v.end / PG, v.attr))
        .collect()
}

mod basics {
    use super::*;

    #[test]
    fn empty_set() {
        let set: VmaSet<TestVma> = VmaSet::default();
        assert!(set.is_empty());
        assert_eq!(set.len(), 0);
        assert!(set.find(0).is_none());
        assert!(set.find(usize::MAX).is_none());
        assert!(set.first().is_none() && set.last().is_none());
        assert!(set.is_free(0, usize::MAX));
        assert_eq!(set.count_in(0, usize::MAX), 0);
        assert_eq!(set.total_len(), 0);
        assert_eq!(set.iter().count(), 0);
    }

    #[test]
    fn iter_first_last_total_len_into_iter_clone() {
        let set = set_of(&[anon(5, 7, 0), anon(1, 2, 0), anon(10, 14, 1)]);
        assert_eq!(shape(&set), [(1, 2, 0), (5, 7, 0), (10, 14, 1)]);
        assert_eq!(set.first().map(|v| v.start), Some(PG));
        assert_eq!(set.last().map(|v| v.start), Some(10 * PG));
        assert_eq!(set.total_len(), 7 * PG);
        assert_eq!(
            set.iter().rev().map(|v| v.start / PG).collect::<Vec<_>>(),
            [10, 5, 1]
        );
        let copy = set.clone();
        let starts: Vec<usize> = set.into_iter().map(|v| v.start / PG).collect();
        assert_eq!(starts, [1, 5, 10]);
        assert_eq!(copy.len(), 3);
    }
}

mod insert {
    use super::*;

    #[test]
    fn adjacent_vmas_are_accepted_and_not_merged() {
        let mut set = VmaSet::new();
        assert!(set.insert(anon(2, 4, 0)).is_ok());
        assert!(set.insert(anon(4, 6, 0)).is_ok());
        assert!(set.insert(anon(0, 2, 0)).is_ok());
        assert_eq!(shape(&set), [(0, 2, 0), (2, 4, 0), (4, 6, 0)]);
    }

    #[test]
    fn overlaps_are_rejected_and_returned() {
        let mut set = set_of(&[anon(4, 8, 0)]);
        for (s, e) in [(3, 5), (7, 9), (5, 6), (2, 10), (4, 8), (4, 5), (7, 8)] {
            let v = anon(s, e, 9);
            assert_eq!(set.insert(v.clone()), Err(v), "[{s}, {e}) overlaps [4, 8)");
        }
        assert_eq!(shape(&set), [(4, 8, 0)]);
    }

    #[test]
    fn empty_or_reversed_vma_is_rejected() {
        let mut set = VmaSet::new();
        assert!(set.insert(TestVma::new(PG, PG, 0, 0)).is_err());
        assert!(set.insert(TestVma::new(2 * PG, PG, 0, 0)).is_err());
        assert!(set.is_empty());
    }
}

mod lookup {
    use super::*;

    #[test]
    fn find_is_start_inclusive_end_exclusive() {
        let set = set_of(&[anon(2, 4, 0), anon(6, 7, 1)]);
        assert!(set.find(2 * PG - 1).is_none());
        assert_eq!(set.find(2 * PG).map(|v| v.start), Some(2 * PG));
        assert_eq!(set.find(4 * PG - 1).map(|v| v.start), Some(2 * PG));
        assert!(set.find(4 * PG).is_none());
        assert!(set.find(5 * PG).is_none());
        assert_eq!(set.find(6 * PG + 123).map(|v| v.attr), Some(1));
        assert!(set.find(7 * PG).is_none());
        assert!(set.find(usize::MAX).is_none());
    }

    #[test]
    fn find_mut_changes_payload() {
        let mut set = set_of(&[anon(2, 4, 0)]);
        set.find_mut(3 * PG).expect("mapped").attr = 7;
        assert_eq!(shape(&set), [(2, 4, 7)]);
        assert!(set.find_mut(4 * PG).is_none());
    }

    #[test]
    fn find_next_is_linux_find_vma() {
        let set = set_of(&[anon(2, 4, 0), anon(6, 7, 1)]);
        assert_eq!(set.find_next(0).map(|v| v.start), Some(2 * PG));
        assert_eq!(set.find_next(3 * PG).map(|v| v.start), Some(2 * PG));
        assert_eq!(set.find_next(4 * PG).map(|v| v.start), Some(6 * PG));
        assert!(set.find_next(7 * PG).is_none());
        assert!(set.find_next(usize::MAX).is_none());
    }

    #[test]
    fn overlapping_and_count_in() {
        let set = set_of(&[anon(2, 4, 0), anon(6, 8, 1), anon(10, 12, 2)]);
        let starts = |s: usize, e: usize| -> Vec<usize> {
            set.overlapping(s, e).map(|v| v.start / PG).collect()
        };
        assert_eq!(starts(0, 2 * PG), [] as [usize; 0]);
        assert_eq!(starts(4 * PG, 6 * PG), [] as [usize; 0]);
        assert_eq!(starts(3 * PG, 7 * PG), [2, 6]);
        assert_eq!(starts(4 * PG - 1, 6 * PG + 1), [2, 6]);
        assert_eq!(starts(0, usize::MAX), [2, 6, 10]);
        assert_eq!(starts(11 * PG, usize::MAX), [10]);
        assert_eq!(starts(7 * PG, 7 * PG), [] as [usize; 0]);
        assert_eq!(starts(7 * PG, 3 * PG), [] as [usize; 0]);
        assert_eq!(set.count_in(0, 11 * PG), 3);
        assert_eq!(set.count_in(8 * PG, 10 * PG), 0);
        assert!(set.is_free(8 * PG, 10 * PG));
        assert!(!set.is_free(8 * PG, 10 * PG + 1));
        assert!(set.is_free(3 * PG, 3 * PG), "an empty range is free");
    }

    #[test]
    fn gaps_both_directions() {
        let set = set_of(&[anon(2, 4, 0), anon(6, 8, 1)]);
        let up: Vec<_> = set.gaps(PG, 10 * PG).collect();
        assert_eq!(up, [(PG, 2 * PG), (4 * PG, 6 * PG), (8 * PG, 10 * PG)]);
        let down: Vec<_> = set.gaps_rev(PG, 10 * PG).collect();
        assert_eq!(down, [(8 * PG, 10 * PG), (4 * PG, 6 * PG), (PG, 2 * PG)]);
        // Limits inside VMAs clip the gaps.
        let up: Vec<_> = set.gaps(3 * PG, 7 * PG).collect();
        assert_eq!(up, [(4 * PG, 6 * PG)]);
        let down: Vec<_> = set.gaps_rev(3 * PG, 7 * PG).collect();
        assert_eq!(down, [(4 * PG, 6 * PG)]);
        assert_eq!(set.gaps(5 * PG, 5 * PG).count(), 0);
        assert_eq!(set.gaps_rev(6 * PG, 5 * PG).count(), 0);
        assert_eq!(set.gaps(2 * PG, 4 * PG).count(), 0);
        let all: Vec<_> = set.gaps(0, usize::MAX).collect();
        assert_eq!(all, [(0, 2 * PG), (4 * PG, 6 * PG), (8 * PG, usize::MAX)]);
    }
}

mod split {
    use super::*;

    #[test]
    fn split_inside_adjusts_offset() {
        let mut set = set_of(&[TestVma::new(2 * PG, 6 * PG, 3, 0x10_0000)]);
        assert!(set.split_at(3 * PG));
        let v: Vec<_> = set.iter().cloned().collect();
        assert_eq!(
            v,
            [
                TestVma::new(2 * PG, 3 * PG, 3, 0x10_0000),
                TestVma::new(3 * PG, 6 * PG, 3, 0x10_0000 + PG as u64),
            ]
        );
    }

    #[test]
    fn split_at_boundary_or_gap_is_a_noop() {
        let mut set = set_of(&[anon(2, 4, 0), anon(4, 6, 0)]);
        for addr in [0, PG, 2 * PG, 4 * PG, 6 * PG, 9 * PG, usize::MAX] {
            assert!(!set.split_at(addr), "split at {addr:#x}");
        }
        assert_eq!(shape(&set), [(2, 4, 0), (4, 6, 0)]);
    }
}

mod remove {
    use super::*;

    #[test]
    fn exact_vma() {
        let mut set = set_of(&[anon(2, 4, 0), anon(4, 6, 1)]);
        let removed = set.remove_range(2 * PG, 4 * PG);
        assert_eq!(removed, [anon(2, 4, 0)]);
        assert_eq!(shape(&set), [(4, 6, 1)]);
    }

    #[test]
    fn partial_vmas_at_both_ends_and_gaps_inside() {
        let mut set = set_of(&[anon(0, 4, 0), anon(5, 6, 1), anon(8, 12, 2)]);
        let removed = set.remove_range(2 * PG, 10 * PG);
        assert_eq!(removed, [anon(2, 4, 0), anon(5, 6, 1), anon(8, 10, 2)]);
        assert_eq!(shape(&set), [(0, 2, 0), (10, 12, 2)]);
        assert_eq!(set.find(10 * PG).map(|v| v.off), Some(10 * PG as u64));
    }

    #[test]
    fn inside_one_vma_leaves_two() {
        let mut set = set_of(&[TestVma::new(0, 10 * PG, 1, 0x5000)]);
        let removed = set.remove_range(3 * PG, 5 * PG);
        assert_eq!(
            removed,
            [TestVma::new(3 * PG, 5 * PG, 1, 0x5000 + 3 * PG as u64)]
        );
        let v: Vec<_> = set.iter().cloned().collect();
        assert_eq!(
            v,
            [
                TestVma::new(0, 3 * PG, 1, 0x5000),
                TestVma::new(5 * PG, 10 * PG, 1, 0x5000 + 5 * PG as u64),
            ]
        );
    }

    #[test]
    fn unaligned_to_vma_but_empty_or_reversed_ranges_do_nothing() {
        let mut set = set_of(&[anon(2, 4, 0)]);
        assert!(set.remove_range(3 * PG, 3 * PG).is_empty());
        assert!(set.remove_range(4 * PG, 2 * PG).is_empty());
        assert!(set.remove_range(5 * PG, 9 * PG).is_empty());
        assert_eq!(shape(&set), [(2, 4, 0)]);
    }

    #[test]
    fn whole_address_space() {
        let mut set = set_of(&[anon(0, 1, 0), anon(5, 6, 1)]);
        set.insert(TestVma::new(usize::MAX - PG, usize::MAX, 2, 0))
            .expect("free");
        assert_eq!(set.remove_range(0, usize::MAX).len(), 3);
        assert!(set.is_empty());
    }
}

mod update {
    use super::*;

    #[test]
    fn splits_at_boundaries_and_does_not_merge() {
        let mut set = set_of(&[anon(0, 4, 0), anon(6, 10, 0)]);
        let seen = set.update_range(2 * PG, 8 * PG, |v| v.attr = 5);
        assert_eq!(seen, 2);
        assert_eq!(shape(&set), [(0, 2, 0), (2, 4, 5), (6, 8, 5), (8, 10, 0)]);
        // Same attribute again: still split, nothing coalesces by itself.
        set.update_range(0, 10 * PG, |v| v.attr = 5);
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn empty_reversed_or_unmapped_range_is_a_noop() {
        let mut set = set_of(&[anon(0, 4, 0)]);
        assert_eq!(set.update_range(2 * PG, 2 * PG, |v| v.attr = 1), 0);
        assert_eq!(set.update_range(3 * PG, PG, |v| v.attr = 1), 0);
        assert_eq!(set.update_range(5 * PG, 9 * PG, |v| v.attr = 1), 0);
        assert_eq!(shape(&set), [(0, 4, 0)]);
    }
}

mod merge {
    use super::*;

    #[test]
    fn update_then_merge_restores_one_vma() {
        let mut set = set_of(&[anon(0, 10, 0)]);
        set.update_range(3 * PG, 5 * PG, |v| v.attr = 1);
        assert_eq!(set.len(), 3);
        set.update_range(3 * PG, 5 * PG, |v| v.attr = 0);
        assert_eq!(set.merge_around(3 * PG, 5 * PG), 2);
        assert_eq!(set.iter().cloned().collect::<Vec<_>>(), [anon(0, 10, 0)]);
    }

    #[test]
    fn merges_across_both_boundaries() {
        // [0,2) ends at start, [4,6) starts at end: both joins are in scope.
        let mut set = set_of(&[anon(0, 2, 0), anon(2, 4, 0), anon(4, 6, 0), anon(6, 8, 0)]);
        assert_eq!(set.merge_around(2 * PG, 4 * PG), 2);
        assert_eq!(shape(&set), [(0, 6, 0), (6, 8, 0)]);
    }

    #[test]
    fn respects_attribute_offset_and_adjacency() {
        let mut set = set_of(&[
            anon(0, 2, 0),
            anon(2, 4, 1),                             // different attribute
            TestVma::new(4 * PG, 6 * PG, 1, 0x9_9000), // offset not contiguous
            anon(7, 8, 1),                             // gap before it
            anon(8, 9, 1),
        ]);
        assert_eq!(set.merge_around(0, 9 * PG), 1);
        assert_eq!(shape(&set), [(0, 2, 0), (2, 4, 1), (4, 6, 1), (7, 9, 1)]);
    }

    #[test]
    fn pairs_beyond_the_range_are_left_alone() {
        let mut set = set_of(&[
            anon(0, 2, 0),
            anon(2, 4, 0),
            anon(4, 6, 0),
            anon(6, 8, 0),
            anon(8, 10, 0),
        ]);
        // Pairs whose second VMA starts in [4, 4]: only (2..4, 4..6).
        assert_eq!(set.merge_around(4 * PG, 4 * PG), 1);
        assert_eq!(shape(&set), [(0, 2, 0), (2, 6, 0), (6, 8, 0), (8, 10, 0)]);
        // A start inside a VMA makes that VMA the first candidate.
        assert_eq!(set.merge_around(3 * PG, 6 * PG), 1);
        assert_eq!(shape(&set), [(0, 2, 0), (2, 8, 0), (8, 10, 0)]);
    }

    #[test]
    fn reversed_range_or_empty_set_is_a_noop() {
        let mut set = set_of(&[anon(0, 2, 0), anon(2, 4, 0)]);
        assert_eq!(set.merge_around(3 * PG, 2 * PG), 0);
        assert_eq!(set.len(), 2);
        let mut empty: VmaSet<TestVma> = VmaSet::new();
        assert_eq!(empty.merge_around(0, usize::MAX), 0);
    }

    #[test]
    fn whole_space_merge_at_the_top() {
        let top = usize::MAX - PG + 1;
        let mut set = set_of(&[
            TestVma::new(top - PG, top, 0, 0),
            TestVma::new(top, usize::MAX, 0, PG as u64),
        ]);
        assert_eq!(set.merge_around(0, usize::MAX), 1);
        assert_eq!(
            set.iter().cloned().collect::<Vec<_>>(),
            [TestVma::new(top - PG, usize::MAX, 0, 0)]
        );
    }
}

mod placement {
    use super::*;

    const LO: usize = 0x10 * PG;
    const HI: usize = 0x100 * PG;

    fn fixture() -> VmaSet<TestVma> {
        // Free: [0x10, 0x20), [0x30, 0xf0); occupied [0x20,0x30), [0xf0,0x100).
        set_of(&[anon(0x20, 0x30, 0), anon(0xf0, 0x100, 0)])
    }

    #[test]
    fn free_aligned_hint_is_used() {
        let set = fixture();
        assert_eq!(
            set.find_free_area(0x40 * PG, 4 * PG, LO, HI, PG),
            Some(0x40 * PG)
        );
        // A hint touching a VMA on both sides is still free.
        assert_eq!(
            set.find_free_area(0x30 * PG, 0xc0 * PG, LO, HI, PG),
            Some(0x30 * PG)
        );
        // Exactly at the limits.
        assert_eq!(set.find_free_area(LO, 0x10 * PG, LO, HI, PG), Some(LO));
    }

    #[test]
    fn hint_must_end_within_limit_end() {
        let set: VmaSet<TestVma> = VmaSet::new();
        assert_eq!(
            set.find_free_area(HI - 4 * PG, 4 * PG, LO, HI, PG),
            Some(HI - 4 * PG)
        );
        assert_eq!(
            set.find_free_area(HI - 3 * PG, 4 * PG, LO, HI, PG),
            Some(HI - 4 * PG)
        );
        assert_eq!(set.find_free_area(LO, 4 * PG, LO, HI, PG), Some(LO));
        assert_eq!(
            set.find_free_area(LO - PG, 4 * PG, LO, HI, PG),
            Some(HI - 4 * PG)
        );
    }

    #[test]
    fn without_usable_hint_search_is_top_down() {
        let set = fixture();
        let top_fit = 0xf0 * PG - 4 * PG;
        for hint in [
            0,               // no hint
            0x22 * PG,       // occupied
            0x2e * PG,       // runs into a VMA
            0x40 * PG + 1,   // unaligned
            0x8 * PG,        // below limit_start
            0xfe * PG,       // beyond limit_end
            usize::MAX - PG, // hint + len overflows
        ] {
            assert_eq!(
                set.find_free_area(hint, 4 * PG, LO, HI, PG),
                Some(top_fit),
                "hint {hint:#x}"
            );
        }
    }

    #[test]
    fn falls_to_lower_gap_when_upper_is_too_small() {
        let set = set_of(&[anon(0x20, 0x30, 0), anon(0x40, 0x100, 0)]);
        // Both free gaps, [0x10,0x20) and [0x30,0x40), hold 16 pages.
        assert_eq!(set.find_free_area(0, 16 * PG, LO, HI, PG), Some(0x30 * PG));
        assert_eq!(set.find_free_area(0, 17 * PG, LO, HI, PG), None);
        assert_eq!(
            set.find_free_area(0, 16 * PG, LO, 0x3f * PG, PG),
            Some(0x10 * PG)
        );
    }

    #[test]
    fn full_space_gives_none() {
        let set = set_of(&[anon(0x10, 0x100, 0)]);
        assert_eq!(set.find_free_area(0, PG, LO, HI, PG), None);
        assert_eq!(set.find_free_area(0x20 * PG, PG, LO, HI, PG), None);
        assert_eq!(set.lowest_free_area(PG, LO, HI, PG), None);
    }

    #[test]
    fn alignment_is_honoured() {
        let set = fixture();
        // Highest 64 KiB-aligned 8-page slot below 0xf0: 0xe0.
        assert_eq!(
            set.find_free_area(0, 8 * PG, LO, HI, 16 * PG),
            Some(0xe0 * PG)
        );
        // 2 MiB alignment: nothing in [0x10, 0x100) pages except 0 which is below LO.
        assert_eq!(set.find_free_area(0, PG, LO, HI, 0x200 * PG), None);
        // Hint that is page- but not 16-page-aligned is ignored.
        assert_eq!(
            set.find_free_area(0x41 * PG, PG, LO, HI, 16 * PG),
            Some(0xe0 * PG)
        );
        assert_eq!(
            set.find_free_area(0x40 * PG, PG, LO, HI, 16 * PG),
            Some(0x40 * PG)
        );
        assert_eq!(
            set.lowest_free_area(PG, LO + 1, HI, 16 * PG),
            Some(0x30 * PG)
        );
    }

    #[test]
    fn invalid_arguments_give_none() {
        let set = fixture();
        assert_eq!(set.find_free_area(0, 0, LO, HI, PG), None, "len 0");
        assert_eq!(set.find_free_area(0, PG, LO, HI, 0), None, "align 0");
        assert_eq!(
            set.find_free_area(0, PG, LO, HI, 3 * PG),
            None,
            "align not a power of two"
        );
        assert_eq!(
            set.find_free_area(0, PG, HI, LO, PG),
            None,
            "reversed limits"
        );
        assert_eq!(set.find_free_area(0, PG, LO, LO, PG), None, "empty limits");
        assert_eq!(
            set.find_free_area(0, HI, LO, HI, PG),
            None,
            "len larger than limits"
        );
        assert_eq!(set.lowest_free_area(0, LO, HI, PG), None);
        assert_eq!(set.highest_free_area(PG, LO, HI, 0), None);
    }

    #[test]
    fn lowest_free_area_is_bottom_up() {
        let set = fixture();
        assert_eq!(set.lowest_free_area(4 * PG, LO, HI, PG), Some(LO));
        assert_eq!(set.lowest_free_area(17 * PG, LO, HI, PG), Some(0x30 * PG));
        assert_eq!(set.lowest_free_area(0xc1 * PG, LO, HI, PG), None);
    }

    #[test]
    fn near_usize_max() {
        let top = usize::MAX - PG + 1; // the highest page
        let mut set = VmaSet::new();
        set.insert(TestVma::new(top - 2 * PG, top - PG, 0, 0))
            .expect("free");
        assert_eq!(set.find_free_area(0, PG, 0, usize::MAX, PG), Some(top - PG));
        // The top page is only partly inside [0, usize::MAX): it does not fit.
        assert_eq!(
            set.find_free_area(top, PG, 0, usize::MAX, PG),
            Some(top - PG)
        );
        assert_eq!(set.find_free_area(0, usize::MAX, 0, usize::MAX, PG), None);
        assert_eq!(set.find_free_area(0, usize::MAX, 0, usize::MAX, 1), None);
        assert_eq!(
            set.find_free_area(0, usize::MAX - 1, 0, usize::MAX, 1),
            None
        );
        assert_eq!(
            set.lowest_free_area(PG, top - PG, usize::MAX, PG),
            Some(top - PG)
        );
        assert_eq!(
            set.lowest_free_area(PG, usize::MAX - 1, usize::MAX, PG),
            None,
            "align_up overflows"
        );
        assert_eq!(set.highest_free_area(usize::MAX, 0, usize::MAX, 1), None);
        let half = 1 << (usize::BITS - 1);
        assert_eq!(set.find_free_area(0, half, 0, usize::MAX, half), Some(0));
        assert_eq!(set.find_free_area(0, PG, 0, usize::MAX, half), Some(half));

        // Operations on a VMA ending exactly at usize::MAX.
        set.insert(TestVma::new(top, usize::MAX, 1, 0))
            .expect("free");
        assert_eq!(set.find(usize::MAX - 1).map(|v| v.attr), Some(1));
        assert!(set.find(usize::MAX).is_none());
        assert!(!set.split_at(usize::MAX));
        assert!(set.split_at(usize::MAX - 1));
        assert_eq!(set.remove_range(top, usize::MAX).len(), 2);
        assert_eq!(set.len(), 1);
    }
}
