//! struct sockaddr_in and sockaddr_in6: parsing what user space passes,
//! encoding what it gets back, and which addresses the loopback interface
//! owns (ip(7), ipv6(7); net/ipv4/af_inet.c inet_bind_sk,
//! net/ipv6/af_inet6.c __inet6_bind).

use alloc::vec::Vec;

use crate::{Errno, KResult};

pub const AF_UNSPEC: u16 = 0;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
/// sizeof(struct sockaddr_in).
pub const SOCKADDR_IN_LEN: usize = 16;
/// SIN6_LEN_RFC2133: a sockaddr_in6 without sin6_scope_id, the shortest
/// Linux takes.
pub const SIN6_LEN_RFC2133: usize = 24;
/// sizeof(struct sockaddr_in6).
pub const SOCKADDR_IN6_LEN: usize = 28;

/// An IP address, an IPv4-mapped IPv6 address (::ffff:a.b.c.d) held as the
/// IPv4 address it maps, so that both spellings find the same socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ip {
    V4([u8; 4]),
    V6([u8; 16]),
}

pub const V4_ANY: Ip = Ip::V4([0; 4]);
pub const V6_ANY: Ip = Ip::V6([0; 16]);
pub const V4_LOOPBACK: Ip = Ip::V4([127, 0, 0, 1]);
pub const V6_LOOPBACK: Ip = Ip::V6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

impl Ip {
    /// An IPv6 address, a mapped one as its IPv4 address.
    pub fn from_v6(a: [u8; 16]) -> Ip {
        if a[..10] == [0; 10] && a[10] == 0xff && a[11] == 0xff {
            Ip::V4([a[12], a[13], a[14], a[15]])
        } else {
            Ip::V6(a)
        }
    }

    /// INADDR_ANY or in6addr_any.
    pub fn is_any(self) -> bool {
        self == V4_ANY || self == V6_ANY
    }

    /// An address of the loopback interface: 127.0.0.0/8 or ::1.
    pub fn is_loopback(self) -> bool {
        match self {
            Ip::V4(a) => a[0] == 127,
            Ip::V6(_) => self == V6_LOOPBACK,
        }
    }

    /// Whether bind may take it here: a loopback address or a wildcard
    /// (the only interface is lo).
    pub fn bindable(self) -> bool {
        self.is_any() || self.is_loopback()
    }

    /// The address in the socket family `family`'s form: an IPv4 address
    /// in an AF_INET6 socket becomes its mapped IPv6 address.
    pub fn v6_bytes(self) -> [u8; 16] {
        match self {
            Ip::V6(a) => a,
            Ip::V4(a) => [
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a[0], a[1], a[2], a[3],
            ],
        }
    }
}

/// An address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SockAddr {
    pub ip: Ip,
    pub port: u16,
}

/// What a bind or connect address asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    Addr(SockAddr),
    /// AF_UNSPEC: connect dissolves the association.
    Unspec,
}

/// Parses the `raw` address a socket of family `family` was passed:
/// EINVAL when shorter than the family's sockaddr, EAFNOSUPPORT for
/// another family. An AF_INET socket takes AF_UNSPEC with INADDR_ANY as
/// AF_INET (inet_bind_sk's compatibility rule); `unspec_ok` lets connect
/// report AF_UNSPEC instead.
pub fn parse(family: u16, raw: &[u8], unspec_ok: bool) -> KResult<Parsed> {
    let min = if family == AF_INET {
        SOCKADDR_IN_LEN
    } else {
        SIN6_LEN_RFC2133
    };
    if raw.len() >= 2 && unspec_ok && u16::from_ne_bytes([raw[0], raw[1]]) == AF_UNSPEC {
        return Ok(Parsed::Unspec);
    }
    if raw.len() < min {
        return Err(Errno::EINVAL);
    }
    let fam = u16::from_ne_bytes([raw[0], raw[1]]);
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    if family == AF_INET {
        let ip = [raw[4], raw[5], raw[6], raw[7]];
        let unspec_any = fam == AF_UNSPEC && ip == [0; 4];
        if fam != AF_INET && !unspec_any {
            return Err(Errno::EAFNOSUPPORT);
        }
        return Ok(Parsed::Addr(SockAddr {
            ip: Ip::V4(ip),
            port,
        }));
    }
    if fam != AF_INET6 {
        return Err(Errno::EAFNOSUPPORT);
    }
    let mut ip = [0u8; 16];
    ip.copy_from_slice(&raw[8..24]);
    Ok(Parsed::Addr(SockAddr {
        ip: Ip::from_v6(ip),
        port,
    }))
}

