//! Names and connections: bind, autobind, listen, accept, connect and
//! shutdown (af_unix.c unix_bind, unix_listen, unix_accept,
//! unix_stream_connect, unix_dgram_connect, unix_shutdown).

use alloc::{collections::VecDeque, sync::Arc};
use core::sync::atomic::Ordering;

use axpoll::IoEvents;

use super::{
    BOUND, BindKey, Conn, NEXT_AUTOBIND, RCV_SHUTDOWN, SEND_SHUTDOWN, SOMAXCONN, SockType,
    UnixSocket, wake,
};
use crate::{
    Errno, KResult,
    unix::{
        Ucred,
        addr::{UnixAddr, autobind_name},
    },
};

impl UnixSocket {
    /// Binds to `addr` registered as `key`: EINVAL if already bound,
    /// EADDRINUSE if the name is taken.
    pub fn bind(self: &Arc<Self>, addr: UnixAddr, key: BindKey) -> KResult<()> {
        let mut st = self.state.lock();
        if st.key.is_some() {
            return Err(Errno::EINVAL);
        }
        let mut bound = BOUND.lock();
        if bound.get(&key).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        bound.insert(key.clone(), Arc::downgrade(self));
        st.addr = addr;
        st.key = Some(key);
        Ok(())
    }

    /// Gives an unbound socket an abstract five-hex-digit name
    /// (unix_autobind); a bound one keeps its name.
    pub fn autobind(self: &Arc<Self>) -> KResult<()> {
        if self.is_bound() {
            return Ok(());
        }
        for _ in 0..0x10_0000 {
            let name = autobind_name(NEXT_AUTOBIND.fetch_add(1, Ordering::Relaxed));
            let UnixAddr::Abstract(bytes) = &name else {
                continue;
            };
            let key = BindKey::Abstract(self.ty, bytes.clone());
            match self.bind(name.clone(), key) {
                Err(Errno::EADDRINUSE) => continue,
                Err(Errno::EINVAL) => return Ok(()),
                other => return other,
            }
        }
        Err(Errno::ENOSPC)
    }

    /// listen(2): EOPNOTSUPP for datagram sockets, EINVAL unbound or
    /// connected. A second listen changes the backlog.
    pub fn listen(&self, backlog: i32, cred: Ucred) -> KResult<()> {
        if self.ty == SockType::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        // A negative backlog is taken as unsigned, so it becomes somaxconn.
        let backlog = (backlog as u32 as usize).min(SOMAXCONN);
        let mut st = self.state.lock();
        if st.key.is_none() {
            return Err(Errno::EINVAL);
        }
        match &mut st.conn {
            Conn::Connected(_) => return Err(Errno::EINVAL),
            Conn::Listening { backlog: b, .. } => *b = backlog,
            Conn::Unconnected => {
                st.conn = Conn::Listening {
                    backlog,
                    pending: VecDeque::new(),
                };
                st.peer_cred = Some(cred);
            }
        }
        Ok(())
    }

    /// Takes the next connection: EINVAL unless listening, EAGAIN if none.
    pub fn accept(&self) -> KResult<Arc<UnixSocket>> {
        if self.ty == SockType::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let got = match &mut self.state.lock().conn {
            Conn::Listening { pending, .. } => pending.pop_front().ok_or(Errno::EAGAIN)?,
            _ => return Err(Errno::EINVAL),
        };
        // Connectors waiting for backlog room.
        wake(&self.account.writable, IoEvents::OUT);
        Ok(got)
    }

