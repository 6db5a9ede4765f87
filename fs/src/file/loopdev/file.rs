//! One open of /dev/loopN: reads and writes through the device's window,
//! fsync, lseek limits, and the ioctls: the block layer's own
//! (block/ioctl.c) first, then the loop driver's (lo_ioctl).

use alloc::{format, string::String, sync::Arc, vec};
use core::any::Any;

use axfs_ng_vfs::{DeviceId, FileRangeOperation};
use axpoll::IoEvents;

use super::{
    CAP_SYS_ADMIN, LOOP_CHANGE_FD, LOOP_CLR_FD, LOOP_CONFIGURE, LOOP_GET_STATUS, LOOP_GET_STATUS64,
    LOOP_MAJOR, LOOP_SET_BLOCK_SIZE, LOOP_SET_CAPACITY, LOOP_SET_DIRECT_IO, LOOP_SET_FD,
    LOOP_SET_STATUS, LOOP_SET_STATUS64, LoopDevice, NODE_MODE,
};
use crate::{
    Errno, KResult,
    file::{FileLike, Kstat, OpenFile, UserAccess, mode},
    loopinfo::{self, LoopConfig, LoopInfo},
};

const BLKROSET: u32 = 0x125D;
const BLKROGET: u32 = 0x125E;
const BLKRRPART: u32 = 0x125F;
const BLKGETSIZE: u32 = 0x1260;
const BLKFLSBUF: u32 = 0x1261;
const BLKRAGET: u32 = 0x1263;
const BLKFRAGET: u32 = 0x1265;
const BLKSECTGET: u32 = 0x1267;
const BLKSSZGET: u32 = 0x1268;
const BLKDISCARD: u32 = 0x1277;
const BLKIOMIN: u32 = 0x1278;
const BLKIOOPT: u32 = 0x1279;
const BLKALIGNOFF: u32 = 0x127A;
const BLKPBSZGET: u32 = 0x127B;
const BLKDISCARDZEROES: u32 = 0x127C;
const BLKROTATIONAL: u32 = 0x127E;
const BLKZEROOUT: u32 = 0x127F;
/// `_IOR(0x12, 112, size_t)`.
const BLKBSZGET: u32 = 0x8008_1270;
/// `_IOR(0x12, 114, size_t)`.
const BLKGETSIZE64: u32 = 0x8008_1272;

/// Read-ahead Linux reports for a loop device (2.5 MiB, in sectors).
const READAHEAD_SECTORS: u64 = 5120;
/// Most sectors per request (the loop driver's max_hw_sectors).
const MAX_SECTORS: u16 = 2560;

/// One open of /dev/loopN.
pub struct LoopFile {
    pub(super) dev: Arc<LoopDevice>,
    /// Opened for writing (BLK_OPEN_WRITE).
    pub(super) write: bool,
}

impl Drop for LoopFile {
    fn drop(&mut self) {
        self.dev.close();
    }
}

