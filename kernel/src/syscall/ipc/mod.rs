//! System V IPC syscalls: shared memory.

mod shm;

pub use self::shm::*;
