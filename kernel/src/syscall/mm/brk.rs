//! brk(2).

use crate::syscall::{SysResult, SyscallContext};

/// brk(2): the raw syscall returns the new break, or the old one on failure.
pub fn sys_brk(sc: &mut SyscallContext<'_>, addr: usize) -> SysResult {
    let Some(mm) = sc.thread.process.mm() else {
        return Ok(0);
    };
    let mut aspace = mm.aspace.lock();
    if addr == 0 {
        return Ok(aspace.heap().1);
    }
    Ok(aspace.brk(addr))
}