/// Whether the caller may change the device: opened for writing or
/// CAP_SYS_ADMIN (lo_ioctl), else EPERM.
fn may_change(write: bool, user: &dyn UserAccess) -> KResult<()> {
    if write || user.capable(CAP_SYS_ADMIN) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

fn put<const N: usize>(user: &dyn UserAccess, arg: usize, bytes: [u8; N]) -> KResult<usize> {
    user.write(arg, &bytes)?;
    Ok(0)
}

impl LoopFile {
    /// BLKDISCARD and BLKZEROOUT: `[start, len)` in bytes, 512-aligned,
    /// inside the device; the range reads back as zeros.
    fn zero_range(&self, arg: usize, user: &dyn UserAccess, discard: bool) -> KResult<usize> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        let mut range = [0u8; 16];
        user.read(arg, &mut range)?;
        let start = u64::from_ne_bytes(range[..8].try_into().map_err(|_| Errno::EINVAL)?);
        let len = u64::from_ne_bytes(range[8..].try_into().map_err(|_| Errno::EINVAL)?);
        let Some(w) = self.dev.window() else {
            return Err(Errno::EINVAL);
        };
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if !start.is_multiple_of(512) || !len.is_multiple_of(512) || end > w.size {
            return Err(Errno::EINVAL);
        }
        if w.read_only {
            return Err(Errno::EPERM);
        }
        let at = w.offset + start;
        if discard
            && w.backing
                .file()
                .fallocate(FileRangeOperation::PunchHole, at, len)
                .is_ok()
        {
            return Ok(0);
        }
        let zeros = vec![0u8; 64 * 1024];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(zeros.len() as u64) as usize;
            write_all(&w.backing, &zeros[..n], at + done)?;
            done += n as u64;
        }
        Ok(0)
    }

    /// The block-layer requests every block device answers
    /// (block/ioctl.c); `None` for the driver's own.
    fn block_ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> Option<KResult<usize>> {
        let dev = &self.dev;
        let (size, block_size) = dev.geometry();
        let result = match cmd {
            BLKGETSIZE64 => put(user, arg, size.to_ne_bytes()),
            BLKGETSIZE => put(user, arg, ((size >> 9) as usize).to_ne_bytes()),
            BLKSSZGET => put(user, arg, (block_size as i32).to_ne_bytes()),
            BLKBSZGET => put(
                user,
                arg,
                (soft_block_size(block_size, size) as i32).to_ne_bytes(),
            ),
            BLKPBSZGET | BLKIOMIN => put(user, arg, block_size.to_ne_bytes()),
            BLKIOOPT | BLKDISCARDZEROES => put(user, arg, 0u32.to_ne_bytes()),
            BLKALIGNOFF => put(user, arg, 0i32.to_ne_bytes()),
            BLKROTATIONAL => put(user, arg, 0u16.to_ne_bytes()),
            BLKSECTGET => put(user, arg, MAX_SECTORS.to_ne_bytes()),
            BLKRAGET | BLKFRAGET => put(user, arg, (READAHEAD_SECTORS as usize).to_ne_bytes()),
            BLKROGET => put(user, arg, i32::from(dev.read_only()).to_ne_bytes()),
            // Changing the read-only state and partition rescans need
            // CAP_SYS_ADMIN (EACCES); a loop device without LO_FLAGS_PARTSCAN
            // has no partition table to read (EINVAL). A write to a device
            // set read-only is EPERM, as one bound read-only.
            BLKROSET | BLKRRPART if !user.capable(CAP_SYS_ADMIN) => Err(Errno::EACCES),
            BLKROSET => {
                let mut v = [0u8; 4];
                user.read(arg, &mut v)
                    .map(|()| dev.set_forced_read_only(i32::from_ne_bytes(v) != 0))
                    .map(|()| 0)
            }
            BLKRRPART => Err(Errno::EINVAL),
            BLKFLSBUF => {
                if !user.capable(CAP_SYS_ADMIN) {
                    Err(Errno::EACCES)
                } else {
                    // No block cache to drop; the file's data is synced.
                    if let Some(w) = dev.window() {
                        let _ = w.backing.file().sync();
                    }
                    Ok(0)
                }
            }
            BLKDISCARD => self.zero_range(arg, user, true),
            BLKZEROOUT => self.zero_range(arg, user, false),
            _ => return None,
        };
        Some(result)
    }
}

/// The block size BLKBSZGET reports (block/bdev.c set_init_blocksize):
/// the logical block size doubled while the device size stays a multiple,
/// up to the page size.
fn soft_block_size(logical: u32, size: u64) -> u32 {
    let mut bsize = logical;
    while bsize < 4096 && size & u64::from(bsize) == 0 {
        bsize <<= 1;
    }
    bsize
}

/// Writes all of `buf` to the backing file at `pos`.
fn write_all(backing: &OpenFile, buf: &[u8], pos: u64) -> KResult<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = backing
            .file()
            .write(&buf[done..], Some(pos + done as u64))?;
        if n == 0 {
            return Err(Errno::EIO);
        }
        done += n;
    }
    Ok(())
}

