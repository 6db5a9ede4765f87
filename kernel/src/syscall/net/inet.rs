//! The AF_INET and AF_INET6 side of bind, listen, accept, connect, the
//! name calls, datagram addressing and the IP-level options (ip(7),
//! ipv6(7), tcp(7), udp(7)); the socket objects are in
//! `starling_fs::file::inet`.

use alloc::{sync::Arc, vec::Vec};
use core::sync::atomic::Ordering;

use axpoll::IoEvents;
use starling_fs::{
    file::{
        FileLike, OpenFile,
        inet::{IPPROTO_TCP, InetSocket},
        unix::{SockType, UnixSocket},
    },
    inet::{
        addr::{self, AF_INET, Parsed},
        ports::UNPRIVILEGED_PORT_START,
    },
    unix::addr::UnixAddr,
};

use super::{peer_cred, socket::socket_file, write_addr};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs},
    task::block,
};

/// CAP_NET_BIND_SERVICE: ports below 1024.
const CAP_NET_BIND_SERVICE: u32 = 10;

fn parse(sock: &InetSocket, raw: &[u8], unspec_ok: bool) -> KResult<Parsed> {
    addr::parse(sock.family(), raw, unspec_ok)
}

/// bind(2): EACCES for a port below 1024 without CAP_NET_BIND_SERVICE.
pub(super) fn bind(sc: &SyscallContext<'_>, sock: &InetSocket, raw: &[u8]) -> SysResult {
    let Parsed::Addr(a) = parse(sock, raw, false)? else {
        return Err(Errno::EAFNOSUPPORT);
    };
    if a.port != 0
        && a.port < UNPRIVILEGED_PORT_START
        && !sc.thread.process.creds.lock().capable(CAP_NET_BIND_SERVICE)
    {
        return Err(Errno::EACCES);
    }
    sock.bind(a)?;
    Ok(0)
}

/// listen(2).
pub(super) fn listen(sc: &SyscallContext<'_>, sock: &InetSocket, backlog: i32) -> SysResult {
    sock.listen(backlog, peer_cred(sc))?;
    Ok(0)
}

/// accept4(2)'s work: the new socket's descriptor, its peer's address
/// written out.
pub(super) fn accept(
    sc: &mut SyscallContext<'_>,
    file: &Arc<OpenFile>,
    sock: &InetSocket,
    (addr, len_ptr, flags): (usize, usize, u32),
) -> SysResult {
    if sock.sock_type() != SockType::Stream {
        return Err(Errno::EOPNOTSUPP);
    }
    let new = fs::blocking(sc, file, IoEvents::IN, || sock.accept())?;
    let peer = new.peer_addr().ok().map(|p| new.encode(p));
    let nfd = fs::install(
        sc,
        socket_file(new, flags),
        flags & super::socket::SOCK_CLOEXEC != 0,
    )?;
    if let Some(p) = peer {
        write_addr(addr, len_ptr, &UnixAddr::Foreign(p))?;
    }
    Ok(nfd)
}

/// connect(2). TCP on loopback connects at once: a blocking connect waits
/// only for room in the listener's backlog; a non-blocking one returns
/// EINPROGRESS as Linux does (the handshake runs after the call there),
/// the outcome coming through poll, SO_ERROR and the next connect.
pub(super) fn connect(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    sock: &InetSocket,
    raw: &[u8],
) -> SysResult {
    let parsed = parse(sock, raw, true)?;
    if sock.sock_type() == SockType::Dgram {
        let dst = match parsed {
            Parsed::Addr(a) => Some(a),
            Parsed::Unspec => None,
        };
        sock.connect_udp(dst)?;
        return Ok(0);
    }
    if let Some(r) = sock.connect_again() {
        r?;
        return Ok(0);
    }
    let Parsed::Addr(dst) = parsed else {
        // AF_UNSPEC on an unconnected TCP socket: nothing to dissolve.
        return Ok(0);
    };
    let nonblock = file.nonblocking();
    let (target, peer) = match sock.connect_target(dst) {
        Err(Errno::ECONNREFUSED) if nonblock => {
            sock.set_refused(Errno::ECONNREFUSED);
            return Err(Errno::EINPROGRESS);
        }
        other => other?,
    };
    let inner = sock.inner();
    let cred = peer_cred(sc);
    let result = if nonblock {
        inner.connect_stream(&target, cred)
    } else {
        block::wait_io(
            sc.thread,
            inner.io_timeout(true),
            // SAFETY: `target` outlives the registrar, which wait_io drops
            // before returning.
            |sink| unsafe { target.register_poll(sink, IoEvents::OUT | IoEvents::IN) },
            || match inner.connect_stream(&target, cred) {
                Err(Errno::EAGAIN) => None,
                other => Some(other),
            },
        )
    };
    match result {
        Ok(()) => {
            sock.set_connected(peer, nonblock);
            if nonblock {
                Err(Errno::EINPROGRESS)
            } else {
                Ok(0)
            }
        }
        Err(Errno::EAGAIN) => Err(Errno::EAGAIN),
        Err(e) => Err(e),
    }
}

/// getsockname(2).
pub(super) fn sockname(sock: &InetSocket, ptr: usize, len_ptr: usize) -> SysResult {
    write_addr(
        ptr,
        len_ptr,
        &UnixAddr::Foreign(sock.encode(sock.local_addr())),
    )?;
    Ok(0)
}

