//! membarrier(2), on the scheduler's membarrier protocol: the barrier runs
//! on every CPU that may be executing the targeted user code, and the
//! expedited commands need the address space registered first.

use core::sync::atomic::Ordering;

use ax_task::{
    runtime::resource::MembarrierRegistration,
    sync::membarrier::{
        MembarrierCommand, MembarrierError, membarrier, register_current_membarrier,
    },
};

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
};

const CMD_QUERY: i32 = 0;
const CMD_GLOBAL: i32 = 1 << 0;
const CMD_GLOBAL_EXPEDITED: i32 = 1 << 1;
const CMD_REGISTER_GLOBAL_EXPEDITED: i32 = 1 << 2;
const CMD_PRIVATE_EXPEDITED: i32 = 1 << 3;
const CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;
const CMD_GET_REGISTRATIONS: i32 = 1 << 9;
/// The commands Starling implements (no SYNC_CORE and no RSEQ variants).
const SUPPORTED: i32 = CMD_GLOBAL
    | CMD_GLOBAL_EXPEDITED
    | CMD_REGISTER_GLOBAL_EXPEDITED
    | CMD_PRIVATE_EXPEDITED
    | CMD_REGISTER_PRIVATE_EXPEDITED
    | CMD_GET_REGISTRATIONS;

fn task_error(e: impl core::fmt::Debug) -> Errno {
    warn!("membarrier: scheduler refused: {e:?}");
    Errno::EINVAL
}

/// membarrier(2).
#[inline(never)]
pub fn sys_membarrier(sc: &mut SyscallContext<'_>, cmd: i32, flags: u32, _cpu: i32) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = sc.thread.process.mm().ok_or(Errno::EINVAL)?;
    let run = |command| match membarrier(command) {
        Ok(()) => Ok(0),
        Err(MembarrierError::NotRegistered) => Err(Errno::EPERM),
        Err(e) => Err(task_error(e)),
    };
    let register = |registration, bit: i32| {
        register_current_membarrier(registration).map_err(task_error)?;
        mm.membarrier.fetch_or(bit as u32, Ordering::AcqRel);
        Ok(0)
    };
    match cmd {
        CMD_QUERY => Ok(SUPPORTED as usize),
        CMD_GLOBAL => run(MembarrierCommand::Global),
        CMD_GLOBAL_EXPEDITED => run(MembarrierCommand::GlobalExpedited),
        CMD_PRIVATE_EXPEDITED => {
            if mm.membarrier.load(Ordering::Acquire) & CMD_REGISTER_PRIVATE_EXPEDITED as u32 == 0 {
                return Err(Errno::EPERM);
            }
            run(MembarrierCommand::PrivateExpedited)
        }
        CMD_REGISTER_GLOBAL_EXPEDITED => register(
            MembarrierRegistration::GlobalExpedited,
            CMD_REGISTER_GLOBAL_EXPEDITED,
        ),
        CMD_REGISTER_PRIVATE_EXPEDITED => register(
            MembarrierRegistration::PrivateExpedited,
            CMD_REGISTER_PRIVATE_EXPEDITED,
        ),
        CMD_GET_REGISTRATIONS => Ok(mm.membarrier.load(Ordering::Acquire) as usize),
        _ => Err(Errno::EINVAL),
    }
}
