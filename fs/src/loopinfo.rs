//! The loop device's user-visible state and its wire formats, as
//! drivers/block/loop.c and include/uapi/linux/loop.h define them.
//!
//! [`LoopInfo`] is `struct loop_info64` decoded; it converts to and from
//! the old `struct loop_info` (whose layout differs per architecture:
//! `__kernel_old_dev_t` is `unsigned long` on x86_64 and `unsigned int`
//! on riscv64) and is read out of `struct loop_config` (LOOP_CONFIGURE).
//! [`device_size`] is the size rule (`get_size`): the file from
//! `lo_offset` on, cut to `lo_sizelimit`, in whole 512-byte sectors.
//! Pure logic, tested on the host; the device itself is in
//! `file::loopdev`.

use crate::{Errno, KResult};

/// Length of `lo_file_name` and `lo_crypt_name` (LO_NAME_SIZE).
pub const NAME_SIZE: usize = 64;
/// Length of `lo_encrypt_key` (LO_KEY_SIZE).
pub const KEY_SIZE: u32 = 32;

pub const LO_FLAGS_READ_ONLY: u32 = 1;
pub const LO_FLAGS_AUTOCLEAR: u32 = 4;
pub const LO_FLAGS_PARTSCAN: u32 = 8;
pub const LO_FLAGS_DIRECT_IO: u32 = 16;
/// Flags LOOP_SET_STATUS may set (LOOP_SET_STATUS_SETTABLE_FLAGS).
pub const SET_STATUS_SETTABLE: u32 = LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN;
/// Flags LOOP_SET_STATUS may clear (LOOP_SET_STATUS_CLEARABLE_FLAGS).
pub const SET_STATUS_CLEARABLE: u32 = LO_FLAGS_AUTOCLEAR;
/// Flags LOOP_CONFIGURE accepts (LOOP_CONFIGURE_SETTABLE_FLAGS).
pub const CONFIGURE_SETTABLE: u32 =
    LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN | LO_FLAGS_DIRECT_IO;

/// Size of `struct loop_info64`.
pub const INFO64_SIZE: usize = 232;
/// Size of `struct loop_config`: fd, block_size, loop_info64, 8 reserved u64.
pub const CONFIG_SIZE: usize = 8 + INFO64_SIZE + 64;

/// `struct loop_info` on this architecture: size and field offsets.
#[cfg(target_arch = "x86_64")]
mod old {
    pub const SIZE: usize = 168;
    pub const DEV_IS_LONG: bool = true;
    pub const DEVICE: usize = 8;
    pub const INODE: usize = 16;
    pub const RDEVICE: usize = 24;
    pub const OFFSET: usize = 32;
    pub const FLAGS: usize = 44;
    pub const NAME: usize = 48;
}
#[cfg(not(target_arch = "x86_64"))]
mod old {
    pub const SIZE: usize = 160;
    pub const DEV_IS_LONG: bool = false;
    pub const DEVICE: usize = 4;
    pub const INODE: usize = 8;
    pub const RDEVICE: usize = 16;
    pub const OFFSET: usize = 20;
    pub const FLAGS: usize = 32;
    pub const NAME: usize = 36;
}

/// Size of `struct loop_info` on this architecture.
pub const OLD_INFO_SIZE: usize = old::SIZE;

/// `struct loop_info64`, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopInfo {
    pub device: u64,
    pub inode: u64,
    pub rdevice: u64,
    pub offset: u64,
    pub sizelimit: u64,
    pub number: u32,
    pub encrypt_type: u32,
    pub encrypt_key_size: u32,
    pub flags: u32,
    pub file_name: [u8; NAME_SIZE],
}

impl Default for LoopInfo {
    fn default() -> Self {
        Self {
            device: 0,
            inode: 0,
            rdevice: 0,
            offset: 0,
            sizelimit: 0,
            number: 0,
            encrypt_type: 0,
            encrypt_key_size: 0,
            flags: 0,
            file_name: [0; NAME_SIZE],
        }
    }
}

fn get_u32(b: &[u8], off: usize) -> u32 {
    let mut v = [0; 4];
    v.copy_from_slice(&b[off..off + 4]);
    u32::from_ne_bytes(v)
}

fn get_u64(b: &[u8], off: usize) -> u64 {
    let mut v = [0; 8];
    v.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(v)
}

fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}

fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
}

