//! Control messages (cmsg(3)) on a 64-bit ABI: parsing what sendmsg passes
//! and laying out what recvmsg returns (net/core/scm.c __scm_send,
//! put_cmsg, scm_detach_fds).
//!
//! `struct cmsghdr` is `{ size_t cmsg_len; int cmsg_level; int cmsg_type; }`
//! (16 bytes); each message is padded to 8 bytes (CMSG_ALIGN).

use alloc::vec::Vec;

use super::Ucred;
use crate::{Errno, KResult};

pub const SOL_SOCKET: i32 = 1;
pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;
/// Most descriptors one message may carry (include/net/scm.h SCM_MAX_FD).
pub const SCM_MAX_FD: usize = 253;
/// sizeof(struct cmsghdr).
pub const HDR: usize = 16;

/// CMSG_ALIGN.
pub const fn align(len: usize) -> usize {
    (len + 7) & !7
}

/// CMSG_SPACE.
pub const fn space(len: usize) -> usize {
    HDR + align(len)
}

/// What one sendmsg asks to pass.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SendControl {
    /// Descriptors of every SCM_RIGHTS message, in order.
    pub fds: Vec<i32>,
    /// The last SCM_CREDENTIALS message.
    pub creds: Option<Ucred>,
}

/// Parses a sendmsg control buffer: EINVAL for a header whose length does
/// not fit (CMSG_OK), an SCM_CREDENTIALS of the wrong size, an unknown
/// SOL_SOCKET type or more than [`SCM_MAX_FD`] descriptors. Messages of
/// other levels are skipped, as Linux does; a buffer shorter than a header
/// holds none.
pub fn parse(control: &[u8]) -> KResult<SendControl> {
    let mut out = SendControl::default();
    let mut off = 0;
    while control.len().saturating_sub(off) >= HDR {
        let word = |at: usize| -> [u8; 4] { control[at..at + 4].try_into().unwrap_or([0; 4]) };
        let len = usize::from_ne_bytes(control[off..off + 8].try_into().unwrap_or([0; 8]));
        let level = i32::from_ne_bytes(word(off + 8));
        let ty = i32::from_ne_bytes(word(off + 12));
        if len < HDR || len > control.len() - off {
            return Err(Errno::EINVAL);
        }
        let data = &control[off + HDR..off + len];
        if level == SOL_SOCKET {
            match ty {
                SCM_RIGHTS => {
                    let n = data.len() / 4;
                    if n > SCM_MAX_FD || out.fds.len() + n > SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    let (words, _) = data.as_chunks::<4>();
                    out.fds.extend(words.iter().map(|w| i32::from_ne_bytes(*w)));
                }
                SCM_CREDENTIALS => {
                    if data.len() != 12 {
                        return Err(Errno::EINVAL);
                    }
                    let v = |i: usize| u32::from_ne_bytes(word(off + HDR + 4 * i));
                    out.creds = Some(Ucred {
                        pid: v(0),
                        uid: v(1),
                        gid: v(2),
                    });
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        // __cmsg_nxthdr: the next header must fit whole.
        match off.checked_add(align(len)) {
            Some(next) => off = next,
            None => break,
        }
    }
    Ok(out)
}

/// The control buffer recvmsg fills, `cap` bytes (msg_controllen) at most.
pub struct Writer {
    pub buf: Vec<u8>,
    cap: usize,
    /// MSG_CTRUNC: something did not fit.
    pub truncated: bool,
}

impl Writer {
    pub fn new(cap: usize) -> Self {
        Self {
            buf: Vec::new(),
            cap,
            truncated: false,
        }
    }

    fn room(&self) -> usize {
        self.cap - self.buf.len()
    }

    fn header(&mut self, cmlen: usize, level: i32, ty: i32) {
        self.buf.extend_from_slice(&cmlen.to_ne_bytes());
        self.buf.extend_from_slice(&level.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
    }

    /// put_cmsg: a message cut to the room left (its cmsg_len says so) and
    /// MSG_CTRUNC when it did not fit; nothing when not even a header fits.
    pub fn put(&mut self, level: i32, ty: i32, data: &[u8]) {
        if self.room() < HDR {
            self.truncated = true;
            return;
        }
        let mut cmlen = HDR + data.len();
        if self.room() < cmlen {
            self.truncated = true;
            cmlen = self.room();
        }
        let step = space(data.len()).min(self.room());
        let start = self.buf.len();
        self.header(cmlen, level, ty);
        self.buf.extend_from_slice(&data[..cmlen - HDR]);
        self.buf.resize(start + step, 0);
    }

    /// How many descriptors fit in the room left (scm_max_fds).
    pub fn fds_that_fit(&self) -> usize {
        if self.room() > HDR {
            (self.room() - HDR) / 4
        } else {
            0
        }
    }

    /// An SCM_RIGHTS message with `fds` (which the caller made fit).
    pub fn put_fds(&mut self, fds: &[i32]) {
        if fds.is_empty() {
            return;
        }
        let len = fds.len() * 4;
        let step = space(len).min(self.room());
        let start = self.buf.len();
        self.header(HDR + len, SOL_SOCKET, SCM_RIGHTS);
        for fd in fds {
            self.buf.extend_from_slice(&fd.to_ne_bytes());
        }
        self.buf.resize(start + step, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmsg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
        let mut v = (HDR + data.len()).to_ne_bytes().to_vec();
        v.extend_from_slice(&level.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(data);
        v.resize(space(data.len()), 0);
        v
    }

    fn fds(list: &[i32]) -> Vec<u8> {
        list.iter().flat_map(|f| f.to_ne_bytes()).collect()
    }

    #[test]
    fn rights_and_creds() {
        let mut buf = cmsg(SOL_SOCKET, SCM_RIGHTS, &fds(&[3, 4, 5]));
        let cred: Vec<u8> = [7u32, 0, 0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        buf.extend(cmsg(SOL_SOCKET, SCM_CREDENTIALS, &cred));
        buf.extend(cmsg(6, 99, b"skipped"));
        let got = parse(&buf).unwrap();
        assert_eq!(got.fds, vec![3, 4, 5]);
        assert_eq!(
            got.creds,
            Some(Ucred {
                pid: 7,
                uid: 0,
                gid: 0
            })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&cmsg(SOL_SOCKET, 77, b"")), Err(Errno::EINVAL));
        assert_eq!(
            parse(&cmsg(SOL_SOCKET, SCM_CREDENTIALS, b"1234")),
            Err(Errno::EINVAL)
        );
        let mut bad = cmsg(SOL_SOCKET, SCM_RIGHTS, &fds(&[1]));
        bad[0] = 200;
        assert_eq!(parse(&bad), Err(Errno::EINVAL));
        let many: Vec<i32> = (0..254).collect();
        assert_eq!(
            parse(&cmsg(SOL_SOCKET, SCM_RIGHTS, &fds(&many))),
            Err(Errno::EINVAL)
        );
        assert_eq!(parse(&[0; 15]), Ok(SendControl::default()));
    }

    #[test]
    fn writer_truncates() {
        let mut w = Writer::new(space(4) + 20);
        w.put_fds(&[9]);
        assert_eq!(w.buf.len(), space(4));
        assert_eq!(w.fds_that_fit(), 1);
        w.put(SOL_SOCKET, SCM_CREDENTIALS, &[0; 12]);
        assert!(w.truncated);
        assert_eq!(w.buf.len(), space(4) + 20);
        assert_eq!(
            usize::from_ne_bytes(w.buf[space(4)..space(4) + 8].try_into().unwrap()),
            20
        );
    }
}
