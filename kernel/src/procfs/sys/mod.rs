//! /proc/sys: kernel parameters.
//!
//! Each entry reads as its value and a newline. A write is parsed by
//! Linux's rules (`starling_fs::sysctl`): garbage and out-of-range values
//! fail with EINVAL and change nothing. A writable entry changes the
//! behaviour it names where Starling has that behaviour; where it does
//! not, the value is kept and read back, and the entry's comment says so.
//!
//! [`kernel`] holds /proc/sys/kernel, [`vm`] /proc/sys/vm and [`fs`]
//! /proc/sys/fs.

mod fs;
mod ipc;
mod kernel;
mod vm;

use alloc::{string::String, sync::Arc};

use axfs_ng_vfs::{DirEntry, VfsError, VfsResult};
use starling_fs::tmpfs;

pub use self::{
    kernel::{core_pattern, core_uses_pid},
    vm::commit_limit,
};

/// What a write handler returns: `InvalidInput` becomes EINVAL.
type WriteResult = Result<(), VfsError>;

/// A generated file reading as `f()` and a newline.
fn line(f: impl Fn() -> String + Send + Sync + 'static) -> tmpfs::ReadFn {
    Arc::new(move || {
        let mut s = f();
        s.push('\n');
        s.into_bytes()
    })
}

/// Adds a read-only (0444) entry.
fn add_ro(
    dir: &DirEntry,
    name: &str,
    read: impl Fn() -> String + Send + Sync + 'static,
) -> VfsResult<()> {
    tmpfs::add_generated_file(dir, name, 0o444, line(read), None).map(|_| ())
}

/// Adds a writable (0644) entry.
fn add_rw(
    dir: &DirEntry,
    name: &str,
    read: impl Fn() -> String + Send + Sync + 'static,
    write: impl Fn(&[u8]) -> WriteResult + Send + Sync + 'static,
) -> VfsResult<()> {
    tmpfs::add_generated_file(dir, name, 0o644, line(read), Some(Arc::new(write))).map(|_| ())
}

/// Turns a parse result into the write result (`None` is EINVAL).
fn valid<T>(value: Option<T>) -> Result<T, VfsError> {
    value.ok_or(VfsError::InvalidInput)
}

/// Adds /proc/sys and everything below it.
pub fn populate(root: &DirEntry) -> VfsResult<()> {
    let sys = tmpfs::add_dir(root, "sys", 0o555)?;
    let kernel_dir = tmpfs::add_dir(&sys, "kernel", 0o555)?;
    kernel::populate(&kernel_dir)?;
    ipc::populate(&kernel_dir)?;
    vm::populate(&tmpfs::add_dir(&sys, "vm", 0o555)?)?;
    fs::populate(&tmpfs::add_dir(&sys, "fs", 0o555)?)?;
    Ok(())
}
