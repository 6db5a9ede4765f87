//! Memory syscalls: brk, mmap, munmap, mprotect, msync, mremap, madvise,
//! mincore, the mlock family, memfd_create and file seals, userfaultfd.

mod advise;
mod brk;
mod hugetlb;
pub mod memfd;
mod mlock;
mod mmap;
mod remap;
pub mod userfaultfd;

pub use self::{
    advise::*, brk::*, memfd::sys_memfd_create, mlock::*, mmap::*, remap::*,
    userfaultfd::sys_userfaultfd,
};
