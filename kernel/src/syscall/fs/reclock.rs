//! fcntl(2) record locks: F_GETLK/F_SETLK/F_SETLKW and their OFD forms.
//!
//! The lock table and its rules are `starling_fs::reclock`; the table of a
//! file lives next to its flock(2) locks in its
//! [`FlockNode`](starling_fs::file::flock::FlockNode), shared by every open
//! file description of the file. This module decodes `struct flock` as
//! Linux's `fcntl_getlk`/`fcntl_setlk` (fs/locks.c) do, waits while a
//! blocking request conflicts, and keeps the "who waits for whom" graph
//! behind EDEADLK.
//!
//! A POSIX lock belongs to the process, named by the address of its
//! descriptor table (Linux's `current->files`), so threads sharing the table
//! share the locks. [`release_posix_locks`] drops them whenever the process
//! closes any descriptor of the file (`locks_remove_posix` in `filp_close`).
//! An OFD lock belongs to the open file description and goes with it
//! (`OpenFile`'s drop).

use alloc::sync::Arc;

use ax_sync::SpinLock;
use starling_fs::{
    file::{
        OpenFile,
        flock::{Blocker, Waiting},
    },
    reclock::{BlockedOn, F_UNLCK, LockClass, LockOwner, LockRange, LockType, Request},
};

use super::file_of;
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{block, process::FileTable},
    usercopy,
};

pub const F_GETLK: i32 = 5;
pub const F_SETLK: i32 = 6;
pub const F_SETLKW: i32 = 7;
pub const F_OFD_GETLK: i32 = 36;
pub const F_OFD_SETLK: i32 = 37;
pub const F_OFD_SETLKW: i32 = 38;

/// `sizeof(struct flock)` on x86_64 and riscv64: l_type and l_whence (i16),
/// padding, l_start and l_len (i64), l_pid (i32), padding.
const FLOCK_SIZE: usize = 32;

/// The POSIX owners waiting for another owner's lock (Linux's
/// `blocked_hash`), for the deadlock check of F_SETLKW.
static BLOCKED: SpinLock<BlockedOn> = SpinLock::new(BlockedOn::new());

/// `struct flock` as user space passes it.
struct Flock {
    l_type: i16,
    l_whence: i16,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
}

impl Flock {
    fn read(addr: usize) -> KResult<Self> {
        let mut b = [0u8; FLOCK_SIZE];
        usercopy::copy_from_user(&mut b, addr)?;
        let i16_at = |o: usize| i16::from_ne_bytes([b[o], b[o + 1]]);
        let i64_at = |o: usize| {
            let mut v = [0u8; 8];
            v.copy_from_slice(&b[o..o + 8]);
            i64::from_ne_bytes(v)
        };
        Ok(Self {
            l_type: i16_at(0),
            l_whence: i16_at(2),
            l_start: i64_at(8),
            l_len: i64_at(16),
            l_pid: i32::from_ne_bytes([b[24], b[25], b[26], b[27]]),
        })
    }

    fn write(&self, addr: usize) -> KResult<()> {
        let mut b = [0u8; FLOCK_SIZE];
        b[0..2].copy_from_slice(&self.l_type.to_ne_bytes());
        b[2..4].copy_from_slice(&self.l_whence.to_ne_bytes());
        b[8..16].copy_from_slice(&self.l_start.to_ne_bytes());
        b[16..24].copy_from_slice(&self.l_len.to_ne_bytes());
        b[24..28].copy_from_slice(&self.l_pid.to_ne_bytes());
        usercopy::copy_to_user(addr, &b)
    }

    /// The byte range, relative to the description's position and the
    /// file's size as `l_whence` says (`flock64_to_posix_lock`).
    fn range(&self, file: &OpenFile) -> KResult<LockRange> {
        let pos = i64::try_from(file.position()).unwrap_or(i64::MAX);
        let size = if self.l_whence == 2 {
            file.file().stat()?.size
        } else {
            0
        };
        LockRange::from_flock(self.l_whence, self.l_start, self.l_len, pos, size)
    }
}

/// The POSIX lock owner of a process: its descriptor table.
fn posix_owner(files: &Arc<FileTable>) -> LockOwner {
    LockOwner::posix(Arc::as_ptr(files) as usize)
}

