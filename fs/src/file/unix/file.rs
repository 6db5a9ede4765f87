//! The socket as a file: read, write, poll, ioctl, fstat and the release
//! of the last reference (af_unix.c unix_poll, unix_dgram_poll,
//! unix_release_sock).

use alloc::{string::String, vec::Vec};
use core::{any::Any, sync::atomic::Ordering, time::Duration};

use axpoll::{IoEvents, PollSource, SharedRegistrationSink};

use super::{
    BOUND, Conn, NO_TIMEOUT, RCV_SHUTDOWN, SEND_SHUTDOWN, SockType, UnixSocket, charge, wake,
};
use crate::{
    Errno, KResult,
    file::{FileLike, Kstat, UserAccess, mode},
};

impl FileLike for UnixSocket {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        if buf.is_empty() && self.ty == SockType::Stream {
            return Ok(0);
        }
        // Descriptors that come with the data are closed: read(2) has no
        // place for them.
        self.recv(buf, false).map(|r| r.copied)
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        self.send(buf, None, None, &mut Vec::new())
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            ino: self.ino,
            mode: mode::S_IFSOCK | 0o777,
            nlink: 1,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    /// unix_poll and unix_dgram_poll.
    fn poll(&self) -> IoEvents {
        let st = self.state.lock();
        let mut ev = IoEvents::empty();
        if st.err.is_some() {
            ev |= IoEvents::ERR;
        }
        if st.shutdown == RCV_SHUTDOWN | SEND_SHUTDOWN {
            ev |= IoEvents::HUP;
        }
        if st.shutdown & RCV_SHUTDOWN != 0 {
            ev |= IoEvents::RDHUP | IoEvents::IN | IoEvents::RDNORM;
        }
        let listening = match &st.conn {
            Conn::Listening { pending, .. } => {
                if !pending.is_empty() {
                    ev |= IoEvents::IN | IoEvents::RDNORM;
                }
                true
            }
            Conn::Unconnected => {
                if self.connection_oriented() {
                    ev |= IoEvents::HUP;
                }
                false
            }
            Conn::Connected(_) => false,
        };
        if !st.queue.is_empty() {
            ev |= IoEvents::IN | IoEvents::RDNORM;
        }
        let dgram_peer = match &st.conn {
            Conn::Connected(p) if self.ty == SockType::Dgram => p.upgrade(),
            _ => None,
        };
        drop(st);
        // unix_writable: not a listener, and at most a quarter of the send
        // buffer in flight; a datagram socket also needs room in its peer's
        // queue (unix_dgram_poll).
        let peer_full = dgram_peer
            .is_some_and(|p| !p.dead.load(Ordering::Acquire) && p.dgram_queue_full_wake_me(self));
        if !listening
            && !peer_full
            && self.account.wmem.load(Ordering::Acquire) * 4 <= self.sndbuf() as usize
        {
            ev |= IoEvents::OUT | IoEvents::WRNORM | IoEvents::WRBAND;
        }
        ev
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract: the registrations are dropped first.
        unsafe {
            sink.register_shared(
                &self.readable as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            );
            sink.register_shared(
                &self.account.writable as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            );
        }
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> KResult<usize> {
        const SIOCINQ: u32 = 0x541b;
        const SIOCOUTQ: u32 = 0x5411;
        let v = match cmd {
            SIOCINQ => self.inq(),
            SIOCOUTQ => self.account.wmem.load(Ordering::Acquire),
            // unix_ioctl's ENOIOCTLCMD: sock_ioctl and dev_ioctl answer.
            _ => return crate::inet::netdev::ioctl(cmd, arg, &user, false),
        };
        user.write(arg, &(v as i32).to_ne_bytes())?;
        Ok(0)
    }

    fn io_timeout(&self, write: bool) -> Option<Duration> {
        match self.timeout_nanos(write) {
            NO_TIMEOUT => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// A datagram or seqpacket message is at most SO_SNDBUF - 32 bytes
    /// long; the largest buffer the sender may set bounds what a receiver
    /// can be sent.
    fn message_max(&self) -> usize {
        if self.ty == SockType::Stream {
            0
        } else {
            2 * super::MAX_BUF as usize
        }
    }

    fn epipe_raises_sigpipe(&self) -> bool {
        self.ty == SockType::Stream
    }

    fn path(&self) -> String {
        alloc::format!("socket:[{}]", self.ino)
    }

    /// unix_release_sock: unbinds, tells a connected peer (a stream peer
    /// sees end of file, or ECONNRESET when data was left unread here),
    /// and drops what was queued, pending connections included.
    fn release(&self) {
        self.close(false);
    }

    fn fasync(&self, file: &alloc::sync::Arc<crate::file::OpenFile>, fd: i32, on: bool) -> bool {
        self.account.fasync.helper(file, fd, on);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl UnixSocket {
    /// The work of [`FileLike::release`]; `embryo` for a connection never
    /// accepted, whose peer then reads ECONNRESET.
    fn close(&self, embryo: bool) {
        self.dead.store(true, Ordering::Release);
        let (key, conn, queue, had_data, waiters) = {
            let mut st = self.state.lock();
            st.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
            let had_data = !st.queue.is_empty();
            let conn = core::mem::replace(&mut st.conn, Conn::Unconnected);
            let waiters = core::mem::take(&mut st.space_waiters);
            (st.key.take(), conn, st.queue.drain(), had_data, waiters)
        };
        Self::wake_space_waiters(waiters);
        if let Some(key) = key {
            let mut bound = BOUND.lock();
            if bound
                .get(&key)
                .is_some_and(|w| core::ptr::eq(w.as_ptr(), self))
            {
                bound.remove(&key);
            }
        }
        let mut pending_sockets = Vec::new();
        match conn {
            Conn::Connected(p) => {
                if let Some(p) = p.upgrade() {
                    if self.connection_oriented() {
                        {
                            let mut ps = p.state.lock();
                            ps.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
                            if had_data || embryo {
                                ps.err = Some(Errno::ECONNRESET);
                            }
                        }
                        wake(&p.readable, IoEvents::IN | IoEvents::HUP | IoEvents::RDHUP);
                        wake(&p.account.writable, IoEvents::OUT | IoEvents::ERR);
                        // unix_release_sock: the peer of a closed stream
                        // or seqpacket socket gets POLL_HUP.
                        p.account.fasync.kill(crate::file::fasync::POLL_HUP);
                    }
                    wake(&p.space, IoEvents::OUT);
                }
            }
            Conn::Listening { pending, .. } => pending_sockets.extend(pending),
            Conn::Unconnected => {}
        }
        for msg in queue {
            msg.token
                .wmem
                .fetch_sub(charge(msg.data.len()), Ordering::AcqRel);
            wake(&msg.token.writable, IoEvents::OUT);
            msg.token.room_freed();
            drop(msg);
        }
        wake(&self.readable, IoEvents::IN | IoEvents::HUP);
        wake(&self.space, IoEvents::OUT);
        for s in pending_sockets {
            s.close(true);
        }
    }
}
