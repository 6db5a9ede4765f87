//! Parsing of mount(2)'s data string for tmpfs (mm/shmem.c
//! `shmem_parse_one`): `size=`, `mode=`, `uid=`, `gid=`, and the options
//! Starling accepts without acting on them (`nr_inodes=`, `nr_blocks=`,
//! `huge=`, `inode32`, `inode64`, `noswap`). Anything else is EINVAL, as
//! tmpfs rejects unknown options.

use crate::{Errno, KResult};

/// The tmpfs options a mount asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TmpfsMount {
    /// `size=` in bytes, rounded up to pages; `None` also for `size=0`
    /// (unlimited).
    pub size: Option<u64>,
    /// `mode=`: permission bits of the root directory.
    pub mode: Option<u16>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

const PAGE: u64 = 4096;

/// A number with an optional binary suffix (k, m, g, t, p, e; either case),
/// as memparse.
fn memparse(s: &str) -> Option<u64> {
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        b't' | b'T' => (&s[..s.len() - 1], 40),
        b'p' | b'P' => (&s[..s.len() - 1], 50),
        b'e' | b'E' => (&s[..s.len() - 1], 60),
        _ => (s, 0),
    };
    let n: u64 = if let Some(hex) = digits.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()?
    } else {
        digits.parse().ok()?
    };
    n.checked_mul(1u64 << shift)
}

/// Parses tmpfs's comma-separated options; `total_ram` (bytes) resolves
/// `size=N%`.
pub fn parse_tmpfs(data: &str, total_ram: u64) -> KResult<TmpfsMount> {
    let mut m = TmpfsMount::default();
    for opt in data.split(',').filter(|o| !o.is_empty()) {
        let (key, value) = match opt.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (opt, None),
        };
        match (key, value) {
            ("size", Some(v)) => {
                let bytes = if let Some(pct) = v.strip_suffix('%') {
                    let pct: u64 = pct.parse().map_err(|_| Errno::EINVAL)?;
                    total_ram / 100 * pct
                } else {
                    memparse(v).ok_or(Errno::EINVAL)?
                };
                let pages = bytes.div_ceil(PAGE);
                m.size = (pages > 0).then(|| pages * PAGE);
            }
            ("mode", Some(v)) => {
                let mode = u32::from_str_radix(v, 8).map_err(|_| Errno::EINVAL)?;
                // shmem: mode is masked to 07777.
                m.mode = Some((mode & 0o7777) as u16);
            }
            ("uid", Some(v)) => m.uid = Some(v.parse().map_err(|_| Errno::EINVAL)?),
            ("gid", Some(v)) => m.gid = Some(v.parse().map_err(|_| Errno::EINVAL)?),
            ("nr_inodes" | "nr_blocks", Some(v)) => {
                memparse(v).ok_or(Errno::EINVAL)?;
            }
            ("huge", Some("never" | "always" | "within_size" | "advise" | "deny" | "force")) => {}
            ("inode32" | "inode64" | "noswap", None) => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let ram = 1 << 30;
        assert_eq!(parse_tmpfs("size=1m", ram).unwrap().size, Some(1 << 20));
        assert_eq!(parse_tmpfs("size=1000", ram).unwrap().size, Some(4096));
        assert_eq!(parse_tmpfs("size=2G", ram).unwrap().size, Some(2 << 30));
        assert_eq!(parse_tmpfs("size=50%", ram).unwrap().size, Some(512 << 20));
        assert_eq!(parse_tmpfs("size=0", ram).unwrap().size, None);
        assert_eq!(parse_tmpfs("", ram).unwrap(), TmpfsMount::default());
        assert_eq!(parse_tmpfs("size=abc", ram), Err(Errno::EINVAL));
        assert_eq!(parse_tmpfs("size=", ram), Err(Errno::EINVAL));
        assert_eq!(
            parse_tmpfs("size=99999999999999999999", ram),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn mode_uid_gid_and_accepted_options() {
        let m = parse_tmpfs(
            "mode=0700,uid=1000,gid=100,nr_inodes=10k,huge=never,inode64",
            0,
        )
        .unwrap();
        assert_eq!(m.mode, Some(0o700));
        assert_eq!((m.uid, m.gid), (Some(1000), Some(100)));
        assert_eq!(parse_tmpfs("mode=1777", 0).unwrap().mode, Some(0o1777));
        assert_eq!(parse_tmpfs("mode=9", 0), Err(Errno::EINVAL));
        assert_eq!(parse_tmpfs("uid=-1", 0), Err(Errno::EINVAL));
    }

    #[test]
    fn unknown_options_are_einval() {
        assert_eq!(parse_tmpfs("bogus", 0), Err(Errno::EINVAL));
        assert_eq!(parse_tmpfs("size=1m,bogus=1", 0), Err(Errno::EINVAL));
        assert_eq!(parse_tmpfs("huge=sometimes", 0), Err(Errno::EINVAL));
        assert_eq!(parse_tmpfs("mode", 0), Err(Errno::EINVAL));
    }
}