/// The sockaddr bytes for `a` in family `family`: a 16-byte sockaddr_in,
/// or a 28-byte sockaddr_in6 (flow label and scope zero) with IPv4
/// addresses mapped.
pub fn encode(family: u16, a: SockAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(SOCKADDR_IN6_LEN);
    out.extend_from_slice(&family.to_ne_bytes());
    out.extend_from_slice(&a.port.to_be_bytes());
    if family == AF_INET {
        let ip = match a.ip {
            Ip::V4(ip) => ip,
            // An AF_INET socket never holds an IPv6 address.
            Ip::V6(_) => [0; 4],
        };
        out.extend_from_slice(&ip);
        out.extend_from_slice(&[0; 8]);
    } else {
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&a.ip.v6_bytes());
        out.extend_from_slice(&[0; 4]);
    }
    out
}

/// Decodes bytes [`encode`] made (either family).
pub fn decode(raw: &[u8]) -> Option<SockAddr> {
    if raw.len() < 2 {
        return None;
    }
    let fam = u16::from_ne_bytes([raw[0], raw[1]]);
    match parse(fam, raw, false) {
        Ok(Parsed::Addr(a)) => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_round_trip_and_lengths() {
        let a = SockAddr {
            ip: V4_LOOPBACK,
            port: 8000,
        };
        let raw = encode(AF_INET, a);
        assert_eq!(raw.len(), 16);
        assert_eq!(&raw[2..8], &[0x1f, 0x40, 127, 0, 0, 1]);
        assert_eq!(parse(AF_INET, &raw, false), Ok(Parsed::Addr(a)));
        assert_eq!(parse(AF_INET, &raw[..15], false), Err(Errno::EINVAL));
        let mut six = raw.clone();
        six[0..2].copy_from_slice(&AF_INET6.to_ne_bytes());
        assert_eq!(parse(AF_INET, &six, false), Err(Errno::EAFNOSUPPORT));
    }

    #[test]
    fn unspec_any_binds_as_inet() {
        let mut raw = encode(
            AF_INET,
            SockAddr {
                ip: V4_ANY,
                port: 5,
            },
        );
        raw[0..2].copy_from_slice(&AF_UNSPEC.to_ne_bytes());
        assert!(matches!(parse(AF_INET, &raw, false), Ok(Parsed::Addr(_))));
        assert_eq!(parse(AF_INET, &raw, true), Ok(Parsed::Unspec));
        raw[4] = 127;
        assert_eq!(parse(AF_INET, &raw, false), Err(Errno::EAFNOSUPPORT));
    }

    #[test]
    fn mapped_addresses_are_v4() {
        let a = SockAddr {
            ip: V4_LOOPBACK,
            port: 1,
        };
        let raw = encode(AF_INET6, a);
        assert_eq!(raw.len(), 28);
        assert_eq!(&raw[18..24], &[0xff, 0xff, 127, 0, 0, 1]);
        assert_eq!(parse(AF_INET6, &raw, false), Ok(Parsed::Addr(a)));
        assert_eq!(parse(AF_INET6, &raw[..24], false), Ok(Parsed::Addr(a)));
        assert_eq!(parse(AF_INET6, &raw[..23], false), Err(Errno::EINVAL));
        assert_eq!(decode(&raw), Some(a));
    }

    #[test]
    fn loopback_only() {
        assert!(Ip::V4([127, 1, 2, 3]).bindable());
        assert!(V6_ANY.bindable() && V6_LOOPBACK.bindable());
        assert!(!Ip::V4([10, 0, 0, 1]).bindable());
        assert!(!Ip::from_v6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).bindable());
    }
}
