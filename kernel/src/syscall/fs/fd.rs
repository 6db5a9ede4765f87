//! close, dup, dup2, dup3, fcntl, pipe2.

use alloc::sync::Arc;

use starling_fs::file::{OpenFile, flags::*, pipe};

use super::{
    fcntl_lease::{self, F_GETLEASE, F_SETLEASE},
    fcntl_owner::{self, F_GETOWN, F_GETOWN_EX, F_GETSIG, F_SETOWN, F_SETOWN_EX, F_SETSIG},
    fcntl_query::{self, F_CREATED_QUERY, F_DUPFD_QUERY, F_GET_RW_HINT, F_SET_RW_HINT},
    file_of,
    reclock::{self, F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLK, F_SETLKW},
};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

const F_DUPFD: i32 = 0;
const F_GETFD: i32 = 1;
const F_SETFD: i32 = 2;
const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;
const F_DUPFD_CLOEXEC: i32 = 1030;
const F_NOTIFY: i32 = 1026;
const F_SETPIPE_SZ: i32 = 1031;
const F_GETPIPE_SZ: i32 = 1032;
const FD_CLOEXEC: usize = 1;

/// Installs `file` at the lowest free descriptor.
pub fn install(sc: &SyscallContext<'_>, file: Arc<OpenFile>, cloexec: bool) -> KResult<usize> {
    let fd = sc.thread.process.files().lock().alloc(file, cloexec)?;
    Ok(fd as usize)
}

/// close(2).
#[inline(never)]
pub fn sys_close(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    let files = sc.thread.process.files();
    let file = files.lock().remove(fd).ok_or(Errno::EBADF)?;
    reclock::release_posix_locks(&files, &file);
    drop(file);
    Ok(0)
}

/// close_range(2): closes (or with CLOSE_RANGE_CLOEXEC marks
/// close-on-exec) the descriptors in `first..=last`; CLOSE_RANGE_UNSHARE
/// first gives the caller a private copy of a table it shares (CLONE_FILES).
#[inline(never)]
pub fn sys_close_range(
    sc: &mut SyscallContext<'_>,
    first: u32,
    last: u32,
    flags: u32,
) -> SysResult {
    use starling_fs::fdtable::{CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE};
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let process = &sc.thread.process;
    if flags & CLOSE_RANGE_UNSHARE != 0 {
        let files = process.files();
        // Held by the process and by `files`: anyone else shares it.
        if Arc::strong_count(&files) > 2 {
            let copy = files.lock().clone();
            *process.files.lock() = Arc::new(ax_sync::Mutex::new(copy));
        }
    }
    let files = process.files();
    let closed = files.lock().close_range(first, last, flags)?;
    // The descriptions are released outside the table's lock.
    for file in &closed {
        reclock::release_posix_locks(&files, file);
    }
    drop(closed);
    Ok(0)
}

