//! The flock(2) lock table of one file, by Linux's rules.
//!
//! A flock lock belongs to an open file description, here named by an
//! owner id (the kernel uses the description's address). A file holds any
//! number of shared locks or one exclusive lock. The rules are those of
//! Linux's `flock_lock_inode` (fs/locks.c):
//!
//! - a request of the type the owner already holds succeeds and changes
//!   nothing;
//! - a request of the other type first removes the owner's lock and then
//!   asks for the new one, so a conversion is not atomic: when the new lock
//!   conflicts, the owner is left with no lock at all;
//! - a request conflicts with the locks of other owners unless both are
//!   shared.
//!
//! The table neither blocks nor wakes; the file layer around it
//! (`file::flock`) waits for [`WouldBlock`] to clear and wakes waiters when
//! a lock goes away.

use alloc::vec::Vec;

/// The type of a flock lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlockKind {
    /// LOCK_SH: any number of owners may hold one.
    Shared,
    /// LOCK_EX: held by one owner, with no shared lock beside it.
    Exclusive,
}

/// A request that conflicts with another owner's lock (EWOULDBLOCK, or a
/// wait when blocking).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WouldBlock;

/// The flock locks held on one file.
#[derive(Debug, Default)]
pub struct FlockTable {
    /// (owner, type); one entry per owner.
    holders: Vec<(usize, FlockKind)>,
}

impl FlockTable {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            holders: Vec::new(),
        }
    }

    /// The lock `owner` holds, if any.
    pub fn held(&self, owner: usize) -> Option<FlockKind> {
        self.holders
            .iter()
            .find(|(o, _)| *o == owner)
            .map(|(_, kind)| *kind)
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.holders.is_empty()
    }

    /// The first lock of another owner that a request of `owner` for
    /// `kind` conflicts with (the lock Linux's flock_lock_inode blocks the
    /// request on), by its owner.
    pub fn first_conflict(&self, owner: usize, kind: FlockKind) -> Option<usize> {
        self.holders
            .iter()
            .find(|&&(o, k)| {
                o != owner && (kind == FlockKind::Exclusive || k == FlockKind::Exclusive)
            })
            .map(|&(o, _)| o)
    }

    /// Every (owner, type), oldest first (for /proc/locks).
    pub fn holders(&self) -> impl Iterator<Item = (usize, FlockKind)> + '_ {
        self.holders.iter().copied()
    }

    /// Asks for a lock of type `kind` for `owner`. A lock of the other type
    /// that `owner` held is released first, even when the request then
    /// fails.
    pub fn try_lock(&mut self, owner: usize, kind: FlockKind) -> Result<(), WouldBlock> {
        match self.held(owner) {
            Some(held) if held == kind => return Ok(()),
            Some(_) => {
                self.unlock(owner);
            }
            None => {}
        }
        let conflicts = self
            .holders
            .iter()
            .any(|&(_, other)| kind == FlockKind::Exclusive || other == FlockKind::Exclusive);
        if conflicts {
            return Err(WouldBlock);
        }
        self.holders.push((owner, kind));
        Ok(())
    }

    /// Releases the lock of `owner`; whether it held one.
    pub fn unlock(&mut self, owner: usize) -> bool {
        let before = self.holders.len();
        self.holders.retain(|(o, _)| *o != owner);
        self.holders.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::{FlockKind::*, *};

    #[test]
    fn first_conflict_names_the_lock_in_the_way() {
        let mut t = FlockTable::new();
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert_eq!(t.try_lock(2, Shared), Ok(()));
        assert_eq!(t.first_conflict(3, Shared), None);
        assert_eq!(t.first_conflict(3, Exclusive), Some(1));
        // The owner's own lock is never in its way.
        assert_eq!(t.first_conflict(1, Exclusive), Some(2));
        t.unlock(1);
        t.unlock(2);
        assert_eq!(t.try_lock(4, Exclusive), Ok(()));
        assert_eq!(t.first_conflict(5, Shared), Some(4));
    }

    #[test]
    fn flock_many_shared() {
        let mut t = FlockTable::new();
        for owner in 1..=5 {
            assert_eq!(t.try_lock(owner, Shared), Ok(()));
        }
        for owner in 1..=5 {
            assert_eq!(t.held(owner), Some(Shared));
        }
        assert_eq!(t.try_lock(6, Exclusive), Err(WouldBlock));
        assert_eq!(t.held(6), None);
    }

    #[test]
    fn flock_exclusive_excludes_everything() {
        let mut t = FlockTable::new();
        assert_eq!(t.try_lock(1, Exclusive), Ok(()));
        assert_eq!(t.try_lock(2, Shared), Err(WouldBlock));
        assert_eq!(t.try_lock(2, Exclusive), Err(WouldBlock));
        assert_eq!(t.held(2), None);
        assert!(t.unlock(1));
        assert_eq!(t.try_lock(2, Exclusive), Ok(()));
    }

    #[test]
    fn flock_same_type_again_is_a_no_op() {
        let mut t = FlockTable::new();
        assert_eq!(t.try_lock(1, Exclusive), Ok(()));
        assert_eq!(t.try_lock(1, Exclusive), Ok(()));
        assert_eq!(t.held(1), Some(Exclusive));
        assert!(t.unlock(1));
        assert!(t.is_empty());

        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert_eq!(t.try_lock(2, Shared), Ok(()));
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert!(t.unlock(1));
        assert_eq!(t.held(1), None);
        assert_eq!(t.held(2), Some(Shared));
    }

    #[test]
    fn flock_conversion_without_conflict() {
        let mut t = FlockTable::new();
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert_eq!(t.try_lock(1, Exclusive), Ok(()));
        assert_eq!(t.held(1), Some(Exclusive));
        assert_eq!(t.try_lock(2, Shared), Err(WouldBlock));
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert_eq!(t.held(1), Some(Shared));
        assert_eq!(t.try_lock(2, Shared), Ok(()));
    }

    #[test]
    fn flock_failed_upgrade_loses_the_shared_lock() {
        let mut t = FlockTable::new();
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert_eq!(t.try_lock(2, Shared), Ok(()));
        assert_eq!(t.try_lock(1, Exclusive), Err(WouldBlock));
        assert_eq!(t.held(1), None);
        // With owner 1 gone, owner 2 can now upgrade.
        assert_eq!(t.try_lock(2, Exclusive), Ok(()));
        assert_eq!(t.held(2), Some(Exclusive));
    }

    #[test]
    fn flock_downgrade_never_conflicts() {
        let mut t = FlockTable::new();
        assert_eq!(t.try_lock(1, Exclusive), Ok(()));
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert_eq!(t.held(1), Some(Shared));
        assert_eq!(t.try_lock(2, Shared), Ok(()));
    }

    #[test]
    fn flock_unlock_of_unknown_owner() {
        let mut t = FlockTable::new();
        assert!(!t.unlock(7));
        assert_eq!(t.try_lock(1, Shared), Ok(()));
        assert!(!t.unlock(7));
        assert_eq!(t.held(1), Some(Shared));
        assert!(t.unlock(1));
        assert!(!t.unlock(1));
        assert!(t.is_empty());
    }
}
