//! Loop devices: block devices 7:N whose sectors are a window of a file,
//! and /dev/loop-control (10:237) that hands them out, as
//! drivers/block/loop.c.
//!
//! The registry holds every [`LoopDevice`] by index; [`init`] creates
//! loop0..loop7 (CONFIG_BLK_DEV_LOOP_MIN_COUNT) and LOOP_CTL_ADD or
//! LOOP_CTL_GET_FREE add more. Each devtmpfs instance gets a node per
//! device ([`populate_dev`]); devices added or removed later gain or lose
//! their node in every devtmpfs still alive.
//!
//! A device is Unbound, Bound to a backing open file description
//! (LOOP_SET_FD, LOOP_CONFIGURE), or Rundown: LOOP_CLR_FD by the only
//! opener, cleared at its last close. LOOP_CLR_FD with other openers, and
//! the last close of a LO_FLAGS_AUTOCLEAR device, clear it at the last
//! close too. Every open of /dev/loopN is a [`LoopFile`] that counts as an
//! opener until it is dropped. Reads and writes at position `p` go to the
//! backing file at `lo_offset + p` and stop at the device size, which is
//! taken when the device is bound and on LOOP_SET_STATUS and
//! LOOP_SET_CAPACITY (loopinfo::device_size). There is no block cache:
//! every request reaches the file at once, so BLKFLSBUF and fsync only
//! sync the file.
//!
//! Lock order: the registry lock, then a device's state lock; neither is
//! held across I/O or while a backing file is dropped.

use alloc::{collections::BTreeMap, format, string::String, sync::Arc, vec, vec::Vec};
use core::any::Any;

use ax_sync::{Mutex, SpinLock};
use axfs_ng_vfs::{
    DeviceId, DirEntry, FileRangeOperation, MetadataUpdate, NodePermission, NodeType, WeakDirEntry,
};
use axpoll::IoEvents;

use super::{FileLike, Kstat, OpenFile, UserAccess, device::DeviceNode, mode};
use crate::{
    Errno, KResult,
    loopinfo::{self, LoopConfig, LoopInfo},
};

/// Block major of loop devices (LOOP_MAJOR).
pub const LOOP_MAJOR: u32 = 7;
/// Misc minor of /dev/loop-control (LOOP_CTRL_MINOR; misc major is 10).
pub const LOOP_CTRL_MINOR: u32 = 237;
/// Devices created at boot (CONFIG_BLK_DEV_LOOP_MIN_COUNT).
const PREALLOCATED: u32 = 8;
/// Highest index plus one: minors are 20 bits (MINORBITS).
const MAX_DEVICES: u32 = 1 << 20;
/// Mode of the /dev/loopN nodes.
const NODE_MODE: u16 = 0o660;
/// CAP_SYS_ADMIN.
const CAP_SYS_ADMIN: u32 = 21;

const LOOP_SET_FD: u32 = 0x4C00;
const LOOP_CLR_FD: u32 = 0x4C01;
const LOOP_SET_STATUS: u32 = 0x4C02;
const LOOP_GET_STATUS: u32 = 0x4C03;
const LOOP_SET_STATUS64: u32 = 0x4C04;
const LOOP_GET_STATUS64: u32 = 0x4C05;
const LOOP_CHANGE_FD: u32 = 0x4C06;
const LOOP_SET_CAPACITY: u32 = 0x4C07;
const LOOP_SET_DIRECT_IO: u32 = 0x4C08;
const LOOP_SET_BLOCK_SIZE: u32 = 0x4C09;
const LOOP_CONFIGURE: u32 = 0x4C0A;
const LOOP_CTL_ADD: u32 = 0x4C80;
const LOOP_CTL_REMOVE: u32 = 0x4C81;
const LOOP_CTL_GET_FREE: u32 = 0x4C82;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Unbound,
    Bound,
    /// Cleared at the last close; new opens fail with ENXIO.
    Rundown,
}

struct State {
    phase: Phase,
    /// Open /dev/loopN descriptions ([`LoopFile`]s alive).
    openers: usize,
    backing: Option<Arc<OpenFile>>,
    offset: u64,
    sizelimit: u64,
    flags: u32,
    file_name: [u8; loopinfo::NAME_SIZE],
    /// Size in bytes, as last computed.
    size: u64,
    /// Logical block size.
    block_size: u32,
    /// Removed from the registry (LOOP_CTL_REMOVE).
    deleted: bool,
    /// Set read-only with BLKROSET (the block device's `bd_read_only`,
    /// kept across binds).
    forced_read_only: bool,
}