/// eventfd2(2); eventfd(2) is `flags` 0.
#[inline(never)]
pub fn sys_eventfd2(sc: &mut SyscallContext<'_>, initval: u32, flags: u32) -> SysResult {
    use starling_fs::file::eventfd::{EFD_SEMAPHORE, EventFd};
    if flags & !(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let file = EventFd::new(initval, flags & EFD_SEMAPHORE != 0);
    install(
        sc,
        OpenFile::new(file, O_RDWR | (flags & O_NONBLOCK)),
        flags & O_CLOEXEC != 0,
    )
}

/// dup(2).
#[inline(never)]
pub fn sys_dup(sc: &mut SyscallContext<'_>, fd: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    install(sc, file, false)
}

#[cfg(target_arch = "x86_64")]
/// dup2(2): like dup3 without flags, but oldfd == newfd returns newfd when valid.
#[inline(never)]
pub fn sys_dup2(sc: &mut SyscallContext<'_>, old: i32, new: i32) -> SysResult {
    if old == new {
        file_of(sc.thread, old)?;
        return Ok(new as usize);
    }
    sys_dup3(sc, old, new, 0)
}

/// dup3(2).
#[inline(never)]
pub fn sys_dup3(sc: &mut SyscallContext<'_>, old: i32, new: i32, flags: u32) -> SysResult {
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    let file = file_of(sc.thread, old)?;
    let files = sc.thread.process.files();
    let replaced = files.lock().install_at(new, file, flags & O_CLOEXEC != 0)?;
    if let Some(replaced) = &replaced {
        reclock::release_posix_locks(&files, replaced);
    }
    drop(replaced);
    Ok(new as usize)
}

/// fcntl(2). The descriptor is looked up first (EBADF, whatever the
/// command); an O_PATH descriptor takes only the commands of
/// fs/fcntl.c check_fcntl_cmd (else EBADF); unknown commands are EINVAL.
#[inline(never)]
pub fn sys_fcntl(sc: &mut SyscallContext<'_>, fd: i32, cmd: i32, arg: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    let path_ok = matches!(
        cmd,
        F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL | F_DUPFD_QUERY | F_CREATED_QUERY
    );
    if file.is_path() && !path_ok {
        return Err(Errno::EBADF);
    }
    let files = sc.thread.process.files();
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            // The minimum is the int `argi` (fs/fcntl.c), taken as
            // unsigned: a negative one is past RLIMIT_NOFILE.
            let min = arg as i32;
            if min < 0 {
                return Err(Errno::EINVAL);
            }
            let fd = files
                .lock()
                .alloc_at_least(min, file, cmd == F_DUPFD_CLOEXEC)?;
            Ok(fd as usize)
        }
        F_GETFD => {
            let cloexec = files.lock().get_cloexec(fd).ok_or(Errno::EBADF)?;
            Ok(if cloexec { FD_CLOEXEC } else { 0 })
        }
        F_SETFD => {
            files.lock().set_cloexec(fd, arg & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(file.flags() as usize),
        F_SETFL => {
            // setfl: `f_op->fasync` sees the O_ASYNC change first.
            let _ = fcntl_owner::change_async(&file, fd, arg as u32 & O_ASYNC != 0);
            file.set_status_flags(arg as u32);
            Ok(0)
        }
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            let pipe = file
                .file()
                .as_any()
                .downcast_ref::<pipe::PipeEnd>()
                .ok_or(Errno::EBADF)?;
            if cmd == F_GETPIPE_SZ {
                return Ok(pipe.capacity());
            }
            let privileged = sc
                .thread
                .process
                .creds
                .lock()
                .capable(crate::task::creds::CAP_SYS_RESOURCE);
            let size = usize::try_from(arg as u32 as i32).map_err(|_| Errno::EINVAL)?;
            pipe.set_capacity(size, privileged)
        }
        crate::syscall::mm::memfd::F_ADD_SEALS
        | crate::syscall::mm::memfd::F_GET_SEALS
        | crate::syscall::mm::memfd::F_ADD_SEALS_REVOKE => {
            crate::syscall::mm::memfd::fcntl_seals(sc, fd, cmd, arg)
        }
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW => {
            reclock::fcntl_lock(sc, fd, cmd, arg)
        }
        F_SETOWN | F_GETOWN | F_SETOWN_EX | F_GETOWN_EX | F_SETSIG | F_GETSIG => {
            fcntl_owner::fcntl_owner(sc, &file, cmd, arg)
        }
        F_SETLEASE | F_GETLEASE => fcntl_lease::fcntl_lease(sc, fd, &file, cmd, arg),
        F_NOTIFY => crate::dnotify::fcntl_notify(
            &file,
            fd,
            Arc::as_ptr(&files) as *const () as usize,
            arg as u32,
        ),
        F_DUPFD_QUERY | F_CREATED_QUERY | F_GET_RW_HINT | F_SET_RW_HINT => {
            fcntl_query::fcntl_query(sc, &file, cmd, arg)
        }
        _ => {
            log::debug!("fcntl: unknown command {cmd}");
            Err(Errno::EINVAL)
        }
    }
}

/// pipe2(2).
#[inline(never)]
pub fn sys_pipe2(sc: &mut SyscallContext<'_>, fds: usize, flags: u32) -> SysResult {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let (uid, privileged) = {
        let c = sc.thread.process.creds.lock();
        (c.uid, c.capable(crate::task::creds::CAP_SYS_RESOURCE))
    };
    let (r, w) = pipe::new_pipe(uid, privileged);
    let status = flags & O_NONBLOCK;
    let r = OpenFile::new(r, O_RDONLY | status);
    let w = OpenFile::new(w, O_WRONLY | status);
    let cloexec = flags & O_CLOEXEC != 0;
    let files = sc.thread.process.files();
    let (rfd, wfd) = {
        let mut table = files.lock();
        let rfd = table.alloc(r, cloexec)?;
        match table.alloc(w, cloexec) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                table.remove(rfd);
                return Err(e.into());
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_ne_bytes());
    out[4..].copy_from_slice(&wfd.to_ne_bytes());
    if let Err(e) = usercopy::copy_to_user(fds, &out) {
        let mut table = files.lock();
        table.remove(rfd);
        table.remove(wfd);
        return Err(e);
    }
    Ok(0)
}
