//! Byte ranges of record locks and their conversion from `struct flock`.
//!
//! A range is `[start, end]`, both inclusive, `start <= end`. The end
//! [`EOF`] means "to the end of the file, however far it grows". Linux keeps
//! offsets in a signed `loff_t` and writes that end as `OFFSET_MAX`
//! (`i64::MAX`); a range that reaches `OFFSET_MAX` explicitly is the same as
//! one to EOF there (F_GETLK reports `l_len` 0 for both), so the conversion
//! maps both to [`EOF`]. Ranges built from `struct flock` therefore start at
//! most at `i64::MAX` and end either below it or at [`EOF`].

use crate::Errno;

/// The end of a range that runs to the end of the file.
pub const EOF: u64 = u64::MAX;

/// Linux's `OFFSET_MAX`, the largest `loff_t`.
const OFFSET_MAX: i128 = i64::MAX as i128;

/// `l_whence`: from the start of the file.
pub const SEEK_SET: i16 = 0;
/// `l_whence`: from the file position of the description.
pub const SEEK_CUR: i16 = 1;
/// `l_whence`: from the end of the file.
pub const SEEK_END: i16 = 2;

/// The bytes `[start, end]` of a file, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockRange {
    start: u64,
    end: u64,
}

impl LockRange {
    /// `[start, end]`; `None` when `start > end`.
    pub const fn new(start: u64, end: u64) -> Option<Self> {
        if start <= end {
            Some(Self { start, end })
        } else {
            None
        }
    }

    /// `[start, EOF]`.
    pub const fn to_eof(start: u64) -> Self {
        Self { start, end: EOF }
    }

    /// The first byte.
    pub const fn start(self) -> u64 {
        self.start
    }

    /// The last byte, [`EOF`] for a range to the end of the file.
    pub const fn end(self) -> u64 {
        self.end
    }

    /// The number of bytes, `None` for a range to EOF.
    pub const fn byte_len(self) -> Option<u64> {
        if self.end == EOF {
            None
        } else {
            // `end < u64::MAX`, so this cannot overflow.
            Some(self.end - self.start + 1)
        }
    }

    /// Whether the two ranges share a byte.
    pub const fn overlaps(self, other: LockRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether the two ranges share a byte or are adjacent, so that locks of
    /// one owner and type over them merge. Linux compares `start - 1` with
    /// `end` for the same reason the saturating additions are here: `end + 1`
    /// overflows at EOF.
    pub const fn touches(self, other: LockRange) -> bool {
        self.start <= other.end.saturating_add(1) && other.start <= self.end.saturating_add(1)
    }

    /// The smallest range holding both (meaningful when they touch).
    pub fn union(self, other: LockRange) -> LockRange {
        LockRange {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The parts of `self` before and after `cut`.
    pub fn minus(self, cut: LockRange) -> (Option<LockRange>, Option<LockRange>) {
        let left = if self.start < cut.start {
            // `cut.start > 0` here.
            Some(LockRange {
                start: self.start,
                end: self.end.min(cut.start - 1),
            })
        } else {
            None
        };
        let right = if self.end > cut.end {
            // `cut.end < u64::MAX` here.
            Some(LockRange {
                start: self.start.max(cut.end + 1),
                end: self.end,
            })
        } else {
            None
        };
        (left, right)
    }

    /// The range named by the `l_whence`, `l_start` and `l_len` fields of a
    /// `struct flock`/`struct flock64`, for a description at file position
    /// `pos` on a file of `size` bytes, as Linux's `flock64_to_posix_lock`:
    ///
    /// - `l_start` counts from 0, `pos` or `size` (SEEK_SET, SEEK_CUR,
    ///   SEEK_END); any other `l_whence` is EINVAL;
    /// - a start past `OFFSET_MAX` is EOVERFLOW, a start before 0 EINVAL;
    /// - `l_len > 0` covers `l_len` bytes from the start, EOVERFLOW when the
    ///   last one lies past `OFFSET_MAX`;
    /// - `l_len < 0` covers the `-l_len` bytes before the start, EINVAL when
    ///   that reaches before 0;
    /// - `l_len == 0` runs to EOF.
    ///
    /// On a 64-bit kernel `struct flock` and `struct flock64` are the same,
    /// so this is the conversion of both.
    pub fn from_flock(
        l_whence: i16,
        l_start: i64,
        l_len: i64,
        pos: i64,
        size: i64,
    ) -> Result<LockRange, Errno> {
        // i128 arithmetic cannot overflow with these operands, so the checks
        // read as Linux's without its care for signed overflow.
        let base = match l_whence {
            SEEK_SET => 0,
            SEEK_CUR => i128::from(pos),
            SEEK_END => i128::from(size),
            _ => return Err(Errno::EINVAL),
        };
        let l_start = i128::from(l_start);
        let l_len = i128::from(l_len);
        if l_start > OFFSET_MAX - base {
            return Err(Errno::EOVERFLOW);
        }
        let start = base + l_start;
        if start < 0 {
            return Err(Errno::EINVAL);
        }
        let (start, end) = if l_len > 0 {
            if l_len - 1 > OFFSET_MAX - start {
                return Err(Errno::EOVERFLOW);
            }
            (start, start + l_len - 1)
        } else if l_len < 0 {
            if start + l_len < 0 {
                return Err(Errno::EINVAL);
            }
            (start + l_len, start - 1)
        } else {
            (start, OFFSET_MAX)
        };
        // 0 <= start <= end <= OFFSET_MAX here.
        let start = u64::try_from(start).map_err(|_| Errno::EINVAL)?;
        let end = if end == OFFSET_MAX {
            EOF
        } else {
            u64::try_from(end).map_err(|_| Errno::EOVERFLOW)?
        };
        LockRange::new(start, end).ok_or(Errno::EINVAL)
    }
}
