//! sendto, recvfrom, sendmsg and recvmsg (send and recv are these on
//! x86_64 and riscv64), with SCM_RIGHTS and SCM_CREDENTIALS, and their
//! batched forms sendmmsg and recvmmsg.

use alloc::{sync::Arc, vec, vec::Vec};

use axpoll::IoEvents;
use starling_fs::{
    file::{
        FileLike, OpenFile,
        unix::{Received, SockType, UnixSocket},
    },
    unix::{
        Ucred,
        addr::UnixAddr,
        cmsg::{self, SCM_CREDENTIALS, SOL_SOCKET},
    },
};

use super::{inet, inet_of, msg_cred, read_addr, socket_of, target_of};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs},
    task::{
        block,
        creds::{CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN},
        signal::{SIGPIPE, SigInfo, send},
    },
    usercopy,
};

pub const MSG_OOB: u32 = 0x1;
pub const MSG_PEEK: u32 = 0x2;
pub const MSG_CTRUNC: u32 = 0x8;
pub const MSG_TRUNC: u32 = 0x20;
pub const MSG_DONTWAIT: u32 = 0x40;
pub const MSG_WAITALL: u32 = 0x100;
pub const MSG_NOSIGNAL: u32 = 0x4000;
pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
/// A 32-bit compat task's flag: refused from 64-bit callers before the
/// descriptor is looked up (net/socket.c, forbid_cmsg_compat).
const MSG_CMSG_COMPAT: u32 = 0x8000_0000;

