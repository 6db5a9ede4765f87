//! AF_UNIX sockets (unix(7)): stream, datagram and seqpacket sockets in
//! one object, after net/unix/af_unix.c.
//!
//! Each socket owns its receive queue ([`crate::unix::queue`]) and its
//! state under one lock. A connection is two sockets that name each other
//! weakly (the descriptors keep them alive); a connect to a listener makes
//! the server-side socket at once and queues it on the listener until
//! accept, as Linux's "embryo". Bound names live in a registry keyed by the
//! abstract name or by the (device, inode) of the socket file, which the
//! syscall layer creates in the file system.
//!
//! Flow control follows Linux: a sender's bytes still queued at the
//! receiver count against its SO_SNDBUF, and a datagram receiver takes at
//! most [`MAX_DGRAM_QLEN`] + 1 messages. As every [`FileLike`] object,
//! nothing here blocks: `EAGAIN` sends the syscall layer to wait on
//! [`FileLike::register_poll`] (or [`UnixSocket::register_space`] for a
//! datagram receiver's queue) and retry.
//!
//! Lock order: two sockets' state locks nest only in connect, the
//! listener's first (a listener never connects); everywhere else one at a
//! time. Wake-ups happen after the lock is released. Descriptors passed with SCM_RIGHTS are dropped
//! outside every lock, since dropping one may release another socket.

use alloc::{
    collections::{BTreeMap, VecDeque},
    string::String,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::{
    any::Any,
    sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::{FileLike, Kstat, OpenFile, mode};
use crate::{
    Errno, KResult,
    unix::{
        Ucred,
        addr::{UnixAddr, autobind_name},
        queue::{Msg, Queue, Read},
    },
};

/// Socket types (include/linux/net.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SockType {
    Stream = 1,
    Dgram = 2,
    SeqPacket = 5,
}

/// Default SO_SNDBUF / SO_RCVBUF (net.core.wmem_default, rmem_default).
pub const DEFAULT_BUF: u32 = 212_992;
/// Smallest SO_SNDBUF and SO_RCVBUF (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF).
pub const MIN_SNDBUF: u32 = 4608;
pub const MIN_RCVBUF: u32 = 2304;
/// net.core.wmem_max / rmem_max: the largest value setsockopt stores
/// (doubled), without CAP_NET_ADMIN's SO_*BUFFORCE.
pub const MAX_BUF: u32 = 212_992;
/// What a queued message costs its sender's SO_SNDBUF beyond its bytes:
/// about the sk_buff overhead Linux charges (its truesize), so that small
/// datagrams fill the buffer after a similar count (a 212992-byte buffer
/// takes 277 one-byte datagrams).
const MSG_OVERHEAD: usize = 768;

fn charge(len: usize) -> usize {
    len + MSG_OVERHEAD
}

/// net.unix.max_dgram_qlen.
pub const MAX_DGRAM_QLEN: usize = 10;
/// net.core.somaxconn: listen caps its backlog here.
pub const SOMAXCONN: usize = 4096;

/// sk_shutdown bits.
const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;

static NEXT_INO: AtomicU32 = AtomicU32::new(1);
static NEXT_AUTOBIND: AtomicU32 = AtomicU32::new(0);

/// Where a bound socket is found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BindKey {
    /// An abstract name, per socket type: Linux hashes the type in, so a
    /// stream and a datagram socket may hold the same name, and a lookup
    /// finds only a socket of the caller's type.
    Abstract(SockType, Vec<u8>),
    /// The socket file's device and inode.
    Inode(u64, u64),
}

static BOUND: SpinLock<BTreeMap<BindKey, Weak<UnixSocket>>> = SpinLock::new(BTreeMap::new());

/// The socket bound to `key`, if one is (and is still open).
pub fn lookup(key: &BindKey) -> Option<Arc<UnixSocket>> {
    BOUND.lock().get(key).and_then(Weak::upgrade)
}

/// The send-buffer account of a socket: bytes it sent that are still
/// queued at a receiver, and the waiters for room.
struct Account {
    wmem: AtomicUsize,
    writable: PollSet,
}

/// A passed descriptor in flight.
pub type Right = Arc<OpenFile>;
type Message = Msg<Right, Arc<Account>>;

enum Conn {
    Unconnected,
    Listening {
        backlog: usize,
        pending: VecDeque<Arc<UnixSocket>>,
    },
    Connected(Weak<UnixSocket>),
}

