//! Memory syscalls: brk, mmap, munmap, mprotect, msync, mremap, madvise,
//! mincore, the mlock family, memfd_create and file seals, userfaultfd,
//! process_vm_readv/writev.

mod advise;
mod brk;
mod hugetlb;
pub mod memfd;
mod mlock;
mod mmap;
mod process_vm;
mod remap;
pub mod userfaultfd;

pub use self::{
    advise::*, brk::*, memfd::sys_memfd_create, mlock::*, mmap::*, process_vm::*, remap::*,
    userfaultfd::sys_userfaultfd,
};
