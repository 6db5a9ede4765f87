//! getsockopt(2) and setsockopt(2) at SOL_SOCKET (net/core/sock.c
//! sk_getsockopt, sk_setsockopt).

use core::sync::atomic::Ordering;

use starling_fs::unix::cmsg::SOL_SOCKET;

use super::{socket::AF_UNIX, socket_of};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

const SO_REUSEADDR: i32 = 2;
const SO_TYPE: i32 = 3;
const SO_ERROR: i32 = 4;
const SO_SNDBUF: i32 = 7;
const SO_RCVBUF: i32 = 8;
const SO_PASSCRED: i32 = 16;
const SO_PEERCRED: i32 = 17;
const SO_ACCEPTCONN: i32 = 30;
const SO_PROTOCOL: i32 = 38;
const SO_DOMAIN: i32 = 39;

/// Copies `value` out cut to the caller's length, and that length back.
fn put_opt(optval: usize, optlen: usize, value: &[u8]) -> KResult<()> {
    let len = usercopy::read_i32(optlen)?;
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    let n = len.min(value.len());
    if n > 0 {
        usercopy::copy_to_user(optval, &value[..n])?;
    }
    usercopy::write_i32(optlen, n as i32)
}

/// getsockopt(2): EOPNOTSUPP for levels other than SOL_SOCKET (AF_UNIX has
/// none), ENOPROTOOPT for options Starling does not keep, EINVAL for a
/// negative length.
pub fn sys_getsockopt(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    level: i32,
    name: i32,
    optval: usize,
    optlen: usize,
) -> SysResult {
    let (_, sock) = socket_of(sc, fd)?;
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP);
    }
    let int = |v: i32| put_opt(optval, optlen, &v.to_ne_bytes());
    match name {
        SO_TYPE => int(sock.sock_type() as i32)?,
        SO_DOMAIN => int(AF_UNIX)?,
        SO_PROTOCOL => int(0)?,
        SO_ACCEPTCONN => int(i32::from(sock.is_listening()))?,
        SO_ERROR => int(sock.take_error().map_or(0, |e| e.0))?,
        SO_SNDBUF => int(sock.sndbuf() as i32)?,
        SO_RCVBUF => int(sock.rcvbuf() as i32)?,
        SO_PASSCRED => int(i32::from(sock.passcred.load(Ordering::Relaxed)))?,
        SO_REUSEADDR => int(i32::from(sock.reuseaddr.load(Ordering::Relaxed)))?,
        SO_PEERCRED => {
            // No peer: pid 0 and the ids -1 (cred_to_ucred of no cred).
            let (pid, uid, gid) = match sock.peer_cred() {
                Some(c) => (sc.user_id(c.pid as crate::task::Pid) as u32, c.uid, c.gid),
                None => (0, u32::MAX, u32::MAX),
            };
            let mut v = [0u8; 12];
            v[..4].copy_from_slice(&pid.to_ne_bytes());
            v[4..8].copy_from_slice(&uid.to_ne_bytes());
            v[8..].copy_from_slice(&gid.to_ne_bytes());
            put_opt(optval, optlen, &v)?;
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(0)
}

/// setsockopt(2): EOPNOTSUPP for other levels, EINVAL for a value shorter
/// than an int, ENOPROTOOPT for options that cannot be set here.
/// SO_SNDBUF and SO_RCVBUF store twice the value, capped and floored.
pub fn sys_setsockopt(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    level: i32,
    name: i32,
    optval: usize,
    optlen: u32,
) -> SysResult {
    let (_, sock) = socket_of(sc, fd)?;
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP);
    }
    if (optlen as i32) < 4 {
        return Err(Errno::EINVAL);
    }
    let v = usercopy::read_i32(optval)?;
    match name {
        SO_SNDBUF => sock.set_sndbuf(v),
        SO_RCVBUF => sock.set_rcvbuf(v),
        SO_PASSCRED => sock.passcred.store(v != 0, Ordering::Relaxed),
        SO_REUSEADDR => sock.reuseaddr.store(v != 0, Ordering::Relaxed),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(0)
}
