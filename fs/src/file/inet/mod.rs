//! AF_INET and AF_INET6 sockets on the loopback interface (ip(7), ipv6(7),
//! tcp(7), udp(7)).
//!
//! Loopback needs no packets: a TCP connection is an AF_UNIX stream
//! connection ([`super::unix`]) with inet names, and a UDP socket an
//! AF_UNIX datagram socket whose datagrams are addressed through the port
//! table ([`crate::inet::ports`]) instead of the unix name registry. The
//! transport socket does the queueing, flow control (SO_SNDBUF,
//! SO_RCVBUF), blocking readiness, shutdown, end of file, EPIPE and
//! O_ASYNC; this layer owns addresses, ports and the options that only
//! inet sockets have. Each end's transport is named with its sockaddr
//! bytes ([`UnixAddr::Foreign`]), which is how an accepted socket learns
//! its peer and a datagram its source.
//!
//! Lock order: a socket's state lock, then the port table, then the
//! socket list; the transport's locks are never held across either.

mod file;
mod proc;

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use ax_sync::SpinLock;

pub use self::proc::{Table, proc_net_inet};
use super::unix::{SockType, UnixSocket};
use crate::{
    Errno, KResult,
    inet::{
        addr::{self, AF_INET, Ip, SockAddr, V4_ANY, V4_LOOPBACK, V6_ANY, V6_LOOPBACK},
        ports::{Entry, PortTable, Proto},
    },
    unix::{Ucred, addr::UnixAddr},
};

static PORTS: SpinLock<PortTable> = SpinLock::new(PortTable::new());
static SOCKETS: SpinLock<BTreeMap<u64, Weak<InetSocket>>> = SpinLock::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// IPPROTO_TCP and IPPROTO_UDP.
pub const IPPROTO_TCP: i32 = 6;
pub const IPPROTO_UDP: i32 = 17;

/// The options only inet sockets keep; each reads back as set.
#[derive(Default)]
pub struct Opts {
    pub reuseport: AtomicBool,
    pub keepalive: AtomicBool,
    pub broadcast: AtomicBool,
    pub nodelay: AtomicBool,
    pub cork: AtomicBool,
    pub v6only: AtomicBool,
    /// IP_TOS (IPV6_TCLASS for AF_INET6 sockets).
    pub tos: AtomicU32,
    /// SO_LINGER: l_onoff in the high half, l_linger in the low.
    pub linger: AtomicU64,
}

#[derive(Default)]
struct State {
    /// The bound address (getsockname), once bound.
    local: Option<SockAddr>,
    /// The connected peer (getpeername; a UDP socket's default target).
    peer: Option<SockAddr>,
    /// A non-blocking connect returned EINPROGRESS; the next connect
    /// reports its result.
    connecting: bool,
}

/// One AF_INET or AF_INET6 socket.
pub struct InetSocket {
    family: u16,
    ty: SockType,
    id: u64,
    inner: Arc<UnixSocket>,
    state: SpinLock<State>,
    /// The creator's effective uid (sk_uid), for /proc/net.
    uid: u32,
    pub opts: Opts,
}

impl InetSocket {
    /// A new socket of `family` (AF_INET, AF_INET6) and type (stream for
    /// TCP, datagram for UDP).
    pub fn new(family: u16, ty: SockType, uid: u32) -> Arc<Self> {
        Self::with_inner(family, ty, UnixSocket::new_transport(ty), uid)
    }

    fn with_inner(family: u16, ty: SockType, inner: Arc<UnixSocket>, uid: u32) -> Arc<Self> {
        let s = Arc::new(Self {
            family,
            ty,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            inner,
            state: SpinLock::new(State::default()),
            uid,
            opts: Opts::default(),
        });
        SOCKETS.lock().insert(s.id, Arc::downgrade(&s));
        s
    }

    pub fn family(&self) -> u16 {
        self.family
    }

    pub fn sock_type(&self) -> SockType {
        self.ty
    }

    pub fn protocol(&self) -> i32 {
        match self.ty {
            SockType::Stream => IPPROTO_TCP,
            _ => IPPROTO_UDP,
        }
    }

    fn proto(&self) -> Proto {
        match self.ty {
            SockType::Stream => Proto::Tcp,
            _ => Proto::Udp,
        }
    }

    /// The transport that carries the data.
    pub fn inner(&self) -> &Arc<UnixSocket> {
        &self.inner
    }

    fn any(&self) -> Ip {
        if self.family == AF_INET {
            V4_ANY
        } else {
            V6_ANY
        }
    }

    /// The address this socket's packets come from: its bound address, or
    /// for a wildcard the loopback address of `dst`'s family.
    fn source(&self, local: SockAddr, dst: Ip) -> SockAddr {
        if !local.ip.is_any() {
            return local;
        }
        let ip = match dst {
            Ip::V4(_) => V4_LOOPBACK,
            Ip::V6(_) => V6_LOOPBACK,
        };
        SockAddr { ip, ..local }
    }

