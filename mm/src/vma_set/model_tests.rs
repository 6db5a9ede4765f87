//! Randomized test of [`VmaSet`] against a page-granular model.
//!
//! Each seed runs a long sequence of inserts, removals, updates, merges, splits
//! and queries on both the set and a plain array mapping page -> (attribute, file
//! offset). After every operation the set must satisfy its invariants and map
//! exactly the pages the model maps, with the same attribute and file offset.

use alloc::vec::Vec;

use super::{
    VmaSet,
    tests::{PG, TestVma},
};
use crate::{test_rng::Rng, vma_set::Vma};

/// Pages in the modelled address space, starting at address 0.
const PAGES: usize = 128;
const SEEDS: u64 = 20;
const OPS_PER_SEED: usize = 5_000;

/// The model's ranges.
trait Ranges {
    fn page_range(&mut self) -> (usize, usize);
    fn byte_range(&mut self) -> (usize, usize);
}

impl Ranges for Rng {
    /// A page range `[s, e)` within the model, mostly short.
    fn page_range(&mut self) -> (usize, usize) {
        let s = self.below(PAGES);
        let max_len = if self.chance(80) { 8 } else { PAGES };
        let e = (s + 1 + self.below(max_len)).min(PAGES);
        (s, e)
    }

    /// A byte range for removals/updates; sometimes open-ended to `usize::MAX`.
    fn byte_range(&mut self) -> (usize, usize) {
        let (s, e) = self.page_range();
        if self.chance(3) {
            (s * PG, usize::MAX)
        } else {
            (s * PG, e * PG)
        }
    }
}

/// Page -> (attribute, file offset of the page).
type Model = Vec<Option<(u8, u64)>>;

fn model_pages(start: usize, end: usize) -> core::ops::Range<usize> {
    (start / PG).min(PAGES)..end.div_ceil(PG).min(PAGES)
}

fn check(set: &VmaSet<TestVma>, model: &Model, context: &dyn Fn() -> alloc::string::String) {
    for (&key, v) in &set.map {
        assert_eq!(key, v.start, "key is not the VMA start; {}", context());
    }
    let mut prev_end = 0;
    let mut covered = 0;
    for (i, v) in set.iter().enumerate() {
        assert!(v.start < v.end, "empty VMA {v:?}; {}", context());
        assert!(
            i == 0 || prev_end <= v.start,
            "overlap or disorder at {v:?}; {}",
            context()
        );
        assert!(
            v.start % PG == 0 && v.end % PG == 0,
            "unaligned VMA {v:?}; {}",
            context()
        );
        assert!(
            v.end <= PAGES * PG,
            "VMA outside the model {v:?}; {}",
            context()
        );
        prev_end = v.end;
        assert_matches_model(v, model, context);
        covered += (v.end - v.start) / PG;
    }
    let mapped = model.iter().flatten().count();
    assert_eq!(
        covered,
        mapped,
        "set maps {covered} pages, model {mapped}; {}",
        context()
    );
}

/// Asserts that the model maps every page of `v` with `v`'s attribute and the
/// file offset `v` implies for that page.
fn assert_matches_model(v: &TestVma, model: &Model, context: &dyn Fn() -> alloc::string::String) {
    let first = v.start / PG;
    for (i, page) in model[first..v.end / PG].iter().enumerate() {
        let expected = Some((v.attr, v.off + (i * PG) as u64));
        assert_eq!(
            *page,
            expected,
            "page {} in {v:?}; {}",
            first + i,
            context()
        );
    }
}

/// Whether `[a, b)` (page numbers) is unmapped in the model.
fn model_free(model: &Model, a: usize, b: usize) -> bool {
    model[a..b].iter().all(Option::is_none)
}

/// The canonical VMA count: maximal runs of pages with equal attribute and
/// contiguous offset.
fn canonical_runs(model: &Model) -> usize {
    let mut runs = 0;
    let mut prev: Option<(u8, u64)> = None;
    for page in model {
        match (prev, page) {
            (Some((pa, po)), Some((a, o))) if pa == *a && po + PG as u64 == *o => {}
            (_, Some(_)) => runs += 1,
            _ => {}
        }
        prev = *page;
    }
    runs
}

