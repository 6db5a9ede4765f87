//! Starling memory management: the address-space logic that needs no hardware.
//!
//! This crate holds the pure, host-testable parts of memory management (the VMA
//! set); it has no unsafe code and no dependency on the ArceOS runtime.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod vma_set;

pub use vma_set::{Vma, VmaSet};
