//! Starling file-system layer: the per-process and path logic that needs no VFS.
//!
//! This crate holds the pure, host-testable parts of the file-system layer (the
//! file-descriptor table and path parsing); it has no unsafe code and no
//! dependency on the ArceOS runtime.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod fdtable;
pub mod path;

pub use fdtable::{FdError, FdTable};
pub use path::{Component, PathError};