struct State {
    addr: UnixAddr,
    key: Option<BindKey>,
    conn: Conn,
    /// SO_PEERCRED: the peer's credentials when the connection was made
    /// (for a listener, its own at listen time, which connectors get).
    peer_cred: Option<Ucred>,
    /// The peer's name when the connection was made, for getpeername once
    /// the peer is gone (Linux keeps its pointer to the peer until this
    /// socket is released).
    peer_name: UnixAddr,
    shutdown: u8,
    /// sk_err, reported once by SO_ERROR or the next read.
    err: Option<Errno>,
    queue: Queue<Right, Arc<Account>>,
    /// Senders that polled while this datagram queue was full: woken when
    /// it drains (Linux's peer_wake relay, unix_dgram_peer_wake_me).
    space_waiters: Vec<Weak<Account>>,
}

/// One AF_UNIX socket.
pub struct UnixSocket {
    ty: SockType,
    ino: u64,
    state: SpinLock<State>,
    account: Arc<Account>,
    /// Readers, acceptors and hang-up watchers.
    readable: PollSet,
    /// Senders waiting for room in this socket's datagram queue.
    space: PollSet,
    dead: AtomicBool,
    /// SO_PASSCRED.
    pub passcred: AtomicBool,
    /// SO_REUSEADDR, kept for getsockopt (it changes nothing for AF_UNIX).
    pub reuseaddr: AtomicBool,
    sndbuf: AtomicU32,
    rcvbuf: AtomicU32,
    /// SO_RCVTIMEO and SO_SNDTIMEO in nanoseconds; [`NO_TIMEOUT`] waits
    /// without limit.
    rcvtimeo: AtomicU64,
    sndtimeo: AtomicU64,
}

/// A timeout that never runs out (Linux's MAX_SCHEDULE_TIMEOUT).
pub const NO_TIMEOUT: u64 = u64::MAX;

/// What a receive returns besides the bytes.
pub struct Received {
    pub copied: usize,
    /// The whole datagram's length (MSG_TRUNC).
    pub full: usize,
    pub from: UnixAddr,
    /// The credentials to report (SO_PASSCRED set).
    pub creds: Option<Ucred>,
    pub rights: Vec<Right>,
}

fn wake(set: &PollSet, events: IoEvents) {
    // SAFETY: task context and no lock held (every caller released the
    // state lock after publishing the change).
    unsafe { set.wake_all(events) };
}

impl UnixSocket {
    /// A new unconnected, unbound socket.
    pub fn new(ty: SockType) -> Arc<Self> {
        Arc::new(Self {
            ty,
            ino: u64::from(NEXT_INO.fetch_add(1, Ordering::Relaxed)),
            state: SpinLock::new(State {
                addr: UnixAddr::Unnamed,
                key: None,
                conn: Conn::Unconnected,
                peer_cred: None,
                peer_name: UnixAddr::Unnamed,
                shutdown: 0,
                err: None,
                queue: Queue::default(),
                space_waiters: Vec::new(),
            }),
            account: Arc::new(Account {
                wmem: AtomicUsize::new(0),
                writable: PollSet::new(),
            }),
            readable: PollSet::new(),
            space: PollSet::new(),
            dead: AtomicBool::new(false),
            passcred: AtomicBool::new(false),
            reuseaddr: AtomicBool::new(false),
            sndbuf: AtomicU32::new(DEFAULT_BUF),
            rcvbuf: AtomicU32::new(DEFAULT_BUF),
            rcvtimeo: AtomicU64::new(NO_TIMEOUT),
            sndtimeo: AtomicU64::new(NO_TIMEOUT),
        })
    }

    /// socketpair(2): two sockets connected to each other, each with the
    /// creator's credentials as SO_PEERCRED.
    pub fn pair(ty: SockType, cred: Ucred) -> (Arc<Self>, Arc<Self>) {
        let (a, b) = (Self::new(ty), Self::new(ty));
        {
            let mut s = a.state.lock();
            s.conn = Conn::Connected(Arc::downgrade(&b));
            s.peer_cred = Some(cred);
        }
        {
            let mut s = b.state.lock();
            s.conn = Conn::Connected(Arc::downgrade(&a));
            s.peer_cred = Some(cred);
        }
        (a, b)
    }

    pub fn sock_type(&self) -> SockType {
        self.ty
    }

    fn connection_oriented(&self) -> bool {
        self.ty != SockType::Dgram
    }

    /// The bound name (getsockname).
    pub fn local_addr(&self) -> UnixAddr {
        self.state.lock().addr.clone()
    }

