//! Memory syscalls: brk, mmap, munmap, mprotect, msync, mremap, madvise,
//! mincore, and the mlock family.

mod advise;
mod brk;
mod mlock;
mod mmap;
mod remap;

pub use self::{advise::*, brk::*, mlock::*, mmap::*, remap::*};