impl LoopInfo {
    /// Decodes `struct loop_info64`.
    pub fn from_info64(b: &[u8; INFO64_SIZE]) -> Self {
        let mut file_name = [0; NAME_SIZE];
        file_name.copy_from_slice(&b[56..56 + NAME_SIZE]);
        Self {
            device: get_u64(b, 0),
            inode: get_u64(b, 8),
            rdevice: get_u64(b, 16),
            offset: get_u64(b, 24),
            sizelimit: get_u64(b, 32),
            number: get_u32(b, 40),
            encrypt_type: get_u32(b, 44),
            encrypt_key_size: get_u32(b, 48),
            flags: get_u32(b, 52),
            file_name,
        }
    }

    /// Encodes `struct loop_info64` (crypt name, key and init zero).
    pub fn to_info64(&self) -> [u8; INFO64_SIZE] {
        let mut b = [0; INFO64_SIZE];
        put_u64(&mut b, 0, self.device);
        put_u64(&mut b, 8, self.inode);
        put_u64(&mut b, 16, self.rdevice);
        put_u64(&mut b, 24, self.offset);
        put_u64(&mut b, 32, self.sizelimit);
        put_u32(&mut b, 40, self.number);
        put_u32(&mut b, 44, self.encrypt_type);
        put_u32(&mut b, 48, self.encrypt_key_size);
        put_u32(&mut b, 52, self.flags);
        b[56..56 + NAME_SIZE].copy_from_slice(&self.file_name);
        b
    }

    /// Decodes the old `struct loop_info` as loop_info64_from_old does:
    /// the int offset sign-extends, the size limit is 0 and the
    /// encryption fields are dropped.
    pub fn from_old(b: &[u8; OLD_INFO_SIZE]) -> Self {
        let mut file_name = [0; NAME_SIZE];
        file_name.copy_from_slice(&b[old::NAME..old::NAME + NAME_SIZE]);
        let dev = |off| {
            if old::DEV_IS_LONG {
                get_u64(b, off)
            } else {
                u64::from(get_u32(b, off))
            }
        };
        Self {
            device: dev(old::DEVICE),
            inode: get_u64(b, old::INODE),
            rdevice: dev(old::RDEVICE),
            offset: get_u32(b, old::OFFSET) as i32 as i64 as u64,
            flags: get_u32(b, old::FLAGS),
            number: get_u32(b, 0),
            file_name,
            ..Self::default()
        }
    }

    /// Encodes the old `struct loop_info`; EOVERFLOW when a device
    /// number or the offset does not fit (loop_info64_to_old).
    pub fn to_old(&self) -> KResult<[u8; OLD_INFO_SIZE]> {
        let mut b = [0; OLD_INFO_SIZE];
        put_u32(&mut b, 0, self.number);
        for (off, v) in [(old::DEVICE, self.device), (old::RDEVICE, self.rdevice)] {
            if old::DEV_IS_LONG {
                put_u64(&mut b, off, v);
            } else {
                put_u32(&mut b, off, u32::try_from(v).map_err(|_| Errno::EOVERFLOW)?);
            }
        }
        put_u64(&mut b, old::INODE, self.inode);
        let offset = i32::try_from(self.offset).map_err(|_| Errno::EOVERFLOW)?;
        put_u32(&mut b, old::OFFSET, offset as u32);
        put_u32(&mut b, old::FLAGS, self.flags);
        b[old::NAME..old::NAME + NAME_SIZE].copy_from_slice(&self.file_name);
        Ok(b)
    }

    /// Checks what loop_set_status_from_info refuses: a key longer than
    /// LO_KEY_SIZE or any encryption (EINVAL; the transformations were
    /// removed from Linux), an offset or limit past LLONG_MAX (EOVERFLOW).
    pub fn validate(&self) -> KResult<()> {
        if self.encrypt_key_size > KEY_SIZE || self.encrypt_type != 0 {
            return Err(Errno::EINVAL);
        }
        if self.offset > i64::MAX as u64 || self.sizelimit > i64::MAX as u64 {
            return Err(Errno::EOVERFLOW);
        }
        Ok(())
    }

    /// The file name with the last byte forced to NUL, as Linux keeps it.
    pub fn terminated_name(&self) -> [u8; NAME_SIZE] {
        let mut name = self.file_name;
        name[NAME_SIZE - 1] = 0;
        name
    }
}

/// `struct loop_config` (LOOP_CONFIGURE), decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopConfig {
    pub fd: i32,
    pub block_size: u32,
    pub info: LoopInfo,
}

impl LoopConfig {
    pub fn decode(b: &[u8; CONFIG_SIZE]) -> Self {
        let mut info = [0; INFO64_SIZE];
        info.copy_from_slice(&b[8..8 + INFO64_SIZE]);
        Self {
            fd: get_u32(b, 0) as i32,
            block_size: get_u32(b, 4),
            info: LoopInfo::from_info64(&info),
        }
    }
}

