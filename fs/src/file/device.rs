//! The simple character devices: null, zero, full, random and urandom.
//!
//! Device numbers follow Linux (drivers/char/mem.c): memory devices are
//! major 1 with minors 3 (null), 5 (zero), 7 (full), 8 (random), 9 (urandom).

use alloc::{format, string::String, sync::Arc};
use core::{
    any::Any,
    sync::atomic::{AtomicU64, Ordering},
};

use axpoll::IoEvents;

use super::{FileLike, Kstat, flock::FlockNode, mode};
use crate::{Errno, KResult};

/// Which memory device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemDevice {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
}

impl MemDevice {
    /// The device for a (major, minor) pair, if it is one of these.
    pub fn from_rdev(major: u32, minor: u32) -> Option<Self> {
        match (major, minor) {
            (1, 3) => Some(Self::Null),
            (1, 5) => Some(Self::Zero),
            (1, 7) => Some(Self::Full),
            (1, 8) => Some(Self::Random),
            (1, 9) => Some(Self::Urandom),
            _ => None,
        }
    }

    /// The minor number (major is 1).
    pub fn minor(self) -> u32 {
        match self {
            Self::Null => 3,
            Self::Zero => 5,
            Self::Full => 7,
            Self::Random => 8,
            Self::Urandom => 9,
        }
    }

    /// The name under /dev.
    pub fn name(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Zero => "zero",
            Self::Full => "full",
            Self::Random => "random",
            Self::Urandom => "urandom",
        }
    }

    /// Opens the device.
    pub fn open(self) -> Arc<dyn FileLike> {
        Arc::new(MemDeviceFile { dev: self })
    }
}

struct MemDeviceFile {
    dev: MemDevice,
}

impl FileLike for MemDeviceFile {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        match self.dev {
            MemDevice::Null => Ok(0),
            MemDevice::Zero | MemDevice::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            MemDevice::Random | MemDevice::Urandom => {
                fill_random(buf);
                Ok(buf.len())
            }
        }
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        match self.dev {
            MemDevice::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }

    fn seekable(&self) -> bool {
        // Linux lets lseek succeed on these.
        true
    }

    /// null, zero and full: null_lseek (0); random and urandom:
    /// noop_llseek (the position stays).
    fn fixed_seek(&self, pos: u64) -> Option<u64> {
        match self.dev {
            MemDevice::Null | MemDevice::Zero | MemDevice::Full => Some(0),
            MemDevice::Random | MemDevice::Urandom => Some(pos),
        }
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            mode: mode::S_IFCHR | 0o666,
            nlink: 1,
            rdev: (1 << 8) | u64::from(self.dev.minor()),
            blksize: 4096,
            ..Kstat::default()
        })
    }

    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::OUT
    }

    fn can_poll(&self) -> bool {
        // Of the memory devices only random has a poll operation
        // (drivers/char/mem.c, drivers/char/random.c).
        self.dev == MemDevice::Random
    }

    fn path(&self) -> String {
        format!("/dev/{}", self.dev.name())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// State of the kernel's pseudo-random generator (xoshiro-style mixing of
/// a SplitMix64 counter). Not cryptographically strong; seeded at boot
/// from the clock and the CPU's entropy where available.
static RNG_STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// Mixes `seed` into the generator state.
pub fn seed_random(seed: u64) {
    RNG_STATE.fetch_xor(
        seed.rotate_left(17) ^ 0xd1b5_4a32_d192_ed03,
        Ordering::Relaxed,
    );
}

fn next_random() -> u64 {
    let mut z = RNG_STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fills `buf` with pseudo-random bytes (for /dev/urandom, getrandom and
/// AT_RANDOM).
pub fn fill_random(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let v = next_random().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// A device opened through its node in the filesystem: I/O goes to the
/// driver, `fstat` reports the node (so `ttyname(3)` and `tty(1)` match
/// the fd to its /dev entry).
pub struct DeviceNode {
    inner: Arc<dyn FileLike>,
    node: axfs_ng_vfs::Location,
}

impl DeviceNode {
    /// Wraps a driver's file with the node it was opened through.
    pub fn wrap(inner: Arc<dyn FileLike>, node: axfs_ng_vfs::Location) -> Arc<dyn FileLike> {
        Arc::new(Self { inner, node })
    }

    /// The driver's file.
    pub fn inner(&self) -> &Arc<dyn FileLike> {
        &self.inner
    }

    /// The node it was opened through.
    pub fn node(&self) -> &axfs_ng_vfs::Location {
        &self.node
    }
}

impl FileLike for DeviceNode {
    fn read(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        self.inner.read(buf, pos)
    }

    fn write(&self, buf: &[u8], pos: Option<u64>) -> KResult<usize> {
        self.inner.write(buf, pos)
    }

    fn seekable(&self) -> bool {
        self.inner.seekable()
    }

    fn fixed_seek(&self, pos: u64) -> Option<u64> {
        self.inner.fixed_seek(pos)
    }

    fn size(&self) -> KResult<u64> {
        self.inner.size()
    }

    fn seek_limit(&self) -> Option<u64> {
        self.inner.seek_limit()
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(super::vfs::kstat_of(&self.node.metadata()?))
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn super::UserAccess) -> KResult<usize> {
        self.inner.ioctl(cmd, arg, user)
    }

    /// The driver's fsync (a block device's syncs its data; character
    /// devices and FIFOs have none: EINVAL).
    fn sync(&self) -> KResult<()> {
        self.inner.sync()
    }

    fn poll(&self) -> IoEvents {
        self.inner.poll()
    }

    fn can_poll(&self) -> bool {
        self.inner.can_poll()
    }

    unsafe fn register_poll(
        &self,
        sink: &mut dyn axpoll::SharedRegistrationSink,
        events: IoEvents,
    ) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.register_poll(sink, events) }
    }

    fn path(&self) -> String {
        self.node
            .absolute_path()
            .map(|p| String::from(p.as_str()))
            .unwrap_or_else(|_| self.inner.path())
    }

    fn fasync(&self, file: &Arc<super::OpenFile>, fd: i32, on: bool) -> bool {
        self.inner.fasync(file, fd, on)
    }

    fn tty_foreground(&self) -> Option<i32> {
        self.inner.tty_foreground()
    }

    fn release(&self) {
        self.inner.release();
    }

    fn flock_node(&self) -> Option<Arc<FlockNode>> {
        Some(self.node.user_data().get_or_insert_with(FlockNode::default))
    }

    fn existing_flock_node(&self) -> Option<Arc<FlockNode>> {
        self.node.user_data().get::<FlockNode>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