    /// Connects a stream or seqpacket socket to the listener `target`:
    /// EISCONN if connected, EINVAL if listening, ECONNREFUSED if the target
    /// does not listen, EPROTOTYPE for another type, EAGAIN while the
    /// backlog is full. `cred` becomes the server side's SO_PEERCRED.
    pub fn connect_stream(self: &Arc<Self>, target: &Arc<UnixSocket>, cred: Ucred) -> KResult<()> {
        if target.ty != self.ty {
            return Err(Errno::EPROTOTYPE);
        }
        if Arc::ptr_eq(self, target) {
            // Only a listener can be found by name: a listening socket
            // cannot connect.
            return Err(Errno::EINVAL);
        }
        let server = Self::new_in(self.ty, target.listed);
        {
            let mut ts = target.state.lock();
            if target.dead.load(Ordering::Acquire) || ts.shutdown & RCV_SHUTDOWN != 0 {
                return Err(Errno::ECONNREFUSED);
            }
            let listener_cred = ts.peer_cred;
            let listener_addr = ts.addr.clone();
            let Conn::Listening { backlog, pending } = &mut ts.conn else {
                return Err(Errno::ECONNREFUSED);
            };
            // unix_recvq_full: more than the backlog already waits.
            if pending.len() > *backlog {
                return Err(Errno::EAGAIN);
            }
            // The connecting socket's state is checked and set under the
            // listener's lock (the one place two state locks nest: a
            // listener never connects), so two racing connects of one
            // socket make one connection.
            let mut st = self.state.lock();
            match st.conn {
                Conn::Connected(_) => return Err(Errno::EISCONN),
                Conn::Listening { .. } => return Err(Errno::EINVAL),
                Conn::Unconnected => {}
            }
            {
                let mut ss = server.state.lock();
                ss.addr = listener_addr.clone();
                ss.peer_name = st.addr.clone();
                ss.conn = Conn::Connected(Arc::downgrade(self));
                ss.peer_cred = Some(cred);
            }
            pending.push_back(server.clone());
            st.conn = Conn::Connected(Arc::downgrade(&server));
            st.peer_cred = listener_cred;
            st.peer_name = listener_addr;
        }
        wake(&target.readable, IoEvents::IN);
        target.account.fasync.kill(crate::file::fasync::POLL_IN);
        Ok(())
    }

    /// Sets (or with `None` dissolves) a datagram socket's default peer;
    /// EPROTOTYPE for another type of target.
    pub fn connect_dgram(&self, target: Option<&Arc<UnixSocket>>) -> KResult<()> {
        if let Some(t) = target
            && t.ty != self.ty
        {
            return Err(Errno::EPROTOTYPE);
        }
        let name = target.map_or(UnixAddr::Unnamed, |t| t.local_addr());
        let mut st = self.state.lock();
        st.conn = match target {
            Some(t) => Conn::Connected(Arc::downgrade(t)),
            None => Conn::Unconnected,
        };
        st.peer_name = name;
        Ok(())
    }

    /// shutdown(2): `how` 0, 1 or 2 (SHUT_RD, SHUT_WR, SHUT_RDWR); a
    /// connection's peer stops the other direction.
    pub fn shutdown(&self, how: u32) -> KResult<()> {
        let mask = match how {
            0 => RCV_SHUTDOWN,
            1 => SEND_SHUTDOWN,
            2 => RCV_SHUTDOWN | SEND_SHUTDOWN,
            _ => return Err(Errno::EINVAL),
        };
        self.state.lock().shutdown |= mask;
        wake(
            &self.readable,
            IoEvents::IN | IoEvents::HUP | IoEvents::RDHUP,
        );
        wake(&self.account.writable, IoEvents::OUT);
        if self.connection_oriented()
            && let Some(p) = self.peer()
        {
            let mut peer_mask = 0;
            if mask & RCV_SHUTDOWN != 0 {
                peer_mask |= SEND_SHUTDOWN;
            }
            if mask & SEND_SHUTDOWN != 0 {
                peer_mask |= RCV_SHUTDOWN;
            }
            p.state.lock().shutdown |= peer_mask;
            wake(&p.readable, IoEvents::IN | IoEvents::HUP | IoEvents::RDHUP);
            wake(&p.account.writable, IoEvents::OUT);
            // unix_shutdown: POLL_HUP when the peer is shut both ways,
            // POLL_IN when only its receiving side is.
            if peer_mask == RCV_SHUTDOWN | SEND_SHUTDOWN {
                p.account.fasync.kill(crate::file::fasync::POLL_HUP);
            } else if peer_mask & RCV_SHUTDOWN != 0 {
                p.account.fasync.kill(crate::file::fasync::POLL_IN);
            }
        }
        Ok(())
    }
}
