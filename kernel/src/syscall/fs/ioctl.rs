//! ioctl(2): the generic descriptor requests, then the object's own.

use starling_fs::file::flags::O_NONBLOCK;

use super::file_of;
use crate::{
    syscall::{SysResult, SyscallContext},
    usercopy::{self, CurrentUser},
};

const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;
const FIONBIO: u32 = 0x5421;
const FIOASYNC: u32 = 0x5452;

/// ioctl(2).
#[inline(never)]
pub fn sys_ioctl(sc: &mut SyscallContext<'_>, fd: i32, cmd: u32, arg: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    // An O_PATH descriptor takes no ioctl at all, FIOCLEX included.
    if file.is_path() {
        return Err(crate::error::Errno::EBADF);
    }
    match cmd {
        FIOCLEX | FIONCLEX => {
            sc.thread
                .process
                .files()
                .lock()
                .set_cloexec(fd, cmd == FIOCLEX)?;
            Ok(0)
        }
        FIONBIO => {
            let on = usercopy::read_i32(arg)? != 0;
            let flags = file.flags();
            file.set_status_flags(if on {
                flags | O_NONBLOCK
            } else {
                flags & !O_NONBLOCK
            });
            Ok(0)
        }
        FIOASYNC => {
            // ioctl_fioasync: O_ASYNC as F_SETFL would change it.
            let on = usercopy::read_i32(arg)? != 0;
            super::fcntl_owner::change_async(&file, fd, on)?;
            Ok(0)
        }
        _ => file.file().ioctl(cmd, arg, &CurrentUser),
    }
}