fn op_insert(set: &mut VmaSet<TestVma>, model: &mut Model, rng: &mut Rng) {
    let (s, e) = rng.page_range();
    let attr = rng.below(3) as u8;
    // Mostly offset == address, so equal-attribute neighbours are mergeable.
    let off = if rng.chance(70) {
        (s * PG) as u64
    } else {
        (rng.below(64) * PG) as u64
    };
    let vma = TestVma::new(s * PG, e * PG, attr, off);
    let expect_ok = model_free(model, s, e);
    let result = set.insert(vma.clone());
    assert_eq!(result.is_ok(), expect_ok, "insert {vma:?}");
    if let Err(back) = result {
        assert_eq!(back, vma, "insert must hand back the rejected VMA");
    } else {
        for (i, page) in model[s..e].iter_mut().enumerate() {
            *page = Some((attr, off + (i * PG) as u64));
        }
    }
}

fn assert_boundary(set: &VmaSet<TestVma>, addr: usize) {
    assert!(
        set.find(addr).is_none_or(|v| v.start == addr),
        "no VMA boundary at {addr:#x}"
    );
}

fn op_remove(set: &mut VmaSet<TestVma>, model: &mut Model, rng: &mut Rng) {
    let (s, e) = rng.byte_range();
    let removed = set.remove_range(s, e);
    let mut prev_end = s;
    let mut pages = 0;
    for v in &removed {
        assert!(
            prev_end <= v.start && v.end <= e,
            "removed {v:?} out of order or range"
        );
        prev_end = v.end;
        assert_matches_model(v, model, &|| alloc::format!("removed {v:?}"));
        pages += (v.end - v.start) / PG;
    }
    let range = model_pages(s, e);
    assert_eq!(pages, model[range.clone()].iter().flatten().count());
    model[range].fill(None);
    assert_boundary(set, s);
    assert!(set.is_free(s, e));
}

fn op_update(set: &mut VmaSet<TestVma>, model: &mut Model, rng: &mut Rng) {
    let (s, e) = rng.byte_range();
    let attr = rng.below(3) as u8;
    let seen = set.update_range(s, e, |v| v.attr = attr);
    assert_eq!(seen, set.count_in(s, e), "update_range count");
    assert_boundary(set, s);
    if e < usize::MAX {
        assert_boundary(set, e);
    }
    for page in model[model_pages(s, e)].iter_mut().flatten() {
        page.0 = attr;
    }
}

fn op_merge(set: &mut VmaSet<TestVma>, model: &Model, rng: &mut Rng) {
    let whole = rng.chance(10);
    let (s, e) = if whole {
        (0, usize::MAX)
    } else {
        let (s, e) = rng.page_range();
        // Also exercise unaligned and single-point ranges.
        let s = s * PG + if rng.chance(20) { PG / 2 } else { 0 };
        let e = if rng.chance(10) { s } else { e * PG };
        (s, e)
    };
    let before = set.len();
    let merges = set.merge_around(s, e);
    assert_eq!(before - set.len(), merges, "merge count");
    let vmas: Vec<&TestVma> = set.iter().collect();
    for pair in vmas.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.end == b.start && s <= b.start && b.start <= e {
            assert!(
                !a.can_merge(b),
                "unmerged pair {a:?} {b:?} after merge_around({s:#x}, {e:#x})"
            );
        }
    }
    if whole {
        assert_eq!(
            set.len(),
            canonical_runs(model),
            "whole-space merge is not canonical"
        );
    }
}

fn op_split(set: &mut VmaSet<TestVma>, rng: &mut Rng) {
    let addr = rng.below(PAGES + 1) * PG;
    let inside = set.find(addr).is_some_and(|v| v.start < addr);
    assert_eq!(set.split_at(addr), inside, "split_at({addr:#x})");
    assert_boundary(set, addr);
}

