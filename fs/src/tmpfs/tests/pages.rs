//! The sparse page store on its own.

use core::cell::Cell;

use axfs_ng_vfs::{VfsError, VfsResult};

use crate::tmpfs::pages::{MAX_FILE_SIZE, PAGE_SIZE, PageBudget, SparseData};

/// Counts pages and refuses to go past `limit`.
struct Budget {
    used: Cell<u64>,
    limit: u64,
}

impl Budget {
    fn new(limit: u64) -> Self {
        Self {
            used: Cell::new(0),
            limit,
        }
    }
}

impl PageBudget for Budget {
    fn reserve(&self, pages: u64) -> VfsResult<()> {
        if self.used.get() + pages > self.limit {
            return Err(VfsError::StorageFull);
        }
        self.used.set(self.used.get() + pages);
        Ok(())
    }

    fn release(&self, pages: u64) {
        self.used.set(self.used.get() - pages);
    }
}

fn read(data: &SparseData, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0xaa; len];
    let n = data.read(&mut buf, offset);
    buf.truncate(n);
    buf
}

const PAGE: u64 = PAGE_SIZE as u64;

#[test]
fn write_past_eof_leaves_a_hole_that_reads_as_zeros() {
    let budget = Budget::new(u64::MAX);
    let mut data = SparseData::default();
    assert_eq!(data.write(b"tail", 3 * PAGE + 10, &budget), Ok(4));
    assert_eq!(data.len(), 3 * PAGE + 14);
    assert_eq!(data.allocated_pages(), 1);
    assert_eq!(budget.used.get(), 1);

    let all = read(&data, 0, 4 * PAGE as usize);
    assert_eq!(all.len() as u64, 3 * PAGE + 14);
    assert!(all[..3 * PAGE as usize + 10].iter().all(|&b| b == 0));
    assert_eq!(&all[3 * PAGE as usize + 10..], b"tail");
    assert!(read(&data, data.len(), 10).is_empty());
    assert!(read(&data, u64::MAX, 10).is_empty());
}

#[test]
fn write_across_page_boundary_and_overwrite() {
    let budget = Budget::new(u64::MAX);
    let mut data = SparseData::default();
    let bytes: Vec<u8> = (0..PAGE_SIZE + 100).map(|i| i as u8).collect();
    assert_eq!(data.write(&bytes, PAGE - 50, &budget), Ok(bytes.len()));
    assert_eq!(data.allocated_pages(), 3);
    assert_eq!(read(&data, PAGE - 50, bytes.len()), bytes);
    assert_eq!(data.write(b"xy", PAGE, &budget), Ok(2));
    assert_eq!(read(&data, PAGE - 1, 4), [bytes[49], b'x', b'y', bytes[52]]);
    assert_eq!(data.write(b"", 10 * PAGE, &budget), Ok(0));
    assert_eq!(data.len(), 2 * PAGE + 50, "an empty write does not extend");
}

#[test]
fn shrink_zeroes_the_tail_and_frees_pages() {
    let budget = Budget::new(u64::MAX);
    let mut data = SparseData::default();
    data.write(&[0xff; 3 * PAGE_SIZE], 0, &budget).unwrap();
    assert_eq!(budget.used.get(), 3);

    data.set_len(PAGE + 10, &budget).unwrap();
    assert_eq!(data.allocated_pages(), 2);
    assert_eq!(budget.used.get(), 2);
    data.set_len(3 * PAGE, &budget).unwrap();
    assert_eq!(data.allocated_pages(), 2, "growing does not allocate");
    let all = read(&data, 0, 3 * PAGE_SIZE);
    assert!(all[..PAGE_SIZE + 10].iter().all(|&b| b == 0xff));
    assert!(all[PAGE_SIZE + 10..].iter().all(|&b| b == 0));

    data.set_len(0, &budget).unwrap();
    assert_eq!(data.allocated_pages(), 0);
    assert_eq!(budget.used.get(), 0);
    assert_eq!(
        data.set_len(MAX_FILE_SIZE + 1, &budget),
        Err(VfsError::FileTooLarge)
    );
}

#[test]
fn limit_gives_short_write_then_storage_full() {
    let budget = Budget::new(2);
    let mut data = SparseData::default();
    assert_eq!(
        data.write(&[1; 3 * PAGE_SIZE], 100, &budget),
        Ok(2 * PAGE_SIZE - 100)
    );
    assert_eq!(data.len(), 2 * PAGE);
    assert_eq!(
        data.write(&[1; 10], 2 * PAGE, &budget),
        Err(VfsError::StorageFull)
    );
    assert_eq!(
        data.write(&[2; 10], 0, &budget),
        Ok(10),
        "existing pages need no budget"
    );
}

#[test]
fn writes_stop_at_the_maximum_file_size() {
    let budget = Budget::new(u64::MAX);
    let mut data = SparseData::default();
    assert_eq!(
        data.write(b"x", MAX_FILE_SIZE, &budget),
        Err(VfsError::FileTooLarge)
    );
    assert_eq!(data.write(b"abc", MAX_FILE_SIZE - 1, &budget), Ok(1));
    assert_eq!(data.len(), MAX_FILE_SIZE);
}

