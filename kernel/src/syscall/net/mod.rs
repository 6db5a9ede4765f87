//! Socket syscalls: AF_UNIX (unix(7)), and AF_INET and AF_INET6 on the
//! loopback interface (ip(7), ipv6(7); [`inet`]).
//!
//! The socket objects live in `starling_fs::file::unix`; these handlers
//! copy addresses, option values and control messages in and out of user
//! memory, turn socket addresses into sockets (a path through the file
//! system, an abstract name through the registry) and block between
//! non-blocking attempts as the file syscalls do. An inet socket's data
//! rides on an AF_UNIX transport, so the send and receive paths here serve
//! both; naming, connecting and options branch to [`inet`]. Other address
//! families fail with EAFNOSUPPORT.

mod conn;
mod inet;
mod msg;
mod opt;
mod socket;

use alloc::{sync::Arc, vec, vec::Vec};
use core::any::Any;

use axfs_ng_vfs::NodeType;
use starling_fs::{
    file::{
        OpenFile,
        inet::InetSocket,
        unix::{BindKey, SockType, UnixSocket, lookup},
    },
    unix::{
        Ucred,
        addr::{self, Parsed, UnixAddr},
    },
};

pub use self::{conn::*, msg::*, opt::*, socket::*};
use super::{SyscallContext, fs::file_of};
use crate::{
    error::{Errno, KResult},
    usercopy,
};

/// sizeof(struct sockaddr_storage): the largest address a call copies in.
const SOCKADDR_STORAGE: usize = 128;

/// The descriptor's open file and its socket: EBADF, or ENOTSOCK for a
/// descriptor that is no socket.
fn socket_of(sc: &SyscallContext<'_>, fd: i32) -> KResult<(Arc<OpenFile>, Arc<UnixSocket>)> {
    let file = file_of(sc.thread, fd)?;
    if let Some(inet) = inet_of(&file) {
        return Ok((file, inet.inner().clone()));
    }
    let any: Arc<dyn Any + Send + Sync> = file.file().clone();
    let sock = any.downcast::<UnixSocket>().map_err(|_| Errno::ENOTSOCK)?;
    Ok((file, sock))
}

/// The inet socket behind an open file, if it is one.
fn inet_of(file: &Arc<OpenFile>) -> Option<Arc<InetSocket>> {
    let any: Arc<dyn Any + Send + Sync> = file.file().clone();
    any.downcast::<InetSocket>().ok()
}

/// Copies in a socket address of `len` bytes (move_addr_to_kernel):
/// EINVAL past sockaddr_storage, EFAULT for a bad pointer.
fn read_addr(ptr: usize, len: u32) -> KResult<Vec<u8>> {
    let len = len as usize;
    if len > SOCKADDR_STORAGE {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; len];
    if len > 0 {
        usercopy::copy_from_user(&mut raw, ptr)?;
    }
    Ok(raw)
}

/// Copies an address out to `ptr` with its length at `len_ptr`
/// (move_addr_to_user): the bytes cut to the buffer, the full length
/// written back; EINVAL for a negative buffer length. Nothing when `ptr`
/// is null.
fn write_addr(ptr: usize, len_ptr: usize, addr: &UnixAddr) -> KResult<()> {
    if ptr == 0 || len_ptr == 0 {
        return Ok(());
    }
    let have = usercopy::read_i32(len_ptr)?;
    let have = usize::try_from(have).map_err(|_| Errno::EINVAL)?;
    let raw = addr.encode();
    let n = have.min(raw.len());
    if n > 0 {
        usercopy::copy_to_user(ptr, &raw[..n])?;
    }
    usercopy::write_i32(len_ptr, raw.len() as i32)
}

/// The caller's credentials as a message carries them: process id, real
/// uid and gid (scm_send's defaults).
fn msg_cred(sc: &SyscallContext<'_>) -> Ucred {
    let c = sc.thread.process.creds.lock();
    Ucred {
        pid: sc.thread.process.pid as u32,
        uid: c.uid,
        gid: c.gid,
    }
}

/// The caller's credentials for SO_PEERCRED: effective ids
/// (cred_to_ucred).
fn peer_cred(sc: &SyscallContext<'_>) -> Ucred {
    let c = sc.thread.process.creds.lock();
    Ucred {
        pid: sc.thread.process.pid as u32,
        uid: c.euid,
        gid: c.egid,
    }
}

/// The registry key of a path: the socket file's device and inode.
/// ECONNREFUSED for a file that is no socket; the walk's errors as they
/// come (ENOENT, ENOTDIR, EACCES, ...).
fn path_key(sc: &SyscallContext<'_>, path: &[u8]) -> KResult<BindKey> {
    let path = core::str::from_utf8(path).map_err(|_| Errno::ENOENT)?;
    let ctx = super::fs::at_context(sc.thread, super::fs::AT_FDCWD, path)?;
    // The walk needs search permission on every directory it passes.
    let creds = super::fs::credentials(sc.thread);
    let loc = ctx.resolve_checked(path, |dir| ctx.check_search_path(dir, Some(dir), &creds))?;
    let meta = loc.metadata()?;
    // unix_find_bsd: write permission on the file first (EACCES), then
    // the file must be a socket.
    if !may_write(sc, meta.mode.bits() as u32, meta.uid, meta.gid) {
        return Err(Errno::EACCES);
    }
    if meta.node_type != NodeType::Socket {
        return Err(Errno::ECONNREFUSED);
    }
    Ok(BindKey::Inode(meta.device, meta.inode))
}

/// Whether the caller may write a file of mode `perm` owned by
/// `uid`:`gid` (generic_permission's MAY_WRITE; CAP_DAC_OVERRIDE passes).
fn may_write(sc: &SyscallContext<'_>, perm: u32, uid: u32, gid: u32) -> bool {
    let c = sc.thread.process.creds.lock();
    if c.capable(crate::task::creds::CAP_DAC_OVERRIDE) {
        return true;
    }
    let bits = if uid == c.fsuid {
        perm >> 6
    } else if gid == c.fsgid || c.groups.contains(&gid) {
        perm >> 3
    } else {
        perm
    };
    bits & 0o2 != 0
}

/// The socket an address names for a caller of type `ty` (connect,
/// sendto): EINVAL for a bad address, ECONNREFUSED when nothing of that
/// type is bound there (an abstract name of another type is not found; a
/// socket file of another type is EPROTOTYPE, from the socket).
fn target_of(sc: &SyscallContext<'_>, raw: &[u8], ty: SockType) -> KResult<Arc<UnixSocket>> {
    let key = match addr::parse(raw)? {
        Parsed::Autobind => return Err(Errno::EINVAL),
        Parsed::Named(UnixAddr::Abstract(name)) => BindKey::Abstract(ty, name),
        Parsed::Named(UnixAddr::Path(p)) => path_key(sc, &p)?,
        Parsed::Named(UnixAddr::Unnamed | UnixAddr::Foreign(_)) => return Err(Errno::EINVAL),
    };
    lookup(&key).ok_or(Errno::ECONNREFUSED)
}
