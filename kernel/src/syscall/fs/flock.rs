//! flock(2): advisory whole-file locks owned by open file descriptions.
//!
//! The lock table and its rules are `starling_fs::flock`; the per-file
//! state and its release on the last close are `starling_fs::file::flock`.
//! This handler decodes the operation as Linux's `SYSCALL_DEFINE2(flock)`
//! (fs/locks.c) does and waits while a blocking request conflicts.

use core::sync::atomic::{AtomicBool, Ordering};

use starling_fs::{
    file::flock::{Blocker, Waiting},
    flock::FlockKind,
    reclock::{F_RDLCK, F_WRLCK, LockClass},
};

use super::file_of;
use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::block,
};

const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;
/// The removed mandatory-lock flag; Linux ignores such requests.
const LOCK_MAND: u32 = 32;

/// flock(2).
#[inline(never)]
pub fn sys_flock(sc: &mut SyscallContext<'_>, fd: i32, op: u32) -> SysResult {
    if op & LOCK_MAND != 0 {
        // fs/locks.c: LOCK_MAND requests succeed without looking at the
        // descriptor, with a one-time warning.
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            warn!("flock: LOCK_MAND is not supported; the request is ignored");
        }
        return Ok(0);
    }
    // The operation is checked before the descriptor (flock_translate_cmd).
    let kind = match op & !LOCK_NB {
        LOCK_SH => Some(FlockKind::Shared),
        LOCK_EX => Some(FlockKind::Exclusive),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let file = file_of(sc.thread, fd)?;
    // fdget() does not see O_PATH descriptors.
    if file.is_path() {
        return Err(Errno::EBADF);
    }
    let node = file.flock_node();
    crate::procfs::publish_locks(&file, &node);
    let owner = file.flock_owner();
    let pid = sc.thread.process.pid;
    let Some(kind) = kind else {
        node.unlock(owner);
        return Ok(0);
    };
    if op & LOCK_NB != 0 {
        return match node.try_lock(owner, kind, pid) {
            Ok(()) => Ok(0),
            Err(_) => Err(Errno::EAGAIN),
        };
    }
    // flock_lock_inode_wait: wait_event_interruptible, so a signal ends
    // the wait with ERESTARTSYS (restarted under SA_RESTART).
    // While blocked, the request shows in /proc/locks under the lock in
    // its way.
    let mut wait_id = None;
    let result = block::wait_event(
        sc.thread,
        None,
        block::Interruptible::Restart,
        |sink| node.register(sink),
        || match node.try_lock(owner, kind, pid) {
            Ok(()) => Some(Ok(0)),
            Err(_) => {
                if let Some(holder) = node.flock_blocker(owner, kind) {
                    let waiting = Waiting {
                        class: LockClass::Flock,
                        l_type: if kind == FlockKind::Exclusive {
                            F_WRLCK
                        } else {
                            F_RDLCK
                        },
                        pid,
                        range: None,
                        blocker: Blocker::Flock(holder),
                    };
                    wait_id = Some(node.set_waiting(wait_id, waiting));
                }
                None
            }
        },
    );
    if let Some(id) = wait_id {
        node.clear_waiting(id);
    }
    result
}
