//! bind, listen, accept, connect, shutdown, getsockname and getpeername.

use alloc::{sync::Arc, vec::Vec};

use axfs_ng_vfs::{NodePermission, NodeType};
use axpoll::IoEvents;
use starling_fs::{
    file::{
        FileLike,
        unix::{BindKey, SockType, UnixSocket},
    },
    unix::addr::{self, Parsed, UnixAddr},
};

use super::{
    inet, inet_of, peer_cred, read_addr,
    socket::{SOCK_CLOEXEC, SOCK_NONBLOCK, socket_file},
    socket_of, target_of, write_addr,
};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs},
    task::block,
};

/// AF_UNSPEC: dissolves a datagram socket's default peer.
const AF_UNSPEC: u16 = 0;

/// bind(2): a path creates the socket file (mode 0777 & ~umask;
/// EADDRINUSE if the name exists), an abstract name enters the registry,
/// the family alone autobinds. EINVAL when already bound (the file just
/// made is removed again, as unix_bind_bsd does).
#[inline(never)]
pub fn sys_bind(sc: &mut SyscallContext<'_>, fd: i32, addr: usize, len: u32) -> SysResult {
    let (file, sock) = socket_of(sc, fd)?;
    let raw = read_addr(addr, len)?;
    if let Some(i) = inet_of(&file) {
        return inet::bind(sc, &i, &raw);
    }
    match addr::parse(&raw)? {
        Parsed::Autobind => sock.autobind()?,
        Parsed::Named(UnixAddr::Abstract(name)) => sock.bind(
            UnixAddr::Abstract(name.clone()),
            BindKey::Abstract(sock.sock_type(), name),
        )?,
        Parsed::Named(UnixAddr::Path(path)) => bind_path(sc, &sock, path)?,
        Parsed::Named(UnixAddr::Unnamed | UnixAddr::Foreign(_)) => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// Binds to a file system path: the S_IFSOCK node first (the walk's errors,
/// EEXIST as EADDRINUSE), then the registry under its (device, inode).
/// Paths must be UTF-8 here (the VFS takes `str`): others are EINVAL.
fn bind_path(sc: &SyscallContext<'_>, sock: &Arc<UnixSocket>, path: Vec<u8>) -> KResult<()> {
    let text = core::str::from_utf8(&path).map_err(|_| Errno::EINVAL)?;
    let ctx = fs::at_context(sc.thread, fs::AT_FDCWD, text)?;
    let umask = sc
        .thread
        .process
        .umask
        .load(core::sync::atomic::Ordering::Relaxed);
    let perm = NodePermission::from_bits_truncate((0o777 & !umask) as u16);
    let (uid, gid, _) = fs::owner_in(sc.thread, &ctx, text);
    let creds = fs::credentials(sc.thread);
    let node = ctx
        .create_node(text, NodeType::Socket, perm, uid, gid, &creds)
        .map_err(|e| match Errno::from(e) {
            Errno::EEXIST => Errno::EADDRINUSE,
            e => e,
        })?;
    let meta = node.metadata()?;
    if let Err(e) = sock.bind(
        UnixAddr::Path(path.clone()),
        BindKey::Inode(meta.device, meta.inode),
    ) {
        let _ = ctx.remove_file(text, &creds);
        return Err(e);
    }
    Ok(())
}

/// listen(2).
#[inline(never)]
pub fn sys_listen(sc: &mut SyscallContext<'_>, fd: i32, backlog: i32) -> SysResult {
    let (file, sock) = socket_of(sc, fd)?;
    if let Some(i) = inet_of(&file) {
        return inet::listen(sc, &i, backlog);
    }
    sock.listen(backlog, peer_cred(sc))?;
    Ok(0)
}

/// accept4(2) (and accept(2) with no flags): waits for a connection unless
/// the listener is O_NONBLOCK; the new descriptor gets only `flags`'
/// SOCK_NONBLOCK and SOCK_CLOEXEC.
#[inline(never)]
pub fn sys_accept4(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    addr: usize,
    len_ptr: usize,
    flags: u32,
) -> SysResult {
    // net/socket.c: the descriptor (EBADF), the flags (EINVAL), then
    // whether it is a socket (ENOTSOCK).
    fs::file_of(sc.thread, fd)?;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (file, sock) = socket_of(sc, fd)?;
    if let Some(i) = inet_of(&file) {
        return inet::accept(sc, &file, &i, (addr, len_ptr, flags));
    }
    let new = fs::blocking(sc, &file, IoEvents::IN, || sock.accept())?;
    let peer = new.peer_addr().unwrap_or(UnixAddr::Unnamed);
    let nfd = fs::install(sc, socket_file(new, flags), flags & SOCK_CLOEXEC != 0)?;
    write_addr(addr, len_ptr, &peer)?;
    Ok(nfd)
}

/// connect(2): a stream or seqpacket socket connects to a listener,
/// waiting while its backlog is full unless O_NONBLOCK (EAGAIN); a
/// datagram socket takes a default peer, or with AF_UNSPEC drops it.
#[inline(never)]
pub fn sys_connect(sc: &mut SyscallContext<'_>, fd: i32, addr: usize, len: u32) -> SysResult {
    // net/socket.c __sys_connect: the descriptor (EBADF), the address
    // (EINVAL, EFAULT), then whether it is a socket (ENOTSOCK).
    fs::file_of(sc.thread, fd)?;
    let raw = read_addr(addr, len)?;
    let (file, sock) = socket_of(sc, fd)?;
    if let Some(i) = inet_of(&file) {
        return inet::connect(sc, &file, &i, &raw);
    }
    if sock.sock_type() == SockType::Dgram
        && raw.len() >= 2
        && u16::from_ne_bytes([raw[0], raw[1]]) == AF_UNSPEC
    {
        sock.connect_dgram(None)?;
        return Ok(0);
    }
    let target = target_of(sc, &raw, sock.sock_type())?;
    if sock.passcred.load(core::sync::atomic::Ordering::Relaxed) {
        sock.autobind()?;
    }
    if sock.sock_type() == SockType::Dgram {
        sock.connect_dgram(Some(&target))?;
        return Ok(0);
    }
    let cred = peer_cred(sc);
    if file.nonblocking() {
        sock.connect_stream(&target, cred)?;
        return Ok(0);
    }
    // unix_stream_connect waits up to SO_SNDTIMEO.
    block::wait_io(
        sc.thread,
        sock.io_timeout(true),
        // SAFETY: `target` outlives the registrar, which wait_event drops
        // before returning.
        |sink| unsafe { target.register_poll(sink, IoEvents::OUT | IoEvents::IN) },
        || match sock.connect_stream(&target, cred) {
            Err(Errno::EAGAIN) => None,
            other => Some(other),
        },
    )?;
    Ok(0)
}

/// shutdown(2).
#[inline(never)]
pub fn sys_shutdown(sc: &mut SyscallContext<'_>, fd: i32, how: i32) -> SysResult {
    let (file, sock) = socket_of(sc, fd)?;
    let how = u32::try_from(how).map_err(|_| Errno::EINVAL)?;
    sock.shutdown(how)?;
    // inet_shutdown: an unconnected socket is shut but reports ENOTCONN.
    if let Some(i) = inet_of(&file)
        && !i.is_connected()
        && !sock.is_listening()
    {
        return Err(Errno::ENOTCONN);
    }
    Ok(0)
}

/// getsockname(2).
#[inline(never)]
pub fn sys_getsockname(sc: &mut SyscallContext<'_>, fd: i32, addr: usize, len: usize) -> SysResult {
    let (file, sock) = socket_of(sc, fd)?;
    check_len(len)?;
    if let Some(i) = inet_of(&file) {
        return inet::sockname(&i, addr, len);
    }
    write_addr(addr, len, &sock.local_addr())?;
    Ok(0)
}

/// getpeername(2): ENOTCONN without a peer.
#[inline(never)]
pub fn sys_getpeername(sc: &mut SyscallContext<'_>, fd: i32, addr: usize, len: usize) -> SysResult {
    let (file, sock) = socket_of(sc, fd)?;
    check_len(len)?;
    if let Some(i) = inet_of(&file) {
        return inet::peername(&i, addr, len);
    }
    write_addr(addr, len, &sock.peer_addr()?)?;
    Ok(0)
}

/// A negative address length is EINVAL; a bad pointer EFAULT.
fn check_len(len_ptr: usize) -> KResult<()> {
    if crate::usercopy::read_i32(len_ptr)? < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}