/// getpeername(2): ENOTCONN without a peer.
pub(super) fn peername(sock: &InetSocket, ptr: usize, len_ptr: usize) -> SysResult {
    let p = sock.peer_addr()?;
    write_addr(ptr, len_ptr, &UnixAddr::Foreign(sock.encode(p)))?;
    Ok(0)
}

/// Where a datagram goes (sendto, sendmsg): `Ok(None)` drops it, as a
/// datagram to a port nobody holds is lost on Linux too. A TCP socket
/// ignores the address (tcp_sendmsg).
pub(super) fn send_target(
    sock: &InetSocket,
    name: Option<Vec<u8>>,
) -> KResult<Option<Option<Arc<UnixSocket>>>> {
    if sock.sock_type() == SockType::Stream {
        // tcp_sendmsg: no connection is EPIPE (sk_stream_wait_connect).
        if !sock.inner().is_connected() {
            return Err(Errno::EPIPE);
        }
        return Ok(Some(None));
    }
    let dst = match name {
        Some(raw) => match parse(sock, &raw, false)? {
            Parsed::Addr(a) => Some(a),
            Parsed::Unspec => return Err(Errno::EAFNOSUPPORT),
        },
        None => None,
    };
    Ok(sock.dgram_target(dst)?.map(Some))
}

/// The largest UDP payload (65535 less the IP and UDP headers).
pub(super) fn udp_max(sock: &InetSocket) -> usize {
    if sock.family() == AF_INET {
        65_507
    } else {
        65_527
    }
}

pub(super) const SOL_IP: i32 = 0;
pub(super) const SOL_TCP: i32 = IPPROTO_TCP;
pub(super) const SOL_IPV6: i32 = 41;
const SOL_UDP: i32 = 17;
pub(super) const SO_KEEPALIVE: i32 = 9;
pub(super) const SO_BROADCAST: i32 = 6;
pub(super) const SO_LINGER: i32 = 13;
pub(super) const SO_REUSEPORT: i32 = 15;
const IP_TOS: i32 = 1;
const IPV6_V6ONLY: i32 = 26;
const IPV6_TCLASS: i32 = 67;
const TCP_NODELAY: i32 = 1;
const TCP_CORK: i32 = 3;

/// An option of an inet socket at a level other than SOL_SOCKET, read:
/// ENOPROTOOPT for what is not kept.
pub(super) fn get_ip_opt(sock: &InetSocket, level: i32, name: i32) -> KResult<i32> {
    let o = &sock.opts;
    let tcp = sock.sock_type() == SockType::Stream;
    let six = sock.family() != AF_INET;
    Ok(match (level, name) {
        (SOL_IP, IP_TOS) => o.tos.load(Ordering::Relaxed) as i32,
        (SOL_IPV6, IPV6_V6ONLY) if six => i32::from(o.v6only.load(Ordering::Relaxed)),
        (SOL_IPV6, IPV6_TCLASS) if six => o.tos.load(Ordering::Relaxed) as i32,
        (SOL_TCP, TCP_NODELAY) if tcp => i32::from(o.nodelay.load(Ordering::Relaxed)),
        (SOL_TCP, TCP_CORK) if tcp => i32::from(o.cork.load(Ordering::Relaxed)),
        // ip_getsockopt refuses a level it does not know with EOPNOTSUPP;
        // ipv6_getsockopt, tcp_getsockopt and unknown names ENOPROTOOPT.
        (SOL_IP, _) => return Err(Errno::ENOPROTOOPT),
        (SOL_TCP, _) if tcp => return Err(Errno::ENOPROTOOPT),
        (SOL_UDP, _) if !tcp => return Err(Errno::ENOPROTOOPT),
        _ if six => return Err(Errno::ENOPROTOOPT),
        _ => return Err(Errno::EOPNOTSUPP),
    })
}

/// Sets an option of an inet socket at a level other than SOL_SOCKET.
/// IP_TOS on TCP keeps the ECN bits clear (do_ip_setsockopt); TCP_NODELAY
/// and TCP_CORK change no timing here (no segments on loopback).
pub(super) fn set_ip_opt(sock: &InetSocket, level: i32, name: i32, v: i32) -> KResult<()> {
    let o = &sock.opts;
    let tcp = sock.sock_type() == SockType::Stream;
    let six = sock.family() != AF_INET;
    match (level, name) {
        (SOL_IP, IP_TOS) => {
            let v = if tcp { v & !3 } else { v } & 0xff;
            o.tos.store(v as u32, Ordering::Relaxed);
        }
        (SOL_IPV6, IPV6_V6ONLY) if six => sock.set_v6only(v != 0)?,
        (SOL_IPV6, IPV6_TCLASS) if six => {
            if !(-1..=0xff).contains(&v) {
                return Err(Errno::EINVAL);
            }
            o.tos.store(v.max(0) as u32, Ordering::Relaxed);
        }
        (SOL_TCP, TCP_NODELAY) if tcp => o.nodelay.store(v != 0, Ordering::Relaxed),
        (SOL_TCP, TCP_CORK) if tcp => o.cork.store(v != 0, Ordering::Relaxed),
        _ => {
            warn!("setsockopt: inet option level {level} name {name} is not supported");
            return Err(Errno::ENOPROTOOPT);
        }
    }
    Ok(())
}
