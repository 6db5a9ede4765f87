//! Memory syscalls: brk, mmap, munmap, mprotect.

mod brk;
mod mmap;

pub use self::{brk::*, mmap::*};