fn op_query(set: &VmaSet<TestVma>, model: &Model, rng: &mut Rng) {
    let addr = rng.below(PAGES) * PG + rng.below(PG);
    let page = addr / PG;
    let found = set.find(addr);
    assert_eq!(found.is_some(), model[page].is_some(), "find({addr:#x})");
    if let Some(v) = found {
        assert!(v.start <= addr && addr < v.end);
    }
    // find_next: the VMA holding the first mapped page at or above `page`.
    let next_mapped = (page..PAGES).find(|&p| model[p].is_some());
    match (set.find_next(addr), next_mapped) {
        (None, None) => {}
        (Some(v), Some(p)) => assert!(
            v.start / PG <= p && p < v.end / PG,
            "find_next({addr:#x}) = {v:?}"
        ),
        (got, want) => panic!("find_next({addr:#x}) = {got:?}, first mapped page {want:?}"),
    }

    let (s, e) = rng.page_range();
    assert_eq!(set.is_free(s * PG, e * PG), model_free(model, s, e));
    let count = set.count_in(s * PG, e * PG);
    let mut distinct = 0;
    let mut prev: Option<(usize, usize)> = None;
    for v in set.overlapping(s * PG, e * PG) {
        assert!(
            v.start < e * PG && s * PG < v.end,
            "overlapping() yielded {v:?}"
        );
        assert!(prev.is_none_or(|(_, pe)| pe <= v.start));
        prev = Some((v.start, v.end));
        distinct += 1;
    }
    assert_eq!(count, distinct);
    let gap_pages: usize = set.gaps(s * PG, e * PG).map(|(a, b)| (b - a) / PG).sum();
    assert_eq!(
        gap_pages,
        model[s..e].iter().filter(|p| p.is_none()).count()
    );

    check_placement(set, model, rng);
}

fn check_placement(set: &VmaSet<TestVma>, model: &Model, rng: &mut Rng) {
    let len = 1 + rng.below(6);
    let align = 1 << rng.below(3);
    let lo = rng.below(PAGES);
    let hi = lo + rng.below(PAGES - lo + 1);
    let hint = match rng.below(10) {
        0 | 1 => 0,
        2 => rng.below(PAGES) * PG + PG / 2,
        _ => rng.below(PAGES) * PG,
    };
    let fits = |a: usize| {
        a >= lo && a + len <= hi && a.is_multiple_of(align) && model_free(model, a, a + len)
    };
    let highest = (lo..=hi.saturating_sub(len))
        .rev()
        .find(|&a| fits(a))
        .map(|a| a * PG);
    let lowest = (lo..=hi.saturating_sub(len))
        .find(|&a| fits(a))
        .map(|a| a * PG);
    let hint_ok = hint != 0 && hint.is_multiple_of(PG) && fits(hint / PG);
    let expected = if hint_ok { Some(hint) } else { highest };
    let got = set.find_free_area(hint, len * PG, lo * PG, hi * PG, align * PG);
    assert_eq!(
        got, expected,
        "find_free_area(hint {hint:#x}, {len} pages, [{lo}, {hi}), align {align})"
    );
    assert_eq!(
        set.highest_free_area(len * PG, lo * PG, hi * PG, align * PG),
        highest
    );
    assert_eq!(
        set.lowest_free_area(len * PG, lo * PG, hi * PG, align * PG),
        lowest
    );
}

#[test]
fn random_operations_match_page_model() {
    for seed in 0..SEEDS {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed);
        let mut set: VmaSet<TestVma> = VmaSet::new();
        let mut model: Model = alloc::vec![None; PAGES];
        for step in 0..OPS_PER_SEED {
            let op = rng.below(100);
            match op {
                0..35 => op_insert(&mut set, &mut model, &mut rng),
                35..50 => op_remove(&mut set, &mut model, &mut rng),
                50..70 => op_update(&mut set, &mut model, &mut rng),
                70..85 => op_merge(&mut set, &model, &mut rng),
                85..95 => op_split(&mut set, &mut rng),
                _ => op_query(&set, &model, &mut rng),
            }
            check(&set, &model, &|| {
                alloc::format!("seed {seed}, step {step}, op {op}")
            });
        }
    }
}
