//! The huge-page pool's accounting against mm/hugetlb.c's rules, and a
//! randomized run checked against block conservation.

use std::collections::BTreeSet;

use super::{BlockSource, Counters, Pool};
use crate::test_rng::Rng;

/// A frame allocator with `limit` blocks that checks every block it hands
/// out comes back once.
struct Source {
    limit: usize,
    next: usize,
    out: BTreeSet<usize>,
}

impl Source {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            next: 0,
            out: BTreeSet::new(),
        }
    }
}

impl BlockSource<usize> for Source {
    fn alloc(&mut self) -> Option<usize> {
        if self.out.len() == self.limit {
            return None;
        }
        self.next += 1;
        self.out.insert(self.next);
        Some(self.next)
    }

    fn free(&mut self, block: usize) {
        assert!(self.out.remove(&block), "block {block} freed twice");
    }
}

fn c(total: usize, free: usize, resv: usize, surplus: usize) -> Counters {
    Counters {
        total,
        free,
        resv,
        surplus,
        overcommit: 0,
    }
}

#[test]
fn grows_and_shrinks_with_nr_hugepages() {
    let mut src = Source::new(8);
    let mut pool = Pool::new();
    assert_eq!(pool.set_persistent(3, &mut src), 3);
    assert_eq!(pool.counters(), c(3, 3, 0, 0));
    // As many as memory allows.
    assert_eq!(pool.set_persistent(20, &mut src), 8);
    assert_eq!(pool.set_persistent(2, &mut src), 2);
    assert_eq!(src.out.len(), 2);
    assert_eq!(pool.set_persistent(0, &mut src), 0);
    assert!(src.out.is_empty());
}

#[test]
fn reservations_limit_what_others_can_take() {
    let mut src = Source::new(8);
    let mut pool = Pool::new();
    pool.set_persistent(2, &mut src);
    assert!(pool.reserve(2, &mut src));
    assert_eq!(pool.counters(), c(2, 2, 2, 0));
    // Nothing unpromised is left: another reservation or an unreserved
    // fault fails, a reserved fault succeeds.
    assert!(!pool.reserve(1, &mut src));
    assert_eq!(pool.take(false, &mut src), None);
    let block = pool.take(true, &mut src).unwrap();
    assert_eq!(pool.counters(), c(2, 1, 1, 0));
    pool.unreserve(1, &mut src);
    assert_eq!(pool.counters(), c(2, 1, 0, 0));
    pool.give_back(block, &mut src);
    assert_eq!(pool.counters(), c(2, 2, 0, 0));
}

#[test]
fn shrinking_keeps_reserved_and_used_blocks() {
    let mut src = Source::new(8);
    let mut pool = Pool::new();
    pool.set_persistent(4, &mut src);
    assert!(pool.reserve(1, &mut src));
    let used = pool.take(false, &mut src).unwrap();
    // One in use, one promised: two blocks stay, the used one as surplus
    // of a pool asked to hold none.
    assert_eq!(pool.set_persistent(0, &mut src), 0);
    assert_eq!(pool.counters(), c(2, 1, 1, 2));
    pool.give_back(used, &mut src);
    assert_eq!(pool.counters(), c(1, 1, 1, 1));
    pool.unreserve(1, &mut src);
    assert_eq!(pool.counters(), c(0, 0, 0, 0));
    assert!(src.out.is_empty());
}

#[test]
fn overcommit_allocates_surplus_and_returns_it() {
    let mut src = Source::new(8);
    let mut pool = Pool::new();
    assert!(!pool.reserve(1, &mut src));
    pool.set_overcommit(2);
    assert!(pool.reserve(2, &mut src));
    assert_eq!(pool.counters().surplus, 2);
    assert!(!pool.reserve(1, &mut src));
    pool.unreserve(2, &mut src);
    assert_eq!(pool.counters().total, 0);
    let a = pool.take(false, &mut src).unwrap();
    let b = pool.take(false, &mut src).unwrap();
    assert_eq!(pool.take(false, &mut src), None);
    pool.give_back(a, &mut src);
    pool.give_back(b, &mut src);
    assert!(src.out.is_empty());
}

#[test]
fn failed_surplus_reservation_changes_nothing() {
    let mut src = Source::new(1);
    let mut pool = Pool::new();
    pool.set_overcommit(4);
    assert!(!pool.reserve(2, &mut src));
    assert_eq!(pool.counters().total, 0);
    assert!(src.out.is_empty());
}

#[test]
fn randomized_operations_conserve_blocks() {
    for seed in 0..50 {
        let mut rng = Rng(seed);
        let mut src = Source::new(12);
        let mut pool = Pool::new();
        let mut taken: Vec<(usize, bool)> = Vec::new();
        let mut promised = 0usize;
        for _ in 0..400 {
            match rng.below(6) {
                0 => {
                    pool.set_persistent(rng.below(10), &mut src);
                }
                1 => pool.set_overcommit(rng.below(4)),
                2 => {
                    let n = rng.below(3);
                    if pool.reserve(n, &mut src) {
                        promised += n;
                    }
                }
                3 if promised > 0 => {
                    let n = 1 + rng.below(promised);
                    pool.unreserve(n, &mut src);
                    promised -= n;
                }
                4 => {
                    let reserved = promised > 0 && rng.chance(50);
                    if let Some(block) = pool.take(reserved, &mut src) {
                        if reserved {
                            promised -= 1;
                        }
                        taken.push((block, reserved));
                    } else {
                        assert!(!reserved, "a promised block was missing");
                    }
                }
                _ if !taken.is_empty() => {
                    let (block, _) = taken.swap_remove(rng.below(taken.len()));
                    pool.give_back(block, &mut src);
                }
                _ => {}
            }
            let k = pool.counters();
            assert_eq!(k.resv, promised, "seed {seed}");
            assert!(k.free >= k.resv, "seed {seed}: {k:?}");
            assert_eq!(k.total, k.free + taken.len(), "seed {seed}");
            assert_eq!(src.out.len(), k.total, "seed {seed}: blocks leaked");
            assert!(k.surplus <= k.total, "seed {seed}");
        }
        // Everything given back and unpromised: the pool keeps only its
        // persistent blocks.
        for (block, _) in taken.drain(..) {
            pool.give_back(block, &mut src);
        }
        pool.unreserve(promised, &mut src);
        pool.set_persistent(0, &mut src);
        assert!(src.out.is_empty(), "seed {seed}");
    }
}
