//! Tests of [`FdTable`]: each Linux errno case and semantic, then a seeded
//! comparison against a `BTreeMap` model.

use alloc::{collections::BTreeMap, sync::Arc, vec, vec::Vec};

use super::{CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, FdError, FdTable};

/// A table holding `n` files named 0..n at descriptors 0..n, none close-on-exec.
fn table_with(limit: usize, n: u32) -> FdTable<u32> {
    let mut t = FdTable::new(limit);
    for name in 0..n {
        assert_eq!(t.alloc(name, false), Ok(name as i32));
    }
    t
}

fn fds<F>(t: &FdTable<F>) -> Vec<i32> {
    t.iter().map(|(fd, _, _)| fd).collect()
}

#[test]
fn errno_values_are_linux() {
    assert_eq!(FdError::BadFd.errno(), 9);
    assert_eq!(FdError::TooMany.errno(), 24);
    assert_eq!(FdError::Invalid.errno(), 22);
    assert_eq!(FdError::NoMemory.errno(), 12);
}

#[test]
fn new_table_is_empty() {
    let t: FdTable<u32> = FdTable::new(1024);
    assert!(t.is_empty());
    assert_eq!(t.count(), 0);
    assert_eq!(t.limit(), 1024);
    assert_eq!(t.get(0), None);
    assert_eq!(t.get(-1), None);
    assert_eq!(t.get(i32::MIN), None);
    assert_eq!(t.get(i32::MAX), None);
    assert_eq!(t.iter().count(), 0);
}

#[test]
fn limit_is_capped_to_i32() {
    let mut t: FdTable<u32> = FdTable::new(usize::MAX);
    assert_eq!(t.limit(), i32::MAX as usize);
    t.set_limit(1 << 40);
    assert_eq!(t.limit(), i32::MAX as usize);
    // The largest descriptor is i32::MAX - 1; i32::MAX itself is out of range.
    assert_eq!(t.install_at(i32::MAX, 1, false), Err(FdError::BadFd));
}

mod alloc_lowest {
    use super::*;

    #[test]
    fn reuses_the_lowest_closed_descriptor() {
        let mut t = table_with(1024, 3);
        assert_eq!(t.remove(1), Some(1));
        assert_eq!(t.alloc(10, false), Ok(1));
        assert_eq!(t.alloc(11, false), Ok(3));
        assert_eq!(t.remove(0), Some(0));
        assert_eq!(t.remove(2), Some(2));
        assert_eq!(t.alloc(12, false), Ok(0));
        assert_eq!(t.alloc(13, false), Ok(2));
        assert_eq!(t.count(), 4);
    }

    #[test]
    fn emfile_at_the_limit() {
        let mut t = table_with(3, 3);
        assert_eq!(t.alloc(3, false), Err(FdError::TooMany));
        assert_eq!(t.alloc(3, false).map_err(FdError::errno), Err(24));
        t.remove(1);
        assert_eq!(t.alloc(3, false), Ok(1));

        let mut zero: FdTable<u32> = FdTable::new(0);
        assert_eq!(zero.alloc(0, false), Err(FdError::TooMany));
    }

    #[test]
    fn skips_descriptors_installed_out_of_order() {
        let mut t: FdTable<u32> = FdTable::new(1024);
        assert_eq!(t.install_at(0, 0, false), Ok(None));
        assert_eq!(t.install_at(1, 1, false), Ok(None));
        assert_eq!(t.install_at(3, 3, false), Ok(None));
        assert_eq!(t.install_at(900, 900, false), Ok(None));
        assert_eq!(t.alloc(2, false), Ok(2));
        assert_eq!(t.alloc(4, false), Ok(4));
        assert_eq!(fds(&t), [0, 1, 2, 3, 4, 900]);
    }

    #[test]
    fn bitmap_word_boundaries() {
        let mut t = table_with(1024, 130);
        for fd in [128, 127, 64, 63, 0] {
            assert_eq!(t.remove(fd), Some(fd as u32));
        }
        for fd in [0, 63, 64, 127, 128, 130, 131] {
            assert_eq!(t.alloc(0, false), Ok(fd));
        }
    }

    #[test]
    fn limit_not_multiple_of_64() {
        let mut t = table_with(65, 65);
        assert_eq!(t.alloc(0, false), Err(FdError::TooMany));
        let mut t = table_with(64, 64);
        assert_eq!(t.alloc(0, false), Err(FdError::TooMany));
        let mut t = table_with(63, 62);
        assert_eq!(t.alloc(0, false), Ok(62));
        assert_eq!(t.alloc(0, false), Err(FdError::TooMany));
    }
}

mod dupfd {
    use super::*;

