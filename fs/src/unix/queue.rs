//! The receive queue of a socket: messages in arrival order, each with its
//! sender's address, credentials and passed descriptors.
//!
//! Datagram and seqpacket reads take one message whole (cut to the buffer,
//! the rest dropped). Stream reads join messages, but as Linux's
//! unix_stream_read_generic they stop after a message that carries
//! descriptors, and with SO_PASSCRED before one whose credentials differ
//! from the first's. `R` is a passed descriptor, `T` the sender's token that
//! the caller uses for send-buffer accounting once a message is consumed.

use alloc::{collections::VecDeque, vec::Vec};

use super::{Ucred, addr::UnixAddr};

/// One message.
pub struct Msg<R, T> {
    pub data: Vec<u8>,
    /// Bytes of `data` already read (streams only).
    pub off: usize,
    pub from: UnixAddr,
    pub creds: Option<Ucred>,
    pub rights: Vec<R>,
    pub token: T,
}

/// What a read got besides the bytes.
pub struct Read<R, T> {
    /// Bytes copied into the buffer.
    pub copied: usize,
    /// The whole message's length (datagrams; the copied bytes for streams).
    pub full: usize,
    pub from: UnixAddr,
    pub creds: Option<Ucred>,
    pub rights: Vec<R>,
    /// Tokens and sizes of the messages the read used up.
    pub consumed: Vec<(T, usize)>,
}

pub struct Queue<R, T> {
    msgs: VecDeque<Msg<R, T>>,
    bytes: usize,
}

impl<R, T> Default for Queue<R, T> {
    fn default() -> Self {
        Self {
            msgs: VecDeque::new(),
            bytes: 0,
        }
    }
}

impl<R: Clone, T> Queue<R, T> {
    pub fn push(&mut self, msg: Msg<R, T>) {
        self.bytes += msg.data.len() - msg.off;
        self.msgs.push_back(msg);
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Messages queued.
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    /// Unread bytes (FIONREAD on a stream).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Length of the next message (FIONREAD on a datagram socket).
    pub fn next_len(&self) -> usize {
        self.msgs.front().map_or(0, |m| m.data.len() - m.off)
    }

    /// Removes every message (for a socket that goes away).
    pub fn drain(&mut self) -> Vec<Msg<R, T>> {
        self.bytes = 0;
        self.msgs.drain(..).collect()
    }

    /// Takes (or with `peek` copies) the next message into `buf`.
    pub fn read_msg(&mut self, buf: &mut [u8], peek: bool) -> Option<Read<R, T>> {
        let m = self.msgs.front()?;
        let n = buf.len().min(m.data.len());
        buf[..n].copy_from_slice(&m.data[..n]);
        if peek {
            return Some(Read {
                copied: n,
                full: m.data.len(),
                from: m.from.clone(),
                creds: m.creds,
                rights: m.rights.clone(),
                consumed: Vec::new(),
            });
        }
        let m = self.msgs.pop_front()?;
        self.bytes -= m.data.len();
        Some(Read {
            copied: n,
            full: m.data.len(),
            from: m.from,
            creds: m.creds,
            rights: m.rights,
            consumed: alloc::vec![(m.token, m.data.len())],
        })
    }

    /// Reads stream bytes into `buf`. `passcred` makes a change of
    /// credentials end the read. `None` when the queue is empty.
    pub fn read_stream(
        &mut self,
        buf: &mut [u8],
        peek: bool,
        passcred: bool,
    ) -> Option<Read<R, T>> {
        let first = self.msgs.front()?;
        let mut out = Read {
            copied: 0,
            full: 0,
            from: first.from.clone(),
            creds: first.creds,
            rights: Vec::new(),
            consumed: Vec::new(),
        };
        // Index of the next message: peeks walk the queue, reads pop it.
        let mut i = 0;
        let mut visited = 0;
        while out.copied < buf.len() {
            let Some(m) = self.msgs.get_mut(i) else { break };
            if passcred && visited > 0 && m.creds != out.creds {
                break;
            }
            visited += 1;
            let avail = &m.data[m.off..];
            let n = avail.len().min(buf.len() - out.copied);
            buf[out.copied..out.copied + n].copy_from_slice(&avail[..n]);
            out.copied += n;
            let had_rights = !m.rights.is_empty();
            if peek {
                if had_rights {
                    out.rights = m.rights.clone();
                    break;
                }
                i += 1;
                continue;
            }
            m.off += n;
            self.bytes -= n;
            if had_rights {
                out.rights = core::mem::take(&mut m.rights);
            }
            if m.off < m.data.len() {
                break;
            }
            if let Some(m) = self.msgs.pop_front() {
                out.consumed.push((m.token, m.data.len()));
            }
            if had_rights {
                break;
            }
        }
        out.full = out.copied;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(data: &[u8], rights: Vec<u32>) -> Msg<u32, ()> {
        Msg {
            data: data.to_vec(),
            off: 0,
            from: UnixAddr::Unnamed,
            creds: None,
            rights,
            token: (),
        }
    }

    #[test]
    fn datagrams_keep_boundaries() {
        let mut q = Queue::default();
        q.push(msg(b"hello", vec![]));
        q.push(msg(b"xy", vec![]));
        let mut buf = [0u8; 3];
        let r = q.read_msg(&mut buf, true).unwrap();
        assert_eq!((r.copied, r.full), (3, 5));
        let r = q.read_msg(&mut buf, false).unwrap();
        assert_eq!((r.copied, r.full, &buf), (3, 5, b"hel"));
        assert_eq!(q.next_len(), 2);
        assert_eq!(q.read_msg(&mut buf, false).unwrap().copied, 2);
        assert!(q.read_msg(&mut buf, false).is_none());
    }

    #[test]
    fn streams_join_until_rights() {
        let mut q = Queue::default();
        q.push(msg(b"ab", vec![]));
        q.push(msg(b"cd", vec![7]));
        q.push(msg(b"ef", vec![]));
        assert_eq!(q.bytes(), 6);
        let mut buf = [0u8; 10];
        let r = q.read_stream(&mut buf, true, false).unwrap();
        assert_eq!((r.copied, r.rights.clone()), (4, vec![7]));
        let r = q.read_stream(&mut buf[..3], false, false).unwrap();
        assert_eq!((r.copied, r.rights, r.consumed.len()), (3, vec![7], 1));
        let r = q.read_stream(&mut buf, false, false).unwrap();
        assert_eq!((r.copied, &buf[..3]), (3, b"def".as_slice()));
        assert!(r.rights.is_empty());
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn passcred_splits_at_other_credentials() {
        let mut q = Queue::default();
        let mut a = msg(b"ab", vec![]);
        a.creds = Some(Ucred {
            pid: 1,
            uid: 0,
            gid: 0,
        });
        let mut b = msg(b"cd", vec![]);
        b.creds = Some(Ucred {
            pid: 2,
            uid: 0,
            gid: 0,
        });
        q.push(a);
        q.push(b);
        let mut buf = [0u8; 10];
        assert_eq!(q.read_stream(&mut buf, false, true).unwrap().copied, 2);
        assert_eq!(q.read_stream(&mut buf, false, true).unwrap().copied, 2);
    }
}
