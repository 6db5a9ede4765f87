//! Memory syscalls: brk, mmap, munmap, mprotect, msync, madvise, mincore,
//! and the mlock family.

mod advise;
mod brk;
mod mlock;
mod mmap;

pub use self::{advise::*, brk::*, mlock::*, mmap::*};