    #[test]
    fn einval_for_negative_or_too_large_minimum() {
        let mut t: FdTable<u32> = FdTable::new(16);
        assert_eq!(t.alloc_at_least(-1, 0, false), Err(FdError::Invalid));
        assert_eq!(t.alloc_at_least(i32::MIN, 0, false), Err(FdError::Invalid));
        assert_eq!(t.alloc_at_least(16, 0, false), Err(FdError::Invalid));
        assert_eq!(
            t.alloc_at_least(i32::MAX, 0, false).map_err(FdError::errno),
            Err(22)
        );
        assert!(t.is_empty());
    }

    #[test]
    fn lowest_free_at_or_above_minimum() {
        let mut t = table_with(16, 2);
        assert_eq!(t.alloc_at_least(5, 50, true), Ok(5));
        assert_eq!(t.alloc_at_least(5, 51, false), Ok(6));
        assert_eq!(
            t.alloc_at_least(0, 52, false),
            Ok(2),
            "min 0 behaves like dup"
        );
        assert_eq!(t.alloc_at_least(15, 53, false), Ok(15), "min == limit - 1");
        assert_eq!(t.get(5), Some(&50));
        assert_eq!(t.get_cloexec(5), Some(true));
        assert_eq!(t.get_cloexec(6), Some(false));
        // Lower free descriptors stay free for plain alloc.
        assert_eq!(t.alloc(54, false), Ok(3));
    }

    #[test]
    fn emfile_when_everything_from_minimum_is_open() {
        let mut t: FdTable<u32> = FdTable::new(8);
        for fd in 4..8 {
            t.install_at(fd, fd as u32, false).expect("below the limit");
        }
        assert_eq!(t.alloc_at_least(4, 0, false), Err(FdError::TooMany));
        assert_eq!(
            t.alloc_at_least(7, 0, false).map_err(FdError::errno),
            Err(24)
        );
        assert_eq!(t.alloc_at_least(2, 0, false), Ok(2));
    }
}

mod dup2 {
    use super::*;

    #[test]
    fn ebadf_for_negative_or_out_of_range() {
        let mut t: FdTable<u32> = FdTable::new(16);
        assert_eq!(t.install_at(-1, 0, false), Err(FdError::BadFd));
        assert_eq!(t.install_at(16, 0, false), Err(FdError::BadFd));
        assert_eq!(
            t.install_at(i32::MAX, 0, false).map_err(FdError::errno),
            Err(9)
        );
        assert!(t.is_empty());
    }

    #[test]
    fn installs_or_replaces_and_returns_the_old_file() {
        let mut t = table_with(16, 3);
        assert_eq!(t.install_at(10, 100, true), Ok(None));
        assert_eq!(t.count(), 4);
        assert_eq!(t.install_at(1, 101, true), Ok(Some(1)));
        assert_eq!(t.count(), 4);
        assert_eq!(t.get(1), Some(&101));
        assert_eq!(t.get_cloexec(1), Some(true));
        assert_eq!(t.install_at(1, 102, false), Ok(Some(101)));
        assert_eq!(t.get_cloexec(1), Some(false), "dup2 clears close-on-exec");
        assert_eq!(
            t.install_at(15, 103, false),
            Ok(None),
            "limit - 1 is allowed"
        );
        assert_eq!(fds(&t), [0, 1, 2, 10, 15]);
    }

    #[test]
    fn slot_filled_by_dup2_is_skipped_by_alloc() {
        let mut t = table_with(16, 2);
        t.install_at(2, 2, false).expect("free");
        assert_eq!(t.alloc(3, false), Ok(3));
    }
}

mod close {
    use super::*;

    #[test]
    fn remove_returns_the_file_once() {
        let mut t = table_with(16, 3);
        assert_eq!(t.remove(1), Some(1));
        assert_eq!(t.remove(1), None);
        assert_eq!(t.remove(-1), None);
        assert_eq!(t.remove(99), None);
        assert_eq!(t.remove(i32::MIN), None);
        assert_eq!(t.count(), 2);
        assert_eq!(t.get(1), None);
    }

    #[test]
    fn take_all_empties_the_table() {
        let mut t = table_with(16, 3);
        t.install_at(9, 9, true).expect("free");
        assert_eq!(t.take_all(), [0, 1, 2, 9]);
        assert!(t.is_empty());
        assert_eq!(t.alloc(0, false), Ok(0));
    }
}

mod cloexec {
    use super::*;

    #[test]
    fn get_and_set() {
        let mut t: FdTable<u32> = FdTable::new(16);
        assert_eq!(t.alloc(0, true), Ok(0));
        assert_eq!(t.get_cloexec(0), Some(true));
        assert_eq!(t.set_cloexec(0, false), Ok(()));
        assert_eq!(t.get_cloexec(0), Some(false));
        assert_eq!(t.set_cloexec(0, true), Ok(()));
        assert_eq!(t.get_cloexec(0), Some(true));
    }

