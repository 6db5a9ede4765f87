//! AF_UNIX sockets (unix(7)): stream, datagram and seqpacket sockets in
//! one object, after net/unix/af_unix.c. This module holds the object and
//! its state; [`conn`] names and connections, [`io`] sending and receiving,
//! [`file`] the `FileLike` side (poll, release).
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
//! most [`MAX_DGRAM_QLEN`] + 1 messages. As every
//! [`FileLike`](super::FileLike) object, nothing here blocks: `EAGAIN`
//! sends the syscall layer to wait on
//! [`register_poll`](super::FileLike::register_poll) (or
//! [`UnixSocket::register_space`] for a datagram receiver's queue) and
//! retry.
//!
//! Lock order: two sockets' state locks nest only in connect, the
//! listener's first (a listener never connects); everywhere else one at a
//! time. Wake-ups happen after the lock is released. Descriptors passed
//! with SCM_RIGHTS are dropped outside every lock, since dropping one may
//! release another socket.

mod conn;
mod file;
mod io;
mod proc;

use alloc::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use ax_sync::SpinLock;
use axpoll::IoEvents;
use axpoll_set::PollSet;

use super::OpenFile;
use crate::{
    Errno, KResult,
    unix::{
        Ucred,
        addr::UnixAddr,
        queue::{Msg, Queue},
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
    /// A name kept by an AF_INET or AF_INET6 socket riding on this one
    /// (its port table finds it); never in the registry here.
    Foreign,
}

static BOUND: SpinLock<BTreeMap<BindKey, Weak<UnixSocket>>> = SpinLock::new(BTreeMap::new());

/// Every socket by inode number, for /proc/net/unix. A leaf lock: a
/// socket leaves it in its `Drop`, so no socket is dropped while it is held.
static ALL: SpinLock<BTreeMap<u64, Weak<UnixSocket>>> = SpinLock::new(BTreeMap::new());

pub use self::proc::proc_net_unix;

/// The socket bound to `key`, if one is (and is still open).
pub fn lookup(key: &BindKey) -> Option<Arc<UnixSocket>> {
    BOUND.lock().get(key).and_then(Weak::upgrade)
}

/// The send-buffer account of a socket: bytes it sent that are still
/// queued at a receiver, and the waiters for room.
struct Account {
    wmem: AtomicUsize,
    writable: PollSet,
    /// The socket's O_ASYNC descriptions (sk_wq's fasync_list), here so
    /// that freed room can reach them: POLL_IN when data or a connection
    /// arrives, POLL_HUP or POLL_IN when the peer closes or shuts down,
    /// POLL_OUT when room comes back after a send found none.
    fasync: crate::file::fasync::FasyncList,
    /// SOCKWQ_ASYNC_NOSPACE: a send found no room; the wmem level at or
    /// below which room is back (a quarter of SO_SNDBUF, unix_writable),
    /// 0 when no send is waiting for it.
    nospace_below: AtomicUsize,
}

impl Account {
    /// unix_write_space: room came back; POLL_OUT once if a send had
    /// found none.
    fn room_freed(&self) {
        let limit = self.nospace_below.load(Ordering::Acquire);
        if limit != 0
            && self.wmem.load(Ordering::Acquire) <= limit
            && self.nospace_below.swap(0, Ordering::AcqRel) != 0
        {
            self.fasync.kill(crate::file::fasync::POLL_OUT);
        }
    }
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
    /// Whether /proc/net/unix lists it: not the transport of an inet
    /// socket.
    listed: bool,
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
        Self::new_in(ty, true)
    }

    /// A socket that carries an AF_INET or AF_INET6 socket's data: not
    /// listed in /proc/net/unix, nor are the connections made to it.
    pub fn new_transport(ty: SockType) -> Arc<Self> {
        Self::new_in(ty, false)
    }

    fn new_in(ty: SockType, listed: bool) -> Arc<Self> {
        let sock = Arc::new(Self {
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
                fasync: crate::file::fasync::FasyncList::new(),
                nospace_below: AtomicUsize::new(0),
            }),
            readable: PollSet::new(),
            space: PollSet::new(),
            dead: AtomicBool::new(false),
            listed,
            passcred: AtomicBool::new(false),
            reuseaddr: AtomicBool::new(false),
            sndbuf: AtomicU32::new(DEFAULT_BUF),
            rcvbuf: AtomicU32::new(DEFAULT_BUF),
            rcvtimeo: AtomicU64::new(NO_TIMEOUT),
            sndtimeo: AtomicU64::new(NO_TIMEOUT),
        });
        if listed {
            ALL.lock().insert(sock.ino, Arc::downgrade(&sock));
        }
        sock
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

    /// Whether the socket has a peer (open or not).
    pub fn is_connected(&self) -> bool {
        matches!(self.state.lock().conn, Conn::Connected(_))
    }

    /// Whether the socket listens (SO_ACCEPTCONN).
    pub fn is_listening(&self) -> bool {
        matches!(self.state.lock().conn, Conn::Listening { .. })
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

    /// Names an unbound socket `addr` without entering the registry (the
    /// inet layer keeps its own); a named one keeps its name.
    pub fn bind_foreign(&self, addr: UnixAddr) {
        let mut st = self.state.lock();
        if st.key.is_none() {
            st.addr = addr;
            st.key = Some(BindKey::Foreign);
        }
    }

    /// Sets sk_err (a refused non-blocking connect), which SO_ERROR and
    /// poll's POLLERR report.
    pub fn set_error(&self, e: Errno) {
        self.state.lock().err = Some(e);
        wake(&self.readable, IoEvents::ERR);
        wake(&self.account.writable, IoEvents::ERR | IoEvents::OUT);
    }

    /// The inode number socket:[N] shows.
    pub fn ino(&self) -> u64 {
        self.ino
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
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        ALL.lock().remove(&self.ino);
    }
}
