//! splice(2) and tee(2): moving data between a pipe and another
//! descriptor, or duplicating it from one pipe into another.
//!
//! Linux moves pipe buffers (pages) around; Starling's pipes are byte
//! queues, so the data goes through the pipe's own buffers (pipe to pipe,
//! tee) or a kernel buffer (pipe to file, file to pipe). The rules are
//! fs/splice.c's: one side must be a pipe, a pipe side takes no offset,
//! an offset given for a file side is read and written back and the
//! file's position left alone, and the caller waits as read/write do
//! unless SPLICE_F_NONBLOCK or the pipe's own O_NONBLOCK says not to.
//! Waiting follows rw.rs: the pipe operations answer EAGAIN, the caller
//! registers on the pipes' readiness and retries, and a signal ends the
//! wait with ERESTARTSYS.

use alloc::{sync::Arc, vec};

use axpoll::IoEvents;
use starling_fs::file::{
    FileLike, OpenFile,
    flags::O_APPEND,
    mode::{S_IFDIR, S_IFMT},
    pipe::{PipeEnd, pipe_of},
};

use super::{
    blocking,
    copy::write_all,
    file_of,
    rw::{CHUNK, MAX_RW, write_error},
};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::block,
    usercopy,
};

/// include/linux/splice.h: SPLICE_F_MOVE and SPLICE_F_MORE are hints
/// (ignored), SPLICE_F_GIFT only means something to vmsplice.
const SPLICE_F_NONBLOCK: u32 = 0x02;
const SPLICE_F_ALL: u32 = 0x0f;

/// Runs `op` until it stops answering EAGAIN, waiting between attempts
/// for the readiness `waits` lists, unless `nonblock`.
fn retry<T>(
    sc: &SyscallContext<'_>,
    nonblock: bool,
    waits: &[(&Arc<OpenFile>, IoEvents)],
    mut op: impl FnMut() -> KResult<T>,
) -> KResult<T> {
    if nonblock {
        return op();
    }
    block::wait_event(
        sc.thread,
        None,
        block::Interruptible::Restart,
        |sink| {
            for (file, events) in waits {
                // SAFETY: `wait_event` drops the registrar before it
                // returns, while the caller still holds every file.
                unsafe { file.file().register_poll(sink, *events) };
            }
        },
        || match op() {
            Err(Errno::EAGAIN) => None,
            other => Some(other),
        },
    )
}

/// The offset at user address `addr` (0: none); EFAULT if unreadable.
fn read_offset(addr: usize) -> KResult<Option<i64>> {
    match addr {
        0 => Ok(None),
        p => Ok(Some(usercopy::read_u64(p)? as i64)),
    }
}