    #[test]
    fn ebadf_on_closed_or_negative() {
        let mut t = table_with(16, 1);
        assert_eq!(t.get_cloexec(1), None);
        assert_eq!(t.get_cloexec(-1), None);
        assert_eq!(t.set_cloexec(1, true), Err(FdError::BadFd));
        assert_eq!(t.set_cloexec(-3, true), Err(FdError::BadFd));
        assert_eq!(t.set_cloexec(1000, false), Err(FdError::BadFd));
    }

    #[test]
    fn close_on_exec_removes_only_flagged_descriptors() {
        let mut t: FdTable<u32> = FdTable::new(16);
        for name in 0..6 {
            t.alloc(name, name % 2 == 1).expect("room");
        }
        t.install_at(12, 12, true).expect("free");
        assert_eq!(t.close_on_exec(), [1, 3, 5, 12]);
        assert_eq!(fds(&t), [0, 2, 4]);
        assert!(t.iter().all(|(_, _, cloexec)| !cloexec));
        assert_eq!(t.alloc(20, false), Ok(1));
        assert!(t.close_on_exec().is_empty());
    }
}

mod close_range {
    use super::*;

    #[test]
    fn einval_for_unknown_flags_or_reversed_range() {
        let mut t = table_with(16, 4);
        assert_eq!(t.close_range(0, 3, 1), Err(FdError::Invalid));
        assert_eq!(t.close_range(0, 3, 1 << 3), Err(FdError::Invalid));
        assert_eq!(t.close_range(3, 2, 0), Err(FdError::Invalid));
        assert_eq!(t.close_range(3, 2, 0).map_err(FdError::errno), Err(22));
        assert_eq!(t.count(), 4, "a failed call closes nothing");
    }

    #[test]
    fn closes_the_inclusive_range_and_returns_files_ascending() {
        let mut t = table_with(16, 8);
        t.remove(3);
        assert_eq!(t.close_range(2, 5, 0), Ok(vec![2, 4, 5]));
        assert_eq!(fds(&t), [0, 1, 6, 7]);
        assert_eq!(t.close_range(7, 7, 0), Ok(vec![7]));
        assert_eq!(t.close_range(100, 200, 0), Ok(vec![]));
        assert_eq!(t.alloc(9, false), Ok(2));
    }

    #[test]
    fn whole_range_up_to_u32_max() {
        let mut t = table_with(16, 5);
        assert_eq!(t.close_range(3, u32::MAX, 0), Ok(vec![3, 4]));
        assert_eq!(
            t.close_range(0, u32::MAX, CLOSE_RANGE_UNSHARE),
            Ok(vec![0, 1, 2])
        );
        assert!(t.is_empty());
        assert_eq!(t.close_range(u32::MAX, u32::MAX, 0), Ok(vec![]));
        assert_eq!(
            t.close_range(u32::MAX, u32::MAX, CLOSE_RANGE_CLOEXEC),
            Ok(vec![])
        );
    }

    #[test]
    fn cloexec_flag_marks_instead_of_closing() {
        let mut t = table_with(16, 4);
        let flags = CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE;
        assert_eq!(t.close_range(1, 2, flags), Ok(vec![]));
        assert_eq!(t.count(), 4);
        let flags: Vec<bool> = t.iter().map(|(_, _, c)| c).collect();
        assert_eq!(flags, [false, true, true, false]);
        assert_eq!(t.close_on_exec(), [1, 2]);
    }
}

mod limit {
    use super::*;

    #[test]
    fn lowering_keeps_descriptors_above_it() {
        let mut t = table_with(16, 8);
        t.set_limit(4);
        assert_eq!(t.get(7), Some(&7));
        assert_eq!(t.set_cloexec(7, true), Ok(()));
        assert_eq!(t.alloc(0, false), Err(FdError::TooMany));
        assert_eq!(t.install_at(5, 0, false), Err(FdError::BadFd));
        assert_eq!(t.alloc_at_least(4, 0, false), Err(FdError::Invalid));
        assert_eq!(t.remove(6), Some(6));
        assert_eq!(
            t.alloc(0, false),
            Err(FdError::TooMany),
            "6 is free but above the limit"
        );
        assert_eq!(t.remove(2), Some(2));
        assert_eq!(t.alloc(0, false), Ok(2));
        t.set_limit(16);
        assert_eq!(t.alloc(0, false), Ok(6));
    }
}

#[test]
fn clone_is_fork() {
    let mut parent: FdTable<Arc<u32>> = FdTable::new(16);
    let file = Arc::new(7);
    parent.alloc(file.clone(), false).expect("room");
    parent.alloc(file.clone(), true).expect("room");
    let mut child = parent.clone();
    assert_eq!(Arc::strong_count(&file), 5, "fork shares the open files");
    assert_eq!(child.get_cloexec(1), Some(true));
    assert_eq!(child.limit(), 16);
    drop(child.remove(0));
    assert!(parent.get(0).is_some(), "tables are independent after fork");
    assert_eq!(child.alloc(file.clone(), false), Ok(0));
    drop(parent.take_all());
    drop(child.take_all());
    assert_eq!(Arc::strong_count(&file), 1);
}

