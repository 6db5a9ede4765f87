//! The port table: which socket holds which (protocol, address, port), the
//! bind-conflict rules with SO_REUSEADDR and SO_REUSEPORT, ephemeral
//! ports, and the lookups connect and a datagram's delivery make.
//!
//! Entries are keyed by an id the caller chooses (the socket's); the
//! table holds no sockets, so it is plain data the host tests can drive.

use alloc::vec::Vec;

use super::addr::{Ip, SockAddr, V4_ANY, V6_ANY};
use crate::{Errno, KResult};

/// net.ipv4.ip_local_port_range.
pub const EPHEMERAL_LOW: u16 = 32768;
pub const EPHEMERAL_HIGH: u16 = 60999;
/// net.ipv4.ip_unprivileged_port_start.
pub const UNPRIVILEGED_PORT_START: u16 = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// One bound socket.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub id: u64,
    pub proto: Proto,
    pub addr: SockAddr,
    /// An AF_INET6 socket with IPV6_V6ONLY: its :: does not cover IPv4.
    pub v6only: bool,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub listening: bool,
}

impl Entry {
    /// Whether the two entries' address sets meet (the port aside).
    fn overlaps(&self, o: &Entry) -> bool {
        match (self.addr.ip, o.addr.ip) {
            (Ip::V4(_), Ip::V4(_)) | (Ip::V6(_), Ip::V6(_)) => {
                self.addr.ip.is_any() || o.addr.ip.is_any() || self.addr.ip == o.addr.ip
            }
            (Ip::V4(_), Ip::V6(_)) => o.addr.ip == V6_ANY && !o.v6only,
            (Ip::V6(_), Ip::V4(_)) => self.addr.ip == V6_ANY && !self.v6only,
        }
    }

    /// Whether a packet for `dst` reaches this entry's address.
    fn accepts(&self, dst: Ip) -> bool {
        if self.addr.ip == dst {
            return true;
        }
        match dst {
            Ip::V4(_) => self.addr.ip == V4_ANY || (self.addr.ip == V6_ANY && !self.v6only),
            Ip::V6(_) => self.addr.ip == V6_ANY,
        }
    }

    /// inet_csk_bind_conflict / udp_lib_lport_inuse: both SO_REUSEADDR
    /// (and, for TCP, the holder not listening), or both SO_REUSEPORT,
    /// let two sockets share.
    fn conflicts(&self, o: &Entry) -> bool {
        if self.proto != o.proto || self.addr.port != o.addr.port || !self.overlaps(o) {
            return false;
        }
        let reuse = self.reuseaddr && o.reuseaddr && (self.proto == Proto::Udp || !o.listening);
        !(reuse || (self.reuseport && o.reuseport))
    }
}

/// Every bound socket of the loopback interface.
#[derive(Default)]
pub struct PortTable {
    entries: Vec<Entry>,
    next_ephemeral: u16,
}

