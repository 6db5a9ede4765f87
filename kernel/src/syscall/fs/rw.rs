//! read, write, readv, writev, pread64, pwrite64, lseek.

use alloc::{sync::Arc, vec, vec::Vec};

use axpoll::IoEvents;
use starling_fs::file::{OpenFile, Whence};

use super::{blocking, file_of};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::signal::{SIGPIPE, SigInfo, send},
    usercopy,
};

/// Largest chunk moved through a kernel buffer at once.
pub(super) const CHUNK: usize = 64 * 1024;
/// Linux caps one read/write at MAX_RW_COUNT (INT_MAX rounded down to a page).
pub(super) const MAX_RW: usize = 0x7fff_f000;
const IOV_MAX: i32 = 1024;

/// The error a write to `file` returns, with its signal: SIGPIPE for EPIPE
/// (unless the object raises none, as datagram sockets), SIGXFSZ for EFBIG
/// past RLIMIT_FSIZE.
pub(super) fn write_error(sc: &SyscallContext<'_>, file: &OpenFile, e: Errno) -> Errno {
    if e == Errno::EPIPE && file.file().epipe_raises_sigpipe() {
        send::send_to_thread(sc.thread, SigInfo::kernel(SIGPIPE));
    }
    // Only RLIMIT_FSIZE makes a write fail with EFBIG before any byte
    // went out (OpenFile::write_limited): SIGXFSZ, as
    // generic_write_check_limits.
    if e == Errno::EFBIG && fsize_limit(sc) != u64::MAX {
        send::send_to_thread(sc.thread, SigInfo::kernel(crate::task::signal::SIGXFSZ));
    }
    e
}

/// The caller's RLIMIT_FSIZE soft limit (u64::MAX when unlimited).
pub(super) fn fsize_limit(sc: &SyscallContext<'_>) -> u64 {
    sc.thread.process.rlimits.lock()[crate::task::rlimit::RLIMIT_FSIZE as usize].cur
}

/// How much one read or write moves through the kernel buffer at once:
/// [`CHUNK`], or more for objects whose messages must go whole (a datagram
/// socket's largest datagram, [`FileLike::message_max`](starling_fs::file::FileLike::message_max)).
fn chunk_for(file: &OpenFile) -> usize {
    CHUNK.max(file.file().message_max())
}

/// `len` capped at MAX_RW, after checking that `[buf, buf+len)` lies in
/// the user half.
fn user_len(buf: usize, len: usize) -> KResult<usize> {
    let len = len.min(MAX_RW);
    if buf
        .checked_add(len)
        .is_none_or(|end| end > usercopy::user_end())
    {
        return Err(Errno::EFAULT);
    }
    Ok(len)
}

/// A read that returned data is DN_ACCESS (fsnotify_access).
fn accessed(file: &OpenFile, r: SysResult) -> SysResult {
    if matches!(r, Ok(n) if n > 0) {
        crate::dnotify::file_event(file, crate::dnotify::DN_ACCESS);
    }
    r
}

/// A write that stored data is DN_MODIFY (fsnotify_modify).
pub(crate) fn modified(file: &OpenFile, r: SysResult) -> SysResult {
    if matches!(r, Ok(n) if n > 0) {
        crate::dnotify::file_event(file, crate::dnotify::DN_MODIFY);
    }
    r
}

/// Reads up to `len` bytes into user memory at `buf`, from the position or
/// from `offset` (pread).
fn read_into(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    buf: usize,
    len: usize,
    offset: Option<u64>,
) -> SysResult {
    let len = user_len(buf, len)?;
    usercopy::check_writable(buf, len)?;
    let mut done = 0;
    let chunk = chunk_for(file);
    let mut kbuf = vec![0u8; len.min(chunk)];
    while done < len {
        let want = (len - done).min(chunk);
        let n = if done == 0 {
            blocking(sc, file, IoEvents::IN, || match offset {
                Some(off) => file.read_at(&mut kbuf[..want], off),
                None => file.read(&mut kbuf[..want]),
            })?
        } else {
            // After the first chunk, only take what is there without blocking.
            match match offset {
                Some(off) => file.read_at(&mut kbuf[..want], off + done as u64),
                None => file.read(&mut kbuf[..want]),
            } {
                Ok(n) => n,
                Err(_) => break,
            }
        };
        if n == 0 {
            break;
        }
        usercopy::copy_to_user(buf + done, &kbuf[..n])?;
        done += n;
        if n < want || !file.file().seekable() {
            break;
        }
    }
    Ok(done)
}

