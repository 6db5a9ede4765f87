//! Resource usage: getrusage(2), times(2), and the rusage of wait4.

use core::sync::atomic::Ordering;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::block,
    usercopy,
};

/// Writes a `struct rusage`: user time `user_ns`, system time the rest of
/// `cpu_ns`, ru_maxrss `maxrss_kb`; the other counters are zero (Starling
/// does not count faults, block I/O or context switches).
pub fn write_rusage(addr: usize, cpu_ns: u64, user_ns: u64, maxrss_kb: u64) -> Result<(), Errno> {
    let tv = |ns: u64| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(ns / 1_000_000_000).to_ne_bytes());
        b[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_ne_bytes());
        b
    };
    let mut b = [0u8; 144];
    b[0..16].copy_from_slice(&tv(user_ns));
    b[16..32].copy_from_slice(&tv(cpu_ns.saturating_sub(user_ns)));
    b[32..40].copy_from_slice(&maxrss_kb.to_ne_bytes());
    usercopy::copy_to_user(addr, &b)
}

/// getrusage(2).
#[inline(never)]
pub fn sys_getrusage(sc: &mut SyscallContext<'_>, who: i32, usage: usize) -> SysResult {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let p = &sc.thread.process;
    let (cpu, maxrss) = match who {
        RUSAGE_SELF => (p.cpu_sample(), p.self_maxrss_kb()),
        RUSAGE_CHILDREN => (
            p.children_cpu(),
            p.children_maxrss_kb.load(Ordering::Acquire),
        ),
        // Linux reports the process's maxrss for a thread too.
        RUSAGE_THREAD => (sc.thread.cpu.sample(), p.self_maxrss_kb()),
        _ => return Err(Errno::EINVAL),
    };
    write_rusage(usage, cpu.total, cpu.user, maxrss)?;
    Ok(0)
}

/// times(2): clock ticks (USER_HZ = 100) since boot; fills `struct tms`
/// with the user and system times of the process and its reaped children.
#[inline(never)]
pub fn sys_times(sc: &mut SyscallContext<'_>, buf: usize) -> SysResult {
    let ticks = |ns: u64| ns / 10_000_000;
    if buf != 0 {
        let p = &sc.thread.process;
        let (me, children) = (p.cpu_sample(), p.children_cpu());
        let mut b = [0u8; 32];
        for (i, ns) in [
            me.user,
            me.total.saturating_sub(me.user),
            children.user,
            children.total.saturating_sub(children.user),
        ]
        .into_iter()
        .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&ticks(ns).to_ne_bytes());
        }
        usercopy::copy_to_user(buf, &b)?;
    }
    Ok(ticks(block::now().as_nanos() as u64) as usize)
}