#[test]
fn iter_reports_fd_file_and_flag_in_order() {
    let mut t: FdTable<u32> = FdTable::new(64);
    t.install_at(40, 40, true).expect("free");
    t.alloc(0, false).expect("room");
    t.install_at(3, 3, true).expect("free");
    let all: Vec<(i32, u32, bool)> = t.iter().map(|(fd, f, c)| (fd, *f, c)).collect();
    assert_eq!(all, [(0, 0, false), (3, 3, true), (40, 40, true)]);
}

/// SplitMix64, for the seeded model test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }

    fn fd(&mut self) -> i32 {
        self.below(150) as i32 - 5
    }
}

/// The same operations on a `BTreeMap<fd, (file, cloexec)>` written straight
/// from the man pages, compared after every step.
#[test]
fn random_operations_match_map_model() {
    for seed in 0..20 {
        let mut rng = Rng(seed);
        let mut limit = 100usize;
        let mut t: FdTable<u32> = FdTable::new(limit);
        let mut model: BTreeMap<i32, (u32, bool)> = BTreeMap::new();
        let lowest_from = |model: &BTreeMap<i32, (u32, bool)>, min: i32, limit: usize| {
            (min..limit as i32).find(|fd| !model.contains_key(fd))
        };
        for step in 0..3_000u32 {
            let cloexec = rng.below(2) == 0;
            match rng.below(9) {
                0 | 1 => {
                    let want = lowest_from(&model, 0, limit).ok_or(FdError::TooMany);
                    assert_eq!(t.alloc(step, cloexec), want);
                    if let Ok(fd) = want {
                        model.insert(fd, (step, cloexec));
                    }
                }
                2 => {
                    let min = rng.fd();
                    let want = if min < 0 || min as usize >= limit {
                        Err(FdError::Invalid)
                    } else {
                        lowest_from(&model, min, limit).ok_or(FdError::TooMany)
                    };
                    assert_eq!(t.alloc_at_least(min, step, cloexec), want);
                    if let Ok(fd) = want {
                        model.insert(fd, (step, cloexec));
                    }
                }
                3 => {
                    let fd = rng.fd();
                    if fd < 0 || fd as usize >= limit {
                        assert_eq!(t.install_at(fd, step, cloexec), Err(FdError::BadFd));
                    } else {
                        let old = model.insert(fd, (step, cloexec)).map(|(f, _)| f);
                        assert_eq!(t.install_at(fd, step, cloexec), Ok(old));
                    }
                }
                4 | 5 => {
                    let fd = rng.fd();
                    assert_eq!(t.remove(fd), model.remove(&fd).map(|(f, _)| f));
                }
                6 => {
                    let fd = rng.fd();
                    let want = model
                        .get_mut(&fd)
                        .map(|e| e.1 = cloexec)
                        .ok_or(FdError::BadFd);
                    assert_eq!(t.set_cloexec(fd, cloexec), want);
                }
                7 => {
                    let first = rng.below(150) as u32;
                    let last = if rng.below(4) == 0 {
                        u32::MAX
                    } else {
                        first + rng.below(20) as u32
                    };
                    let flags = if cloexec { CLOSE_RANGE_CLOEXEC } else { 0 };
                    let in_range: Vec<i32> = model
                        .range(first as i32..)
                        .map(|(&fd, _)| fd)
                        .filter(|&fd| fd as u32 <= last)
                        .collect();
                    let mut want = Vec::new();
                    for fd in in_range {
                        if cloexec {
                            model.get_mut(&fd).expect("listed").1 = true;
                        } else {
                            want.push(model.remove(&fd).expect("listed").0);
                        }
                    }
                    assert_eq!(t.close_range(first, last, flags), Ok(want));
                }
                _ => match rng.below(3) {
                    0 => {
                        let want: Vec<u32> =
                            model.iter().filter(|e| e.1.1).map(|e| e.1.0).collect();
                        model.retain(|_, e| !e.1);
                        assert_eq!(t.close_on_exec(), want);
                    }
                    _ => {
                        limit = 1 + rng.below(140) as usize;
                        t.set_limit(limit);
                    }
                },
            }
            let got: Vec<(i32, u32, bool)> = t.iter().map(|(fd, f, c)| (fd, *f, c)).collect();
            let want: Vec<(i32, u32, bool)> =
                model.iter().map(|(&fd, &(f, c))| (fd, f, c)).collect();
            assert_eq!(got, want, "seed {seed} step {step}");
            assert_eq!(t.count(), model.len());
        }
    }
}
