//! Kernel error type: the Linux errno, defined in the fs crate so that every
//! layer (mm, fs, kernel) shares one type.

pub use starling_fs::errno::{Errno, KResult};
