//! socket(2) and socketpair(2).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use starling_fs::file::{
    FileLike, OpenFile,
    flags::{O_NONBLOCK, O_RDWR},
    inet::{IPPROTO_TCP, IPPROTO_UDP, InetSocket},
    unix::{SockType, UnixSocket},
};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

pub const AF_UNIX: i32 = 1;
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
const AF_NETLINK: i32 = 16;
const AF_PACKET: i32 = 17;
/// NPROTO: families at or past it are EAFNOSUPPORT before anything else.
const AF_MAX: i32 = 46;
pub const SOCK_NONBLOCK: u32 = 0o4000;
pub const SOCK_CLOEXEC: u32 = 0o2000000;
const SOCK_TYPE_MASK: u32 = 0xf;
/// SOCK_MAX: type numbers at or past it are EINVAL.
const SOCK_MAX: u32 = 11;

static LOGGED_FAMILY: AtomicBool = AtomicBool::new(false);

/// The AF_UNIX socket type `ty` asks for, with its flags, after
/// __sys_socket and unix_create: EINVAL for unknown flag bits or a type
/// past SOCK_MAX, EAFNOSUPPORT for a family other than AF_UNIX (`other`
/// decides its error), EPROTONOSUPPORT for a protocol but 0 or PF_UNIX,
/// ESOCKTNOSUPPORT for other types. SOCK_RAW is a datagram socket.
fn unix_type(domain: i32, ty: u32, protocol: i32, other: Errno) -> KResult<(SockType, u32)> {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if !(0..AF_MAX).contains(&domain) {
        return Err(Errno::EAFNOSUPPORT);
    }
    let ty = ty & SOCK_TYPE_MASK;
    if ty >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    if domain != AF_UNIX {
        if !LOGGED_FAMILY.swap(true, Ordering::Relaxed) {
            warn!(
                "socket: address family {domain} is not supported (only AF_UNIX, AF_INET and AF_INET6)"
            );
        }
        return Err(other);
    }
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let kind = match ty {
        1 => SockType::Stream,
        2 | 3 => SockType::Dgram,
        5 => SockType::SeqPacket,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    Ok((kind, flags))
}

/// CAP_NET_RAW: raw sockets.
const CAP_NET_RAW: u32 = 13;
const SOCK_RAW: u32 = 3;

/// An AF_INET or AF_INET6 socket (inet_create, inet6_create): TCP for
/// SOCK_STREAM, UDP for SOCK_DGRAM, protocol 0 or the matching one
/// (EPROTONOSUPPORT otherwise); SOCK_RAW needs CAP_NET_RAW (EPERM) and is
/// not implemented then (EPROTONOSUPPORT, logged); other types
/// ESOCKTNOSUPPORT.
fn inet_socket(
    sc: &SyscallContext<'_>,
    domain: i32,
    ty: u32,
    protocol: i32,
) -> KResult<(Arc<InetSocket>, u32)> {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let kind = match (ty & SOCK_TYPE_MASK, protocol) {
        (1, 0 | IPPROTO_TCP) => SockType::Stream,
        (2, 0 | IPPROTO_UDP) => SockType::Dgram,
        (1 | 2, _) => return Err(Errno::EPROTONOSUPPORT),
        (SOCK_RAW, _) => {
            if !sc.thread.process.creds.lock().capable(CAP_NET_RAW) {
                return Err(Errno::EPERM);
            }
            warn!("socket: raw IP sockets are not supported");
            return Err(Errno::EPROTONOSUPPORT);
        }
        (t, _) if t >= SOCK_MAX => return Err(Errno::EINVAL),
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    let uid = sc.thread.process.creds.lock().euid;
    Ok((InetSocket::new(domain as u16, kind, uid), flags))
}

/// The open file of a new socket.
pub(super) fn socket_file(sock: Arc<dyn FileLike>, flags: u32) -> Arc<OpenFile> {
    let status = if flags & SOCK_NONBLOCK != 0 {
        O_NONBLOCK
    } else {
        0
    };
    OpenFile::new(sock, O_RDWR | status)
}

/// socket(2).
#[inline(never)]
pub fn sys_socket(sc: &mut SyscallContext<'_>, domain: i32, ty: u32, protocol: i32) -> SysResult {
    if matches!(domain, AF_INET | AF_INET6) {
        let (sock, flags) = inet_socket(sc, domain, ty, protocol)?;
        let file = socket_file(sock, flags);
        return crate::syscall::fs::install(sc, file, flags & SOCK_CLOEXEC != 0);
    }
    let (kind, flags) = unix_type(domain, ty, protocol, Errno::EAFNOSUPPORT)?;
    let file = socket_file(UnixSocket::new(kind), flags);
    crate::syscall::fs::install(sc, file, flags & SOCK_CLOEXEC != 0)
}

/// socketpair(2): AF_UNIX only; the families Linux has without
/// socketpair give EOPNOTSUPP.
#[inline(never)]
pub fn sys_socketpair(
    sc: &mut SyscallContext<'_>,
    domain: i32,
    ty: u32,
    protocol: i32,
    sv: usize,
) -> SysResult {
    // net/socket.c __sys_socketpair: the flags (EINVAL), then the two
    // descriptors are stored into `sv` (EFAULT) before the family is
    // looked at. The probe writes back what is there.
    if ty & !SOCK_TYPE_MASK & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut probe = [0u8; 8];
    usercopy::copy_from_user(&mut probe, sv)?;
    usercopy::copy_to_user(sv, &probe)?;
    let other = if matches!(domain, AF_INET | AF_INET6 | AF_NETLINK | AF_PACKET) {
        Errno::EOPNOTSUPP
    } else {
        Errno::EAFNOSUPPORT
    };
    let (kind, flags) = unix_type(domain, ty, protocol, other)?;
    let (a, b) = UnixSocket::pair(kind, super::peer_cred(sc));
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let files = sc.thread.process.files();
    let (fa, fb) = {
        let mut table = files.lock();
        let fa = table.alloc(socket_file(a, flags), cloexec)?;
        match table.alloc(socket_file(b, flags), cloexec) {
            Ok(fb) => (fa, fb),
            Err(e) => {
                table.remove(fa);
                return Err(e.into());
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&fa.to_ne_bytes());
    out[4..].copy_from_slice(&fb.to_ne_bytes());
    if let Err(e) = usercopy::copy_to_user(sv, &out) {
        let mut table = files.lock();
        table.remove(fa);
        table.remove(fb);
        return Err(e);
    }
    Ok(0)
}