    /// Whether the socket has a name.
    pub fn is_bound(&self) -> bool {
        self.state.lock().key.is_some()
    }

    /// The connected peer, if it is still open.
    fn peer(&self) -> Option<Arc<UnixSocket>> {
        match &self.state.lock().conn {
            Conn::Connected(p) => p.upgrade().filter(|p| !p.dead.load(Ordering::Acquire)),
            _ => None,
        }
    }

    /// The peer's name (getpeername): ENOTCONN without a peer.
    pub fn peer_addr(&self) -> KResult<UnixAddr> {
        let (conn, cached) = {
            let st = self.state.lock();
            match &st.conn {
                Conn::Connected(p) => (p.clone(), st.peer_name.clone()),
                _ => return Err(Errno::ENOTCONN),
            }
        };
        // A peer that went away still names the address it had.
        Ok(conn.upgrade().map_or(cached, |p| p.local_addr()))
    }

    /// SO_PEERCRED.
    pub fn peer_cred(&self) -> Option<Ucred> {
        self.state.lock().peer_cred
    }

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

    /// Whether the socket has a peer (open or not).
    pub fn is_connected(&self) -> bool {
        matches!(self.state.lock().conn, Conn::Connected(_))
    }

    /// Whether the socket listens (SO_ACCEPTCONN).
    pub fn is_listening(&self) -> bool {
        matches!(self.state.lock().conn, Conn::Listening { .. })
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
        let server = Self::new(self.ty);
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
    fn dgram_queue_full_wake_me(&self, sender: &UnixSocket) -> bool {
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
    fn wake_space_waiters(waiters: Vec<Weak<Account>>) {
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
                Err(Errno::EAGAIN)
            } else {
                Ok(sent)
            };
        }
        if self.account.wmem.load(Ordering::Acquire) >= sndbuf || peer.dgram_queue_full(self) {
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
        }
        Ok(())
    }

    /// SO_RCVTIMEO (`send` false) or SO_SNDTIMEO in nanoseconds, or
    /// [`NO_TIMEOUT`].
    pub fn timeout_nanos(&self, send: bool) -> u64 {
        if send { &self.sndtimeo } else { &self.rcvtimeo }.load(Ordering::Relaxed)
    }

    /// Sets SO_RCVTIMEO or SO_SNDTIMEO.
    pub fn set_timeout_nanos(&self, send: bool, nanos: u64) {
        if send { &self.sndtimeo } else { &self.rcvtimeo }.store(nanos, Ordering::Relaxed);
    }

    /// SO_ERROR: the pending error, cleared.
    pub fn take_error(&self) -> Option<Errno> {
        self.state.lock().err.take()
    }

    pub fn sndbuf(&self) -> u32 {
        self.sndbuf.load(Ordering::Relaxed)
    }

    pub fn rcvbuf(&self) -> u32 {
        self.rcvbuf.load(Ordering::Relaxed)
    }

    /// SO_SNDBUF: twice the value, capped and floored as sock_setsockopt.
    pub fn set_sndbuf(&self, v: i32) {
        let v = (v.max(0) as u32)
            .min(MAX_BUF)
            .saturating_mul(2)
            .max(MIN_SNDBUF);
        self.sndbuf.store(v, Ordering::Relaxed);
        wake(&self.account.writable, IoEvents::OUT);
    }

    /// SO_RCVBUF, as [`set_sndbuf`](Self::set_sndbuf).
    pub fn set_rcvbuf(&self, v: i32) {
        let v = (v.max(0) as u32)
            .min(MAX_BUF)
            .saturating_mul(2)
            .max(MIN_RCVBUF);
        self.rcvbuf.store(v, Ordering::Relaxed);
    }

    /// Unread bytes (stream) or the next datagram's length (SIOCINQ).
    fn inq(&self) -> usize {
        let st = self.state.lock();
        if self.ty == SockType::Stream {
            st.queue.bytes()
        } else {
            st.queue.next_len()
        }
    }
}

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

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn super::UserAccess) -> KResult<usize> {
        const SIOCINQ: u32 = 0x541b;
        const SIOCOUTQ: u32 = 0x5411;
        let v = match cmd {
            SIOCINQ => self.inq(),
            SIOCOUTQ => self.account.wmem.load(Ordering::Acquire),
            _ => return Err(Errno::ENOTTY),
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
            drop(msg);
        }
        wake(&self.readable, IoEvents::IN | IoEvents::HUP);
        wake(&self.space, IoEvents::OUT);
        for s in pending_sockets {
            s.close(true);
        }
    }
}
