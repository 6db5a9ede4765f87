//! Pipes and FIFOs: a bounded byte queue with a read end and a write end.
//!
//! Semantics follow pipe(7): capacity 65536 bytes; writes of at most
//! PIPE_BUF (4096) bytes are atomic (all or nothing), larger writes may be
//! partial; reading an empty pipe with no writers is end of file; writing
//! with no readers fails with EPIPE (the syscall layer raises SIGPIPE).
//!
//! The reader and writer counts count open file descriptions of each end,
//! so `dup` and `fork` do not change them and the last close of an end
//! wakes the other side.
//!
//! splice(2) and tee(2) use the pipe-level operations: [`PipeEnd::transfer`]
//! moves or copies bytes between two pipes under both buffer locks (taken
//! in address order), [`PipeEnd::write_some`] fills a pipe without
//! PIPE_BUF atomicity, [`PipeEnd::unread`] puts back what a splice out of
//! the pipe could not deliver. [`pipe_of`] finds the pipe behind a
//! descriptor's object (a FIFO's is wrapped in its device node).

use alloc::{collections::VecDeque, string::String, sync::Arc};
use core::{
    any::Any,
    sync::atomic::{AtomicUsize, Ordering},
};

use ax_sync::SpinLock;
use axpoll::{ExclusiveRegistrationSink, IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::{
    FileLike, Kstat, OpenFile,
    fasync::{FasyncList, POLL_IN, POLL_OUT},
    flock::FlockNode,
    mode,
};
use crate::{Errno, KResult};

/// Pipe capacity (Linux's default, 16 pages).
pub const PIPE_CAPACITY: usize = 65536;
/// Largest atomic write.
pub const PIPE_BUF: usize = 4096;

struct Shared {
    /// The user whose pipe-page allowance the buffer counts against.
    owner: u32,
    buf: SpinLock<VecDeque<u8>>,
    /// Capacity in bytes (F_GETPIPE_SZ / F_SETPIPE_SZ).
    capacity: AtomicUsize,
    readers: AtomicUsize,
    writers: AtomicUsize,
    /// Woken when data arrives or the last writer leaves.
    readable: PollSet,
    /// Woken when space frees up or the last reader leaves.
    writable: PollSet,
    /// Woken when an end of a FIFO is opened or closed.
    opened: PollSet,
    /// A writer has existed (a FIFO's reader sees end of file, and POLLHUP,
    /// only after one came and went).
    had_writer: core::sync::atomic::AtomicBool,
    ino: u64,
    /// flock(2) state: both ends of a pipe are one inode on Linux. A
    /// FIFO's opens use the node's instead.
    flock: Arc<FlockNode>,
    /// O_ASYNC descriptions reading (POLL_IN at each write) and writing
    /// (POLL_OUT at each read), fs/pipe.c fasync_readers/fasync_writers.
    fasync_readers: FasyncList,
    fasync_writers: FasyncList,
}

static NEXT_PIPE_INO: AtomicUsize = AtomicUsize::new(1);

/// /proc/sys/fs/pipe-user-pages-soft: past this many pipe pages a user's
/// new pipes get two pages instead of sixteen (0: no limit).
pub static PIPE_USER_PAGES_SOFT: AtomicUsize = AtomicUsize::new(16384);
/// /proc/sys/fs/pipe-user-pages-hard (0: no limit).
pub static PIPE_USER_PAGES_HARD: AtomicUsize = AtomicUsize::new(0);
/// Pipe buffer pages in use per user.
static USER_PAGES: SpinLock<alloc::collections::BTreeMap<u32, usize>> =
    SpinLock::new(alloc::collections::BTreeMap::new());
/// Pages of a pipe created past the soft limit (PIPE_MIN_DEF_BUFFERS).
const MIN_PAGES: usize = 2;

/// Charges `pages` to `uid`; returns the user's previous total.
fn charge(uid: u32, pages: usize) -> usize {
    let mut m = USER_PAGES.lock();
    let total = m.entry(uid).or_insert(0);
    let before = *total;
    *total += pages;
    before
}

fn uncharge(uid: u32, pages: usize) {
    let mut m = USER_PAGES.lock();
    if let Some(total) = m.get_mut(&uid) {
        *total = total.saturating_sub(pages);
        if *total == 0 {
            m.remove(&uid);
        }
    }
}

/// The capacity of a new pipe for `uid` (fs/pipe.c alloc_pipe_info):
/// sixteen pages, cut to pipe-max-size unless `privileged`
/// (CAP_SYS_RESOURCE), two past the user's soft limit.
fn initial_capacity(uid: u32, privileged: bool) -> usize {
    let soft = PIPE_USER_PAGES_SOFT.load(Ordering::Relaxed);
    let used = USER_PAGES.lock().get(&uid).copied().unwrap_or(0);
    let max_pages = PIPE_MAX_SIZE.load(Ordering::Relaxed) / 4096;
    let pages = if soft != 0 && used >= soft {
        MIN_PAGES
    } else if !privileged {
        (PIPE_CAPACITY / 4096).min(max_pages)
    } else {
        PIPE_CAPACITY / 4096
    };
    charge(uid, pages);
    pages * 4096
}

impl Drop for Shared {
    fn drop(&mut self) {
        uncharge(self.owner, self.capacity.load(Ordering::Relaxed) / 4096);
    }
}

/// Creates a pipe for user `uid` (with CAP_SYS_RESOURCE if `privileged`)
/// and returns (read end, write end).
pub fn new_pipe(uid: u32, privileged: bool) -> (Arc<dyn FileLike>, Arc<dyn FileLike>) {
    let shared = Arc::new(Shared {
        owner: uid,
        buf: SpinLock::new(VecDeque::new()),
        capacity: AtomicUsize::new(initial_capacity(uid, privileged)),
        readers: AtomicUsize::new(1),
        writers: AtomicUsize::new(1),
        readable: PollSet::new(),
        writable: PollSet::new(),
        opened: PollSet::new(),
        had_writer: core::sync::atomic::AtomicBool::new(true),
        ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed) as u64,
        flock: Arc::default(),
        fasync_readers: FasyncList::new(),
        fasync_writers: FasyncList::new(),
    });
    (
        Arc::new(PipeEnd {
            shared: shared.clone(),
            reads: true,
            write_end: false,
        }),
        Arc::new(PipeEnd {
            shared,
            reads: false,
            write_end: true,
        }),
    )
}

