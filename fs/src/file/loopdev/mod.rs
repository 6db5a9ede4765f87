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
//! The registry and /dev/loop-control are here, the device's state
//! machine in `device.rs`, the open device's I/O and ioctls in `file.rs`.
//!
//! Lock order: the registry lock, then a device's state lock; neither is
//! held across I/O or while a backing file is dropped.

mod device;
mod file;

use alloc::{collections::BTreeMap, format, string::String, sync::Arc, vec::Vec};
use core::any::Any;

use ax_sync::{Mutex, SpinLock};
use axfs_ng_vfs::{DeviceId, DirEntry, MetadataUpdate, NodePermission, NodeType, WeakDirEntry};
use axpoll::IoEvents;

pub use self::{device::LoopDevice, file::LoopFile};
use super::{FileLike, Kstat, UserAccess, mode};
use crate::{Errno, KResult};

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
        devices.insert(index, Arc::new(LoopDevice::new(index)));
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
        dev.delete()?;
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
        .find(|d| d.is_unbound())
        .map(|d| d.index());
    let index = match found {
        Some(i) => i,
        None => add(None)?,
    };
    Ok(index as usize)
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
