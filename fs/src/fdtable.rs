//! The per-process file-descriptor table.
//!
//! [`FdTable`] maps descriptor numbers to open files, with a close-on-exec flag
//! per descriptor, following Linux (`fs/file.c`). It is generic over the
//! open-file handle `F` (the kernel uses `Arc<OpenFile>`), so it never closes
//! anything itself: every operation that takes files out of the table returns
//! them, and the caller drops them after releasing the table's lock, since the
//! final close may sleep or re-enter the file system.
//!
//! # Invariants
//!
//! - Bit `fd` of `open` is set iff `slots[fd]` is `Some`; `count` is the number
//!   of set bits.
//! - Every descriptor below `lowest_free` is open (Linux's `next_fd` hint): the
//!   search for a free descriptor starts there.
//! - Descriptors are non-negative `i32`s; the table never hands out one at or
//!   above the limit, which is capped at `i32::MAX`.
//!
//! The limit is the soft `RLIMIT_NOFILE`. Lowering it closes nothing:
//! descriptors at or above the new limit stay usable, but no new descriptor is
//! allocated there, as on Linux. Keeping the limit within `nr_open` (so a
//! `dup2` to a huge number cannot demand a huge table) is `setrlimit`'s job;
//! growth failures are reported as [`FdError::NoMemory`] rather than panicking.
//!
//! Errors are [`FdError`]; the syscall layer turns them into errno values with
//! [`FdError::errno`].

use alloc::vec::Vec;

#[cfg(test)]
mod tests;

/// `close_range` flag: unshare the table first (handled by the caller).
pub const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
/// `close_range` flag: set close-on-exec instead of closing.
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// The largest limit the table honours: every descriptor then fits in an `i32`.
const LIMIT_CAP: usize = i32::MAX as usize;

const WORD_BITS: usize = u64::BITS as usize;

/// Why a descriptor-table operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdError {
    /// The descriptor is negative, not open, or out of range for `dup2` (`EBADF`).
    BadFd,
    /// No free descriptor below the limit (`EMFILE`).
    TooMany,
    /// A bad argument: `F_DUPFD` minimum out of range, unknown `close_range`
    /// flags, a reversed range (`EINVAL`).
    Invalid,
    /// The table could not grow (`ENOMEM`, as Linux's `expand_files`).
    NoMemory,
}

impl FdError {
    /// The Linux errno value (positive) for this error.
    pub const fn errno(self) -> i32 {
        match self {
            Self::BadFd => 9,     // EBADF
            Self::TooMany => 24,  // EMFILE
            Self::Invalid => 22,  // EINVAL
            Self::NoMemory => 12, // ENOMEM
        }
    }
}

#[derive(Clone, Debug)]
struct Entry<F> {
    file: F,
    cloexec: bool,
}

/// A process's open file descriptors.
///
/// `Clone` is `fork`'s copy: same files (the handles are cloned, so for `Arc`
/// they are shared), same close-on-exec flags, same limit.
#[derive(Clone, Debug)]
pub struct FdTable<F> {
    slots: Vec<Option<Entry<F>>>,
    /// One bit per slot, set when the slot is open; speeds up the search for
    /// the lowest free descriptor 64 descriptors at a time.
    open: Vec<u64>,
    count: usize,
    lowest_free: usize,
    limit: usize,
}

impl<F> FdTable<F> {
    /// An empty table allowing descriptors below `limit` (the soft
    /// `RLIMIT_NOFILE`; capped at `i32::MAX`).
    pub const fn new(limit: usize) -> Self {
        Self {
            slots: Vec::new(),
            open: Vec::new(),
            count: 0,
            lowest_free: 0,
            limit: cap_limit(limit),
        }
    }