/// The device's size in bytes for a backing file of `file_size` bytes:
/// what follows `offset`, at most `sizelimit` (0: no limit), rounded down
/// to whole 512-byte sectors (drivers/block/loop.c get_size).
pub fn device_size(file_size: u64, offset: u64, sizelimit: u64) -> u64 {
    let mut size = file_size.saturating_sub(offset);
    if sizelimit > 0 && sizelimit < size {
        size = sizelimit;
    }
    size & !511
}

/// Whether `size` is a logical block size a loop device may have
/// (blk_validate_block_size: a power of two from 512 to the page size).
pub fn valid_block_size(size: u32) -> bool {
    size.is_power_of_two() && (512..=4096).contains(&size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> LoopInfo {
        let mut info = LoopInfo::default();
        info.file_name[..name.len()].copy_from_slice(name.as_bytes());
        info
    }

    #[test]
    fn info64_round_trips() {
        let info = LoopInfo {
            device: 0x801,
            inode: 42,
            rdevice: 3,
            offset: 4096,
            sizelimit: 8192,
            number: 7,
            flags: LO_FLAGS_AUTOCLEAR,
            ..named("backing")
        };
        let b = info.to_info64();
        assert_eq!(&b[56..63], b"backing");
        assert_eq!(get_u64(&b, 24), 4096);
        assert_eq!(get_u32(&b, 40), 7);
        assert_eq!(LoopInfo::from_info64(&b), info);
    }

    #[test]
    fn old_info_sign_extends_the_offset_and_drops_the_limit() {
        let mut b = [0u8; OLD_INFO_SIZE];
        put_u32(&mut b, old::OFFSET, -1i32 as u32);
        b[old::NAME] = b'x';
        let info = LoopInfo::from_old(&b);
        assert_eq!(info.offset, u64::MAX);
        assert_eq!(info.sizelimit, 0);
        assert_eq!(info.file_name[0], b'x');
        assert_eq!(info.validate(), Err(Errno::EOVERFLOW));
    }

    #[test]
    fn old_info_overflows_on_large_offsets() {
        let info = LoopInfo {
            offset: 1 << 31,
            ..LoopInfo::default()
        };
        assert_eq!(info.to_old().err(), Some(Errno::EOVERFLOW));
        let info = LoopInfo {
            offset: 512,
            inode: 9,
            number: 3,
            ..named("n")
        };
        let b = info.to_old().unwrap();
        let back = LoopInfo::from_old(&b);
        assert_eq!((back.offset, back.inode, back.number), (512, 9, 3));
        assert_eq!(back.file_name, info.file_name);
    }

    #[test]
    fn validate_refuses_encryption() {
        let mut info = LoopInfo {
            encrypt_type: 1,
            ..LoopInfo::default()
        };
        assert_eq!(info.validate(), Err(Errno::EINVAL));
        info.encrypt_type = 0;
        info.encrypt_key_size = KEY_SIZE + 1;
        assert_eq!(info.validate(), Err(Errno::EINVAL));
        info.encrypt_key_size = KEY_SIZE;
        assert_eq!(info.validate(), Ok(()));
    }

    #[test]
    fn config_decodes_fd_and_info() {
        let mut b = [0u8; CONFIG_SIZE];
        put_u32(&mut b, 0, 5);
        put_u32(&mut b, 4, 4096);
        put_u64(&mut b, 8 + 24, 2048);
        let cfg = LoopConfig::decode(&b);
        assert_eq!((cfg.fd, cfg.block_size, cfg.info.offset), (5, 4096, 2048));
    }

    #[test]
    fn size_is_the_window_in_whole_sectors() {
        assert_eq!(device_size(65536, 0, 0), 65536);
        assert_eq!(device_size(16384, 100, 5000), 4608);
        assert_eq!(device_size(16384, 1024, 1 << 20), 15360);
        assert_eq!(device_size(16384, 1 << 20, 0), 0);
        assert_eq!(device_size(1000, 0, 0), 512);
    }

    #[test]
    fn block_sizes() {
        assert!(valid_block_size(512) && valid_block_size(4096));
        assert!(!valid_block_size(0) && !valid_block_size(256) && !valid_block_size(1536));
        assert!(!valid_block_size(8192));
    }

    #[test]
    fn name_is_terminated() {
        let info = LoopInfo {
            file_name: [b'a'; NAME_SIZE],
            ..LoopInfo::default()
        };
        let name = info.terminated_name();
        assert_eq!(name[NAME_SIZE - 1], 0);
        assert_eq!(name[0], b'a');
    }
}