impl FileLike for LoopFile {
    /// blkdev_read_iter: nothing at or past the end; a backing file
    /// shorter than the device reads as zeros (lo_read_simple).
    fn read(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        let pos = pos.unwrap_or(0);
        let Some(w) = self.dev.window() else {
            return Ok(0);
        };
        if pos >= w.size || buf.is_empty() {
            return Ok(0);
        }
        let len = buf
            .len()
            .min((w.size - pos).try_into().unwrap_or(usize::MAX));
        let mut done = 0;
        while done < len {
            let n = w
                .backing
                .file()
                .read(&mut buf[done..len], Some(w.offset + pos + done as u64))?;
            if n == 0 {
                buf[done..len].fill(0);
                break;
            }
            done += n;
        }
        Ok(len)
    }

    /// blkdev_write_iter: EPERM on a read-only device, ENOSPC at or past
    /// the end, cut at the end otherwise.
    fn write(&self, buf: &[u8], pos: Option<u64>) -> KResult<usize> {
        let pos = pos.unwrap_or(0);
        let (size, window) = match self.dev.window() {
            Some(w) => (w.size, Some(w)),
            None => (0, None),
        };
        if window
            .as_ref()
            .map_or_else(|| self.dev.read_only(), |w| w.read_only)
        {
            return Err(Errno::EPERM);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let Some(w) = window.filter(|_| pos < size) else {
            return Err(Errno::ENOSPC);
        };
        let len = buf.len().min((size - pos).try_into().unwrap_or(usize::MAX));
        write_all(&w.backing, &buf[..len], w.offset + pos)?;
        Ok(len)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn size(&self) -> KResult<u64> {
        Ok(self.dev.size())
    }

    fn seek_limit(&self) -> Option<u64> {
        Some(self.dev.size())
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            mode: mode::S_IFBLK | u32::from(NODE_MODE),
            nlink: 1,
            rdev: DeviceId::new(LOOP_MAJOR, self.dev.index()).0,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    /// blkdev_fsync: the backing file's data reaches its storage.
    fn sync(&self) -> KResult<()> {
        if let Some(w) = self.dev.window() {
            match w.backing.file().sync() {
                Ok(()) | Err(Errno::EINVAL) => {}
                Err(_) => return Err(Errno::EIO),
            }
        }
        Ok(())
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> KResult<usize> {
        if let Some(result) = self.block_ioctl(cmd, arg, user) {
            return result;
        }
        let dev = &self.dev;
        match cmd {
            LOOP_SET_FD => {
                let backing = user.file(arg as i32)?;
                dev.configure(backing, self.write, 0, &LoopInfo::default())?;
                Ok(0)
            }
            LOOP_CONFIGURE => {
                let mut b = [0u8; loopinfo::CONFIG_SIZE];
                user.read(arg, &mut b)?;
                let cfg = LoopConfig::decode(&b);
                let backing = user.file(cfg.fd)?;
                dev.configure(backing, self.write, cfg.block_size, &cfg.info)?;
                Ok(0)
            }
            LOOP_CHANGE_FD => {
                dev.change_fd(user.file(arg as i32)?)?;
                Ok(0)
            }
            LOOP_CLR_FD => dev.clr_fd(),
            LOOP_SET_STATUS => {
                may_change(self.write, user)?;
                let mut b = [0u8; loopinfo::OLD_INFO_SIZE];
                user.read(arg, &mut b)?;
                dev.set_status(&LoopInfo::from_old(&b))?;
                Ok(0)
            }
            LOOP_SET_STATUS64 => {
                may_change(self.write, user)?;
                let mut b = [0u8; loopinfo::INFO64_SIZE];
                user.read(arg, &mut b)?;
                dev.set_status(&LoopInfo::from_info64(&b))?;
                Ok(0)
            }
            LOOP_GET_STATUS | LOOP_GET_STATUS64 if arg == 0 => Err(Errno::EINVAL),
            LOOP_GET_STATUS => put(user, arg, dev.status()?.to_old()?),
            LOOP_GET_STATUS64 => put(user, arg, dev.status()?.to_info64()),
            LOOP_SET_CAPACITY | LOOP_SET_DIRECT_IO | LOOP_SET_BLOCK_SIZE => {
                may_change(self.write, user)?;
                dev.simple_ioctl(cmd, arg)
            }
            _ => dev.simple_ioctl(cmd, arg),
        }
    }

    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::OUT
    }

    fn path(&self) -> String {
        format!("/dev/loop{}", self.dev.index())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
