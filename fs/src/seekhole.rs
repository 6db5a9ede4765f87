//! lseek(2) SEEK_DATA and SEEK_HOLE over a file's data ranges.
//!
//! A file system reports where its data lies (tmpfs: allocated pages; ext4:
//! extents); everything else up to the size is a hole, and the end of the
//! file counts as a hole too (a file without holes has one at its end). As
//! in Linux, an offset at or beyond the size is ENXIO for both, and SEEK_DATA
//! finding no data before the end is ENXIO.

/// Which boundary `lseek` looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seek {
    /// SEEK_DATA: the first byte of data at or after the offset.
    Data,
    /// SEEK_HOLE: the first byte of a hole (or the end) at or after it.
    Hole,
}

/// The answer to SEEK_DATA or SEEK_HOLE at `offset` in a file of `size`
/// bytes whose data lies in `ranges` (half-open byte ranges, sorted,
/// non-overlapping; they may extend past `size`). `None` means ENXIO.
pub fn seek(
    ranges: impl IntoIterator<Item = (u64, u64)>,
    size: u64,
    offset: u64,
    what: Seek,
) -> Option<u64> {
    if offset >= size {
        return None;
    }
    let mut pos = offset;
    for (start, end) in ranges {
        if end <= pos {
            continue;
        }
        if start >= size {
            break;
        }
        match what {
            // `pos` is in a hole up to `start`, or in data.
            Seek::Data => return Some(start.max(pos)),
            Seek::Hole if start > pos => return Some(pos),
            // Data from `pos`: the hole starts where this range ends,
            // unless the next range continues it.
            Seek::Hole => pos = end,
        }
        if pos >= size {
            break;
        }
    }
    match what {
        Seek::Data => None,
        Seek::Hole => Some(pos.min(size)),
    }
}

#[cfg(test)]
mod tests {
    use super::{Seek, seek};

    #[test]
    fn past_the_end_is_enxio() {
        assert_eq!(seek([(0, 10)], 10, 10, Seek::Data), None);
        assert_eq!(seek([(0, 10)], 10, 10, Seek::Hole), None);
        assert_eq!(seek([], 0, 0, Seek::Hole), None);
    }

    #[test]
    fn a_file_without_holes_has_one_at_its_end() {
        assert_eq!(seek([(0, 100)], 100, 5, Seek::Data), Some(5));
        assert_eq!(seek([(0, 100)], 100, 5, Seek::Hole), Some(100));
        // A range running past the size (a whole last page) stops there.
        assert_eq!(seek([(0, 4096)], 100, 5, Seek::Hole), Some(100));
    }

    #[test]
    fn holes_between_ranges() {
        let r = [(0, 4096), (8192, 12288)];
        assert_eq!(seek(r, 20000, 0, Seek::Data), Some(0));
        assert_eq!(seek(r, 20000, 100, Seek::Hole), Some(4096));
        assert_eq!(seek(r, 20000, 4096, Seek::Data), Some(8192));
        assert_eq!(seek(r, 20000, 5000, Seek::Hole), Some(5000));
        assert_eq!(seek(r, 20000, 9000, Seek::Hole), Some(12288));
        // Only a hole after the last range: no data, and the hole is here.
        assert_eq!(seek(r, 20000, 12288, Seek::Data), None);
        assert_eq!(seek(r, 20000, 13000, Seek::Hole), Some(13000));
    }

    #[test]
    fn adjacent_ranges_are_one_run_of_data() {
        let r = [(0, 4096), (4096, 8192), (8192, 9000)];
        assert_eq!(seek(r, 9000, 10, Seek::Hole), Some(9000));
        let r = [(0, 4096), (4096, 8192), (12288, 16384)];
        assert_eq!(seek(r, 16384, 10, Seek::Hole), Some(8192));
    }

    #[test]
    fn a_file_of_holes_has_no_data() {
        assert_eq!(seek([], 1 << 20, 0, Seek::Data), None);
        assert_eq!(seek([], 1 << 20, 77, Seek::Hole), Some(77));
        // Data only past the size (fallocate KEEP_SIZE) is not seen.
        assert_eq!(seek([(8192, 16384)], 4096, 0, Seek::Data), None);
    }
}
