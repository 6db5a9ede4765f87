//! exit and exit_group.

use crate::{
    syscall::{SysResult, SyscallContext},
    task::exit::{exited_status, group_exit},
};

/// exit(2): ends the calling thread; the last thread ends the process.
#[inline(never)]
pub fn sys_exit(sc: &mut SyscallContext<'_>, code: i32) -> SysResult {
    let status = exited_status(code);
    if sc.thread.process.threads.lock().len() <= 1 {
        group_exit(sc.thread, status);
    } else {
        sc.thread.request_exit(status);
    }
    Ok(0)
}

/// exit_group(2).
#[inline(never)]
pub fn sys_exit_group(sc: &mut SyscallContext<'_>, code: i32) -> SysResult {
    group_exit(sc.thread, exited_status(code));
    Ok(0)
}