/// One loop device.
pub struct LoopDevice {
    index: u32,
    state: Mutex<State>,
}

/// What a request needs of a bound device, copied out of the state.
struct Window {
    backing: Arc<OpenFile>,
    offset: u64,
    size: u64,
    read_only: bool,
}

/// The registry; a sleeping lock, as device state locks are taken under it.
static DEVICES: Mutex<BTreeMap<u32, Arc<LoopDevice>>> = Mutex::new(BTreeMap::new());
/// The devtmpfs roots that hold loop nodes.
static DEV_DIRS: SpinLock<Vec<WeakDirEntry>> = SpinLock::new(Vec::new());

/// Creates the preallocated devices.
pub fn init() {
    for index in 0..PREALLOCATED {
        let _ = add(Some(index));
    }
}

/// The device with number `index`, if it exists.
pub fn device(index: u32) -> Option<Arc<LoopDevice>> {
    DEVICES.lock().get(&index).cloned()
}

/// Every device, by index.
pub fn devices() -> Vec<Arc<LoopDevice>> {
    DEVICES.lock().values().cloned().collect()
}

fn node_name(index: u32) -> String {
    format!("loop{index}")
}

fn create_node(dir: &DirEntry, index: u32) {
    let made = dir
        .as_dir()
        .and_then(|d| {
            d.create(
                &node_name(index),
                NodeType::BlockDevice,
                NodePermission::from_bits_truncate(NODE_MODE),
                0,
                0,
            )
        })
        .and_then(|node| {
            node.update_metadata(MetadataUpdate {
                rdev: Some(DeviceId::new(LOOP_MAJOR, index)),
                ..Default::default()
            })
        });
    if let Err(e) = made {
        log::warn!("loop: cannot create /dev/loop{index}: {e:?}");
    }
}

/// The devtmpfs roots still alive.
fn dev_dirs() -> Vec<DirEntry> {
    let mut dirs = DEV_DIRS.lock();
    dirs.retain(|w| w.upgrade().is_some());
    dirs.iter().filter_map(WeakDirEntry::upgrade).collect()
}

/// Creates the nodes of every device in a new devtmpfs root and keeps the
/// root to give it the nodes of devices added later.
pub fn populate_dev(root: &DirEntry) {
    let indices: Vec<u32> = DEVICES.lock().keys().copied().collect();
    for index in indices {
        create_node(root, index);
    }
    DEV_DIRS.lock().push(root.downgrade());
}

/// Adds device `index` (or the lowest unused index) with its nodes
/// (loop_add): EEXIST if it exists.
fn add(index: Option<u32>) -> KResult<u32> {
    let index = {
        let mut devices = DEVICES.lock();
        let index = match index {
            Some(i) if devices.contains_key(&i) => return Err(Errno::EEXIST),
            Some(i) => i,
            None => (0..MAX_DEVICES)
                .find(|i| !devices.contains_key(i))
                .ok_or(Errno::ENOSPC)?,
        };
        if index >= MAX_DEVICES {
            return Err(Errno::EINVAL);
        }
        devices.insert(
            index,
            Arc::new(LoopDevice {
                index,
                state: Mutex::new(State {
                    phase: Phase::Unbound,
                    openers: 0,
                    backing: None,
                    offset: 0,
                    sizelimit: 0,
                    flags: 0,
                    file_name: [0; loopinfo::NAME_SIZE],
                    size: 0,
                    block_size: 512,
                    deleted: false,
                    forced_read_only: false,
                }),
            }),
        );
        index
    };
    for dir in dev_dirs() {
        create_node(&dir, index);
    }
    Ok(index)
}

/// Removes an unbound, unopened device and its nodes (loop_control_remove).
fn remove(index: i64) -> KResult<usize> {
    if index < 0 {
        return Err(Errno::EINVAL);
    }
    let index = u32::try_from(index).map_err(|_| Errno::ENODEV)?;
    {
        let mut devices = DEVICES.lock();
        let dev = devices.get(&index).ok_or(Errno::ENODEV)?;
        let mut st = dev.state.lock();
        if st.phase != Phase::Unbound || st.openers > 0 {
            return Err(Errno::EBUSY);
        }
        st.deleted = true;
        drop(st);
        devices.remove(&index);
    }
    for dir in dev_dirs() {
        if let Ok(d) = dir.as_dir() {
            let _ = d.unlink(&node_name(index), false);
        }
    }
    Ok(0)
}

