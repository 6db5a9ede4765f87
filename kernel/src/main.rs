//! Starling: a Linux-compatible kernel on the ArceOS crates.
//!
//! The ArceOS runtime boots the machine (memory, interrupts, scheduler,
//! drivers, the ext4 root) and calls [`main`]; [`boot::start`] then brings up
//! Starling's own layers and runs the first user process. See
//! docs/architecture.md for the crate map and the paths of a syscall and a
//! page fault.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;
extern crate ax_runtime;
#[macro_use]
extern crate log;

mod arch;
mod boot;
mod debug;
mod dev;
mod dmesg;
mod dnotify;
mod error;
mod ipc;
mod loader;
mod mmfault;
mod procfs;
mod selftest;
mod syscall;
mod sysfs;
mod task;
mod usercopy;

/// The Linux release reported by uname.
pub fn syscall_release() -> &'static str {
    syscall::RELEASE
}

/// Called by the runtime on the boot CPU once it is initialised.
#[unsafe(no_mangle)]
extern "C" fn main() {
    boot::start();
}
