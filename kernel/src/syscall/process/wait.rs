//! wait4(2) and waitid(2).

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::wait::{
        WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOTHREAD, WNOWAIT, WUNTRACED, WaitTarget,
        wait_child,
    },
    usercopy,
};

/// wait4(2).
#[inline(never)]
pub fn sys_wait4(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    status: usize,
    options: u32,
    rusage: usize,
) -> SysResult {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL);
    }
    // kernel/exit.c kernel_wait4: -INT_MIN does not exist.
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let target = match pid {
        -1 => WaitTarget::Any,
        0 => WaitTarget::Group(sc.thread.process.pgid()),
        // Ids are the caller's numbers; one it cannot name matches no child.
        p if p < -1 => {
            WaitTarget::Group(p.checked_neg().and_then(|g| sc.global_id(g)).unwrap_or(0))
        }
        p => WaitTarget::Pid(sc.global_id(p).unwrap_or(0)),
    };
    match wait_child(sc.thread, target, options | WEXITED)? {
        None => Ok(0),
        Some(r) => {
            if status != 0 {
                usercopy::write_i32(status, r.status)?;
            }
            if rusage != 0 {
                super::usage::write_rusage(rusage, r.cpu_ns, r.user_ns, r.maxrss_kb)?;
            }
            Ok(r.pid as usize)
        }
    }
}

/// waitid(2).
#[inline(never)]
pub fn sys_waitid(
    sc: &mut SyscallContext<'_>,
    idtype: u32,
    id: i32,
    infop: usize,
    options: u32,
    _rusage: usize,
) -> SysResult {
    const P_ALL: u32 = 0;
    const P_PID: u32 = 1;
    const P_PGID: u32 = 2;
    let waited = (|| {
        if options
            & !(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)
            != 0
            || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
        {
            return Err(Errno::EINVAL);
        }
        let target = match idtype {
            P_ALL => WaitTarget::Any,
            P_PID if id > 0 => WaitTarget::Pid(sc.global_id(id).unwrap_or(0)),
            P_PGID if id > 0 => WaitTarget::Group(sc.global_id(id).unwrap_or(0)),
            P_PGID if id == 0 => WaitTarget::Group(sc.thread.process.pgid()),
            _ => return Err(Errno::EINVAL),
        };
        wait_child(sc.thread, target, options)
    })();
    // Linux (kernel/exit.c, waitid) fills si_signo..si_status even when the
    // wait failed (zeros): a bad infop turns any outcome into EFAULT.
    let result = match waited {
        Ok(result) => result,
        Err(e) => {
            if infop != 0 {
                usercopy::copy_to_user(infop, &[0u8; 28])?;
            }
            return Err(e);
        }
    };
    if infop != 0 {
        let mut info = [0u8; 128];
        if let Some(r) = result {
            use crate::task::signal::{
                CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_TRAPPED,
                SIGCHLD,
            };
            let (code, st) = if r.trapped {
                // The stop's exit_code: the signal with the event above it.
                (CLD_TRAPPED, r.status >> 8)
            } else if r.status == 0xffff {
                (CLD_CONTINUED, crate::task::signal::SIGCONT)
            } else if r.status & 0xff == 0x7f {
                (CLD_STOPPED, (r.status >> 8) & 0xff)
            } else if r.status & 0x7f == 0 {
                (CLD_EXITED, (r.status >> 8) & 0xff)
            } else if r.status & 0x80 != 0 {
                (CLD_DUMPED, r.status & 0x7f)
            } else {
                (CLD_KILLED, r.status & 0x7f)
            };
            info[0..4].copy_from_slice(&SIGCHLD.to_ne_bytes());
            info[8..12].copy_from_slice(&code.to_ne_bytes());
            info[16..20].copy_from_slice(&r.pid.to_ne_bytes());
            info[20..24].copy_from_slice(&r.uid.to_ne_bytes());
            info[24..28].copy_from_slice(&st.to_ne_bytes());
        }
        usercopy::copy_to_user(infop, &info)?;
    }
    Ok(0)
}