/// The first unbound device, or a new one (loop_control_get_free).
fn get_free() -> KResult<usize> {
    let found = DEVICES
        .lock()
        .values()
        .find(|d| d.state.lock().phase == Phase::Unbound)
        .map(|d| d.index);
    let index = match found {
        Some(i) => i,
        None => add(None)?,
    };
    Ok(index as usize)
}

impl LoopDevice {
    /// The device number N of /dev/loopN.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Opens the device (lo_open): ENXIO while it runs down or after its
    /// removal.
    pub fn open(self: &Arc<Self>, write: bool) -> KResult<Arc<dyn FileLike>> {
        let mut st = self.state.lock();
        if st.phase == Phase::Rundown || st.deleted {
            return Err(Errno::ENXIO);
        }
        st.openers += 1;
        Ok(Arc::new(LoopFile {
            dev: self.clone(),
            write,
        }))
    }

    /// One opener went (lo_release): the last close clears a device that
    /// runs down or is marked autoclear.
    fn close(&self) {
        let backing = {
            let mut st = self.state.lock();
            st.openers -= 1;
            if st.openers > 0 {
                return;
            }
            if st.phase == Phase::Bound && st.flags & loopinfo::LO_FLAGS_AUTOCLEAR != 0 {
                st.phase = Phase::Rundown;
            }
            if st.phase != Phase::Rundown {
                return;
            }
            Self::clear(&mut st)
        };
        // The backing file is closed outside the state lock.
        drop(backing);
    }

    /// __loop_clr_fd: back to unbound; returns the backing file to drop.
    fn clear(st: &mut State) -> Option<Arc<OpenFile>> {
        st.phase = Phase::Unbound;
        st.offset = 0;
        st.sizelimit = 0;
        st.flags = 0;
        st.file_name = [0; loopinfo::NAME_SIZE];
        st.size = 0;
        st.block_size = 512;
        st.backing.take()
    }

    /// Whether the device is bound (sysfs shows the loop/ directory then).
    pub fn is_bound(&self) -> bool {
        self.state.lock().phase == Phase::Bound
    }

    /// Size in bytes (0 unbound).
    pub fn size(&self) -> u64 {
        self.state.lock().size
    }

    /// Whether the device is read-only (bdev_read_only: bound read-only or
    /// set so with BLKROSET).
    pub fn read_only(&self) -> bool {
        let st = self.state.lock();
        st.forced_read_only || st.flags & loopinfo::LO_FLAGS_READ_ONLY != 0
    }

    fn set_forced_read_only(&self, on: bool) {
        self.state.lock().forced_read_only = on;
    }

    /// sysfs loop/ attributes: backing file path, offset, size limit,
    /// flags; `None` unbound.
    pub fn attributes(&self) -> Option<(String, u64, u64, u32)> {
        let st = self.state.lock();
        let backing = st.backing.clone()?;
        let attrs = (st.offset, st.sizelimit, st.flags);
        drop(st);
        Some((backing.file().path(), attrs.0, attrs.1, attrs.2))
    }

    fn window(&self) -> Option<Window> {
        let st = self.state.lock();
        let backing = st.backing.clone()?;
        Some(Window {
            backing,
            offset: st.offset,
            size: st.size,
            read_only: st.forced_read_only || st.flags & loopinfo::LO_FLAGS_READ_ONLY != 0,
        })
    }

    /// The size of a file behind a window at `offset` within `sizelimit`.
    fn size_of(backing: &OpenFile, offset: u64, sizelimit: u64) -> KResult<u64> {
        let file_size = backing.file().size()?;
        Ok(loopinfo::device_size(file_size, offset, sizelimit))
    }

    /// Checks that `file` may back this device (loop_validate_file): a
    /// regular file, or a bound loop device that does not lead back here
    /// (EBADF) through a chain of loop devices.
    fn validate_backing(&self, file: &OpenFile) -> KResult<()> {
        if file.is_path() {
            return Err(Errno::EBADF);
        }
        let mut current = file.file().clone();
        loop {
            let st = current.stat()?;
            match st.mode & mode::S_IFMT {
                mode::S_IFREG => return Ok(()),
                mode::S_IFBLK => {}
                _ => return Err(Errno::EINVAL),
            }
            let Some(next) = loop_of(&current) else {
                // Block devices other than loop devices: none exist.
                return Err(Errno::EINVAL);
            };
            if next.index == self.index {
                return Err(Errno::EBADF);
            }
            let st = next.state.lock();
            if st.phase != Phase::Bound {
                return Err(Errno::EINVAL);
            }
            current = st.backing.as_ref().ok_or(Errno::EINVAL)?.file().clone();
        }
    }

