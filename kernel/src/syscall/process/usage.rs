//! Resource usage: getrusage(2), times(2), and the rusage of wait4.

use core::sync::atomic::Ordering;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::block,
    usercopy,
};

/// Writes a `struct rusage` with `cpu_ns` as user time (the user/system
/// split is not measured) and zeros elsewhere.
pub fn write_rusage(addr: usize, cpu_ns: u64) -> Result<(), Errno> {
    let mut b = [0u8; 144];
    b[0..8].copy_from_slice(&(cpu_ns / 1_000_000_000).to_ne_bytes());
    b[8..16].copy_from_slice(&((cpu_ns % 1_000_000_000) / 1000).to_ne_bytes());
    usercopy::copy_to_user(addr, &b)
}

/// getrusage(2).
pub fn sys_getrusage(sc: &mut SyscallContext<'_>, who: i32, usage: usize) -> SysResult {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let p = &sc.thread.process;
    let ns = match who {
        RUSAGE_SELF => p.cpu_ns(),
        RUSAGE_CHILDREN => p.children_cpu_ns.load(Ordering::Acquire),
        RUSAGE_THREAD => sc.thread.cpu.total_ns(),
        _ => return Err(Errno::EINVAL),
    };
    write_rusage(usage, ns)?;
    Ok(0)
}

/// times(2): clock ticks (USER_HZ = 100) since boot; fills `struct tms`.
pub fn sys_times(sc: &mut SyscallContext<'_>, buf: usize) -> SysResult {
    let ticks = |ns: u64| ns / 10_000_000;
    if buf != 0 {
        let p = &sc.thread.process;
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&ticks(p.cpu_ns()).to_ne_bytes());
        b[16..24].copy_from_slice(&ticks(p.children_cpu_ns.load(Ordering::Acquire)).to_ne_bytes());
        usercopy::copy_to_user(buf, &b)?;
    }
    Ok(ticks(block::now().as_nanos() as u64) as usize)
}