/// Writes `len` bytes from user memory, blocking until all are written (or
/// a signal ends the wait after a partial write).
fn write_from(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    buf: usize,
    len: usize,
    offset: Option<u64>,
) -> SysResult {
    let len = user_len(buf, len)?;
    if len == 0 {
        // A zero-length write still checks that the descriptor is writable.
        return match offset {
            Some(off) => file.write_at(&[], off),
            None => file.write(&[]),
        }
        .map_err(|e| write_error(sc, file, e));
    }
    let mut done = 0;
    let limit = fsize_limit(sc);
    let chunk = chunk_for(file);
    let mut kbuf = vec![0u8; len.min(chunk)];
    while done < len {
        let want = (len - done).min(chunk);
        usercopy::copy_from_user(&mut kbuf[..want], buf + done)?;
        let mut part = 0;
        while part < want {
            let r = blocking(sc, file, IoEvents::OUT, || match offset {
                Some(off) => {
                    file.write_at_limited(&kbuf[part..want], off + (done + part) as u64, limit)
                }
                None => file.write_limited(&kbuf[part..want], limit),
            });
            match r {
                Ok(n) => part += n,
                // A write cut at RLIMIT_FSIZE, at a full file system, at
                // the end of a block device or by F_SEAL_GROW returns what
                // it wrote.
                Err(e)
                    if done + part > 0
                        && matches!(
                            e,
                            Errno::ERESTARTSYS
                                | Errno::EINTR
                                | Errno::EAGAIN
                                | Errno::EFBIG
                                | Errno::ENOSPC
                                | Errno::EPERM
                        ) =>
                {
                    return Ok(done + part);
                }
                Err(e) => return Err(write_error(sc, file, e)),
            }
        }
        done += want;
    }
    Ok(done)
}

/// read(2).
#[inline(never)]
pub fn sys_read(sc: &mut SyscallContext<'_>, fd: i32, buf: usize, count: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    accessed(&file, read_into(sc, &file, buf, count, None))
}

/// write(2).
#[inline(never)]
pub fn sys_write(sc: &mut SyscallContext<'_>, fd: i32, buf: usize, count: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    modified(&file, write_from(sc, &file, buf, count, None))
}

/// pread64(2).
#[inline(never)]
pub fn sys_pread64(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    buf: usize,
    count: usize,
    off: i64,
) -> SysResult {
    let (file, off) = positioned(sc, fd, off as usize)?;
    accessed(&file, read_into(sc, &file, buf, count, Some(off)))
}

/// pwrite64(2).
#[inline(never)]
pub fn sys_pwrite64(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    buf: usize,
    count: usize,
    off: i64,
) -> SysResult {
    let (file, off) = positioned(sc, fd, off as usize)?;
    modified(&file, write_from(sc, &file, buf, count, Some(off)))
}

pub(crate) fn read_iovecs(iov: usize, iovcnt: i32) -> KResult<Vec<(usize, usize)>> {
    if !(0..=IOV_MAX).contains(&iovcnt) {
        return Err(Errno::EINVAL);
    }
    let mut out = Vec::with_capacity(iovcnt as usize);
    let mut total = 0usize;
    for i in 0..iovcnt as usize {
        let base = usercopy::read_usize(iov + i * 16)?;
        let len = usercopy::read_usize(iov + i * 16 + 8)?;
        if isize::try_from(len).is_err() {
            return Err(Errno::EINVAL);
        }
        total = total
            .checked_add(len)
            .filter(|t| *t <= isize::MAX as usize)
            .ok_or(Errno::EINVAL)?;
        out.push((base, len));
    }
    Ok(out)
}

/// readv(2).
#[inline(never)]
pub fn sys_readv(sc: &mut SyscallContext<'_>, fd: i32, iov: usize, iovcnt: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    accessed(&file, readv_at(sc, &file, iov, iovcnt, None))
}

