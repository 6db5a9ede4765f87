//! reboot(2) and arch_prctl(2).

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
};

const MAGIC1: u32 = 0xfee1_dead;
const MAGIC2: [u32; 4] = [672_274_793, 85_072_278, 369_367_448, 537_993_216];
const CMD_RESTART: u32 = 0x0123_4567;
const CMD_HALT: u32 = 0xcdef_0123;
const CMD_POWER_OFF: u32 = 0x4321_fedc;
const CMD_CAD_ON: u32 = 0x89ab_cdef;
const CMD_CAD_OFF: u32 = 0;

/// reboot(2): power off, halt and restart all power the machine off after
/// flushing the filesystems (QEMU runs with -no-reboot).
#[inline(never)]
pub fn sys_reboot(
    sc: &mut SyscallContext<'_>,
    magic1: u32,
    magic2: u32,
    cmd: u32,
    _arg: usize,
) -> SysResult {
    if magic1 != MAGIC1 || !MAGIC2.contains(&magic2) {
        return Err(Errno::EINVAL);
    }
    if !sc
        .thread
        .process
        .creds
        .lock()
        .capable(crate::task::creds::CAP_SYS_BOOT)
    {
        return Err(Errno::EPERM);
    }
    match cmd {
        CMD_CAD_ON | CMD_CAD_OFF => Ok(0),
        CMD_POWER_OFF | CMD_HALT | CMD_RESTART => crate::boot::power_off(None),
        _ => Err(Errno::EINVAL),
    }
}

/// arch_prctl(2) (x86_64): the FS and GS bases.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
pub fn sys_arch_prctl(sc: &mut SyscallContext<'_>, code: i32, addr: usize) -> SysResult {
    const ARCH_SET_GS: i32 = 0x1001;
    const ARCH_SET_FS: i32 = 0x1002;
    const ARCH_GET_FS: i32 = 0x1003;
    const ARCH_GET_GS: i32 = 0x1004;
    match code {
        ARCH_SET_FS => {
            if addr >= crate::usercopy::user_end() {
                return Err(Errno::EPERM);
            }
            sc.uctx.fs_base = addr as u64;
            Ok(0)
        }
        ARCH_SET_GS => {
            if addr >= crate::usercopy::user_end() {
                return Err(Errno::EPERM);
            }
            sc.uctx.gs_base = addr as u64;
            Ok(0)
        }
        ARCH_GET_FS => {
            crate::usercopy::write_u64(addr, sc.uctx.fs_base)?;
            Ok(0)
        }
        ARCH_GET_GS => {
            crate::usercopy::write_u64(addr, sc.uctx.gs_base)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
