//! eventfd(2): a 64-bit counter behind a descriptor (fs/eventfd.c).
//!
//! A write of an 8-byte value adds it to the counter, waiting (EAGAIN here)
//! while the sum would exceed 0xffff_ffff_ffff_fffe; a read returns the
//! counter and resets it to 0, or with EFD_SEMAPHORE returns 1 and
//! decrements it, waiting (EAGAIN) while it is 0. A read buffer shorter
//! than 8 bytes, a write of any other length than 8, and writing
//! 0xffff_ffff_ffff_ffff are EINVAL. The descriptor
//! is readable while the counter is nonzero and writable while at least 1
//! can still be added.

use alloc::{string::String, sync::Arc};
use core::{
    any::Any,
    sync::atomic::{AtomicU32, Ordering},
};

use ax_sync::SpinLock;
use axpoll::{ExclusiveRegistrationSink, IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::{FileLike, Kstat};
use crate::{Errno, KResult};

/// EFD_SEMAPHORE.
pub const EFD_SEMAPHORE: u32 = 1;
/// The largest counter value.
const MAX: u64 = u64::MAX - 1;

static NEXT_INO: AtomicU32 = AtomicU32::new(1);

/// One eventfd object.
pub struct EventFd {
    count: SpinLock<u64>,
    semaphore: bool,
    ino: u64,
    readable: PollSet,
    writable: PollSet,
}

impl EventFd {
    /// A counter starting at `initval`; `semaphore` for EFD_SEMAPHORE.
    pub fn new(initval: u32, semaphore: bool) -> Arc<Self> {
        Arc::new(Self {
            count: SpinLock::new(u64::from(initval)),
            semaphore,
            ino: u64::from(NEXT_INO.fetch_add(1, Ordering::Relaxed)),
            readable: PollSet::new(),
            writable: PollSet::new(),
        })
    }

    /// The counter (for /proc/PID/fdinfo's `eventfd-count`).
    pub fn count(&self) -> u64 {
        *self.count.lock()
    }

    /// Whether EFD_SEMAPHORE is set.
    pub fn is_semaphore(&self) -> bool {
        self.semaphore
    }
}

/// Wakes every shared waiter and one exclusive one (EPOLLEXCLUSIVE
/// entries), as eventfd's wake_up_locked_poll.
fn wake(set: &PollSet, events: IoEvents) {
    // SAFETY: task context, no lock held; the counter changed under its
    // lock before this call.
    unsafe { set.wake(events) };
}

impl FileLike for EventFd {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let value = {
            let mut count = self.count.lock();
            if *count == 0 {
                return Err(Errno::EAGAIN);
            }
            if self.semaphore {
                *count -= 1;
                1
            } else {
                core::mem::take(&mut *count)
            }
        };
        buf[..8].copy_from_slice(&value.to_ne_bytes());
        wake(&self.writable, IoEvents::OUT);
        Ok(8)
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        if buf.len() != 8 {
            return Err(Errno::EINVAL);
        }
        let value = u64::from_ne_bytes(buf[..8].try_into().map_err(|_| Errno::EINVAL)?);
        if value == u64::MAX {
            return Err(Errno::EINVAL);
        }
        {
            let mut count = self.count.lock();
            if MAX - *count < value {
                return Err(Errno::EAGAIN);
            }
            *count += value;
        }
        // Every write wakes readers, adding 0 too (eventfd_write), which
        // an edge-triggered epoll entry sees as a new event.
        wake(&self.readable, IoEvents::IN);
        Ok(8)
    }

    fn stat(&self) -> KResult<Kstat> {
        // An anonymous inode: mode 0600 and no file type bits.
        Ok(Kstat {
            ino: self.ino,
            mode: 0o600,
            nlink: 1,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    fn poll(&self) -> IoEvents {
        let count = *self.count.lock();
        let mut ev = IoEvents::empty();
        if count > 0 {
            ev |= IoEvents::IN | IoEvents::RDNORM;
        }
        if count < MAX {
            ev |= IoEvents::OUT | IoEvents::WRNORM;
        }
        ev
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract: the registrations are dropped first.
        unsafe {
            sink.register_shared(
                &self.readable as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            );
            sink.register_shared(
                &self.writable as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            );
        }
    }

    unsafe fn register_poll_exclusive(
        &self,
        sink: &mut dyn ExclusiveRegistrationSink,
        events: IoEvents,
    ) {
        let events = events | IoEvents::ALWAYS_POLL;
        // SAFETY: forwarded contract: the registrations are dropped first.
        unsafe {
            sink.register_exclusive(&self.readable as &dyn PollSource, events);
            sink.register_exclusive(&self.writable as &dyn PollSource, events);
        }
    }

    fn path(&self) -> String {
        String::from("anon_inode:[eventfd]")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
