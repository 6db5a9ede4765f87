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

use alloc::{collections::VecDeque, string::String, sync::Arc};
use core::{
    any::Any,
    sync::atomic::{AtomicUsize, Ordering},
};

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::{FileLike, Kstat, mode};
use crate::{Errno, KResult};

/// Pipe capacity (Linux's default, 16 pages).
pub const PIPE_CAPACITY: usize = 65536;
/// Largest atomic write.
pub const PIPE_BUF: usize = 4096;

struct Shared {
    buf: SpinLock<VecDeque<u8>>,
    readers: AtomicUsize,
    writers: AtomicUsize,
    /// Woken when data arrives or the last writer leaves.
    readable: PollSet,
    /// Woken when space frees up or the last reader leaves.
    writable: PollSet,
    ino: u64,
}

static NEXT_PIPE_INO: AtomicUsize = AtomicUsize::new(1);

/// Creates a pipe and returns (read end, write end).
pub fn new_pipe() -> (Arc<dyn FileLike>, Arc<dyn FileLike>) {
    let shared = Arc::new(Shared {
        buf: SpinLock::new(VecDeque::new()),
        readers: AtomicUsize::new(1),
        writers: AtomicUsize::new(1),
        readable: PollSet::new(),
        writable: PollSet::new(),
        ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed) as u64,
    });
    (
        Arc::new(PipeEnd {
            shared: shared.clone(),
            write_end: false,
        }),
        Arc::new(PipeEnd {
            shared,
            write_end: true,
        }),
    )
}

/// One end of a pipe.
pub struct PipeEnd {
    shared: Arc<Shared>,
    write_end: bool,
}

fn wake(set: &PollSet, events: IoEvents) {
    // SAFETY: called in task context with no lock held; the readiness was
    // published under the buffer lock before this call.
    unsafe { set.wake_all(events) };
}

impl FileLike for PipeEnd {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        if self.write_end {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = {
            let mut q = self.shared.buf.lock();
            if q.is_empty() {
                return if self.shared.writers.load(Ordering::Acquire) == 0 {
                    Ok(0)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let n = buf.len().min(q.len());
            for (dst, src) in buf.iter_mut().zip(q.drain(..n)) {
                *dst = src;
            }
            n
        };
        wake(&self.shared.writable, IoEvents::OUT);
        Ok(n)
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
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
            let free = PIPE_CAPACITY - q.len();
            let n = if buf.len() <= PIPE_BUF {
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
        wake(&self.shared.readable, IoEvents::IN);
        Ok(n)
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
            if PIPE_CAPACITY - len >= PIPE_BUF {
                ev |= IoEvents::OUT | IoEvents::WRNORM;
            }
        } else {
            if len > 0 {
                ev |= IoEvents::IN | IoEvents::RDNORM;
            }
            if self.shared.writers.load(Ordering::Acquire) == 0 {
                ev |= IoEvents::HUP;
            }
        }
        ev
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        let set: &PollSet = if self.write_end {
            &self.shared.writable
        } else {
            &self.shared.readable
        };
        // SAFETY: forwarded contract: the registration is dropped before the pipe.
        unsafe { sink.register_shared(set as &dyn PollSource, events | IoEvents::ALWAYS_POLL) };
    }

    fn path(&self) -> String {
        alloc::format!("pipe:[{}]", self.shared.ino)
    }

    fn release(&self) {
        if self.write_end {
            if self.shared.writers.fetch_sub(1, Ordering::AcqRel) == 1 {
                wake(&self.shared.readable, IoEvents::HUP | IoEvents::IN);
            }
        } else if self.shared.readers.fetch_sub(1, Ordering::AcqRel) == 1 {
            wake(&self.shared.writable, IoEvents::ERR | IoEvents::OUT);
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
