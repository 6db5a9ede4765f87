//! One loop device: its state machine (unbound, bound, running down), the
//! window of the backing file it shows, and the driver operations the
//! ioctls of [`LoopFile`](super::LoopFile) call (drivers/block/loop.c
//! loop_configure, loop_clr_fd, loop_get_status, loop_set_status,
//! loop_change_fd, lo_simple_ioctl, lo_open, lo_release).

use alloc::{string::String, sync::Arc};

use ax_sync::Mutex;

use super::{LOOP_SET_BLOCK_SIZE, LOOP_SET_CAPACITY, LOOP_SET_DIRECT_IO, LoopFile};
use crate::{
    Errno, KResult,
    file::{FileLike, OpenFile, device::DeviceNode, mode},
    loopinfo::{self, LoopInfo},
};

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
pub(super) struct Window {
    pub(super) backing: Arc<OpenFile>,
    pub(super) offset: u64,
    pub(super) size: u64,
    pub(super) read_only: bool,
}

impl LoopDevice {
    /// A new, unbound device.
    pub(super) fn new(index: u32) -> Self {
        Self {
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
        }
    }

    /// Size in bytes and logical block size.
    pub(super) fn geometry(&self) -> (u64, u32) {
        let st = self.state.lock();
        (st.size, st.block_size)
    }

    /// Whether LOOP_CTL_GET_FREE may hand the device out.
    pub(super) fn is_unbound(&self) -> bool {
        self.state.lock().phase == Phase::Unbound
    }

    /// Marks the device removed (loop_control_remove): EBUSY while bound
    /// or open; later opens through a stale reference are ENXIO.
    pub(super) fn delete(&self) -> KResult<()> {
        let mut st = self.state.lock();
        if st.phase != Phase::Unbound || st.openers > 0 {
            return Err(Errno::EBUSY);
        }
        st.deleted = true;
        Ok(())
    }

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
    pub(super) fn close(&self) {
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

    pub(super) fn set_forced_read_only(&self, on: bool) {
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

    pub(super) fn window(&self) -> Option<Window> {
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
    pub(super) fn configure(
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
    pub(super) fn change_fd(&self, file: Arc<OpenFile>) -> KResult<()> {
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
    pub(super) fn clr_fd(&self) -> KResult<usize> {
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
    pub(super) fn status(&self) -> KResult<LoopInfo> {
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
    pub(super) fn set_status(&self, info: &LoopInfo) -> KResult<()> {
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
    pub(super) fn simple_ioctl(&self, cmd: u32, arg: usize) -> KResult<usize> {
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
pub(super) fn loop_of(file: &Arc<dyn FileLike>) -> Option<Arc<LoopDevice>> {
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