/// fcntl(2) F_GETLK, F_SETLK, F_SETLKW and the F_OFD_ forms.
pub fn fcntl_lock(sc: &mut SyscallContext<'_>, fd: i32, cmd: i32, arg: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    // do_fcntl: an O_PATH descriptor allows none of the lock commands.
    if file.is_path() {
        return Err(Errno::EBADF);
    }
    let mut flock = Flock::read(arg)?;
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    let owner = if ofd {
        LockOwner::ofd(file.flock_owner())
    } else {
        posix_owner(&sc.thread.process.files())
    };
    // fcntl_getlk checks l_type before the range, fcntl_setlk after it
    // (flock_to_posix_lock ends with assign_type).
    let getlk = matches!(cmd, F_GETLK | F_OFD_GETLK);
    let l_type = || Request::from_l_type(flock.l_type).ok_or(Errno::EINVAL);
    if getlk {
        l_type()?;
    }
    let range = flock.range(&file)?;
    let request = l_type()?;
    if getlk {
        // fcntl_getlk: only an OFD probe may ask "what do I hold here".
        if request == Request::Unlock && !ofd {
            return Err(Errno::EINVAL);
        }
        if ofd && flock.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        let node = file.flock_node();
        match node.test_record(owner, request, range) {
            None => flock.l_type = F_UNLCK,
            Some(holder) => {
                let report = holder.to_flock().ok_or(Errno::EOVERFLOW)?;
                flock.l_type = report.l_type;
                flock.l_whence = report.l_whence;
                flock.l_start = report.l_start;
                flock.l_len = report.l_len;
                // locks_translate_pid: the owner as the caller's pid
                // namespace sees it; OFD locks report -1.
                flock.l_pid = if report.l_pid < 0 {
                    report.l_pid
                } else {
                    sc.user_id(report.l_pid)
                };
            }
        }
        flock.write(arg)?;
        return Ok(0);
    }
    // check_fmode_for_setlk.
    match request {
        Request::Lock(LockType::Read) if !file.readable() => return Err(Errno::EBADF),
        Request::Lock(LockType::Write) if !file.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    if ofd && flock.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let node = file.flock_node();
    crate::procfs::publish_locks(&file, &node);
    let pid = sc.thread.process.pid;
    if matches!(cmd, F_SETLK | F_OFD_SETLK) || request == Request::Unlock {
        return match node.set_record(owner, pid, request, range) {
            Ok(()) => Ok(0),
            Err(_) => Err(Errno::EAGAIN),
        };
    }
    // do_lock_file_wait: wait_event_interruptible, so a signal ends the
    // wait with ERESTARTSYS. Each retry re-runs the deadlock check against
    // the current holder, as posix_lock_inode does. `waiting_for` is this
    // caller's own edge of the wait-for map; other threads of the process
    // (the same owner) keep theirs.
    let mut waiting_for: Option<LockOwner> = None;
    let mut wait_id = None;
    let result = block::wait_event(
        sc.thread,
        None,
        block::Interruptible::Restart,
        |sink| node.register(sink),
        || match node.set_record(owner, pid, request, range) {
            Ok(()) => Some(Ok(0)),
            Err(conflict) => {
                // While blocked, the request shows in /proc/locks under
                // the lock in its way.
                let waiting = Waiting {
                    class: if ofd {
                        LockClass::Ofd
                    } else {
                        LockClass::Posix
                    },
                    l_type: flock.l_type,
                    pid: if ofd { -1 } else { pid },
                    range: Some(range),
                    blocker: Blocker::Record(conflict.holder),
                };
                wait_id = Some(node.set_waiting(wait_id, waiting));
                let holder = conflict.holder.owner();
                let mut blocked = BLOCKED.lock();
                if let Some(previous) = waiting_for.take() {
                    blocked.unblock(owner, previous);
                }
                if blocked.would_deadlock(owner, holder) {
                    return Some(Err(Errno::EDEADLK));
                }
                blocked.block(owner, holder);
                waiting_for = Some(holder);
                None
            }
        },
    );
    if let Some(holder) = waiting_for {
        BLOCKED.lock().unblock(owner, holder);
    }
    if let Some(id) = wait_id {
        node.clear_waiting(id);
    }
    result
}

/// Releases the POSIX locks of the process owning the descriptor table
/// `files` on the file of `file`: every close of a descriptor does this
/// (`locks_remove_posix`), whichever description of the file the locks
/// were taken through. The directory-notification watches set through the
/// table go too.
pub fn release_posix_locks(files: &Arc<FileTable>, file: &OpenFile) {
    if let Some(node) = file.existing_flock_node() {
        node.remove_records(posix_owner(files));
    }
    // filp_close's dnotify_flush: the watches set through this table go.
    crate::dnotify::flush(file, Arc::as_ptr(files) as *const () as usize);
}
