//! Starling memory management.
//!
//! The pure, host-testable logic (the VMA set) builds everywhere and carries
//! no unsafe code. With the `kernel` feature the crate also provides the
//! hardware side: user address spaces over the ArceOS page tables, demand
//! paging and copy-on-write ([`aspace`]), and user frame accounting
//! ([`frame`]). Host `cargo test` builds without that feature.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(feature = "kernel"), deny(unsafe_code))]

extern crate alloc;

pub mod hugetlb;
pub mod registry;
#[cfg(test)]
mod test_rng;
pub mod vma_set;

#[cfg(feature = "kernel")]
pub mod aspace;
#[cfg(feature = "kernel")]
pub mod frame;

pub use vma_set::{Vma, VmaSet};

/// Errors of address-space operations; the syscall layer maps them to errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmError {
    /// Out of memory or address space (ENOMEM).
    NoMemory,
    /// Address not mapped or not accessible (EFAULT).
    BadAddress,
    /// Bad argument: alignment, zero length, bad range (EINVAL).
    InvalidInput,
    /// Something is already mapped there (EEXIST).
    AlreadyExists,
    /// The protection exceeds what the mapping may have (EACCES).
    AccessDenied,
    /// The object refuses the mapping: write access to it is denied, as
    /// by a write seal (EPERM).
    NotPermitted,
    /// A resource is temporarily short (EAGAIN).
    Again,
    /// The operation is not supported by the mapped object (EOPNOTSUPP).
    NotSupported,
    /// The backing store failed (EIO).
    Io,
    /// Something else holds the resource (EBUSY).
    Busy,
}

/// Result of an address-space operation.
pub type MmResult<T> = Result<T, MmError>;