    /// loop_configure: binds `backing` with the settings of `info`.
    fn configure(
        &self,
        backing: Arc<OpenFile>,
        write_mode: bool,
        block_size: u32,
        info: &LoopInfo,
    ) -> KResult<()> {
        let mut st = self.state.lock();
        if st.phase != Phase::Unbound {
            return Err(Errno::EBUSY);
        }
        drop(st);
        self.validate_backing(&backing)?;
        if info.flags & !loopinfo::CONFIGURE_SETTABLE != 0 {
            return Err(Errno::EINVAL);
        }
        info.validate()?;
        if block_size != 0 && !loopinfo::valid_block_size(block_size) {
            return Err(Errno::EINVAL);
        }
        // No direct I/O here: loop_update_dio drops the flag.
        let mut flags = info.flags & !loopinfo::LO_FLAGS_DIRECT_IO;
        if !backing.writable() || !write_mode {
            flags |= loopinfo::LO_FLAGS_READ_ONLY;
        }
        let size = Self::size_of(&backing, info.offset, info.sizelimit)?;
        st = self.state.lock();
        if st.phase != Phase::Unbound {
            return Err(Errno::EBUSY);
        }
        st.offset = info.offset;
        st.sizelimit = info.sizelimit;
        st.file_name = info.terminated_name();
        st.flags = flags;
        st.size = size;
        st.block_size = if block_size == 0 { 512 } else { block_size };
        st.backing = Some(backing);
        st.phase = Phase::Bound;
        Ok(())
    }

    /// loop_change_fd: swaps the backing file of a read-only device for one
    /// giving the same size.
    fn change_fd(&self, file: Arc<OpenFile>) -> KResult<()> {
        let (offset, sizelimit, old) = {
            let st = self.state.lock();
            if st.phase != Phase::Bound {
                return Err(Errno::ENXIO);
            }
            if st.flags & loopinfo::LO_FLAGS_READ_ONLY == 0 {
                return Err(Errno::EINVAL);
            }
            (st.offset, st.sizelimit, st.backing.clone())
        };
        self.validate_backing(&file)?;
        let old = old.ok_or(Errno::ENXIO)?;
        if Self::size_of(&file, offset, sizelimit)? != Self::size_of(&old, offset, sizelimit)? {
            return Err(Errno::EINVAL);
        }
        let replaced = {
            let mut st = self.state.lock();
            if st.phase != Phase::Bound {
                return Err(Errno::ENXIO);
            }
            st.backing.replace(file)
        };
        drop(replaced);
        Ok(())
    }

    /// loop_clr_fd: marks the device autoclear; the only opener also starts
    /// its rundown, so the clear happens at that opener's close.
    fn clr_fd(&self) -> KResult<usize> {
        let mut st = self.state.lock();
        if st.phase != Phase::Bound {
            return Err(Errno::ENXIO);
        }
        st.flags |= loopinfo::LO_FLAGS_AUTOCLEAR;
        if st.openers == 1 {
            st.phase = Phase::Rundown;
        }
        Ok(0)
    }

    /// loop_get_status: ENXIO unless bound.
    fn status(&self) -> KResult<LoopInfo> {
        let st = self.state.lock();
        if st.phase != Phase::Bound {
            return Err(Errno::ENXIO);
        }
        let mut info = LoopInfo {
            number: self.index,
            offset: st.offset,
            sizelimit: st.sizelimit,
            flags: st.flags,
            file_name: st.file_name,
            ..LoopInfo::default()
        };
        let backing = st.backing.clone();
        drop(st);
        if let Some(backing) = backing {
            let kst = backing.file().stat()?;
            info.device = kst.dev;
            info.inode = kst.ino;
            info.rdevice = kst.rdev;
        }
        Ok(info)
    }