    /// Whether `ip` is one this socket's family may use: an AF_INET socket
    /// has no IPv6 addresses, an IPV6_V6ONLY socket no IPv4 ones.
    fn family_fits(&self, ip: Ip) -> bool {
        match ip {
            Ip::V6(_) => self.family != AF_INET,
            Ip::V4(_) => self.family == AF_INET || !self.opts.v6only.load(Ordering::Relaxed),
        }
    }

    fn entry(&self, addr: SockAddr) -> Entry {
        Entry {
            id: self.id,
            proto: self.proto(),
            addr,
            v6only: self.family != AF_INET && self.opts.v6only.load(Ordering::Relaxed),
            reuseaddr: self.inner.reuseaddr.load(Ordering::Relaxed),
            reuseport: self.opts.reuseport.load(Ordering::Relaxed),
            listening: false,
        }
    }

    /// bind(2): EINVAL when already bound, EADDRNOTAVAIL for an address
    /// that is not the loopback interface's, EADDRINUSE when taken. Port
    /// 0 takes an ephemeral port. The caller checked the privileged ports.
    pub fn bind(&self, a: SockAddr) -> KResult<()> {
        let mut st = self.state.lock();
        if st.local.is_some() {
            return Err(Errno::EINVAL);
        }
        if !a.ip.bindable() {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if !self.family_fits(a.ip) {
            return Err(Errno::EINVAL);
        }
        let port = PORTS.lock().bind(self.entry(a))?;
        st.local = Some(SockAddr { port, ..a });
        Ok(())
    }

    /// Binds an unbound socket to the wildcard and an ephemeral port (the
    /// autobind of listen, connect and a first send); the bound address.
    fn autobind(&self) -> KResult<SockAddr> {
        if let Some(a) = self.state.lock().local {
            return Ok(a);
        }
        match self.bind(SockAddr {
            ip: self.any(),
            port: 0,
        }) {
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(e) => return Err(e),
        }
        self.state.lock().local.ok_or(Errno::EINVAL)
    }

    /// getsockname(2): the bound address, or the wildcard and port 0.
    pub fn local_addr(&self) -> SockAddr {
        self.state.lock().local.unwrap_or(SockAddr {
            ip: self.any(),
            port: 0,
        })
    }

    /// getpeername(2): ENOTCONN without a peer.
    pub fn peer_addr(&self) -> KResult<SockAddr> {
        self.state.lock().peer.ok_or(Errno::ENOTCONN)
    }

    /// `a` as this socket's family encodes it.
    pub fn encode(&self, a: SockAddr) -> alloc::vec::Vec<u8> {
        addr::encode(self.family, a)
    }

    /// A sender's name on the transport, re-encoded for this socket's
    /// family (recvfrom, recvmsg).
    pub fn convert_from(&self, from: UnixAddr) -> UnixAddr {
        match &from {
            UnixAddr::Foreign(raw) => match addr::decode(raw) {
                Some(a) => UnixAddr::Foreign(self.encode(a)),
                None => UnixAddr::Unnamed,
            },
            _ => from,
        }
    }

    /// listen(2): EOPNOTSUPP for UDP, EINVAL when connected; an unbound
    /// socket takes an ephemeral port (inet_listen via inet_csk_get_port).
    pub fn listen(&self, backlog: i32, cred: Ucred) -> KResult<()> {
        if self.ty != SockType::Stream {
            return Err(Errno::EOPNOTSUPP);
        }
        if self.state.lock().peer.is_some() {
            return Err(Errno::EINVAL);
        }
        let local = self.autobind()?;
        if !self.inner.is_listening() {
            PORTS.lock().listen(self.id)?;
        }
        self.inner
            .bind_foreign(UnixAddr::Foreign(self.encode(local)));
        self.inner.listen(backlog, cred)
    }

    /// Takes the next connection: EINVAL unless listening, EAGAIN if none.
    pub fn accept(&self) -> KResult<Arc<InetSocket>> {
        let conn = self.inner.accept()?;
        let peer = match conn.peer_addr() {
            Ok(UnixAddr::Foreign(raw)) => addr::decode(&raw),
            _ => None,
        };
        let listen_at = self.local_addr();
        let new = Self::with_inner(self.family, self.ty, conn, self.uid);
        let local = self.source(listen_at, peer.map_or(self.any(), |p| p.ip));
        new.inner.reuseaddr.store(
            self.inner.reuseaddr.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        new.opts
            .nodelay
            .store(self.opts.nodelay.load(Ordering::Relaxed), Ordering::Relaxed);
        new.opts
            .v6only
            .store(self.opts.v6only.load(Ordering::Relaxed), Ordering::Relaxed);
        // The connection holds its port as Linux's established child does
        // (a new bind there needs SO_REUSEADDR); an ephemeral clash with a
        // later listener is no reason to lose the connection.
        let _ = PORTS.lock().bind(new.entry(local));
        {
            let mut st = new.state.lock();
            st.local = Some(local);
            st.peer = peer;
        }
        Ok(new)
    }

    /// Where a connect to `dst` goes: ENETUNREACH off the loopback
    /// interface, ECONNREFUSED when no socket listens there. Binds an
    /// unbound socket first; the wildcard addresses mean this host.
    fn resolve(&self, mut dst: SockAddr) -> KResult<SockAddr> {
        if dst.ip == V4_ANY {
            dst.ip = V4_LOOPBACK;
        } else if dst.ip == V6_ANY {
            dst.ip = V6_LOOPBACK;
        }
        if !self.family_fits(dst.ip) {
            return Err(if self.family == AF_INET {
                Errno::EAFNOSUPPORT
            } else {
                Errno::ENETUNREACH
            });
        }
        if !dst.ip.is_loopback() {
            return Err(Errno::ENETUNREACH);
        }
        Ok(dst)
    }

    /// The listening transport a TCP connect to `dst` reaches, after
    /// naming this socket's transport with its source address; the peer
    /// address to record once connected.
    pub fn connect_target(&self, dst: SockAddr) -> KResult<(Arc<UnixSocket>, SockAddr)> {
        if self.inner.is_listening() {
            return Err(Errno::EISCONN);
        }
        if self.state.lock().peer.is_some() {
            return Err(Errno::EISCONN);
        }
        let dst = self.resolve(dst)?;
        let local = self.autobind()?;
        let src = self.source(local, dst.ip);
        self.inner.bind_foreign(UnixAddr::Foreign(self.encode(src)));
        self.state.lock().local = Some(src);
        let id = PORTS.lock().listener(dst).ok_or(Errno::ECONNREFUSED)?;
        let l = lookup(id).ok_or(Errno::ECONNREFUSED)?;
        Ok((l.inner.clone(), dst))
    }

    /// Records a made connection.
    pub fn set_connected(&self, peer: SockAddr, pending: bool) {
        let mut st = self.state.lock();
        st.peer = Some(peer);
        st.connecting = pending;
    }

    /// A connect after EINPROGRESS: the first reports the outcome (0, or
    /// the error), later ones EISCONN; None when no connect was pending.
    pub fn connect_again(&self) -> Option<KResult<()>> {
        let mut st = self.state.lock();
        if !st.connecting {
            return None;
        }
        st.connecting = false;
        if st.peer.is_some() {
            return Some(Ok(()));
        }
        Some(match self.inner.take_error() {
            Some(e) => Err(e),
            None => Ok(()),
        })
    }

    /// A refused non-blocking connect: EINPROGRESS now, the error through
    /// SO_ERROR, poll and the next connect.
    pub fn set_refused(&self, e: Errno) {
        self.state.lock().connecting = true;
        self.inner.set_error(e);
    }

    /// connect(2) of a UDP socket: sets the default peer (or with
    /// AF_UNSPEC dissolves it), binding an unbound socket.
    pub fn connect_udp(&self, dst: Option<SockAddr>) -> KResult<()> {
        let Some(dst) = dst else {
            self.state.lock().peer = None;
            return Ok(());
        };
        let dst = self.resolve(dst)?;
        let local = self.autobind()?;
        let src = self.source(local, dst.ip);
        self.inner.bind_foreign(UnixAddr::Foreign(self.encode(src)));
        let mut st = self.state.lock();
        st.peer = Some(dst);
        if local.ip.is_any() {
            // ip4_datagram_connect: the source address is fixed now.
            st.local = Some(src);
        }
        Ok(())
    }

    /// The transport a datagram to `dst` (or the default peer) goes to:
    /// EDESTADDRREQ without either, ENETUNREACH off loopback. `None` when
    /// nobody receives there: the datagram is dropped, as a port
    /// unreachable is not reported to unconnected senders.
    pub fn dgram_target(&self, dst: Option<SockAddr>) -> KResult<Option<Arc<UnixSocket>>> {
        let dst = match dst {
            Some(d) => d,
            None => self.state.lock().peer.ok_or(Errno::EDESTADDRREQ)?,
        };
        let dst = self.resolve(dst)?;
        let local = self.autobind()?;
        let src = self.source(local, dst.ip);
        self.inner.bind_foreign(UnixAddr::Foreign(self.encode(src)));
        let Some(id) = PORTS.lock().udp_receiver(dst) else {
            return Ok(None);
        };
        let Some(to) = lookup(id) else {
            return Ok(None);
        };
        // A connected receiver takes datagrams from its peer only.
        if let Some(p) = to.state.lock().peer
            && p != src
        {
            return Ok(None);
        }
        Ok(Some(to.inner.clone()))
    }

    /// Sets IPV6_V6ONLY: EINVAL once bound (ipv6_setsockopt).
    pub fn set_v6only(&self, on: bool) -> KResult<()> {
        if self.state.lock().local.is_some() {
            return Err(Errno::EINVAL);
        }
        self.opts.v6only.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Whether the socket is bound or connected.
    pub fn is_connected(&self) -> bool {
        self.state.lock().peer.is_some()
    }
}

/// The open socket with id `id`.
fn lookup(id: u64) -> Option<Arc<InetSocket>> {
    SOCKETS.lock().get(&id).and_then(Weak::upgrade)
}

impl Drop for InetSocket {
    fn drop(&mut self) {
        PORTS.lock().remove(self.id);
        SOCKETS.lock().remove(&self.id);
    }
}