    /// The current limit: new descriptors are below it.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit (after `setrlimit(RLIMIT_NOFILE)`). Open descriptors
    /// at or above the new limit stay open and usable.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = cap_limit(limit);
    }

    /// Number of open descriptors.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The file open at `fd`; `None` for a negative or closed descriptor.
    pub fn get(&self, fd: i32) -> Option<&F> {
        self.entry(fd).map(|e| &e.file)
    }

    /// The close-on-exec flag of `fd` (`F_GETFD`); `None` if `fd` is not open.
    pub fn get_cloexec(&self, fd: i32) -> Option<bool> {
        self.entry(fd).map(|e| e.cloexec)
    }

    /// Sets or clears the close-on-exec flag of `fd` (`F_SETFD`).
    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> Result<(), FdError> {
        let entry = index(fd)
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(FdError::BadFd)?;
        entry.cloexec = cloexec;
        Ok(())
    }

    /// Installs `file` at the lowest free descriptor (`open`, `dup`, `pipe`, …).
    ///
    /// `EMFILE` ([`FdError::TooMany`]) if every descriptor below the limit is open.
    pub fn alloc(&mut self, file: F, cloexec: bool) -> Result<i32, FdError> {
        let fd = self.find_free(self.lowest_free).ok_or(FdError::TooMany)?;
        self.install_new(fd, file, cloexec)
    }

    /// Installs `file` at the lowest free descriptor `>= min` (`F_DUPFD`,
    /// `F_DUPFD_CLOEXEC`).
    ///
    /// `EINVAL` if `min` is negative or not below the limit (Linux `f_dupfd`
    /// compares it as unsigned against `RLIMIT_NOFILE`); `EMFILE` if every
    /// descriptor from `min` up to the limit is open.
    pub fn alloc_at_least(&mut self, min: i32, file: F, cloexec: bool) -> Result<i32, FdError> {
        let min = index(min)
            .filter(|&m| m < self.limit)
            .ok_or(FdError::Invalid)?;
        let fd = self
            .find_free(min.max(self.lowest_free))
            .ok_or(FdError::TooMany)?;
        self.install_new(fd, file, cloexec)
    }

    /// Installs `file` at exactly `fd` (`dup2`, `dup3`), returning the file it
    /// replaces so the caller can close it after dropping the table lock.
    ///
    /// `EBADF` if `fd` is negative or not below the limit, as Linux `dup2`.
    /// Checking `oldfd == newfd` and the `dup3` flags is the caller's job.
    pub fn install_at(&mut self, fd: i32, file: F, cloexec: bool) -> Result<Option<F>, FdError> {
        let i = index(fd)
            .filter(|&i| i < self.limit)
            .ok_or(FdError::BadFd)?;
        self.grow_to(i)?;
        let old = self.slots[i].replace(Entry { file, cloexec });
        if old.is_none() {
            self.mark_open(i);
        }
        Ok(old.map(|e| e.file))
    }

    /// Closes `fd`, returning its file; `None` if it was not open (`EBADF`
    /// for `close`).
    pub fn remove(&mut self, fd: i32) -> Option<F> {
        let i = index(fd)?;
        let entry = self.slots.get_mut(i)?.take()?;
        self.mark_closed(i);
        Some(entry.file)
    }

    /// `close_range(first, last, flags)`: closes every open descriptor in
    /// `first..=last` and returns their files in ascending order, or with
    /// [`CLOSE_RANGE_CLOEXEC`] marks them close-on-exec and returns nothing.
    ///
    /// `EINVAL` for unknown flags or `first > last` (Linux `__close_range`).
    /// [`CLOSE_RANGE_UNSHARE`] is accepted; unsharing the table before the
    /// call is the caller's business.
    pub fn close_range(&mut self, first: u32, last: u32, flags: u32) -> Result<Vec<F>, FdError> {
        if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
            return Err(FdError::Invalid);
        }
        let first = first as usize;
        // `last` is often `~0U`: clamp it to the table instead of walking 4 G slots.
        let end = (last as usize).saturating_add(1).min(self.slots.len());
        let mut closed = Vec::new();
        for i in first..end {
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                if let Some(entry) = &mut self.slots[i] {
                    entry.cloexec = true;
                }
            } else if let Some(entry) = self.slots[i].take() {
                self.mark_closed(i);
                closed.push(entry.file);
            }
        }
        Ok(closed)
    }

    /// Closes every close-on-exec descriptor (at `execve`) and returns their
    /// files in ascending order.
    pub fn close_on_exec(&mut self) -> Vec<F> {
        let mut closed = Vec::new();
        for i in 0..self.slots.len() {
            if self.slots[i].as_ref().is_some_and(|e| e.cloexec)
                && let Some(entry) = self.slots[i].take()
            {
                self.mark_closed(i);
                closed.push(entry.file);
            }
        }
        closed
    }

    /// Closes every descriptor (at exit) and returns the files in ascending order.
    pub fn take_all(&mut self) -> Vec<F> {
        let closed = self.slots.drain(..).flatten().map(|e| e.file).collect();
        self.open.clear();
        self.count = 0;
        self.lowest_free = 0;
        closed
    }

    /// The open descriptors in ascending order, each with its file and
    /// close-on-exec flag.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &F, bool)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, slot)| {
            let entry = slot.as_ref()?;
            // Slots exist only below LIMIT_CAP, so the index fits.
            let fd = i32::try_from(i).ok()?;
            Some((fd, &entry.file, entry.cloexec))
        })
    }

    fn entry(&self, fd: i32) -> Option<&Entry<F>> {
        self.slots.get(index(fd)?)?.as_ref()
    }

    /// The lowest closed descriptor `>= from` below the limit.
    fn find_free(&self, from: usize) -> Option<usize> {
        if from >= self.limit {
            return None;
        }
        let mut word = from / WORD_BITS;
        let mut mask = !0u64 << (from % WORD_BITS);
        while let Some(&bits) = self.open.get(word) {
            let free = !bits & mask;
            if free != 0 {
                let fd = word * WORD_BITS + free.trailing_zeros() as usize;
                return (fd < self.limit).then_some(fd);
            }
            mask = !0;
            word += 1;
        }
        // Everything past the bitmap is free.
        let fd = from.max(self.open.len() * WORD_BITS);
        (fd < self.limit).then_some(fd)
    }

    /// Installs into the closed slot `fd` found by `find_free`.
    fn install_new(&mut self, fd: usize, file: F, cloexec: bool) -> Result<i32, FdError> {
        let fd_i32 = i32::try_from(fd).map_err(|_| FdError::TooMany)?;
        self.grow_to(fd)?;
        debug_assert!(
            self.slots[fd].is_none(),
            "find_free returned an open descriptor"
        );
        self.slots[fd] = Some(Entry { file, cloexec });
        self.mark_open(fd);
        Ok(fd_i32)
    }

    /// Makes `slots[fd]` and its bitmap bit exist.
    fn grow_to(&mut self, fd: usize) -> Result<(), FdError> {
        let want_slots = fd.checked_add(1).ok_or(FdError::NoMemory)?;
        if want_slots > self.slots.len() {
            self.slots
                .try_reserve(want_slots - self.slots.len())
                .map_err(|_| FdError::NoMemory)?;
            let want_words = want_slots.div_ceil(WORD_BITS);
            if want_words > self.open.len() {
                self.open
                    .try_reserve(want_words - self.open.len())
                    .map_err(|_| FdError::NoMemory)?;
                self.open.resize(want_words, 0);
            }
            self.slots.resize_with(want_slots, || None);
        }
        Ok(())
    }

    fn mark_open(&mut self, fd: usize) {
        self.open[fd / WORD_BITS] |= 1 << (fd % WORD_BITS);
        self.count += 1;
        if fd == self.lowest_free {
            self.lowest_free += 1;
        }
    }

    fn mark_closed(&mut self, fd: usize) {
        self.open[fd / WORD_BITS] &= !(1 << (fd % WORD_BITS));
        self.count -= 1;
        self.lowest_free = self.lowest_free.min(fd);
    }
}

/// A descriptor as a slot index; `None` if negative.
fn index(fd: i32) -> Option<usize> {
    usize::try_from(fd).ok()
}

const fn cap_limit(limit: usize) -> usize {
    if limit > LIMIT_CAP { LIMIT_CAP } else { limit }
}