/// The readv loop, at the position or from `offset` (preadv).
fn readv_at(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    iov: usize,
    iovcnt: i32,
    offset: Option<u64>,
) -> SysResult {
    let vecs = read_iovecs(iov, iovcnt)?;
    if file.file().message_max() > 0 {
        return readv_message(sc, file, &vecs);
    }
    let mut total = 0;
    for (base, len) in vecs {
        if len == 0 {
            continue;
        }
        let at = offset.map(|o| o + total as u64);
        let n = match read_into(sc, file, base, len, at) {
            Ok(n) => n,
            Err(e) if total > 0 && e != Errno::EFAULT => break,
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        };
        total += n;
        if n < len {
            break;
        }
    }
    Ok(total)
}

/// readv of an object that reads whole messages (a datagram socket): one
/// read of up to the iovecs' total, spread over them, so a message is
/// neither cut at the first iovec nor two messages joined.
fn readv_message(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    vecs: &[(usize, usize)],
) -> SysResult {
    let total = vecs.iter().map(|v| v.1).sum::<usize>().min(chunk_for(file));
    for &(base, len) in vecs {
        usercopy::check_writable(base, len.min(total))?;
    }
    let mut kbuf = vec![0u8; total];
    let n = blocking(sc, file, IoEvents::IN, || file.read(&mut kbuf))?;
    let mut at = 0;
    for &(base, len) in vecs {
        if at >= n {
            break;
        }
        let part = len.min(n - at);
        usercopy::copy_to_user(base, &kbuf[at..at + part])?;
        at += part;
    }
    Ok(n)
}

/// writev(2).
#[inline(never)]
pub fn sys_writev(sc: &mut SyscallContext<'_>, fd: i32, iov: usize, iovcnt: i32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    modified(&file, writev_at(sc, &file, iov, iovcnt, None))
}

/// The writev loop, at the position or from `offset` (pwritev).
fn writev_at(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    iov: usize,
    iovcnt: i32,
    offset: Option<u64>,
) -> SysResult {
    let vecs = read_iovecs(iov, iovcnt)?;
    // Gather into one buffer so the write stays whole (a pipe's PIPE_BUF
    // atomicity and the console's "each write whole" both depend on it).
    let total: usize = vecs.iter().map(|v| v.1).sum();
    if total <= chunk_for(file) {
        let mut kbuf = vec![0u8; total];
        let mut at = 0;
        for (base, len) in &vecs {
            usercopy::copy_from_user(&mut kbuf[at..at + len], *base)?;
            at += len;
        }
        if total == 0 {
            return match offset {
                Some(off) => file.write_at(&[], off),
                None => file.write(&[]),
            }
            .map_err(|e| write_error(sc, file, e));
        }
        let mut done = 0;
        let limit = fsize_limit(sc);
        while done < total {
            match blocking(sc, file, IoEvents::OUT, || match offset {
                Some(off) => file.write_at_limited(&kbuf[done..], off + done as u64, limit),
                None => file.write_limited(&kbuf[done..], limit),
            }) {
                Ok(n) => done += n,
                Err(e)
                    if done > 0
                        && (e == Errno::ERESTARTSYS
                            || e == Errno::EINTR
                            || e == Errno::EAGAIN
                            || e == Errno::EFBIG) =>
                {
                    break;
                }
                Err(e) => return Err(write_error(sc, file, e)),
            }
        }
        return Ok(done);
    }
    let mut written = 0;
    for (base, len) in vecs {
        let at = offset.map(|o| o + written as u64);
        match write_from(sc, file, base, len, at) {
            Ok(n) => written += n,
            Err(e) => return if written > 0 { Ok(written) } else { Err(e) },
        }
    }
    Ok(written)
}

/// The description and offset of pread64/pwrite64/preadv/pwritev: `pos_l`
/// on 64-bit (pos_from_hilo). As fs/read_write.c: negative is EINVAL
/// before the descriptor is looked up (EBADF), then a stream is ESPIPE
/// before the access mode is checked.
fn positioned(sc: &SyscallContext<'_>, fd: i32, pos_l: usize) -> KResult<(Arc<OpenFile>, u64)> {
    let off = u64::try_from(pos_l as i64).map_err(|_| Errno::EINVAL)?;
    let file = file_of(sc.thread, fd)?;
    if !file.file().seekable() {
        return Err(Errno::ESPIPE);
    }
    Ok((file, off))
}

