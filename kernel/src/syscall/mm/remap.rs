//! mremap(2).

use starling_mm::aspace::RemapFlags;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
};

const MREMAP_MAYMOVE: u32 = 1;
const MREMAP_FIXED: u32 = 2;
const MREMAP_DONTUNMAP: u32 = 4;

/// mremap(2): the flag checks of mm/mremap.c, in its order, then the
/// address space does the work (see `starling_mm::aspace::remap`).
#[inline(never)]
pub fn sys_mremap(
    sc: &mut SyscallContext<'_>,
    addr: usize,
    old_len: usize,
    new_len: usize,
    flags: u32,
    new_addr: usize,
) -> SysResult {
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    // Compared before rounding to pages, as Linux does.
    if flags & MREMAP_DONTUNMAP != 0 && (flags & MREMAP_MAYMOVE == 0 || old_len != new_len) {
        return Err(Errno::EINVAL);
    }
    let remap = RemapFlags {
        may_move: flags & MREMAP_MAYMOVE != 0,
        fixed: flags & MREMAP_FIXED != 0,
        dont_unmap: flags & MREMAP_DONTUNMAP != 0,
    };
    let mm = sc.thread.process.mm().ok_or(Errno::EFAULT)?;
    let addr = mm
        .aspace
        .lock()
        .remap(addr, old_len, new_len, remap, new_addr)?;
    Ok(addr)
}