/// One end of a pipe (or both, for a FIFO opened O_RDWR).
pub struct PipeEnd {
    shared: Arc<Shared>,
    reads: bool,
    write_end: bool,
}

/// Largest capacity an unprivileged F_SETPIPE_SZ may ask for
/// (/proc/sys/fs/pipe-max-size).
pub static PIPE_MAX_SIZE: AtomicUsize = AtomicUsize::new(1 << 20);

impl PipeEnd {
    /// F_GETPIPE_SZ.
    pub fn capacity(&self) -> usize {
        self.shared.capacity.load(Ordering::Acquire)
    }

    /// F_SETPIPE_SZ: rounds `size` up to a power-of-two number of pages
    /// (at least one); EPERM above PIPE_MAX_SIZE unless `privileged`, EBUSY
    /// if the pipe holds more data than the new size. Returns the new size.
    pub fn set_capacity(&self, size: usize, privileged: bool) -> KResult<usize> {
        let pages = size.div_ceil(4096).max(1);
        let new = pages
            .checked_next_power_of_two()
            .and_then(|p| p.checked_mul(4096))
            .ok_or(Errno::EINVAL)?;
        if new > PIPE_MAX_SIZE.load(Ordering::Relaxed) && !privileged {
            return Err(Errno::EPERM);
        }
        if new > (1 << 31) {
            return Err(Errno::EINVAL);
        }
        let q = self.shared.buf.lock();
        if q.len() > new {
            return Err(Errno::EBUSY);
        }
        let old = self.shared.capacity.load(Ordering::Acquire);
        let hard = PIPE_USER_PAGES_HARD.load(Ordering::Relaxed);
        let soft = PIPE_USER_PAGES_SOFT.load(Ordering::Relaxed);
        if new > old && !privileged {
            let used = USER_PAGES
                .lock()
                .get(&self.shared.owner)
                .copied()
                .unwrap_or(0);
            let after = used + (new - old) / 4096;
            if (hard != 0 && after > hard) || (soft != 0 && after > soft) {
                return Err(Errno::EPERM);
            }
        }
        uncharge(self.shared.owner, old / 4096);
        charge(self.shared.owner, new / 4096);
        self.shared.capacity.store(new, Ordering::Release);
        drop(q);
        wake(&self.shared.writable, IoEvents::OUT);
        Ok(new)
    }
}

