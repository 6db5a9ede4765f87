//! getsockopt(2) and setsockopt(2) at SOL_SOCKET (net/core/sock.c
//! sk_getsockopt, sk_setsockopt).

use core::sync::atomic::Ordering;

use starling_fs::{file::unix::NO_TIMEOUT, unix::cmsg::SOL_SOCKET};

use super::{
    inet::{self, SO_BROADCAST, SO_KEEPALIVE, SO_LINGER, SO_REUSEPORT},
    inet_of,
    socket::AF_UNIX,
    socket_of,
};
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
const SO_RCVTIMEO_OLD: i32 = 20;
const SO_SNDTIMEO_OLD: i32 = 21;
const SO_ACCEPTCONN: i32 = 30;
/// The 64-bit time variants; on 64-bit ABIs the same struct as the old ones.
const SO_RCVTIMEO_NEW: i32 = 66;
const SO_SNDTIMEO_NEW: i32 = 67;
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

/// A struct timeval for SO_RCVTIMEO/SO_SNDTIMEO (sock_set_timeout):
/// EINVAL if shorter, EDOM for microseconds outside 0..1000000; zero is
/// no limit, a negative time no waiting at all.
fn read_timeout(optval: usize, optlen: u32) -> KResult<u64> {
    if (optlen as usize) < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = usercopy::read_u64(optval)? as i64;
    let usec = usercopy::read_u64(optval + 8)? as i64;
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(0);
    }
    if sec == 0 && usec == 0 {
        return Ok(NO_TIMEOUT);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(usec as u64 * 1000)
        .min(NO_TIMEOUT - 1))
}

/// getsockopt(2): EOPNOTSUPP for levels other than SOL_SOCKET (AF_UNIX has
/// none), ENOPROTOOPT for options Starling does not keep, EINVAL for a
/// negative length.
#[inline(never)]
pub fn sys_getsockopt(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    level: i32,
    name: i32,
    optval: usize,
    optlen: usize,
) -> SysResult {
    let (file, sock) = socket_of(sc, fd)?;
    let inet = inet_of(&file);
    let int = |v: i32| put_opt(optval, optlen, &v.to_ne_bytes());
    if level != SOL_SOCKET {
        let Some(i) = &inet else {
            return Err(Errno::EOPNOTSUPP);
        };
        if usercopy::read_i32(optlen)? < 0 {
            return Err(Errno::EINVAL);
        }
        int(inet::get_ip_opt(i, level, name)?)?;
        return Ok(0);
    }
    match (name, &inet) {
        (SO_DOMAIN, Some(i)) => int(i32::from(i.family()))?,
        (SO_PROTOCOL, Some(i)) => int(i.protocol())?,
        (SO_KEEPALIVE, Some(i)) => int(i32::from(i.opts.keepalive.load(Ordering::Relaxed)))?,
        (SO_BROADCAST, Some(i)) => int(i32::from(i.opts.broadcast.load(Ordering::Relaxed)))?,
        (SO_REUSEPORT, Some(i)) => int(i32::from(i.opts.reuseport.load(Ordering::Relaxed)))?,
        (SO_LINGER, Some(i)) => {
            let l = i.opts.linger.load(Ordering::Relaxed);
            let mut v = [0u8; 8];
            v[..4].copy_from_slice(&((l >> 32) as u32).to_ne_bytes());
            v[4..].copy_from_slice(&(l as u32).to_ne_bytes());
            put_opt(optval, optlen, &v)?;
        }
        (SO_PEERCRED | SO_PASSCRED, Some(_)) => return Err(Errno::ENOPROTOOPT),
        _ => get_common(sc, &sock, name, optval, optlen)?,
    }
    Ok(0)
}

/// The SOL_SOCKET options every socket family here keeps.
fn get_common(
    sc: &SyscallContext<'_>,
    sock: &starling_fs::file::unix::UnixSocket,
    name: i32,
    optval: usize,
    optlen: usize,
) -> KResult<()> {
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
        SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW | SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW => {
            let send = matches!(name, SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW);
            // sock_get_timeout: no limit reads as zero.
            let (sec, usec) = match sock.timeout_nanos(send) {
                NO_TIMEOUT => (0i64, 0i64),
                n => (
                    (n / 1_000_000_000) as i64,
                    ((n % 1_000_000_000) / 1000) as i64,
                ),
            };
            let mut v = [0u8; 16];
            v[..8].copy_from_slice(&sec.to_ne_bytes());
            v[8..].copy_from_slice(&usec.to_ne_bytes());
            put_opt(optval, optlen, &v)?;
        }
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
    Ok(())
}

/// setsockopt(2): EOPNOTSUPP for other levels, EINVAL for a value shorter
/// than an int, ENOPROTOOPT for options that cannot be set here.
/// SO_SNDBUF and SO_RCVBUF store twice the value, capped and floored.
#[inline(never)]
pub fn sys_setsockopt(
    sc: &mut SyscallContext<'_>,
    fd: i32,
    level: i32,
    name: i32,
    optval: usize,
    optlen: u32,
) -> SysResult {
    // net/socket.c __sys_setsockopt: a negative length before the
    // descriptor.
    if (optlen as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let (file, sock) = socket_of(sc, fd)?;
    let inet = inet_of(&file);
    if level != SOL_SOCKET && inet.is_none() {
        return Err(Errno::EOPNOTSUPP);
    }
    if (optlen as i32) < 4 {
        return Err(Errno::EINVAL);
    }
    if let Some(i) = &inet {
        if level != SOL_SOCKET {
            let v = usercopy::read_i32(optval)?;
            inet::set_ip_opt(i, level, name, v)?;
            return Ok(0);
        }
        let flag = |b: &core::sync::atomic::AtomicBool| -> KResult<()> {
            b.store(usercopy::read_i32(optval)? != 0, Ordering::Relaxed);
            Ok(())
        };
        match name {
            SO_KEEPALIVE => return flag(&i.opts.keepalive).map(|()| 0),
            SO_BROADCAST => return flag(&i.opts.broadcast).map(|()| 0),
            SO_REUSEPORT => return flag(&i.opts.reuseport).map(|()| 0),
            SO_LINGER => {
                // sk_setsockopt: a struct linger, EINVAL if shorter.
                if (optlen as usize) < 8 {
                    return Err(Errno::EINVAL);
                }
                let on = usercopy::read_i32(optval)? != 0;
                let secs = usercopy::read_i32(optval + 4)? as u32;
                let v = (u64::from(on) << 32) | u64::from(if on { secs } else { 0 });
                i.opts.linger.store(v, Ordering::Relaxed);
                return Ok(0);
            }
            SO_PASSCRED => return Err(Errno::ENOPROTOOPT),
            _ => {}
        }
    }
    if matches!(
        name,
        SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW | SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW
    ) {
        let nanos = read_timeout(optval, optlen)?;
        sock.set_timeout_nanos(matches!(name, SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW), nanos);
        return Ok(0);
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
