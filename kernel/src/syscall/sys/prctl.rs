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
const PR_SET_NAME: i32 = 15;
const PR_GET_NAME: i32 = 16;

/// prctl(2).
pub fn sys_prctl(
    sc: &mut SyscallContext<'_>,
    option: i32,
    arg2: usize,
    _a3: usize,
    _a4: usize,
    _a5: usize,
) -> SysResult {
    let t = sc.thread;
    match option {
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
