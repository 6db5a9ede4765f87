//! prctl(2) (the operations user space asks for at startup) and getcpu(2).

use core::sync::atomic::Ordering;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::signal::valid,
    usercopy,
};

const PR_SET_PDEATHSIG: i32 = 1;
const PR_GET_PDEATHSIG: i32 = 2;
const PR_GET_DUMPABLE: i32 = 3;
const PR_SET_DUMPABLE: i32 = 4;
const PR_GET_KEEPCAPS: i32 = 7;
const PR_SET_KEEPCAPS: i32 = 8;
const PR_GET_SECUREBITS: i32 = 27;
const PR_SET_SECUREBITS: i32 = 28;
const PR_SET_NAME: i32 = 15;
const PR_GET_NAME: i32 = 16;
const PR_CAPBSET_READ: i32 = 23;
const PR_CAPBSET_DROP: i32 = 24;
const PR_SET_TIMERSLACK: i32 = 29;
const PR_GET_TIMERSLACK: i32 = 30;
const PR_SET_CHILD_SUBREAPER: i32 = 36;
const PR_GET_CHILD_SUBREAPER: i32 = 37;
const PR_SET_NO_NEW_PRIVS: i32 = 38;
const PR_GET_NO_NEW_PRIVS: i32 = 39;
const PR_GET_TID_ADDRESS: i32 = 40;

/// prctl(2).
#[inline(never)]
pub fn sys_prctl(
    sc: &mut SyscallContext<'_>,
    option: i32,
    arg2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> SysResult {
    use crate::task::creds::{CAP_LAST_CAP, CAP_SETPCAP};
    let t = sc.thread;
    match option {
        PR_GET_KEEPCAPS => Ok(t.process.creds.lock().keep_caps as usize),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            let mut creds = t.process.creds.lock();
            if creds.securebits & crate::task::creds::SECBIT_KEEP_CAPS_LOCKED != 0 {
                return Err(Errno::EPERM);
            }
            creds.keep_caps = arg2 == 1;
            Ok(0)
        }
        PR_GET_SECUREBITS => Ok(t.process.creds.lock().securebits() as usize),
        PR_SET_SECUREBITS => {
            let bits = u32::try_from(arg2).map_err(|_| Errno::EPERM)?;
            t.process
                .creds
                .lock()
                .set_securebits(bits)
                .map_err(|()| Errno::EPERM)?;
            Ok(0)
        }
        PR_CAPBSET_READ => {
            if arg2 > CAP_LAST_CAP as usize {
                return Err(Errno::EINVAL);
            }
            Ok((t.process.creds.lock().caps.bounding >> arg2) as usize & 1)
        }
        PR_CAPBSET_DROP => {
            let mut creds = t.process.creds.lock();
            if !creds.capable(CAP_SETPCAP) {
                return Err(Errno::EPERM);
            }
            if arg2 > CAP_LAST_CAP as usize {
                return Err(Errno::EINVAL);
            }
            creds.caps.bounding &= !(1u64 << arg2);
            Ok(0)
        }
        PR_SET_TIMERSLACK => {
            let slack = if arg2 == 0 {
                t.default_timer_slack_ns.load(Ordering::Acquire)
            } else {
                arg2
            };
            t.timer_slack_ns.store(slack, Ordering::Release);
            Ok(0)
        }
        PR_GET_TIMERSLACK => Ok(t.timer_slack_ns.load(Ordering::Acquire)),
        PR_SET_CHILD_SUBREAPER => {
            t.process.subreaper.store(arg2 != 0, Ordering::Release);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            usercopy::write_i32(arg2, t.process.subreaper.load(Ordering::Acquire) as i32)?;
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || a3 != 0 || a4 != 0 || a5 != 0 {
                return Err(Errno::EINVAL);
            }
            t.no_new_privs.store(true, Ordering::Release);
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if arg2 != 0 || a3 != 0 || a4 != 0 || a5 != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(t.no_new_privs.load(Ordering::Acquire) as usize)
        }
        PR_GET_TID_ADDRESS => {
            let addr = t.clear_child_tid.load(Ordering::Acquire);
            usercopy::copy_to_user(arg2, &addr.to_ne_bytes())?;
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            let sig = arg2 as i32;
            if sig != 0 && !valid(sig) {
                return Err(Errno::EINVAL);
            }
            t.pdeathsig.store(sig, Ordering::Release);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            usercopy::write_i32(arg2, t.pdeathsig.load(Ordering::Acquire))?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(t.process.dumpable.load(Ordering::Acquire) as usize),
        PR_SET_DUMPABLE => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            t.process.dumpable.store(arg2 as u32, Ordering::Release);
            Ok(0)
        }
        PR_SET_NAME => {
            let name =
                usercopy::read_cstr_bytes(arg2, usize::MAX / 2, Errno::EINVAL).or_else(|_| {
                    // A name that is not terminated within 16 bytes is cut.
                    let mut b = [0u8; 15];
                    usercopy::copy_from_user(&mut b, arg2).map(|_| b.to_vec())
                })?;
            t.set_comm(&name);
            Ok(0)
        }
        PR_GET_NAME => {
            let comm = *t.name.lock();
            usercopy::copy_to_user(arg2, &comm)?;
            Ok(0)
        }
        _ => {
            debug!("prctl: option {option} is not supported");
            Err(Errno::EINVAL)
        }
    }
}

/// getcpu(2): the CPU the caller runs on (NUMA node 0).
#[inline(never)]
pub fn sys_getcpu(
    _sc: &mut SyscallContext<'_>,
    cpu: usize,
    node: usize,
    _cache: usize,
) -> SysResult {
    let id = ax_hal::percpu::this_cpu_id() as u32;
    if cpu != 0 {
        usercopy::write_u32(cpu, id)?;
    }
    if node != 0 {
        usercopy::write_u32(node, 0)?;
    }
    Ok(0)
}
