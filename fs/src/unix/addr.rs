//! struct sockaddr_un: parsing what user space passes and encoding what it
//! gets back (unix(7), net/unix/af_unix.c unix_validate_addr, unix_mkname_bsd).

use alloc::vec::Vec;

use crate::{Errno, KResult};

/// AF_UNIX / AF_LOCAL.
pub const AF_UNIX: u16 = 1;
/// offsetof(struct sockaddr_un, sun_path).
pub const PATH_OFFSET: usize = 2;
/// sizeof(struct sockaddr_un).
pub const SOCKADDR_UN_LEN: usize = 110;

/// The name of a socket.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnixAddr {
    /// No name (never bound): getsockname reports only the family.
    Unnamed,
    /// A file system path, without the terminating NUL.
    Path(Vec<u8>),
    /// An abstract name: the bytes after the leading NUL, exactly as many as
    /// the address length gave (they may contain NULs).
    Abstract(Vec<u8>),
    /// The address of another family, encoded verbatim: the AF_INET and
    /// AF_INET6 sockets ([`crate::file::inet`]) ride on this transport and
    /// name their ends with their own sockaddr bytes.
    Foreign(Vec<u8>),
}

/// What a bind or connect address asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Only the family: bind autobinds (connect rejects it).
    Autobind,
    Named(UnixAddr),
}

/// Parses `raw` (the `addrlen` bytes user space passed): EINVAL for a wrong
/// family or a length outside `2..=110`.
pub fn parse(raw: &[u8]) -> KResult<Parsed> {
    if raw.len() < PATH_OFFSET || raw.len() > SOCKADDR_UN_LEN {
        return Err(Errno::EINVAL);
    }
    if u16::from_ne_bytes([raw[0], raw[1]]) != AF_UNIX {
        return Err(Errno::EINVAL);
    }
    let path = &raw[PATH_OFFSET..];
    if path.is_empty() {
        return Ok(Parsed::Autobind);
    }
    if path[0] == 0 {
        return Ok(Parsed::Named(UnixAddr::Abstract(path[1..].to_vec())));
    }
    // unix_mkname_bsd: the path ends at the first NUL within the length.
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    Ok(Parsed::Named(UnixAddr::Path(path[..end].to_vec())))
}

impl UnixAddr {
    /// The sockaddr_un bytes getsockname and recvfrom report; their count is
    /// the address length: 2 for no name, 2 + 1 + name for an abstract name,
    /// 2 + path + NUL for a path (unix_bind_bsd's addr_len).
    pub fn encode(&self) -> Vec<u8> {
        if let UnixAddr::Foreign(raw) = self {
            return raw.clone();
        }
        let mut out = Vec::with_capacity(SOCKADDR_UN_LEN);
        out.extend_from_slice(&AF_UNIX.to_ne_bytes());
        match self {
            UnixAddr::Unnamed => {}
            UnixAddr::Path(p) => {
                out.extend_from_slice(p);
                out.push(0);
            }
            UnixAddr::Abstract(name) => {
                out.push(0);
                out.extend_from_slice(name);
            }
            UnixAddr::Foreign(_) => {}
        }
        out
    }
}

/// The abstract name autobind gives: five lowercase hex digits of `n`
/// (unix_autobind: "%05x" of a counter below 0x100000).
pub fn autobind_name(n: u32) -> UnixAddr {
    let n = n & 0xf_ffff;
    let digits = b"0123456789abcdef";
    let name = (0..5)
        .rev()
        .map(|i| digits[((n >> (4 * i)) & 0xf) as usize])
        .collect();
    UnixAddr::Abstract(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(path: &[u8]) -> Vec<u8> {
        let mut v = AF_UNIX.to_ne_bytes().to_vec();
        v.extend_from_slice(path);
        v
    }

    #[test]
    fn lengths_and_family() {
        assert_eq!(parse(&[1]), Err(Errno::EINVAL));
        assert_eq!(parse(&raw(&[b'a'; 109])), Err(Errno::EINVAL));
        assert_eq!(parse(&[2, 0, b'a']), Err(Errno::EINVAL));
        assert_eq!(parse(&raw(b"")), Ok(Parsed::Autobind));
    }

    #[test]
    fn paths_end_at_nul() {
        let p = parse(&raw(b"/tmp/s\0junk")).unwrap();
        assert_eq!(p, Parsed::Named(UnixAddr::Path(b"/tmp/s".to_vec())));
        let full = parse(&raw(&[b'x'; 108])).unwrap();
        assert_eq!(full, Parsed::Named(UnixAddr::Path(vec![b'x'; 108])));
        assert_eq!(UnixAddr::Path(b"/a".to_vec()).encode(), raw(b"/a\0"));
    }

    #[test]
    fn abstract_names_keep_every_byte() {
        let p = parse(&raw(b"\0ab\0\0")).unwrap();
        assert_eq!(p, Parsed::Named(UnixAddr::Abstract(b"ab\0\0".to_vec())));
        assert_eq!(
            UnixAddr::Abstract(b"ab\0\0".to_vec()).encode(),
            raw(b"\0ab\0\0")
        );
        assert_eq!(UnixAddr::Unnamed.encode().len(), 2);
    }

    #[test]
    fn autobind_is_five_hex_digits() {
        assert_eq!(autobind_name(0xabc), UnixAddr::Abstract(b"00abc".to_vec()));
        assert_eq!(autobind_name(0x0012_3456).encode().len(), 8);
    }
}
