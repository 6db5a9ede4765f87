//! Starling file layer.
//!
//! The pure, host-testable logic builds everywhere: the Linux errno type
//! shared by all layers ([`errno`]), the per-process descriptor table
//! ([`fdtable`]), path parsing ([`path`]), the flock(2) lock table of one
//! file ([`flock`]), the fcntl(2) record-lock table of one file
//! ([`reclock`]), SEEK_DATA/SEEK_HOLE over data ranges ([`seekhole`]), and two helpers of procfs: the parsing rules of
//! /proc/sys writes ([`sysctl`]) and the stored-block gzip writer behind
//! /proc/config.gz ([`gzip`]), and the loop device's status structures
//! ([`loopinfo`]). With the `kernel` feature the
//! crate also provides the file objects behind descriptors ([`file`]: regular
//! files and directories over the ArceOS VFS, pipes, the console tty and the
//! simple character devices) and the in-memory filesystem used for /tmp,
//! /dev and /proc.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(feature = "kernel"), deny(unsafe_code))]

extern crate alloc;

pub mod elfcore;
pub mod errno;
pub mod eventpoll;
pub mod fdtable;
pub mod flock;
pub mod gzip;
pub mod inet;
pub mod lease;
pub mod loopinfo;
pub mod mountopt;
pub mod path;
pub mod reclock;
pub mod seals;
pub mod seekhole;
pub mod sysctl;
pub mod unix;

#[cfg(feature = "kernel")]
pub mod file;
#[cfg(any(feature = "kernel", test))]
pub mod tmpfs;

pub use errno::{Errno, KResult};
