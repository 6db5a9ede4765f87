//! The inet socket as a file: everything but the name goes to the
//! transport ([`super::super::unix`]), whose poll already reports what
//! tcp_poll and udp_poll do on loopback.

use alloc::{string::String, sync::Arc, vec::Vec};
use core::{any::Any, time::Duration};

use axpoll::{IoEvents, SharedRegistrationSink};

use super::{InetSocket, PORTS, SOCKETS, SockType};
use crate::{
    Errno, KResult,
    file::{FileLike, Kstat, OpenFile, UserAccess},
    inet::{addr::AF_INET, netdev},
};

impl FileLike for InetSocket {
    /// tcp_recvmsg: reading without a connection is ENOTCONN.
    fn read(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        if self.ty == SockType::Stream && !self.inner.is_connected() {
            return Err(Errno::ENOTCONN);
        }
        self.inner.read(buf, pos)
    }

    /// tcp_sendmsg: writing without a connection is EPIPE (the write
    /// path raises SIGPIPE), not the transport's ENOTCONN. A UDP write
    /// goes to the default peer (EDESTADDRREQ without one).
    fn write(&self, buf: &[u8], pos: Option<u64>) -> KResult<usize> {
        if self.ty == SockType::Stream {
            if !self.inner.is_connected() {
                return Err(Errno::EPIPE);
            }
            return self.inner.write(buf, pos);
        }
        match self.dgram_target(None)? {
            Some(to) => self.inner.send(buf, Some(&to), None, &mut Vec::new()),
            None => Ok(buf.len()),
        }
    }

    fn stat(&self) -> KResult<Kstat> {
        self.inner.stat()
    }

    fn poll(&self) -> IoEvents {
        self.inner.poll()
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract: the registrations are dropped first.
        unsafe { self.inner.register_poll(sink, events) }
    }

    /// The interface requests (an AF_INET socket also takes the address
    /// ones, inet_ioctl); the rest is the transport's (SIOCINQ, SIOCOUTQ).
    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> KResult<usize> {
        if netdev::handles(cmd) {
            return netdev::ioctl(cmd, arg, &user, self.family == AF_INET);
        }
        self.inner.ioctl(cmd, arg, user)
    }

    fn io_timeout(&self, write: bool) -> Option<Duration> {
        self.inner.io_timeout(write)
    }

    fn message_max(&self) -> usize {
        self.inner.message_max()
    }

    fn epipe_raises_sigpipe(&self) -> bool {
        self.inner.epipe_raises_sigpipe()
    }

    fn path(&self) -> String {
        self.inner.path()
    }

    /// Closing frees the port at once (no TIME_WAIT on loopback) and
    /// tells the peer as the transport does: end of file, or a reset
    /// when data was left unread.
    fn release(&self) {
        PORTS.lock().remove(self.id);
        SOCKETS.lock().remove(&self.id);
        self.inner.release();
    }

    fn fasync(&self, file: &Arc<OpenFile>, fd: i32, on: bool) -> bool {
        self.inner.fasync(file, fd, on)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
