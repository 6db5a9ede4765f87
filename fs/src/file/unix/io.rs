//! Data: sending into a peer's queue with send-buffer accounting, and
//! receiving stream bytes or whole datagrams (af_unix.c
//! unix_stream_sendmsg, unix_dgram_sendmsg, unix_stream_read_generic,
//! unix_dgram_recvmsg).

use alloc::{
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::Ordering;

use axpoll::{IoEvents, PollSource, SharedRegistrationSink};

use super::{
    Account, Conn, MAX_DGRAM_QLEN, Message, RCV_SHUTDOWN, Received, Right, SEND_SHUTDOWN, SockType,
    UnixSocket, charge, wake,
};
use crate::{
    Errno, KResult,
    unix::{Ucred, addr::UnixAddr, queue::Read},
};

impl UnixSocket {
    /// Whether a datagram from `sender` would find this receiver's queue
    /// full: more than max_dgram_qlen messages wait, and the receiver is
    /// not connected back to the sender (unix_dgram_sendmsg checks the
    /// queue only then).
    fn dgram_queue_full(&self, sender: &UnixSocket) -> bool {
        let st = self.state.lock();
        let mutual = matches!(&st.conn, Conn::Connected(p) if core::ptr::eq(p.as_ptr(), sender));
        !mutual && st.queue.len() > MAX_DGRAM_QLEN
    }

    /// [`dgram_queue_full`](Self::dgram_queue_full) for poll: a sender that
    /// finds the queue full is remembered and woken when it drains.
    pub(super) fn dgram_queue_full_wake_me(&self, sender: &UnixSocket) -> bool {
        let mut st = self.state.lock();
        let mutual = matches!(&st.conn, Conn::Connected(p) if core::ptr::eq(p.as_ptr(), sender));
        let full = !mutual && st.queue.len() > MAX_DGRAM_QLEN;
        if full
            && !st
                .space_waiters
                .iter()
                .any(|w| core::ptr::eq(w.as_ptr(), Arc::as_ptr(&sender.account)))
        {
            st.space_waiters.push(Arc::downgrade(&sender.account));
        }
        full
    }

    /// Wakes the senders that polled this queue full.
    pub(super) fn wake_space_waiters(waiters: Vec<Weak<Account>>) {
        for w in waiters {
            if let Some(account) = w.upgrade() {
                wake(&account.writable, IoEvents::OUT);
            }
        }
    }

    /// Subscribes a waiter to room in this socket's datagram queue.
    ///
    /// # Safety
    ///
    /// As [`FileLike::register_poll`]: the registration goes before `self`.
    pub unsafe fn register_space(&self, sink: &mut dyn SharedRegistrationSink) {
        // SAFETY: forwarded contract.
        unsafe {
            sink.register_shared(
                &self.space as &dyn PollSource,
                IoEvents::OUT | IoEvents::ALWAYS_POLL,
            )
        };
    }

    /// The receiver of a send: the connected peer, or `to`. Errors as
    /// Linux: EISCONN/EOPNOTSUPP for an address on a connection,
    /// ENOTCONN/EPIPE without a peer, ECONNREFUSED for a closed datagram
    /// peer (which is then forgotten).
    fn receiver(&self, to: Option<&Arc<UnixSocket>>) -> KResult<Arc<UnixSocket>> {
        if self.connection_oriented() {
            let st = self.state.lock();
            if to.is_some() && self.ty == SockType::Stream {
                return Err(match st.conn {
                    Conn::Connected(_) => Errno::EISCONN,
                    _ => Errno::EOPNOTSUPP,
                });
            }
            if st.shutdown & SEND_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            let Conn::Connected(p) = &st.conn else {
                return Err(Errno::ENOTCONN);
            };
            let p = p.upgrade().ok_or(Errno::EPIPE)?;
            drop(st);
            if p.dead.load(Ordering::Acquire) || p.state.lock().shutdown & RCV_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            return Ok(p);
        }
        if self.state.lock().shutdown & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        if let Some(t) = to {
            if t.ty != self.ty {
                return Err(Errno::EPROTOTYPE);
            }
            if t.dead.load(Ordering::Acquire) {
                return Err(Errno::ECONNREFUSED);
            }
            // unix_may_send: a receiver connected elsewhere takes nothing.
            if let Conn::Connected(p) = &t.state.lock().conn
                && !core::ptr::eq(p.as_ptr(), self)
            {
                return Err(Errno::EPERM);
            }
            return Ok(t.clone());
        }
        let mut st = self.state.lock();
        let Conn::Connected(p) = &st.conn else {
            return Err(Errno::ENOTCONN);
        };
        match p.upgrade().filter(|p| !p.dead.load(Ordering::Acquire)) {
            Some(p) => Ok(p),
            None => {
                st.conn = Conn::Unconnected;
                Err(Errno::ECONNREFUSED)
            }
        }
    }

    /// The datagram or seqpacket peer `to` resolves to (for the caller to
    /// wait on its queue).
    pub fn dgram_target(&self, to: Option<&Arc<UnixSocket>>) -> Option<Arc<UnixSocket>> {
        if self.ty == SockType::Stream {
            return None;
        }
        to.cloned().or_else(|| self.peer())
    }

    /// A send found no room in SO_SNDBUF `sndbuf` (sock_alloc_send_pskb
    /// sets SOCKWQ_ASYNC_NOSPACE): POLL_OUT is due when it is back.
    fn no_room(&self, sndbuf: usize) {
        self.account
            .nospace_below
            .store((sndbuf / 4).max(1), Ordering::Release);
    }

    /// Sends `data` (with `rights` and `creds` on its first message) to the
    /// peer or to `to`. Streams take what fits (EAGAIN if nothing does),
    /// datagrams all or nothing (EMSGSIZE beyond SO_SNDBUF - 32).
    pub fn send(
        &self,
        data: &[u8],
        to: Option<&Arc<UnixSocket>>,
        creds: Option<Ucred>,
        rights: &mut Vec<Right>,
    ) -> KResult<usize> {
        let sndbuf = self.sndbuf.load(Ordering::Relaxed) as usize;
        if self.ty != SockType::Stream && data.len() > sndbuf.saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        let peer = self.receiver(to)?;
        let from = self.local_addr();
        let msg = |data: Vec<u8>, rights: Vec<Right>| Message {
            data,
            off: 0,
            from: from.clone(),
            creds,
            rights,
            token: self.account.clone(),
        };
        if self.ty == SockType::Stream {
            let mut sent = 0;
            // A message at most half the buffer, as unix_stream_sendmsg.
            let chunk = (sndbuf / 2).saturating_sub(64).max(1);
            while sent < data.len() {
                if self.account.wmem.load(Ordering::Acquire) >= sndbuf {
                    break;
                }
                let n = (data.len() - sent).min(chunk);
                let m = msg(data[sent..sent + n].to_vec(), core::mem::take(rights));
                match peer.deliver(m, self) {
                    Ok(_) => sent += n,
                    Err(_) if sent > 0 => break,
                    Err(e) => return Err(e),
                }
            }
            return if sent == 0 && !data.is_empty() {
                self.no_room(sndbuf);
                Err(Errno::EAGAIN)
            } else {
                Ok(sent)
            };
        }
        if self.account.wmem.load(Ordering::Acquire) >= sndbuf {
            self.no_room(sndbuf);
            return Err(Errno::EAGAIN);
        }
        if peer.dgram_queue_full(self) {
            return Err(Errno::EAGAIN);
        }
        let m = msg(data.to_vec(), core::mem::take(rights));
        if let Some(back) = peer.deliver(m, self)? {
            *rights = back.rights;
            return Err(Errno::EAGAIN);
        }
        Ok(data.len())
    }

    /// Queues `m` here, or gives it back when a datagram queue is full;
    /// EPIPE or ECONNREFUSED when this socket closed or stopped receiving
    /// meanwhile.
    fn deliver(&self, m: Message, sender: &UnixSocket) -> KResult<Option<Message>> {
        let len = charge(m.data.len());
        {
            let mut st = self.state.lock();
            if self.dead.load(Ordering::Acquire) {
                return Err(if self.ty == SockType::Dgram {
                    Errno::ECONNREFUSED
                } else {
                    Errno::EPIPE
                });
            }
            if st.shutdown & RCV_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            let mutual =
                matches!(&st.conn, Conn::Connected(p) if core::ptr::eq(p.as_ptr(), sender));
            if self.ty != SockType::Stream && !mutual && st.queue.len() > MAX_DGRAM_QLEN {
                return Ok(Some(m));
            }
            sender.account.wmem.fetch_add(len, Ordering::AcqRel);
            st.queue.push(m);
        }
        wake(&self.readable, IoEvents::IN);
        self.account.fasync.kill(crate::file::fasync::POLL_IN);
        Ok(None)
    }

    /// Receives into `buf`: stream bytes or one datagram. EINVAL on a
    /// listener (and on an unconnected stream socket), 0 at end of stream,
    /// a pending error (ECONNRESET) once, EAGAIN when nothing is there.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> KResult<Received> {
        let passcred = self.passcred.load(Ordering::Relaxed);
        let (read, eof, waiters) = {
            let mut st = self.state.lock();
            match st.conn {
                Conn::Listening { .. } => return Err(Errno::EINVAL),
                Conn::Unconnected if self.ty == SockType::Stream && st.queue.is_empty() => {
                    return Err(Errno::EINVAL);
                }
                Conn::Unconnected if self.ty == SockType::SeqPacket => {
                    return Err(Errno::ENOTCONN);
                }
                _ => {}
            }
            let read = if self.ty == SockType::Stream {
                st.queue.read_stream(buf, peek, passcred)
            } else {
                st.queue.read_msg(buf, peek)
            };
            if read.is_none()
                && let Some(e) = st.err.take()
            {
                return Err(e);
            }
            let waiters = if read.as_ref().is_some_and(|r| !r.consumed.is_empty()) {
                core::mem::take(&mut st.space_waiters)
            } else {
                Vec::new()
            };
            (read, st.shutdown & RCV_SHUTDOWN != 0, waiters)
        };
        Self::wake_space_waiters(waiters);
        let Some(read) = read else {
            if eof {
                return Ok(Received {
                    copied: 0,
                    full: 0,
                    from: UnixAddr::Unnamed,
                    creds: None,
                    rights: Vec::new(),
                });
            }
            return Err(Errno::EAGAIN);
        };
        let Read {
            copied,
            full,
            from,
            creds,
            rights,
            consumed,
        } = read;
        if !consumed.is_empty() {
            for (account, len) in consumed {
                account.wmem.fetch_sub(charge(len), Ordering::AcqRel);
                wake(&account.writable, IoEvents::OUT);
                account.room_freed();
            }
            wake(&self.space, IoEvents::OUT);
        }
        Ok(Received {
            copied,
            full,
            from,
            creds: passcred.then(|| creds.unwrap_or(Ucred::NONE)),
            rights,
        })
    }

    /// Whether a send to this socket (as peer) or from it should carry
    /// credentials without being asked: either side has SO_PASSCRED.
    pub fn wants_creds(&self, to: Option<&Arc<UnixSocket>>) -> bool {
        self.passcred.load(Ordering::Relaxed)
            || to
                .cloned()
                .or_else(|| self.peer())
                .is_some_and(|p| p.passcred.load(Ordering::Relaxed))
    }

    /// Unread bytes (stream) or the next datagram's length (SIOCINQ).
    pub fn inq(&self) -> usize {
        let st = self.state.lock();
        if self.ty == SockType::Stream {
            st.queue.bytes()
        } else {
            st.queue.next_len()
        }
    }
}