    /// loop_set_status: new window, name and autoclear/partscan flags.
    fn set_status(&self, info: &LoopInfo) -> KResult<()> {
        info.validate()?;
        let backing = {
            let st = self.state.lock();
            if st.phase != Phase::Bound {
                return Err(Errno::ENXIO);
            }
            st.backing.clone().ok_or(Errno::ENXIO)?
        };
        let size = Self::size_of(&backing, info.offset, info.sizelimit)?;
        let mut st = self.state.lock();
        if st.phase != Phase::Bound {
            return Err(Errno::ENXIO);
        }
        st.offset = info.offset;
        st.sizelimit = info.sizelimit;
        st.file_name = info.terminated_name();
        st.flags &= !loopinfo::SET_STATUS_CLEARABLE;
        st.flags |= info.flags & loopinfo::SET_STATUS_SETTABLE;
        st.size = size;
        Ok(())
    }

    /// LOOP_SET_CAPACITY, LOOP_SET_DIRECT_IO, LOOP_SET_BLOCK_SIZE
    /// (lo_simple_ioctl); anything else is EINVAL.
    fn simple_ioctl(&self, cmd: u32, arg: usize) -> KResult<usize> {
        let backing = {
            let st = self.state.lock();
            if !matches!(
                cmd,
                LOOP_SET_CAPACITY | LOOP_SET_DIRECT_IO | LOOP_SET_BLOCK_SIZE
            ) {
                return Err(Errno::EINVAL);
            }
            if st.phase != Phase::Bound {
                return Err(Errno::ENXIO);
            }
            st.backing.clone().ok_or(Errno::ENXIO)?
        };
        match cmd {
            LOOP_SET_CAPACITY => {
                let mut st = self.state.lock();
                let size = Self::size_of(&backing, st.offset, st.sizelimit)?;
                st.size = size;
            }
            // Direct I/O is never possible here (lo_can_use_dio fails).
            LOOP_SET_DIRECT_IO if arg != 0 => return Err(Errno::EINVAL),
            LOOP_SET_DIRECT_IO => {}
            _ => {
                let size = u32::try_from(arg).map_err(|_| Errno::EINVAL)?;
                if !loopinfo::valid_block_size(size) {
                    return Err(Errno::EINVAL);
                }
                self.state.lock().block_size = size;
            }
        }
        Ok(0)
    }
}

/// The loop device behind a file object, if it is an open of one.
fn loop_of(file: &Arc<dyn FileLike>) -> Option<Arc<LoopDevice>> {
    let any = file.as_any();
    let inner = match any.downcast_ref::<DeviceNode>() {
        Some(node) => node.inner().clone(),
        None => file.clone(),
    };
    inner
        .as_any()
        .downcast_ref::<LoopFile>()
        .map(|f| f.dev.clone())
}

/// One open of /dev/loopN.
pub struct LoopFile {
    dev: Arc<LoopDevice>,
    /// Opened for writing (BLK_OPEN_WRITE).
    write: bool,
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
        let (size, block_size) = {
            let st = dev.state.lock();
            (st.size, st.block_size)
        };
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
            rdev: DeviceId::new(LOOP_MAJOR, self.dev.index).0,
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
        format!("/dev/loop{}", self.dev.index)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Opens /dev/loopN: ENXIO if there is no device N.
pub fn open(index: u32, write: bool) -> KResult<Arc<dyn FileLike>> {
    device(index).ok_or(Errno::ENXIO)?.open(write)
}

/// /dev/loop-control.
pub struct LoopControl;

impl LoopControl {
    /// Opens the control device.
    pub fn open() -> Arc<dyn FileLike> {
        Arc::new(Self)
    }
}

impl FileLike for LoopControl {
    fn read(&self, _buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            mode: mode::S_IFCHR | 0o600,
            nlink: 1,
            rdev: DeviceId::new(10, LOOP_CTRL_MINOR).0,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    /// loop_control_ioctl: the argument is an index (an int); anything
    /// else is ENOSYS.
    fn ioctl(&self, cmd: u32, arg: usize, _user: &dyn UserAccess) -> KResult<usize> {
        let index = i64::from(arg as i32);
        match cmd {
            LOOP_CTL_ADD => {
                let wanted = u32::try_from(index).ok();
                add(wanted).map(|i| i as usize)
            }
            LOOP_CTL_REMOVE => remove(index),
            LOOP_CTL_GET_FREE => get_free(),
            _ => Err(Errno::ENOSYS),
        }
    }

    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::OUT
    }

    fn path(&self) -> String {
        String::from("/dev/loop-control")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