#[test]
fn punch_hole_frees_inner_pages_and_zeroes_edges() {
    let budget = Budget::new(u64::MAX);
    let mut data = SparseData::default();
    data.write(&[7; 4 * PAGE_SIZE], 0, &budget).unwrap();
    data.punch_hole(PAGE / 2, 2 * PAGE, &budget);
    assert_eq!(data.len(), 4 * PAGE);
    assert_eq!(data.allocated_pages(), 3, "only page 1 lies fully inside");
    let all = read(&data, 0, 4 * PAGE_SIZE);
    let (start, end) = (PAGE_SIZE / 2, PAGE_SIZE / 2 + 2 * PAGE_SIZE);
    assert!(all[..start].iter().all(|&b| b == 7));
    assert!(all[start..end].iter().all(|&b| b == 0));
    assert!(all[end..].iter().all(|&b| b == 7));

    data.punch_hole(3 * PAGE, u64::MAX, &budget);
    assert_eq!(data.allocated_pages(), 2);
    assert_eq!(budget.used.get(), 2);
    assert_eq!(data.len(), 4 * PAGE);
}

#[test]
fn allocate_extends_or_keeps_size_and_rolls_back_on_failure() {
    let budget = Budget::new(4);
    let mut data = SparseData::default();
    data.allocate(100, 0, false, &budget).unwrap();
    assert_eq!((data.len(), data.allocated_pages()), (0, 0));
    data.allocate(0, PAGE + 1, true, &budget).unwrap();
    assert_eq!((data.len(), data.allocated_pages()), (0, 2));
    data.allocate(PAGE, 10, false, &budget).unwrap();
    assert_eq!((data.len(), data.allocated_pages()), (PAGE + 10, 2));
    assert!(read(&data, 0, PAGE_SIZE + 10).iter().all(|&b| b == 0));

    assert_eq!(
        data.allocate(0, 10 * PAGE, false, &budget),
        Err(VfsError::StorageFull)
    );
    assert_eq!((data.len(), data.allocated_pages()), (PAGE + 10, 2));
    assert_eq!(budget.used.get(), 2);
    assert_eq!(
        data.allocate(1, u64::MAX, false, &budget),
        Err(VfsError::FileTooLarge)
    );
}

#[test]
fn data_ranges_merge_adjacent_pages() {
    let budget = Budget::new(100);
    let mut data = SparseData::default();
    let p = PAGE_SIZE as u64;
    data.write(b"a", 0, &budget).unwrap();
    data.write(b"b", p + 5, &budget).unwrap();
    data.write(b"c", 5 * p, &budget).unwrap();
    assert_eq!(data.data_ranges(0, 10), vec![(0, 2 * p), (5 * p, 6 * p)]);
    // From the middle of a page: that page's range, whole.
    assert_eq!(
        data.data_ranges(p + 100, 10),
        vec![(p, 2 * p), (5 * p, 6 * p)]
    );
    assert_eq!(data.data_ranges(2 * p, 10), vec![(5 * p, 6 * p)]);
    assert_eq!(data.data_ranges(0, 1), vec![(0, 2 * p)]);
    assert_eq!(data.data_ranges(6 * p, 10), vec![]);
}

/// hugetlb files: no write(2), sizes in whole huge pages, storage and
/// reservations by the block, all against the (host) pool's limit.
#[test]
fn huge_files_work_in_whole_huge_pages() {
    use core::sync::atomic::Ordering;

    use crate::tmpfs::pages::{HPAGE_SIZE_U64 as H, host_pool::SPARE};

    let budget = Budget::new(u64::MAX);
    let mut data = SparseData::default();
    data.make_huge();
    assert!(data.is_huge());
    assert_eq!(data.write(b"x", 0, &budget), Err(VfsError::InvalidInput));
    assert_eq!(data.write(b"", 0, &budget), Err(VfsError::InvalidInput));
    assert_eq!(data.set_len(H + 4096, &budget), Err(VfsError::InvalidInput));
    assert_eq!(data.set_len(4 * H, &budget), Ok(()));
    assert_eq!(data.allocated_pages(), 0);

    SPARE.store(3, Ordering::Relaxed);
    // A shared mapping of the first three huge pages reserves them all;
    // the pool has nothing left for the fourth.
    assert_eq!(data.reserve_blocks(0, 3), Ok(()));
    assert_eq!(data.reserved_blocks(), 3);
    assert_eq!(data.reserve_blocks(0, 4), Err(VfsError::NoMemory));
    assert_eq!(data.reserve_blocks(1, 3), Ok(()), "already reserved");
    // Allocating inside a reserved block takes the whole block.
    assert_eq!(data.allocate(H + 10, 1, true, &budget), Ok(()));
    assert_eq!(data.allocated_pages(), 512);
    assert_eq!(data.reserved_blocks(), 2);
    assert_eq!(budget.used.get(), 512);
    // The fourth block has no reservation and the pool is empty: ENOSPC,
    // and nothing this call allocated stays.
    assert_eq!(
        data.allocate(0, 4 * H, true, &budget),
        Err(VfsError::StorageFull)
    );
    assert_eq!(data.allocated_pages(), 512);
    assert_eq!(
        data.reserved_blocks(),
        2,
        "the undone blocks keep their reservations"
    );
    // Punching covers one whole huge page and a part of the next: the
    // whole one goes (with its reservation), the part reads zeros.
    assert_eq!(data.allocate(2 * H, H, true, &budget), Ok(()));
    assert_eq!(data.reserved_blocks(), 1);
    data.punch_hole(H, H + 4096, &budget);
    assert_eq!(data.allocated_pages(), 512);
    assert_eq!(read(&data, 2 * H, 8), vec![0; 8]);
    // Truncation frees whole blocks and returns reservations.
    assert_eq!(data.reserve_blocks(0, 2), Ok(()));
    assert_eq!(data.reserved_blocks(), 2);
    assert_eq!(data.set_len(H, &budget), Ok(()));
    assert_eq!(data.reserved_blocks(), 1);
    assert_eq!(data.allocated_pages(), 0);
    assert_eq!(budget.used.get(), 0);
    data.clear(&budget);
    assert_eq!(data.reserved_blocks(), 0);
    SPARE.store(usize::MAX, Ordering::Relaxed);
}
