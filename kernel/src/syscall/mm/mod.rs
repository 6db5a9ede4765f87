//! Memory syscalls: brk, mmap, munmap, mprotect, msync, mremap.

mod brk;
mod mmap;
mod remap;

pub use self::{brk::*, mmap::*, remap::*};
