//! System V IPC syscalls: shared memory, message queues, semaphores.
//!
//! Each family's file checks the arguments in Linux's order, copies the
//! user structures in and out and calls one operation of `crate::ipc`.

mod msg;
mod sem;
mod shm;

pub use self::{msg::*, sem::*, shm::*};
use crate::{
    ipc::perm::Caller,
    syscall::SyscallContext,
    task::{
        creds::{CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_RESOURCE},
        rlimit::RLIMIT_MEMLOCK,
    },
};

/// CAP_IPC_OWNER (include/uapi/linux/capability.h).
const CAP_IPC_OWNER: u32 = 15;

/// The caller's credentials as the permission checks see them.
fn caller(sc: &SyscallContext<'_>) -> Caller {
    let process = &sc.thread.process;
    let memlock = process.rlimits.lock()[RLIMIT_MEMLOCK as usize].cur;
    let creds = process.creds.lock();
    Caller {
        euid: creds.euid,
        egid: creds.egid,
        fsgid: creds.fsgid,
        groups: creds.groups.clone(),
        cap_ipc_owner: creds.capable(CAP_IPC_OWNER),
        cap_ipc_lock: creds.capable(CAP_IPC_LOCK),
        cap_sys_admin: creds.capable(CAP_SYS_ADMIN),
        cap_sys_resource: creds.capable(CAP_SYS_RESOURCE),
        memlock,
    }
}

/// Puts `v` at `off` in `buf`.
fn put(buf: &mut [u8], off: usize, v: &[u8]) {
    buf[off..off + v.len()].copy_from_slice(v);
}