/// access_ok of import_ubuf: the buffer of a sendto/recvfrom (its length
/// capped at MAX_RW_COUNT) must lie in user space, checked before the
/// descriptor (EFAULT).
fn check_user_buf(buf: usize, len: usize) -> KResult<()> {
    match buf.checked_add(len.min(MAX_RW)) {
        Some(end) if end <= usercopy::user_end() => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

fn check_compat(flags: u32) -> KResult<()> {
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}
/// MAX_RW_COUNT: the most one call moves.
const MAX_RW: usize = 0x7fff_f000;
/// The most of a stream send copied into the kernel at once.
const SEND_PIECE: usize = 256 * 1024;
/// sizeof(struct mmsghdr): a msghdr and its 32-bit msg_len, padded.
const MMSGHDR_SIZE: usize = 64;
/// recvmmsg: after the first message, take only what is there.
const MSG_WAITFORONE: u32 = 0x10000;
/// UIO_MAXIOV.
const IOV_MAX: usize = 1024;
/// Largest control buffer sendmsg copies (net.core.optmem_max).
const OPTMEM_MAX: usize = 20480;
/// Largest datagram a socket can send (twice the largest SO_SNDBUF), so
/// the most one receive needs to hold at once.
const RECV_CHUNK: usize = 512 * 1024;

/// A user `struct msghdr`, 64-bit layout.
struct MsgHdr {
    name: usize,
    namelen: u32,
    iov: usize,
    iovlen: usize,
    control: usize,
    controllen: usize,
}

fn read_msghdr(ptr: usize) -> KResult<MsgHdr> {
    let mut raw = [0u8; 56];
    usercopy::copy_from_user(&mut raw, ptr)?;
    let word = |at: usize| usize::from_ne_bytes(raw[at..at + 8].try_into().unwrap_or([0; 8]));
    Ok(MsgHdr {
        name: word(0),
        namelen: u32::from_ne_bytes(raw[8..12].try_into().unwrap_or([0; 4])),
        iov: word(16),
        iovlen: word(24),
        control: word(32),
        controllen: word(40),
    })
}

/// The iovec array: EMSGSIZE past UIO_MAXIOV, EINVAL when the lengths
/// add up past SSIZE_MAX.
fn read_iov(iov: usize, n: usize) -> KResult<Vec<(usize, usize)>> {
    if n > IOV_MAX {
        return Err(Errno::EMSGSIZE);
    }
    let mut out = Vec::with_capacity(n);
    let mut total = 0usize;
    for i in 0..n {
        let base = usercopy::read_usize(iov + i * 16)?;
        let len = usercopy::read_usize(iov + i * 16 + 8)?;
        total = total
            .checked_add(len)
            .filter(|t| *t <= isize::MAX as usize)
            .ok_or(Errno::EINVAL)?;
        out.push((base, len));
    }
    Ok(out)
}

/// Copies `len` bytes of the iovecs' concatenation, from byte `skip` on.
fn gather(iov: &[(usize, usize)], skip: usize, len: usize) -> KResult<Vec<u8>> {
    let mut data = vec![0u8; len];
    let (mut pos, mut at) = (0usize, 0usize);
    for &(base, vlen) in iov {
        if at == len {
            break;
        }
        let end = pos + vlen;
        if end > skip {
            let from = skip.max(pos) - pos;
            let n = (vlen - from).min(len - at);
            usercopy::copy_from_user(&mut data[at..at + n], base + from)?;
            at += n;
        }
        pos = end;
    }
    Ok(data)
}

fn scatter(iov: &[(usize, usize)], data: &[u8]) -> KResult<()> {
    let mut at = 0;
    for &(base, len) in iov {
        if at >= data.len() {
            break;
        }
        let n = len.min(data.len() - at);
        usercopy::copy_to_user(base, &data[at..at + n])?;
        at += n;
    }
    Ok(())
}

/// Checks SCM_CREDENTIALS the sender passed (scm_check_creds): its own
/// process id unless CAP_SYS_ADMIN (then any existing one), a uid it has
/// unless CAP_SETUID, a gid unless CAP_SETGID; EPERM otherwise, ESRCH
/// for no such process.
fn check_creds(sc: &SyscallContext<'_>, given: Ucred) -> KResult<Ucred> {
    let c = sc.thread.process.creds.lock();
    let own = sc.user_id(sc.thread.process.pid) as u32;
    if given.pid != own && !c.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    if ![c.uid, c.euid, c.suid].contains(&given.uid) && !c.capable(CAP_SETUID) {
        return Err(Errno::EPERM);
    }
    if ![c.gid, c.egid, c.sgid].contains(&given.gid) && !c.capable(CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    drop(c);
    let global = sc
        .global_id(given.pid as crate::task::Pid)
        .ok_or(Errno::ESRCH)?;
    if crate::task::table::process(global).is_none() {
        return Err(Errno::ESRCH);
    }
    Ok(Ucred {
        pid: global as u32,
        ..given
    })
}

/// The send shared by sendto and sendmsg.
fn do_send(
    sc: &SyscallContext<'_>,
    (file, sock): (Arc<OpenFile>, Arc<UnixSocket>),
    iov: &[(usize, usize)],
    name: Option<Vec<u8>>,
    control: &[u8],
    flags: u32,
) -> SysResult {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let inet = inet_of(&file);
    let total = iov.iter().map(|v| v.1).sum::<usize>().min(MAX_RW);
    if let Some(i) = &inet
        && i.sock_type() == SockType::Dgram
        && total > inet::udp_max(i)
    {
        return Err(Errno::EMSGSIZE);
    }
    let target = match (sock.sock_type(), name, &inet) {
        (_, name, Some(i)) => match inet::send_target(i, name) {
            Ok(Some(t)) => t,
            // Nobody receives there: the datagram is lost.
            Ok(None) => return Ok(total),
            Err(Errno::EPIPE) => {
                if flags & MSG_NOSIGNAL == 0 {
                    send::send_to_thread(sc.thread, SigInfo::kernel(SIGPIPE));
                }
                return Err(Errno::EPIPE);
            }
            Err(e) => return Err(e),
        },
        (SockType::Stream, Some(_), None) => {
            return Err(if sock.is_connected() {
                Errno::EISCONN
            } else {
                Errno::EOPNOTSUPP
            });
        }
        (SockType::Dgram, Some(raw), None) => Some(target_of(sc, &raw, SockType::Dgram)?),
        _ => None,
    };
    let ctl = cmsg::parse(control)?;
    let mut rights: Vec<Arc<OpenFile>> = Vec::with_capacity(ctl.fds.len());
    for &fd in &ctl.fds {
        rights.push(fs::file_of(sc.thread, fd)?);
    }
    let mut creds = match ctl.creds {
        Some(c) => Some(check_creds(sc, c)?),
        None => None,
    };
    let stream = sock.sock_type() == SockType::Stream;
    // A datagram goes whole: one larger than the send buffer can take is
    // refused before its bytes are copied.
    if !stream && total > (sock.sndbuf() as usize).saturating_sub(32) {
        return Err(Errno::EMSGSIZE);
    }
    if !stream && sock.passcred.load(core::sync::atomic::Ordering::Relaxed) {
        sock.autobind()?;
    }
    if creds.is_none() && sock.wants_creds(target.as_ref()) {
        creds = Some(msg_cred(sc));
    }
    let nonblock = file.nonblocking() || flags & MSG_DONTWAIT != 0;
    let peer = sock.dgram_target(target.as_ref());
    let mut sent = 0;
    // Streams go through a bounded kernel buffer piece by piece.
    let piece_max = if stream { SEND_PIECE } else { total.max(1) };
    let result = loop {
        let piece = (total - sent).min(piece_max);
        let data = match gather(iov, sent, piece) {
            Ok(d) => d,
            Err(e) => break Err(e),
        };
        let mut done = 0;
        let mut attempt = || -> Option<KResult<()>> {
            match sock.send(&data[done..], target.as_ref(), creds, &mut rights) {
                Ok(n) => {
                    done += n;
                    (done == data.len()).then_some(Ok(()))
                }
                Err(Errno::EAGAIN) if nonblock && done > 0 => Some(Ok(())),
                Err(Errno::EAGAIN) if !nonblock => None,
                Err(e) => Some(Err(e)),
            }
        };
        let r = if nonblock {
            attempt().unwrap_or(Ok(()))
        } else {
            block::wait_io(
                sc.thread,
                sock.io_timeout(true),
                // SAFETY: `sock` and `peer` outlive the registrar, which
                // wait_io drops before it returns.
                |sink| unsafe {
                    sock.register_poll(sink, IoEvents::OUT);
                    if let Some(p) = &peer {
                        p.register_space(sink);
                    }
                },
                attempt,
            )
        };
        sent += done;
        if r.is_err() || done < piece || sent >= total {
            break r;
        }
    };
    match result {
        Ok(()) => Ok(sent),
        Err(e) => {
            // Only stream sockets raise SIGPIPE (unix_stream_sendmsg).
            if e == Errno::EPIPE && stream && flags & MSG_NOSIGNAL == 0 {
                send::send_to_thread(sc.thread, SigInfo::kernel(SIGPIPE));
            }
            if sent > 0 { Ok(sent) } else { Err(e) }
        }
    }
}

/// sendto(2).
#[inline(never)]
pub fn sys_sendto(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    buf: usize,
    len: usize,
    flags: u32,
    addr: usize,
    addrlen: u32,
) -> SysResult {
    // The buffer's range is checked, then the descriptor looked up, before
    // the address is copied in (net/socket.c __sys_sendto).
    check_user_buf(buf, len)?;
    let sock = socket_of(sc, fd)?;
    let name = if addr != 0 && addrlen != 0 {
        Some(read_addr(addr, addrlen)?)
    } else {
        None
    };
    do_send(sc, sock, &[(buf, len)], name, &[], flags)
}

/// sendmsg(2).
#[inline(never)]
pub fn sys_sendmsg(sc: &mut SyscallContext<'_>, fd: i32, msg: usize, flags: u32) -> SysResult {
    // The descriptor is looked up before any argument is copied in.
    check_compat(flags)?;
    let sock = socket_of(sc, fd)?;
    sendmsg_one(sc, sock, msg, flags).map(|(n, _)| n)
}

/// One sendmsg of the `struct msghdr` at `msg`: the bytes sent, and
/// whether that was all of them.
fn sendmsg_one(
    sc: &SyscallContext<'_>,
    sock: (Arc<OpenFile>, Arc<UnixSocket>),
    msg: usize,
    flags: u32,
) -> KResult<(usize, bool)> {
    let hdr = read_msghdr(msg)?;
    if hdr.controllen > i32::MAX as usize {
        return Err(Errno::ENOBUFS);
    }
    let iov = read_iov(hdr.iov, hdr.iovlen)?;
    let name = if hdr.name != 0 && hdr.namelen != 0 {
        Some(read_addr(hdr.name, hdr.namelen)?)
    } else {
        None
    };
    let mut control = Vec::new();
    if hdr.controllen > 0 {
        if hdr.controllen > OPTMEM_MAX {
            return Err(Errno::ENOBUFS);
        }
        control.resize(hdr.controllen, 0);
        usercopy::copy_from_user(&mut control, hdr.control)?;
    }
    let total = iov.iter().map(|v| v.1).sum::<usize>();
    let sent = do_send(sc, sock, &iov, name, &control, flags)?;
    Ok((sent, sent >= total.min(MAX_RW)))
}

/// sendmmsg(2): sendmsg for each `struct mmsghdr` (vlen capped at
/// UIO_MAXIOV), each one's count stored in its msg_len; stops at an error
/// or a message sent in part. The number sent, or the first error.
#[inline(never)]
pub fn sys_sendmmsg(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    vec: usize,
    vlen: u32,
    flags: u32,
) -> SysResult {
    check_compat(flags)?;
    let sock = socket_of(sc, fd)?;
    let vlen = (vlen as usize).min(IOV_MAX);
    let mut done = 0;
    while done < vlen {
        let entry = vec + done * MMSGHDR_SIZE;
        match sendmsg_one(sc, sock.clone(), entry, flags) {
            Ok((n, whole)) => {
                usercopy::write_u32(entry + 56, n as u32)?;
                done += 1;
                if !whole {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// What a receive hands back to recvfrom or recvmsg.
struct RecvOut {
    ret: usize,
    flags: u32,
    from: UnixAddr,
    control: Vec<u8>,
}

/// The receive shared by recvfrom and recvmsg; `control` is the user's
/// control buffer (address, length), if any.
fn do_recv(
    sc: &SyscallContext<'_>,
    (file, sock): (Arc<OpenFile>, Arc<UnixSocket>),
    iov: &[(usize, usize)],
    flags: u32,
    control: Option<(usize, usize)>,
) -> KResult<RecvOut> {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let total: usize = iov.iter().map(|v| v.1).sum();
    let mut buf = vec![0u8; total.min(RECV_CHUNK)];
    let peek = flags & MSG_PEEK != 0;
    let nonblock = file.nonblocking() || flags & MSG_DONTWAIT != 0;
    let stream = sock.sock_type() == SockType::Stream;
    // tcp_recvmsg: no connection is ENOTCONN (a unix stream socket says
    // EINVAL).
    if stream && !sock.is_connected() && inet_of(&file).is_some() {
        return Err(Errno::ENOTCONN);
    }
    let recv_once = |buf: &mut [u8]| -> KResult<Received> {
        if nonblock {
            sock.recv(buf, peek)
        } else {
            block::wait_io(
                sc.thread,
                sock.io_timeout(false),
                // SAFETY: `sock` outlives the registrar.
                |sink| unsafe { sock.register_poll(sink, IoEvents::IN) },
                || match sock.recv(buf, peek) {
                    Err(Errno::EAGAIN) => None,
                    other => Some(other),
                },
            )
        }
    };
    let mut got = recv_once(&mut buf)?;
    // MSG_WAITALL: a stream read goes on until the buffer is full, the
    // stream ends, descriptors arrive or a signal comes.
    if stream && flags & MSG_WAITALL != 0 && !peek && !nonblock {
        while got.copied < buf.len() && got.copied > 0 && got.rights.is_empty() {
            let at = got.copied;
            match recv_once(&mut buf[at..]) {
                Ok(more) if more.copied > 0 => {
                    got.copied += more.copied;
                    got.full = got.copied;
                    got.rights = more.rights;
                }
                _ => break,
            }
        }
    }
    scatter(iov, &buf[..got.copied])?;
    let mut out_flags = flags & MSG_CMSG_CLOEXEC;
    if !stream && got.full > got.copied {
        out_flags |= MSG_TRUNC;
    }
    let ret = if !stream && flags & MSG_TRUNC != 0 {
        got.full
    } else {
        got.copied
    };
    let mut writer = cmsg::Writer::new(control.map_or(0, |c| c.1));
    match control {
        Some((ptr, len)) if ptr != 0 && len > 0 => {
            if let Some(c) = got.creds {
                let pid = sc.user_id(c.pid as crate::task::Pid) as u32;
                let mut data = [0u8; 12];
                data[..4].copy_from_slice(&pid.to_ne_bytes());
                data[4..8].copy_from_slice(&c.uid.to_ne_bytes());
                data[8..].copy_from_slice(&c.gid.to_ne_bytes());
                writer.put(SOL_SOCKET, SCM_CREDENTIALS, &data);
            }
            if !got.rights.is_empty() {
                let fit = writer.fds_that_fit().min(got.rights.len());
                let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
                let mut fds = Vec::with_capacity(fit);
                for f in got.rights.drain(..fit) {
                    match fs::install(sc, f, cloexec) {
                        Ok(fd) => fds.push(fd as i32),
                        Err(_) => break,
                    }
                }
                writer.put_fds(&fds);
                if !got.rights.is_empty() {
                    writer.truncated = true;
                }
            }
        }
        _ => {
            if got.creds.is_some() || !got.rights.is_empty() {
                writer.truncated = true;
            }
        }
    }
    if writer.truncated {
        out_flags |= MSG_CTRUNC;
    }
    // Descriptors that did not fit are closed here, outside every lock.
    drop(got.rights);
    Ok(RecvOut {
        ret,
        flags: out_flags,
        from: match inet_of(&file) {
            Some(i) => i.convert_from(got.from),
            None => got.from,
        },
        control: writer.buf,
    })
}

/// The sender's address for recvfrom/recvmsg: none at all (length 0) for
/// an unbound sender (unix_copy_addr).
fn write_from(ptr: usize, len_ptr: usize, from: &UnixAddr) -> KResult<()> {
    if ptr == 0 || len_ptr == 0 {
        return Ok(());
    }
    let have = usercopy::read_i32(len_ptr)?;
    let have = usize::try_from(have).map_err(|_| Errno::EINVAL)?;
    let raw = match from {
        UnixAddr::Unnamed => Vec::new(),
        a => a.encode(),
    };
    let n = have.min(raw.len());
    if n > 0 {
        usercopy::copy_to_user(ptr, &raw[..n])?;
    }
    usercopy::write_i32(len_ptr, raw.len() as i32)
}

/// recvfrom(2).
#[inline(never)]
pub fn sys_recvfrom(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    buf: usize,
    len: usize,
    flags: u32,
    addr: usize,
    addrlen: usize,
) -> SysResult {
    // The buffer's range is checked before the descriptor is looked up
    // (net/socket.c __sys_recvfrom).
    check_user_buf(buf, len)?;
    let sock = socket_of(sc, fd)?;
    let len = len.min(MAX_RW);
    usercopy::check_writable(buf, len)?;
    let out = do_recv(sc, sock, &[(buf, len)], flags, None)?;
    write_from(addr, addrlen, &out.from)?;
    Ok(out.ret)
}

/// recvmsg(2): fills msg_name, the control buffer, msg_controllen and
/// msg_flags.
#[inline(never)]
pub fn sys_recvmsg(sc: &mut SyscallContext<'_>, fd: i32, msg: usize, flags: u32) -> SysResult {
    // The descriptor is looked up before any argument is copied in.
    check_compat(flags)?;
    let sock = socket_of(sc, fd)?;
    recvmsg_one(sc, sock, msg, flags).map(|(n, _)| n)
}

/// One recvmsg into the `struct msghdr` at `msg`: the count and the
/// msg_flags set.
fn recvmsg_one(
    sc: &SyscallContext<'_>,
    sock: (Arc<OpenFile>, Arc<UnixSocket>),
    msg: usize,
    flags: u32,
) -> KResult<(usize, u32)> {
    let hdr = read_msghdr(msg)?;
    if (hdr.namelen as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let iov = read_iov(hdr.iov, hdr.iovlen)?;
    let out = do_recv(sc, sock, &iov, flags, Some((hdr.control, hdr.controllen)))?;
    // msg_namelen is left alone without msg_name (____sys_recvmsg).
    if hdr.name != 0 {
        write_from(hdr.name, msg + 8, &out.from)?;
    }
    if !out.control.is_empty() {
        usercopy::copy_to_user(hdr.control, &out.control)?;
    }
    usercopy::copy_to_user(msg + 40, &out.control.len().to_ne_bytes())?;
    usercopy::write_u32(msg + 48, out.flags)?;
    Ok((out.ret, out.flags))
}

/// recvmmsg(2): recvmsg into each `struct mmsghdr` (vlen capped at
/// UIO_MAXIOV), each one's count in its msg_len. MSG_WAITFORONE makes the
/// receives after the first non-blocking. The timeout, as on Linux, is
/// only looked at after each message (a receive still waits), and what is
/// left of it is written back. The number received; the first error only
/// when nothing was.
#[inline(never)]
pub fn sys_recvmmsg(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    vec: usize,
    vlen: u32,
    flags: u32,
    timeout: usize,
) -> SysResult {
    // net/socket.c: the flags, then the timeout is copied in (EFAULT),
    // then the descriptor.
    check_compat(flags)?;
    let deadline = if timeout == 0 {
        None
    } else {
        Some(block::now().saturating_add(crate::syscall::fs::read_timespec(timeout)?))
    };
    let sock = socket_of(sc, fd)?;
    let vlen = (vlen as usize).min(IOV_MAX);
    let mut flags = flags;
    let mut done = 0;
    let mut first_err = None;
    while done < vlen {
        let entry = vec + done * MMSGHDR_SIZE;
        match recvmsg_one(sc, sock.clone(), entry, flags & !MSG_WAITFORONE) {
            Ok((n, _)) => {
                usercopy::write_u32(entry + 56, n as u32)?;
                done += 1;
            }
            Err(e) => {
                first_err = Some(e);
                break;
            }
        }
        if flags & MSG_WAITFORONE != 0 {
            flags |= MSG_DONTWAIT;
        }
        if deadline.is_some_and(|d| block::now() >= d) {
            break;
        }
    }
    if let Some(d) = deadline {
        let left = d.saturating_sub(block::now());
        let mut ts = [0u8; 16];
        ts[..8].copy_from_slice(&left.as_secs().to_ne_bytes());
        ts[8..].copy_from_slice(&u64::from(left.subsec_nanos()).to_ne_bytes());
        usercopy::copy_to_user(timeout, &ts)?;
    }
    match first_err {
        Some(e) if done == 0 => Err(e),
        _ => Ok(done),
    }
}
