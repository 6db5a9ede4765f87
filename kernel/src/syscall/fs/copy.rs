//! In-kernel copies between descriptors: sendfile(2) and
//! copy_file_range(2).
//!
//! Both move the data through a kernel buffer, chunk by chunk, with the
//! ordinary read and write paths of the two descriptions, so pipes block
//! and wake as for read/write, and RLIMIT_FSIZE applies to the target.

use alloc::{sync::Arc, vec};

use axpoll::IoEvents;
use starling_fs::file::{OpenFile, flags::O_APPEND};

use super::{
    blocking, file_of, fsize_limit,
    rw::{CHUNK, MAX_RW},
};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

/// Whether `file` is a regular file (S_IFREG).
fn is_regular(file: &OpenFile) -> KResult<bool> {
    Ok(file.file().stat()?.mode & 0o170000 == 0o100000)
}

/// Writes all of `data` to `out` at `at` (its position when `None`),
/// blocking as write(2) does; returns how much went out before an error
/// or a signal, or the error if nothing did.
pub(super) fn write_all(
    sc: &SyscallContext<'_>,
    out: &Arc<OpenFile>,
    data: &[u8],
    at: Option<u64>,
) -> KResult<usize> {
    let limit = fsize_limit(sc);
    let mut done = 0;
    while done < data.len() {
        let r = blocking(sc, out, IoEvents::OUT, || match at {
            Some(off) => out.write_at_limited(&data[done..], off + done as u64, limit),
            None => out.write_limited(&data[done..], limit),
        });
        match r {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Whether a long copy should stop after what it moved so far: a signal
/// is pending or the thread is being killed. Linux checks this between
/// pipe buffers (fs/splice.c splice_from_pipe_next, "to make process
/// killable when there are always buffers available"); without it a
/// sendfile of a file into itself grows the file until memory runs out,
/// deaf to SIGALRM and SIGKILL.
fn interrupted(sc: &SyscallContext<'_>) -> bool {
    sc.thread.has_deliverable_signal() || sc.thread.is_exiting()
}

/// sendfile(2): up to `count` bytes from `in_fd` (at `*offset` when given,
/// which is then advanced, else at and advancing its position) to `out_fd`.
#[inline(never)]
pub fn sys_sendfile(
    sc: &mut SyscallContext<'_>,
    out_fd: i32,
    in_fd: i32,
    offset: usize,
    count: usize,
) -> SysResult {
    // The offset is copied in before the descriptors are looked at
    // (fs/read_write.c, sendfile64).
    let start = match offset {
        0 => None,
        p => Some(usercopy::read_u64(p)? as i64),
    };
    let input = file_of(sc.thread, in_fd)?;
    let output = file_of(sc.thread, out_fd)?;
    if !input.readable() || input.is_path() || !output.writable() || output.is_path() {
        return Err(Errno::EBADF);
    }
    // fs/read_write.c do_sendfile: an O_APPEND target is EINVAL.
    if output.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let mut pos = match start {
        None => None,
        Some(v) => {
            if v < 0 {
                return Err(Errno::EINVAL);
            }
            if !input.file().seekable() {
                return Err(Errno::ESPIPE);
            }
            Some(v as u64)
        }
    };
    let count = count.min(MAX_RW);
    let mut buf = vec![0u8; count.clamp(1, CHUNK)];
    let mut total = 0;
    while total < count {
        if total > 0 && interrupted(sc) {
            break;
        }
        let want = (count - total).min(CHUNK);
        let read = match pos {
            Some(p) => input.read_at(&mut buf[..want], p),
            // The first chunk may wait for data (a pipe); later ones do not.
            None if total == 0 => {
                blocking(sc, &input, IoEvents::IN, || input.read(&mut buf[..want]))
            }
            None => input.read(&mut buf[..want]),
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e),
        };
        let written = match write_all(sc, &output, &buf[..n], None) {
            Ok(w) => w,
            Err(e) if total == 0 => {
                // Nothing moved: the bytes read from the position go back.
                if pos.is_none() && input.file().seekable() {
                    input.set_position(input.position() - n as u64);
                }
                return Err(super::rw::write_error(sc, &output, e));
            }
            Err(_) => 0,
        };
        total += written;
        match &mut pos {
            Some(p) => *p += written as u64,
            None if written < n && input.file().seekable() => {
                input.set_position(input.position() - (n - written) as u64);
            }
            None => {}
        }
        if written < n {
            break;
        }
    }
    if let Some(p) = pos {
        usercopy::write_u64(offset, p)?;
    }
    moved(&input, &output, total);
    Ok(total)
}

/// copy_file_range(2) between regular files: `len` bytes from `fd_in` (at
/// `*off_in` or its position) to `fd_out` (at `*off_out` or its position).
#[inline(never)]
pub fn sys_copy_file_range(
    sc: &mut SyscallContext<'_>,
    fd_in: i32,
    off_in: usize,
    fd_out: i32,
    off_out: usize,
    len: usize,
    flags: u32,
) -> SysResult {
    // fs/read_write.c: both descriptors (EBADF), then both offsets are
    // copied in (EFAULT), then vfs_copy_file_range checks the flags.
    let input = file_of(sc.thread, fd_in)?;
    let output = file_of(sc.thread, fd_out)?;
    let raw_off = |addr: usize| -> KResult<Option<i64>> {
        match addr {
            0 => Ok(None),
            a => Ok(Some(usercopy::read_u64(a)? as i64)),
        }
    };
    let (raw_in, raw_out) = (raw_off(off_in)?, raw_off(off_out)?);
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if !input.readable() || input.is_path() || !output.writable() || output.is_path() {
        return Err(Errno::EBADF);
    }
    // generic_copy_file_checks: an O_APPEND target is EBADF, directories
    // EISDIR, anything else that is not a regular file EINVAL.
    if output.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    for f in [&input, &output] {
        let mode = f.file().stat()?.mode & 0o170000;
        if mode == 0o040000 {
            return Err(Errno::EISDIR);
        }
    }
    if !is_regular(&input)? || !is_regular(&output)? {
        return Err(Errno::EINVAL);
    }
    let checked = |v: Option<i64>| -> KResult<Option<u64>> {
        match v {
            Some(v) if v < 0 => Err(Errno::EINVAL),
            v => Ok(v.map(|v| v as u64)),
        }
    };
    let start_in = checked(raw_in)?.unwrap_or_else(|| input.position());
    let start_out = checked(raw_out)?.unwrap_or_else(|| output.position());
    let len = len.min(MAX_RW);
    // The same file with overlapping ranges: EINVAL.
    let (a, b) = (input.file().stat()?, output.file().stat()?);
    if a.dev == b.dev
        && a.ino == b.ino
        && start_in < start_out + len as u64
        && start_out < start_in + len as u64
    {
        return Err(Errno::EINVAL);
    }
    let mut buf = vec![0u8; len.clamp(1, CHUNK)];
    let mut total = 0;
    while total < len {
        if total > 0 && interrupted(sc) {
            break;
        }
        let want = (len - total).min(CHUNK);
        let n = match input.read_at(&mut buf[..want], start_in + total as u64) {
            Ok(0) => break,
            Ok(n) => n,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e),
        };
        let written = match write_all(sc, &output, &buf[..n], Some(start_out + total as u64)) {
            Ok(w) => w,
            Err(e) if total == 0 => return Err(super::rw::write_error(sc, &output, e)),
            Err(_) => 0,
        };
        total += written;
        if written < n {
            break;
        }
    }
    match off_in {
        0 => input.set_position(start_in + total as u64),
        p => usercopy::write_u64(p, start_in + total as u64)?,
    }
    match off_out {
        0 => output.set_position(start_out + total as u64),
        p => usercopy::write_u64(p, start_out + total as u64)?,
    }
    moved(&input, &output, total);
    Ok(total)
}

/// Data moved between two files: DN_ACCESS on the source, DN_MODIFY on
/// the target (do_splice_direct / vfs_copy_file_range's fsnotify calls).
pub(super) fn moved(input: &OpenFile, output: &OpenFile, n: usize) {
    if n > 0 {
        crate::dnotify::file_event(input, crate::dnotify::DN_ACCESS);
        crate::dnotify::file_event(output, crate::dnotify::DN_MODIFY);
    }
}
