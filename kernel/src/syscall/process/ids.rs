//! Identity calls: pids, process groups, sessions, user and group ids,
//! set_tid_address, umask.

use core::sync::atomic::Ordering;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::{Pid, table},
};

// Ids are reported as numbers in the caller's PID namespace: the init of
// a namespace is 1 there and its parent, outside, is 0.

#[inline(never)]
pub fn sys_getpid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.user_id(sc.thread.process.pid) as usize)
}

#[inline(never)]
pub fn sys_getppid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.user_id(sc.thread.process.ppid()) as usize)
}

#[inline(never)]
pub fn sys_gettid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.user_id(sc.thread.tid()) as usize)
}

#[inline(never)]
pub fn sys_getuid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.thread.process.creds.lock().uid as usize)
}

#[inline(never)]
pub fn sys_geteuid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.thread.process.creds.lock().euid as usize)
}

#[inline(never)]
pub fn sys_getgid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.thread.process.creds.lock().gid as usize)
}

#[inline(never)]
pub fn sys_getegid(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.thread.process.creds.lock().egid as usize)
}

/// getresuid(2) / getresgid(2).
#[inline(never)]
pub fn sys_getresid(
    sc: &mut SyscallContext<'_>,
    r: usize,
    e: usize,
    s: usize,
    group: bool,
) -> SysResult {
    let c = sc.thread.process.creds.lock().clone();
    let (a, b, d) = if group {
        (c.gid, c.egid, c.sgid)
    } else {
        (c.uid, c.euid, c.suid)
    };
    crate::usercopy::write_u32(r, a)?;
    crate::usercopy::write_u32(e, b)?;
    crate::usercopy::write_u32(s, d)?;
    Ok(0)
}

/// set_tid_address(2).
#[inline(never)]
pub fn sys_set_tid_address(sc: &mut SyscallContext<'_>, addr: usize) -> SysResult {
    sc.thread.clear_child_tid.store(addr, Ordering::Release);
    Ok(sc.user_id(sc.thread.tid()) as usize)
}

/// umask(2).
#[inline(never)]
pub fn sys_umask(sc: &mut SyscallContext<'_>, mask: u32) -> SysResult {
    Ok(sc.thread.process.umask.swap(mask & 0o777, Ordering::AcqRel) as usize)
}

fn process_or_self(
    sc: &SyscallContext<'_>,
    pid: Pid,
) -> Result<alloc::sync::Arc<crate::task::Process>, Errno> {
    if pid == 0 {
        Ok(sc.thread.process.clone())
    } else if pid < 0 {
        Err(Errno::ESRCH)
    } else {
        sc.process_by_pid(pid).ok_or(Errno::ESRCH)
    }
}

/// getpgid(2).
#[inline(never)]
pub fn sys_getpgid(sc: &mut SyscallContext<'_>, pid: Pid) -> SysResult {
    Ok(sc.user_id(process_or_self(sc, pid)?.pgid()) as usize)
}

/// getsid(2).
#[inline(never)]
pub fn sys_getsid(sc: &mut SyscallContext<'_>, pid: Pid) -> SysResult {
    Ok(sc.user_id(process_or_self(sc, pid)?.sid()) as usize)
}

/// setpgid(2), with the checks setpgid(2) lists.
#[inline(never)]
pub fn sys_setpgid(sc: &mut SyscallContext<'_>, pid: Pid, pgid: Pid) -> SysResult {
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = &sc.thread.process;
    let target = if pid == 0 || sc.global_id(pid) == Some(me.pid) {
        me.clone()
    } else {
        let t = sc.process_by_pid(pid).ok_or(Errno::ESRCH)?;
        if t.ppid() != me.pid {
            return Err(Errno::ESRCH);
        }
        if t.sid() != me.sid() {
            return Err(Errno::EPERM);
        }
        if t.exe_done() {
            return Err(Errno::EACCES);
        }
        t
    };
    let pgid = if pgid == 0 {
        target.pid
    } else {
        sc.global_id(pgid).ok_or(Errno::EPERM)?
    };
    let sid = target.sid();
    if target.pid == sid {
        // A session leader cannot change its process group.
        return Err(Errno::EPERM);
    }
    if pgid != target.pid && !table::group_members(pgid).iter().any(|p| p.sid() == sid) {
        return Err(Errno::EPERM);
    }
    target.tree.lock().pgid = pgid;
    Ok(0)
}

/// setsid(2).
#[inline(never)]
pub fn sys_setsid(sc: &mut SyscallContext<'_>) -> SysResult {
    let me = &sc.thread.process;
    if me.pgid() == me.pid || !table::group_members(me.pid).is_empty() {
        return Err(Errno::EPERM);
    }
    let mut tree = me.tree.lock();
    tree.pgid = me.pid;
    tree.sid = me.pid;
    drop(tree);
    Ok(sc.user_id(me.pid) as usize)
}

#[cfg(target_arch = "x86_64")]
/// getpgrp(2).
#[inline(never)]
pub fn sys_getpgrp(sc: &mut SyscallContext<'_>) -> SysResult {
    Ok(sc.user_id(sc.thread.process.pgid()) as usize)
}
