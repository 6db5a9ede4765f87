//! syslog(2): reading and clearing the kernel log buffer (`crate::dmesg`).
//!
//! As Linux with dmesg_restrict = 0 (its default): SYSLOG_ACTION_READ_ALL
//! and SIZE_BUFFER are open to everyone, the other actions need CAP_SYSLOG
//! or CAP_SYS_ADMIN (check_syslog_permissions). Starling has no console
//! log level to change, so CONSOLE_OFF/ON/LEVEL only validate. READ does
//! not block when nothing is unread; it returns 0.

use crate::{
    dmesg::syslog,
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::creds::CAP_SYS_ADMIN,
    usercopy,
};

const SYSLOG_ACTION_CLOSE: i32 = 0;
const SYSLOG_ACTION_OPEN: i32 = 1;
const SYSLOG_ACTION_READ: i32 = 2;
const SYSLOG_ACTION_READ_ALL: i32 = 3;
const SYSLOG_ACTION_READ_CLEAR: i32 = 4;
const SYSLOG_ACTION_CLEAR: i32 = 5;
const SYSLOG_ACTION_CONSOLE_OFF: i32 = 6;
const SYSLOG_ACTION_CONSOLE_ON: i32 = 7;
const SYSLOG_ACTION_CONSOLE_LEVEL: i32 = 8;
const SYSLOG_ACTION_SIZE_UNREAD: i32 = 9;
const SYSLOG_ACTION_SIZE_BUFFER: i32 = 10;
const CAP_SYSLOG: u32 = 34;

/// syslog(2) (the raw syscall behind klogctl(3)).
#[inline(never)]
pub fn sys_syslog(sc: &mut SyscallContext<'_>, ty: i32, buf: usize, len: i32) -> SysResult {
    if !(SYSLOG_ACTION_CLOSE..=SYSLOG_ACTION_SIZE_BUFFER).contains(&ty) {
        return Err(Errno::EINVAL);
    }
    if !matches!(ty, SYSLOG_ACTION_READ_ALL | SYSLOG_ACTION_SIZE_BUFFER) {
        let creds = sc.thread.process.creds.lock();
        if !creds.capable(CAP_SYSLOG) && !creds.capable(CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
    }
    match ty {
        SYSLOG_ACTION_CLOSE | SYSLOG_ACTION_OPEN => Ok(0),
        SYSLOG_ACTION_READ | SYSLOG_ACTION_READ_ALL | SYSLOG_ACTION_READ_CLEAR => {
            // do_syslog: a NULL buffer or negative length is EINVAL, a
            // zero length reads nothing.
            if buf == 0 || len < 0 {
                return Err(Errno::EINVAL);
            }
            if len == 0 {
                return Ok(0);
            }
            let len = len as usize;
            usercopy::check_writable(buf, len)?;
            let text = if ty == SYSLOG_ACTION_READ {
                syslog::read_unread(len)
            } else {
                syslog::read_all(len)
            };
            usercopy::copy_to_user(buf, text.as_bytes())?;
            if ty == SYSLOG_ACTION_READ_CLEAR {
                syslog::clear();
            }
            Ok(text.len())
        }
        SYSLOG_ACTION_CLEAR => {
            syslog::clear();
            Ok(0)
        }
        SYSLOG_ACTION_CONSOLE_OFF | SYSLOG_ACTION_CONSOLE_ON => Ok(0),
        SYSLOG_ACTION_CONSOLE_LEVEL => {
            if !(1..=8).contains(&len) {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        SYSLOG_ACTION_SIZE_UNREAD => Ok(syslog::unread_size()),
        _ => Ok(syslog::buffer_size()),
    }
}