/// fs/read_write.c rw_verify_area: a length past SSIZE_MAX, a negative
/// offset, or one that overflows with the length is EINVAL.
fn verify_area(pos: i64, len: usize) -> KResult<()> {
    let len = i64::try_from(len).map_err(|_| Errno::EINVAL)?;
    if pos < 0 || pos.checked_add(len).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// splice(2).
#[inline(never)]
pub fn sys_splice(
    sc: &mut SyscallContext<'_>,
    fd_in: i32,
    off_in: usize,
    fd_out: i32,
    off_out: usize,
    len: usize,
    flags: u32,
) -> SysResult {
    // fs/splice.c SYSCALL_DEFINE6(splice): a zero length returns before
    // anything else is looked at, then the flags, then the descriptors.
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let input = file_of(sc.thread, fd_in)?;
    let output = file_of(sc.thread, fd_out)?;
    let ipipe = pipe_of(input.file());
    let opipe = pipe_of(output.file());
    // __do_splice: a pipe side with an offset is ESPIPE before the offsets
    // are read (EFAULT), and both before the access modes (EBADF).
    if (ipipe.is_some() && off_in != 0) || (opipe.is_some() && off_out != 0) {
        return Err(Errno::ESPIPE);
    }
    let mut out_off = read_offset(off_out)?;
    let mut in_off = read_offset(off_in)?;
    if !input.readable() || input.is_path() || !output.writable() || output.is_path() {
        return Err(Errno::EBADF);
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    let moved = match (ipipe, opipe) {
        (Some(i), Some(o)) => {
            if i.same_pipe(o) {
                return Err(Errno::EINVAL);
            }
            let nonblock = nonblock || input.nonblocking() || output.nonblocking();
            retry(
                sc,
                nonblock,
                &[(&input, IoEvents::IN), (&output, IoEvents::OUT)],
                || i.transfer(o, len, true),
            )
            .map_err(|e| write_error(sc, &output, e))?
        }
        (Some(i), None) => {
            let nonblock = nonblock || input.nonblocking();
            pipe_to_file(sc, &input, i, &output, &mut out_off, len, nonblock)?
        }
        (None, Some(o)) => {
            let nonblock = nonblock || output.nonblocking();
            file_to_pipe(sc, &input, &mut in_off, &output, o, len, nonblock)?
        }
        (None, None) => return Err(Errno::EINVAL),
    };
    if let Some(off) = out_off {
        usercopy::write_u64(off_out, off as u64)?;
    }
    if let Some(off) = in_off {
        usercopy::write_u64(off_in, off as u64)?;
    }
    super::copy::moved(&input, &output, moved);
    Ok(moved)
}

/// Splices from the pipe `pipe` (the description `input`) to `output`,
/// at `*off` (advanced) or at and advancing its position. Waits for data
/// if the pipe is empty, then takes what is there, up to `len`.
fn pipe_to_file(
    sc: &SyscallContext<'_>,
    input: &Arc<OpenFile>,
    pipe: &PipeEnd,
    output: &Arc<OpenFile>,
    off: &mut Option<i64>,
    len: usize,
    nonblock: bool,
) -> KResult<usize> {
    // do_splice: an offset needs a positioned write (FMODE_PWRITE), and an
    // O_APPEND output is refused.
    if off.is_some() && !output.file().seekable() {
        return Err(Errno::EINVAL);
    }
    if output.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    verify_area(off.unwrap_or(output.position() as i64), len)?;
    let len = len.min(MAX_RW);
    let mut buf = vec![0u8; len.min(CHUNK)];
    let mut total = 0;
    while total < len {
        let want = (len - total).min(CHUNK);
        let taken = if total == 0 {
            // splice_from_pipe_next: wait for data unless at end of file.
            retry(sc, nonblock, &[(input, IoEvents::IN)], || {
                pipe.read(&mut buf[..want], None)
            })?
        } else {
            // After the first bytes, only what is already there.
            match pipe.read(&mut buf[..want], None) {
                Ok(n) => n,
                Err(_) => break,
            }
        };
        if taken == 0 {
            break;
        }
        let at = off.map(|o| o as u64 + total as u64);
        match write_all(sc, output, &buf[..taken], at) {
            Ok(written) => {
                // What could not be written stays in the pipe.
                pipe.unread(&buf[written..taken]);
                total += written;
                if written < taken {
                    break;
                }
            }
            Err(e) => {
                pipe.unread(&buf[..taken]);
                if total == 0 {
                    return Err(write_error(sc, output, e));
                }
                break;
            }
        }
    }
    if let Some(o) = off {
        *o += total as i64;
    }
    Ok(total)
}

/// Splices from `input` (at `*off`, advanced, or at and advancing its
/// position) into the pipe `pipe` (the description `output`): waits for
/// room, then reads up to `len` bytes, no more than fit.
fn file_to_pipe(
    sc: &SyscallContext<'_>,
    input: &Arc<OpenFile>,
    off: &mut Option<i64>,
    output: &Arc<OpenFile>,
    pipe: &PipeEnd,
    len: usize,
    nonblock: bool,
) -> KResult<usize> {
    let seekable = input.file().seekable();
    // An offset needs a positioned read (FMODE_PREAD); a directory has no
    // splice_read (do_splice_read: EINVAL).
    if off.is_some() && !seekable {
        return Err(Errno::EINVAL);
    }
    if input.file().stat()?.mode & S_IFMT == S_IFDIR {
        return Err(Errno::EINVAL);
    }
    let start = off.unwrap_or(input.position() as i64);
    verify_area(start, len)?;
    // wait_for_space: EPIPE (and SIGPIPE) without readers.
    let room = retry(sc, nonblock, &[(output, IoEvents::OUT)], || pipe.room())
        .map_err(|e| write_error(sc, &output, e))?;
    let want = len.min(room).min(MAX_RW);
    let mut buf = vec![0u8; want.min(CHUNK)];
    let mut pos = start as u64;
    let mut total = 0;
    while total < want {
        let chunk = (want - total).min(CHUNK);
        let read = if seekable {
            input.read_at(&mut buf[..chunk], pos)
        } else if total == 0 {
            blocking(sc, input, IoEvents::IN, || input.read(&mut buf[..chunk]))
        } else {
            input.read(&mut buf[..chunk])
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        // Another writer may have filled the pipe since `room`: what does
        // not fit is not consumed from a seekable input.
        let put = match pipe.write_some(&buf[..n]) {
            Ok(put) => put,
            Err(e) if total == 0 => return Err(write_error(sc, output, e)),
            Err(_) => 0,
        };
        total += put;
        pos += put as u64;
        if put < n || n < chunk {
            break;
        }
    }
    match off {
        Some(o) => *o = pos as i64,
        None if seekable => input.set_position(pos),
        None => {}
    }
    Ok(total)
}

/// tee(2): copies up to `len` bytes from the pipe `fd_in` into the pipe
/// `fd_out` without consuming them.
#[inline(never)]
pub fn sys_tee(
    sc: &mut SyscallContext<'_>,
    fd_in: i32,
    fd_out: i32,
    len: usize,
    flags: u32,
) -> SysResult {
    // fs/splice.c SYSCALL_DEFINE4(tee): flags first, then the length.
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let input = file_of(sc.thread, fd_in)?;
    let output = file_of(sc.thread, fd_out)?;
    // do_tee: access modes (EBADF) before the kinds (EINVAL).
    if !input.readable() || input.is_path() || !output.writable() || output.is_path() {
        return Err(Errno::EBADF);
    }
    let (Some(i), Some(o)) = (pipe_of(input.file()), pipe_of(output.file())) else {
        return Err(Errno::EINVAL);
    };
    if i.same_pipe(o) {
        return Err(Errno::EINVAL);
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0 || input.nonblocking() || output.nonblocking();
    retry(
        sc,
        nonblock,
        &[(&input, IoEvents::IN), (&output, IoEvents::OUT)],
        || i.transfer(o, len, false),
    )
    .map_err(|e| write_error(sc, &output, e))
}