/// The description and offset of preadv2/pwritev2: -1 is the position.
fn positioned_v2(
    sc: &SyscallContext<'_>,
    fd: i32,
    pos_l: usize,
) -> KResult<(Arc<OpenFile>, Option<u64>)> {
    if pos_l as i64 == -1 {
        return Ok((file_of(sc.thread, fd)?, None));
    }
    positioned(sc, fd, pos_l).map(|(f, o)| (f, Some(o)))
}

/// RWF_* flags of preadv2/pwritev2 (include/uapi/linux/fs.h).
const RWF_HIPRI: u32 = 0x1;
const RWF_DSYNC: u32 = 0x2;
const RWF_SYNC: u32 = 0x4;
const RWF_NOWAIT: u32 = 0x8;
const RWF_APPEND: u32 = 0x10;

/// preadv(2).
#[inline(never)]
pub fn sys_preadv(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    iov: usize,
    iovcnt: i32,
    pos_l: usize,
) -> SysResult {
    let (file, off) = positioned(sc, fd, pos_l)?;
    accessed(&file, readv_at(sc, &file, iov, iovcnt, Some(off)))
}

/// pwritev(2).
#[inline(never)]
pub fn sys_pwritev(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    iov: usize,
    iovcnt: i32,
    pos_l: usize,
) -> SysResult {
    let (file, off) = positioned(sc, fd, pos_l)?;
    modified(&file, writev_at(sc, &file, iov, iovcnt, Some(off)))
}

/// preadv2(2): offset -1 reads at the position; RWF_HIPRI is a hint,
/// RWF_NOWAIT reads only what needs no waiting (EAGAIN otherwise); other
/// flags EOPNOTSUPP.
#[inline(never)]
pub fn sys_preadv2(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    iov: usize,
    iovcnt: i32,
    pos_l: usize,
    flags: u32,
) -> SysResult {
    // The flags are checked once the descriptor is (kiocb_set_rw_flags).
    let (file, offset) = positioned_v2(sc, fd, pos_l)?;
    if flags & !(RWF_HIPRI | RWF_NOWAIT) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & RWF_NOWAIT != 0 && !file.nonblocking() {
        // One non-blocking attempt: data that is there, or EAGAIN.
        let vecs = read_iovecs(iov, iovcnt)?;
        let Some(&(base, len)) = vecs.iter().find(|v| v.1 > 0) else {
            return Ok(0);
        };
        let mut kbuf = vec![0u8; len.min(CHUNK)];
        let n = match offset {
            Some(off) => file.read_at(&mut kbuf, off)?,
            None => file.read(&mut kbuf)?,
        };
        usercopy::copy_to_user(base, &kbuf[..n])?;
        return accessed(&file, Ok(n));
    }
    accessed(&file, readv_at(sc, &file, iov, iovcnt, offset))
}

/// pwritev2(2): offset -1 writes at the position; RWF_APPEND writes at the
/// end; RWF_DSYNC/RWF_SYNC sync the file afterwards; RWF_HIPRI is a hint;
/// other flags (RWF_NOWAIT included) EOPNOTSUPP.
#[inline(never)]
pub fn sys_pwritev2(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    iov: usize,
    iovcnt: i32,
    pos_l: usize,
    flags: u32,
) -> SysResult {
    // The flags are checked once the descriptor is (kiocb_set_rw_flags).
    let (file, mut offset) = positioned_v2(sc, fd, pos_l)?;
    if flags & !(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & RWF_APPEND != 0 && file.file().seekable() {
        offset = Some(file.file().size()?);
    }
    let n = modified(&file, writev_at(sc, &file, iov, iovcnt, offset))?;
    // generic_write_sync: only what has an fsync operation is synced.
    if flags & (RWF_DSYNC | RWF_SYNC) != 0 {
        match file.file().sync() {
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// lseek(2).
#[inline(never)]
pub fn sys_lseek(sc: &mut SyscallContext<'_>, fd: i32, off: i64, whence: u32) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    let whence = match whence {
        0 => Whence::Set,
        1 => Whence::Cur,
        2 => Whence::End,
        3 => Whence::Data,
        4 => Whence::Hole,
        _ => return Err(Errno::EINVAL),
    };
    Ok(file.seek(off, whence)? as usize)
}