impl PipeEnd {
    /// Appends `buf`: all of it or nothing (EAGAIN) when `atomic`, else as
    /// much as fits (EAGAIN when nothing does). EPIPE without readers.
    fn push(&self, buf: &[u8], atomic: bool) -> KResult<usize> {
        if !self.write_end {
            return Err(Errno::EBADF);
        }
        if self.shared.readers.load(Ordering::Acquire) == 0 {
            return Err(Errno::EPIPE);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = {
            let mut q = self.shared.buf.lock();
            let free = self.free_in(&q);
            let n = if atomic {
                if free < buf.len() {
                    return Err(Errno::EAGAIN);
                }
                buf.len()
            } else {
                if free == 0 {
                    return Err(Errno::EAGAIN);
                }
                buf.len().min(free)
            };
            q.extend(&buf[..n]);
            n
        };
        wake_one_exclusive(&self.shared.readable, IoEvents::IN);
        self.shared.fasync_readers.kill(POLL_IN);
        Ok(n)
    }

    /// Free bytes in the pipe whose buffer `q` is.
    fn free_in(&self, q: &VecDeque<u8>) -> usize {
        self.shared
            .capacity
            .load(Ordering::Acquire)
            .saturating_sub(q.len())
    }

    /// Whether `other` is an end of the same pipe.
    pub fn same_pipe(&self, other: &PipeEnd) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Appends as much of `buf` as fits, never all-or-nothing: what
    /// splice(2) puts into a pipe. EAGAIN when full, EPIPE without readers.
    pub fn write_some(&self, buf: &[u8]) -> KResult<usize> {
        self.push(buf, false)
    }

    /// Room for a splice into the pipe: the free bytes; EAGAIN when full,
    /// EPIPE without readers (fs/splice.c wait_for_space).
    pub fn room(&self) -> KResult<usize> {
        if self.shared.readers.load(Ordering::Acquire) == 0 {
            return Err(Errno::EPIPE);
        }
        match self.free_in(&self.shared.buf.lock()) {
            0 => Err(Errno::EAGAIN),
            n => Ok(n),
        }
    }

    /// Puts bytes taken by a read back at the front, as if never read:
    /// what a splice out of the pipe could not write elsewhere stays in
    /// the pipe, as on Linux where it is only taken once written.
    pub fn unread(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        {
            let mut q = self.shared.buf.lock();
            for &b in data.iter().rev() {
                q.push_front(b);
            }
        }
        wake(&self.shared.readable, IoEvents::IN);
    }

    /// Moves (`consume`, splice) or copies (tee) up to `len` bytes from
    /// this pipe into `dst`, a different pipe, under both buffer locks.
    ///
    /// In the order of fs/splice.c ipipe_prep, opipe_prep and the transfer
    /// loop: EAGAIN while this pipe is empty and has writers, or `dst` is
    /// full and has readers; EPIPE when `dst` has no readers; 0 at end of
    /// file. Otherwise as much as is here and fits there.
    pub fn transfer(&self, dst: &PipeEnd, len: usize, consume: bool) -> KResult<usize> {
        let (src_pipe, dst_pipe) = (&self.shared, &dst.shared);
        let n = {
            // Two pipes are locked in address order, so that transfers in
            // opposite directions cannot deadlock.
            let (mut src, mut out) = if Arc::as_ptr(src_pipe) < Arc::as_ptr(dst_pipe) {
                let s = src_pipe.buf.lock();
                (s, dst_pipe.buf.lock())
            } else {
                let d = dst_pipe.buf.lock();
                (src_pipe.buf.lock(), d)
            };
            if src.is_empty() && src_pipe.writers.load(Ordering::Acquire) > 0 {
                return Err(Errno::EAGAIN);
            }
            let free = dst.free_in(&out);
            let readers = dst_pipe.readers.load(Ordering::Acquire) > 0;
            if free == 0 && readers {
                return Err(Errno::EAGAIN);
            }
            if !readers {
                return Err(Errno::EPIPE);
            }
            let n = len.min(src.len()).min(free);
            if consume {
                out.extend(src.drain(..n));
            } else {
                out.extend(src.range(..n));
            }
            n
        };
        if n > 0 {
            wake_one_exclusive(&dst_pipe.readable, IoEvents::IN);
            dst_pipe.fasync_readers.kill(POLL_IN);
            if consume {
                wake(&src_pipe.writable, IoEvents::OUT);
                src_pipe.fasync_writers.kill(POLL_OUT);
            }
        }
        Ok(n)
    }
}

/// The pipe behind a file object: a pipe end, or a FIFO opened through
/// its node (which the device wrapper holds).
pub fn pipe_of(file: &Arc<dyn FileLike>) -> Option<&PipeEnd> {
    let any = file.as_any();
    if let Some(end) = any.downcast_ref::<PipeEnd>() {
        return Some(end);
    }
    any.downcast_ref::<super::device::DeviceNode>()?
        .inner()
        .as_any()
        .downcast_ref::<PipeEnd>()
}

fn wake(set: &PollSet, events: IoEvents) {
    // SAFETY: called in task context with no lock held; the readiness was
    // published under the buffer lock before this call.
    unsafe { set.wake_all(events) };
}

/// Wakes for new data or room: every shared waiter and one exclusive one
/// (pipe_read and pipe_write wake non-exclusive and one exclusive waiter).
fn wake_one_exclusive(set: &PollSet, events: IoEvents) {
    // SAFETY: as in `wake`.
    unsafe { set.wake(events) };
}

impl FileLike for PipeEnd {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        if !self.reads {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let (n, was_full) = {
            let mut q = self.shared.buf.lock();
            if q.is_empty() {
                return if self.shared.writers.load(Ordering::Acquire) == 0 {
                    Ok(0)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            // Not writable before this read (see `poll`): only then can a
            // writer wait for room.
            let free = self
                .shared
                .capacity
                .load(Ordering::Acquire)
                .saturating_sub(q.len());
            let n = buf.len().min(q.len());
            for (dst, src) in buf.iter_mut().zip(q.drain(..n)) {
                *dst = src;
            }
            (n, free < PIPE_BUF)
        };
        // Writers are woken only when the pipe was full (fs/pipe.c
        // pipe_read `was_full`), so an edge-triggered epoll entry on the
        // write end sees no event for a read that changed nothing for it.
        if was_full {
            wake_one_exclusive(&self.shared.writable, IoEvents::OUT);
        }
        // pipe_read signals the writers after every read, full or not.
        self.shared.fasync_writers.kill(POLL_OUT);
        Ok(n)
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        self.push(buf, buf.len() <= PIPE_BUF)
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            ino: self.shared.ino,
            mode: mode::S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    fn poll(&self) -> IoEvents {
        let len = self.shared.buf.lock().len();
        let mut ev = IoEvents::empty();
        if self.write_end {
            if self.shared.readers.load(Ordering::Acquire) == 0 {
                ev |= IoEvents::ERR;
            }
            if self
                .shared
                .capacity
                .load(Ordering::Acquire)
                .saturating_sub(len)
                >= PIPE_BUF
            {
                ev |= IoEvents::OUT | IoEvents::WRNORM;
            }
        }
        if self.reads {
            if len > 0 {
                ev |= IoEvents::IN | IoEvents::RDNORM;
            }
            if self.shared.writers.load(Ordering::Acquire) == 0
                && self.shared.had_writer.load(Ordering::Acquire)
            {
                ev |= IoEvents::HUP;
            }
        }
        ev
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        if self.write_end {
            // SAFETY: forwarded contract: the registration is dropped before the pipe.
            unsafe {
                sink.register_shared(
                    &self.shared.writable as &dyn PollSource,
                    events | IoEvents::ALWAYS_POLL,
                )
            };
        }
        if self.reads {
            // SAFETY: as above.
            unsafe {
                sink.register_shared(
                    &self.shared.readable as &dyn PollSource,
                    events | IoEvents::ALWAYS_POLL,
                )
            };
        }
    }

    unsafe fn register_poll_exclusive(
        &self,
        sink: &mut dyn ExclusiveRegistrationSink,
        events: IoEvents,
    ) {
        let events = events | IoEvents::ALWAYS_POLL;
        // SAFETY: forwarded contract: the registrations are dropped before
        // the pipe.
        unsafe {
            if self.write_end {
                sink.register_exclusive(&self.shared.writable as &dyn PollSource, events);
            }
            if self.reads {
                sink.register_exclusive(&self.shared.readable as &dyn PollSource, events);
            }
        }
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn super::UserAccess) -> KResult<usize> {
        const FIONREAD: u32 = 0x541b;
        if cmd != FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let n = self.shared.buf.lock().len() as i32;
        user.write(arg, &n.to_ne_bytes())?;
        Ok(0)
    }

    fn path(&self) -> String {
        alloc::format!("pipe:[{}]", self.shared.ino)
    }

    fn flock_node(&self) -> Option<Arc<FlockNode>> {
        Some(self.shared.flock.clone())
    }

    fn existing_flock_node(&self) -> Option<Arc<FlockNode>> {
        Some(self.shared.flock.clone())
    }

    fn release(&self) {
        let mut last = false;
        if self.write_end && self.shared.writers.fetch_sub(1, Ordering::AcqRel) == 1 {
            wake(&self.shared.readable, IoEvents::HUP | IoEvents::IN);
            last = true;
        }
        if self.reads && self.shared.readers.fetch_sub(1, Ordering::AcqRel) == 1 {
            wake(&self.shared.writable, IoEvents::ERR | IoEvents::OUT);
            last = true;
        }
        wake(&self.shared.opened, IoEvents::IN | IoEvents::OUT);
        // pipe_release: the last reader or writer leaving signals both
        // sides while the other side is still there.
        let (readers, writers) = (
            self.shared.readers.load(Ordering::Acquire),
            self.shared.writers.load(Ordering::Acquire),
        );
        if last && (readers == 0) != (writers == 0) {
            self.shared.fasync_readers.kill(POLL_IN);
            self.shared.fasync_writers.kill(POLL_OUT);
        }
    }

    fn fasync(&self, file: &Arc<OpenFile>, fd: i32, on: bool) -> bool {
        // pipe_fasync: a description is on the list of each end it has.
        if self.reads {
            self.shared.fasync_readers.helper(file, fd, on);
        }
        if self.write_end {
            self.shared.fasync_writers.helper(file, fd, on);
        }
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The pipe behind a FIFO node, shared by every open of the node.
pub struct Fifo {
    shared: Arc<Shared>,
}

impl Default for Fifo {
    fn default() -> Self {
        Self {
            shared: Arc::new(Shared {
                owner: 0,
                buf: SpinLock::new(VecDeque::new()),
                capacity: AtomicUsize::new(initial_capacity(0, true)),
                readers: AtomicUsize::new(0),
                writers: AtomicUsize::new(0),
                readable: PollSet::new(),
                writable: PollSet::new(),
                opened: PollSet::new(),
                had_writer: core::sync::atomic::AtomicBool::new(false),
                ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed) as u64,
                flock: Arc::default(),
                fasync_readers: FasyncList::new(),
                fasync_writers: FasyncList::new(),
            }),
        }
    }
}

impl Fifo {
    /// Opens an end (fifo(7)): counts it immediately so the other side can
    /// see it; the caller then waits with [`Fifo::peer_present`] unless
    /// O_NONBLOCK. A non-blocking writer with no reader fails with ENXIO.
    pub fn open(&self, read: bool, write: bool, nonblock: bool) -> KResult<Arc<PipeEnd>> {
        if write && !read && nonblock && self.shared.readers.load(Ordering::Acquire) == 0 {
            return Err(Errno::ENXIO);
        }
        if read {
            self.shared.readers.fetch_add(1, Ordering::AcqRel);
        }
        if write {
            self.shared.writers.fetch_add(1, Ordering::AcqRel);
            self.shared.had_writer.store(true, Ordering::Release);
        }
        if read && !write && self.shared.writers.load(Ordering::Acquire) == 0 {
            // pipe_poll: a reader sees POLLHUP only after a writer came and
            // went since it opened.
            self.shared.had_writer.store(false, Ordering::Release);
        }
        wake(&self.shared.opened, IoEvents::IN | IoEvents::OUT);
        wake(&self.shared.readable, IoEvents::IN);
        wake(&self.shared.writable, IoEvents::OUT);
        Ok(Arc::new(PipeEnd {
            shared: self.shared.clone(),
            reads: read,
            write_end: write,
        }))
    }

    /// Whether the other side of an open in this mode is present.
    pub fn peer_present(&self, read: bool) -> bool {
        if read {
            self.shared.writers.load(Ordering::Acquire) > 0
        } else {
            self.shared.readers.load(Ordering::Acquire) > 0
        }
    }

    /// Subscribes a waiter to opens and closes of the FIFO.
    pub fn register_open(&self, sink: &mut dyn SharedRegistrationSink) {
        // SAFETY: the caller drops the registration before the FIFO.
        unsafe {
            sink.register_shared(
                &self.shared.opened as &dyn PollSource,
                IoEvents::IN | IoEvents::OUT,
            )
        };
    }
}