impl PortTable {
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
            next_ephemeral: 0,
        }
    }

    /// Enters `e`; a port of 0 takes a free ephemeral port. EADDRINUSE on
    /// a conflict or when no ephemeral port is free. Returns the port.
    pub fn bind(&mut self, mut e: Entry) -> KResult<u16> {
        if e.addr.port == 0 {
            let span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
            let found = (0..span).find_map(|i| {
                let port = EPHEMERAL_LOW + (self.next_ephemeral.wrapping_add(i) % span);
                let try_e = Entry {
                    addr: SockAddr { port, ..e.addr },
                    ..e
                };
                (!self.entries.iter().any(|o| try_e.conflicts(o))).then_some((i, port))
            });
            let (i, port) = found.ok_or(Errno::EADDRINUSE)?;
            self.next_ephemeral = self.next_ephemeral.wrapping_add(i + 1) % span;
            e.addr.port = port;
        } else if self.entries.iter().any(|o| e.conflicts(o)) {
            return Err(Errno::EADDRINUSE);
        }
        self.entries.push(e);
        Ok(e.addr.port)
    }

    /// Marks `id` listening: EADDRINUSE if another socket on its port
    /// would conflict with a listener (it shared the port through
    /// SO_REUSEADDR, which listening ends: inet_csk_get_port at listen).
    pub fn listen(&mut self, id: u64) -> KResult<()> {
        let Some(i) = self.entries.iter().position(|e| e.id == id) else {
            return Err(Errno::EINVAL);
        };
        let mut e = self.entries[i];
        e.listening = true;
        let clash = self.entries.iter().any(|o| {
            o.id != id
                && e.proto == o.proto
                && e.addr.port == o.addr.port
                && e.overlaps(o)
                && !(e.reuseport && o.reuseport)
        });
        if clash {
            return Err(Errno::EADDRINUSE);
        }
        self.entries[i].listening = true;
        Ok(())
    }

    /// Drops `id`'s entry.
    pub fn remove(&mut self, id: u64) {
        self.entries.retain(|e| e.id != id);
    }

    /// The listener a TCP connect to `dst` reaches: an exact address before
    /// a wildcard.
    pub fn listener(&self, dst: SockAddr) -> Option<u64> {
        self.find(Proto::Tcp, dst, |e| e.listening)
    }

    /// The UDP socket a datagram to `dst` reaches.
    pub fn udp_receiver(&self, dst: SockAddr) -> Option<u64> {
        self.find(Proto::Udp, dst, |_| true)
    }

    fn find(&self, proto: Proto, dst: SockAddr, ok: impl Fn(&Entry) -> bool) -> Option<u64> {
        let mut cands = self
            .entries
            .iter()
            .filter(|e| e.proto == proto && e.addr.port == dst.port && ok(e) && e.accepts(dst.ip));
        let first = cands.next()?;
        if first.addr.ip == dst.ip {
            return Some(first.id);
        }
        Some(
            cands
                .find(|e| e.addr.ip == dst.ip)
                .map_or(first.id, |e| e.id),
        )
    }

    /// Every entry, for /proc/net.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inet::addr::{V4_LOOPBACK, V6_LOOPBACK};

    fn e(id: u64, ip: Ip, port: u16) -> Entry {
        Entry {
            id,
            proto: Proto::Tcp,
            addr: SockAddr { ip, port },
            v6only: false,
            reuseaddr: false,
            reuseport: false,
            listening: false,
        }
    }

    #[test]
    fn conflicts_and_reuseaddr() {
        let mut t = PortTable::new();
        assert_eq!(t.bind(e(1, V4_ANY, 80)), Ok(80));
        assert_eq!(t.bind(e(2, V4_LOOPBACK, 80)), Err(Errno::EADDRINUSE));
        assert_eq!(t.bind(e(3, V6_ANY, 80)), Err(Errno::EADDRINUSE));
        assert_eq!(
            t.bind(Entry {
                v6only: true,
                ..e(3, V6_ANY, 80)
            }),
            Ok(80)
        );
        assert_eq!(t.bind(e(4, Ip::V4([127, 0, 0, 2]), 81)), Ok(81));
        assert_eq!(t.bind(e(5, V4_LOOPBACK, 81)), Ok(81));
        t.remove(1);
        let r = Entry {
            reuseaddr: true,
            ..e(6, V4_LOOPBACK, 90)
        };
        assert_eq!(t.bind(r), Ok(90));
        assert_eq!(t.bind(Entry { id: 7, ..r }), Ok(90));
        assert_eq!(t.listen(6), Err(Errno::EADDRINUSE));
        t.remove(7);
        assert_eq!(t.listen(6), Ok(()));
        assert_eq!(t.bind(Entry { id: 8, ..r }), Err(Errno::EADDRINUSE));
        let u = Entry {
            proto: Proto::Udp,
            ..e(9, V4_LOOPBACK, 90)
        };
        assert_eq!(t.bind(u), Ok(90));
    }

    #[test]
    fn ephemeral_ports_are_distinct() {
        let mut t = PortTable::new();
        let a = t.bind(e(1, V4_ANY, 0)).unwrap();
        let b = t.bind(e(2, V4_ANY, 0)).unwrap();
        assert!(a != b);
        assert!((EPHEMERAL_LOW..=EPHEMERAL_HIGH).contains(&a));
        assert!((EPHEMERAL_LOW..=EPHEMERAL_HIGH).contains(&b));
    }

    #[test]
    fn lookups_prefer_exact_and_honour_v6only() {
        let mut t = PortTable::new();
        t.bind(Entry {
            listening: true,
            ..e(1, V6_ANY, 8000)
        })
        .unwrap();
        let v4 = SockAddr {
            ip: V4_LOOPBACK,
            port: 8000,
        };
        assert_eq!(t.listener(v4), Some(1));
        t.bind(Entry {
            listening: true,
            ..e(2, V4_LOOPBACK, 8001)
        })
        .unwrap();
        assert_eq!(t.listener(SockAddr { port: 8001, ..v4 }), Some(2));
        let v6 = SockAddr {
            ip: V6_LOOPBACK,
            port: 8001,
        };
        assert_eq!(t.listener(v6), None);
        t.bind(Entry {
            listening: true,
            v6only: true,
            ..e(3, V6_ANY, 8002)
        })
        .unwrap();
        assert_eq!(t.listener(SockAddr { port: 8002, ..v4 }), None);
        assert_eq!(t.listener(SockAddr { port: 8002, ..v6 }), Some(3));
        assert_eq!(t.udp_receiver(v4), None);
    }
}
