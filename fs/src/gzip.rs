//! A gzip writer that stores instead of compressing, for /proc/config.gz.
//!
//! The output is a valid gzip member (RFC 1952) whose deflate stream
//! (RFC 1951) is made of stored blocks only: each block is a header byte
//! (BFINAL in bit 0, BTYPE 00), then LEN and its one's complement NLEN as
//! little-endian 16-bit numbers, then LEN raw bytes. The member ends with
//! the CRC-32 of the uncompressed data and its length modulo 2^32. Any
//! gzip reader (busybox `zcat`, zlib) accepts it; only the size is not
//! reduced, which for a few kilobytes of configuration text does not
//! matter and keeps the kernel free of a compression library.

use alloc::vec::Vec;

/// Largest payload of one stored block (LEN is 16 bits).
pub const MAX_STORED_BLOCK: usize = 0xffff;

/// The gzip member header: magic, CM=8 (deflate), no flags, MTIME 0 (no
/// time stamp), XFL 0, OS 3 (Unix).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// The CRC-32 table of the reflected polynomial 0xEDB88320 (the one gzip,
/// zlib and Ethernet use).
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 of `data` as gzip stores it.
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// `data` as one gzip member of stored deflate blocks.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(MAX_STORED_BLOCK).max(1);
    let mut out = Vec::with_capacity(HEADER.len() + blocks * 5 + data.len() + 8);
    out.extend_from_slice(&HEADER);
    let mut rest = data;
    loop {
        let n = rest.len().min(MAX_STORED_BLOCK);
        let last = n == rest.len();
        // BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2; the remaining
        // bits of the byte are the padding to the byte boundary that a
        // stored block's LEN starts at.
        out.push(u8::from(last));
        let len = n as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        if last {
            break;
        }
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflates a member that contains stored blocks only; `None` if it is
    /// anything else or damaged.
    fn gunzip_stored(gz: &[u8]) -> Option<Vec<u8>> {
        if gz.len() < 18 || gz[..4] != [0x1f, 0x8b, 8, 0] {
            return None;
        }
        let mut pos = 10;
        let mut out = Vec::new();
        loop {
            let head = *gz.get(pos)?;
            if head & 0b110 != 0 {
                return None;
            }
            let len = u16::from_le_bytes([*gz.get(pos + 1)?, *gz.get(pos + 2)?]);
            let nlen = u16::from_le_bytes([*gz.get(pos + 3)?, *gz.get(pos + 4)?]);
            if len != !nlen {
                return None;
            }
            pos += 5;
            out.extend_from_slice(gz.get(pos..pos + usize::from(len))?);
            pos += usize::from(len);
            if head & 1 != 0 {
                break;
            }
        }
        let crc = u32::from_le_bytes(gz.get(pos..pos + 4)?.try_into().ok()?);
        let size = u32::from_le_bytes(gz.get(pos + 4..pos + 8)?.try_into().ok()?);
        (pos + 8 == gz.len() && crc == crc32(&out) && size == out.len() as u32).then_some(out)
    }

    #[test]
    fn crc32_check_values() {
        // The standard check value of CRC-32/ISO-HDLC, and the empty input.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"a"), 0xe8b7_be43);
    }

    #[test]
    fn empty_input_is_one_final_empty_block() {
        let gz = gzip_stored(b"");
        assert_eq!(
            gz,
            [
                0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(gunzip_stored(&gz).unwrap(), b"");
    }

    #[test]
    fn small_input_round_trips() {
        let text = b"CONFIG_64BIT=y\nCONFIG_MMU=y\n";
        let gz = gzip_stored(text);
        assert_eq!(gz.len(), 10 + 5 + text.len() + 8);
        assert_eq!(gunzip_stored(&gz).unwrap(), text);
    }

    #[test]
    fn block_boundaries() {
        for len in [
            MAX_STORED_BLOCK - 1,
            MAX_STORED_BLOCK,
            MAX_STORED_BLOCK + 1,
            2 * MAX_STORED_BLOCK,
            2 * MAX_STORED_BLOCK + 7,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
            let gz = gzip_stored(&data);
            let blocks = len.div_ceil(MAX_STORED_BLOCK);
            assert_eq!(gz.len(), 10 + 5 * blocks + len + 8, "len {len}");
            assert_eq!(gunzip_stored(&gz).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn only_the_last_block_is_final() {
        let data = alloc::vec![b'x'; MAX_STORED_BLOCK + 1];
        let gz = gzip_stored(&data);
        assert_eq!(gz[10], 0);
        assert_eq!(gz[10 + 5 + MAX_STORED_BLOCK], 1);
    }
}
