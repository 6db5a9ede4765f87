//! File seals (fcntl F_ADD_SEALS / F_GET_SEALS) as mm/memfd.c and
//! mm/shmem.c define them: the seal set of a shared memory file and the
//! rules every path that changes the file asks.
//!
//! This module is pure logic; the caller holds the file's lock across the
//! check and the change it guards, so a check and a concurrent seal are
//! ordered. The question "may any shared mapping still write?" for
//! F_SEAL_WRITE is answered by the file's shared-mapping registry
//! (`starling_mm::registry`), which the caller passes in as `may_write`.

use crate::errno::{Errno, KResult};

/// No more seals may be added.
pub const F_SEAL_SEAL: u32 = 0x0001;
/// The file may not shrink.
pub const F_SEAL_SHRINK: u32 = 0x0002;
/// The file may not grow.
pub const F_SEAL_GROW: u32 = 0x0004;
/// The contents may not change (no writable shared mapping may exist).
pub const F_SEAL_WRITE: u32 = 0x0008;
/// Like F_SEAL_WRITE for new writers; existing writable mappings stay.
pub const F_SEAL_FUTURE_WRITE: u32 = 0x0010;
/// The execute bits may not change.
pub const F_SEAL_EXEC: u32 = 0x0020;

/// Every seal Linux knows (F_ALL_SEALS).
pub const F_ALL_SEALS: u32 =
    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

/// Seals that forbid writing the contents.
const WRITE_SEALS: u32 = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/// The seals F_SEAL_EXEC adds on a file that has execute bits
/// (memfd_add_seals: "F_SEAL_EXEC implies F_SEAL_WRITE").
const EXEC_IMPLIES: u32 = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/// What adding seals needs from the write-side state of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// Store the returned seal set.
    Sealed(u32),
    /// The seal set to store once every writable shared mapping has lost
    /// write access (live revocation); the caller revokes, then stores.
    RevokeThenSeal(u32),
}

/// F_ADD_SEALS (memfd_add_seals), on a file whose seals are `current`
/// and whose mode is `mode`: the seal set to store, or the error, with
/// nothing changed on error.
///
/// `may_write` tells whether a shared mapping that may write exists
/// (Linux's mapping_deny_writable fails); with `revoke` that is not an
/// error: the caller is asked to revoke those mappings first.
pub fn add(
    current: u32,
    seals: u32,
    mode: u32,
    may_write: bool,
    revoke: bool,
) -> KResult<AddOutcome> {
    if seals & !F_ALL_SEALS != 0 {
        return Err(Errno::EINVAL);
    }
    if current & F_SEAL_SEAL != 0 {
        return Err(Errno::EPERM);
    }
    // "SEAL_EXEC implies SEAL_WRITE": applied before the F_SEAL_WRITE
    // check since the stable fix to memfd_add_seals (Linux 6.18 and the
    // stable trees), so a writable mapping makes F_SEAL_EXEC on an
    // executable file fail with EBUSY too.
    let mut seals = seals;
    if seals & F_SEAL_EXEC != 0 && mode & 0o111 != 0 {
        seals |= EXEC_IMPLIES;
    }
    let mut needs_revoke = false;
    if seals & F_SEAL_WRITE != 0 && current & F_SEAL_WRITE == 0 && may_write {
        if !revoke {
            return Err(Errno::EBUSY);
        }
        needs_revoke = true;
    }
    // FUTURE_WRITE never fails on existing mappings; the revoking command
    // downgrades them anyway (the caller asked for it).
    if revoke && seals & F_SEAL_FUTURE_WRITE != 0 && may_write {
        needs_revoke = true;
    }
    let new = current | seals;
    Ok(if needs_revoke {
        AddOutcome::RevokeThenSeal(new)
    } else {
        AddOutcome::Sealed(new)
    })
}

/// How many of the `len` bytes of a write at `offset` to a file of
/// `size` bytes the seals allow (shmem_write_begin, asked per page): none
/// under a write seal (EPERM); under F_SEAL_GROW, the pages of the write
/// that stay inside the file, so a write reaching past the end is short,
/// or EPERM if its first page already does. Zero-length writes pass.
pub fn writable_len(seals: u32, offset: u64, len: u64, size: u64) -> KResult<u64> {
    const PAGE: u64 = 4096;
    if len == 0 {
        return Ok(0);
    }
    if seals & WRITE_SEALS != 0 {
        return Err(Errno::EPERM);
    }
    if seals & F_SEAL_GROW == 0 {
        return Ok(len);
    }
    let mut allowed = 0;
    while allowed < len {
        let pos = offset.saturating_add(allowed);
        let chunk = (PAGE - pos % PAGE).min(len - allowed);
        if pos.saturating_add(chunk) > size {
            break;
        }
        allowed += chunk;
    }
    if allowed == 0 {
        return Err(Errno::EPERM);
    }
    Ok(allowed)
}

/// A size change from `old` to `new` (truncate, ftruncate, O_TRUNC,
/// shmem_setattr): EPERM under F_SEAL_SHRINK when shrinking and under
/// F_SEAL_GROW when growing. Write seals do not forbid resizing.
pub fn check_resize(seals: u32, old: u64, new: u64) -> KResult<()> {
    if new < old && seals & F_SEAL_SHRINK != 0 {
        return Err(Errno::EPERM);
    }
    if new > old && seals & F_SEAL_GROW != 0 {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// fallocate (shmem_fallocate): punching a hole changes the contents
/// (EPERM under a write seal); allocating past the end is EPERM under
/// F_SEAL_GROW, with FALLOC_FL_KEEP_SIZE too.
pub fn check_fallocate(seals: u32, punch: bool, offset: u64, len: u64, size: u64) -> KResult<()> {
    if punch {
        if seals & WRITE_SEALS != 0 {
            return Err(Errno::EPERM);
        }
        return Ok(());
    }
    if seals & F_SEAL_GROW != 0 && offset.saturating_add(len) > size {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// A new shared mapping (memfd_check_seals_mmap): EPERM if it asks for
/// write access under a write seal; otherwise whether it may ever write
/// (a write seal clears VM_MAYWRITE of a shared mapping).
pub fn check_mmap(seals: u32, shared: bool, prot_write: bool) -> KResult<bool> {
    if !shared || seals & WRITE_SEALS == 0 {
        return Ok(true);
    }
    if prot_write {
        return Err(Errno::EPERM);
    }
    Ok(false)
}

/// A mode change from `old` to `new` (shmem_setattr): under F_SEAL_EXEC
/// the execute bits may not change.
pub fn check_chmod(seals: u32, old: u32, new: u32) -> KResult<()> {
    if seals & F_SEAL_EXEC != 0 && (old ^ new) & 0o111 != 0 {
        return Err(Errno::EPERM);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
