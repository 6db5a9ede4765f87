//! Pseudo-terminals: /dev/ptmx and /dev/pts/N (pty(7)).
//!
//! Opening /dev/ptmx makes a pair. The slave is an ordinary [`Tty`] whose
//! output goes to a [`PtyLink`] instead of the console: what the slave
//! side writes (and the line discipline echoes) queues there for the
//! master to read. What the master writes is the slave's input, fed
//! through [`Tty::receive`] byte by byte, so canonical editing, echo and
//! signals work as on the console.
//!
//! The slave is locked until the master unlocks it (TIOCSPTLCK, glibc's
//! unlockpt); opening a locked slave is EIO. When the master's last
//! descriptor closes, the slave hangs up: reads return end of file,
//! writes EIO, and the session's foreground group gets SIGHUP. When every
//! slave descriptor has closed (after at least one open), master reads
//! return EIO once the queue is empty, and poll reports POLLHUP.

use alloc::{collections::VecDeque, format, string::String, sync::Arc};
use core::{
    any::Any,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::{
    FileLike, Kstat, UserAccess, mode,
    tty::{Tty, TtyFile},
};
use crate::{Errno, KResult};

/// Major number of the slaves (/dev/pts/N is 136:N).
pub const PTS_MAJOR: u32 = 136;
/// /dev/ptmx is 5:2.
pub const PTMX_MINOR: u32 = 2;

/// Bytes the slave's output may queue before its writers wait.
const OUTPUT_CAP: usize = 64 * 1024;

const TIOCGPTN: u32 = 0x8004_5430;
const TIOCSPTLCK: u32 = 0x4004_5431;
const TIOCGPTLCK: u32 = 0x8004_5439;
const FIONREAD: u32 = 0x541b;

/// The state both ends of a pair share.
pub struct PtyLink {
    index: u32,
    /// Slave output waiting for the master.
    out: SpinLock<VecDeque<u8>>,
    /// Master readers: output queued, or the slave hung up.
    readable: PollSet,
    /// Slave writers: room in the output queue.
    writable: PollSet,
    /// O_ASYNC descriptions of the master: POLL_IN when slave output
    /// arrives or the slave hangs up.
    master_fasync: super::fasync::FasyncList,
    slave_opens: AtomicUsize,
    slave_opened: AtomicBool,
    master_closed: AtomicBool,
    locked: AtomicBool,
}

fn wake(set: &PollSet, events: IoEvents) {
    // SAFETY: task context, no lock held.
    unsafe { set.wake_all(events) };
}

impl PtyLink {
    /// Wakes the master's readers and signals its O_ASYNC descriptions.
    fn wake_master(&self, events: IoEvents) {
        wake(&self.readable, events);
        self.master_fasync.kill(super::fasync::POLL_IN);
    }
}

impl PtyLink {
    fn new(index: u32) -> Arc<Self> {
        Arc::new(Self {
            index,
            out: SpinLock::new(VecDeque::new()),
            readable: PollSet::new(),
            writable: PollSet::new(),
            master_fasync: super::fasync::FasyncList::new(),
            slave_opens: AtomicUsize::new(0),
            slave_opened: AtomicBool::new(false),
            master_closed: AtomicBool::new(false),
            locked: AtomicBool::new(true),
        })
    }

    /// The pair's number (the N of /dev/pts/N).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Whether the master has gone (the slave is hung up).
    pub fn master_closed(&self) -> bool {
        self.master_closed.load(Ordering::Acquire)
    }

    /// Queues echo output, dropping what does not fit (n_tty drops echoes
    /// when the output buffer is full).
    pub(super) fn push_echo(&self, bytes: &[u8]) {
        if self.master_closed() {
            return;
        }
        {
            let mut out = self.out.lock();
            let room = OUTPUT_CAP.saturating_sub(out.len());
            out.extend(&bytes[..bytes.len().min(room)]);
        }
        self.wake_master(IoEvents::IN);
    }

    /// A write of the slave: as much of `buf` as fits, with `\n` made
    /// `\r\n` when `onlcr`; EAGAIN when nothing fits, EIO after a hangup.
    pub(super) fn write_output(&self, buf: &[u8], onlcr: bool) -> KResult<usize> {
        if self.master_closed() {
            return Err(Errno::EIO);
        }
        let taken = {
            let mut out = self.out.lock();
            let mut taken = 0;
            for &b in buf {
                let need = if onlcr && b == b'\n' { 2 } else { 1 };
                if out.len() + need > OUTPUT_CAP {
                    break;
                }
                if need == 2 {
                    out.push_back(b'\r');
                }
                out.push_back(b);
                taken += 1;
            }
            taken
        };
        if taken == 0 && !buf.is_empty() {
            return Err(Errno::EAGAIN);
        }
        self.wake_master(IoEvents::IN);
        Ok(taken)
    }

    /// Whether the slave may write now.
    pub(super) fn has_room(&self) -> bool {
        self.out.lock().len() < OUTPUT_CAP
    }

    /// Registers slave writers for room in the output queue.
    ///
    /// # Safety
    ///
    /// As [`FileLike::register_poll`].
    pub(super) unsafe fn register_writable(
        &self,
        sink: &mut dyn SharedRegistrationSink,
        events: IoEvents,
    ) {
        // SAFETY: forwarded contract.
        unsafe { sink.register_shared(&self.writable as &dyn PollSource, events) };
    }

    /// A slave descriptor was opened.
    pub(super) fn slave_open(&self) {
        self.slave_opens.fetch_add(1, Ordering::AcqRel);
        self.slave_opened.store(true, Ordering::Release);
    }

    /// A slave descriptor was closed: the last one hangs the master up.
    pub(super) fn slave_close(&self) {
        if self.slave_opens.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake_master(IoEvents::IN | IoEvents::HUP);
        }
    }

    fn slave_gone(&self) -> bool {
        self.slave_opened.load(Ordering::Acquire) && self.slave_opens.load(Ordering::Acquire) == 0
    }
}

/// One pseudo-terminal pair: the slave terminal and the shared link.
pub struct Pty {
    pub tty: Arc<Tty>,
    pub link: Arc<PtyLink>,
}

impl Pty {
    /// A new pair number `index`; the caller installs job control on the
    /// terminal and registers the pair.
    pub fn new(index: u32) -> Self {
        let link = PtyLink::new(index);
        Self {
            tty: Tty::new_pty(link.clone()),
            link,
        }
    }

    /// Opens the slave (/dev/pts/N): EIO while locked or after the master
    /// closed.
    pub fn open_slave(&self) -> KResult<Arc<dyn FileLike>> {
        if self.link.locked.load(Ordering::Acquire) || self.link.master_closed() {
            return Err(Errno::EIO);
        }
        self.link.slave_open();
        Ok(TtyFile::open_named(
            &self.tty,
            format!("/dev/pts/{}", self.link.index),
        ))
    }
}

/// The master side of a pair, what /dev/ptmx opens.
pub struct PtyMaster {
    tty: Arc<Tty>,
    link: Arc<PtyLink>,
    /// Called once when the master's last reference goes (the kernel drops
    /// the pair's /dev/pts node and number).
    on_close: SpinLock<Option<alloc::boxed::Box<dyn FnOnce() + Send>>>,
}

impl PtyMaster {
    /// The master of `pty`; `on_close` runs at its release.
    pub fn open(pty: &Pty, on_close: alloc::boxed::Box<dyn FnOnce() + Send>) -> Arc<dyn FileLike> {
        Arc::new(Self {
            tty: pty.tty.clone(),
            link: pty.link.clone(),
            on_close: SpinLock::new(Some(on_close)),
        })
    }
}

impl FileLike for PtyMaster {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = {
            let mut out = self.link.out.lock();
            let n = buf.len().min(out.len());
            for (dst, src) in buf.iter_mut().zip(out.drain(..n)) {
                *dst = src;
            }
            n
        };
        if n == 0 {
            return Err(if self.link.slave_gone() {
                Errno::EIO
            } else {
                Errno::EAGAIN
            });
        }
        wake(&self.link.writable, IoEvents::OUT);
        Ok(n)
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        for &b in buf {
            self.tty.receive(b);
        }
        Ok(buf.len())
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            mode: mode::S_IFCHR | 0o666,
            nlink: 1,
            rdev: (5 << 8) | u64::from(PTMX_MINOR),
            blksize: 1024,
            ..Kstat::default()
        })
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> KResult<usize> {
        match cmd {
            TIOCGPTN => {
                user.write(arg, &self.link.index.to_ne_bytes())?;
                Ok(0)
            }
            TIOCSPTLCK => {
                let mut v = [0u8; 4];
                user.read(arg, &mut v)?;
                self.link
                    .locked
                    .store(i32::from_ne_bytes(v) != 0, Ordering::Release);
                Ok(0)
            }
            TIOCGPTLCK => {
                let locked = i32::from(self.link.locked.load(Ordering::Acquire));
                user.write(arg, &locked.to_ne_bytes())?;
                Ok(0)
            }
            FIONREAD => {
                let n = self.link.out.lock().len() as i32;
                user.write(arg, &n.to_ne_bytes())?;
                Ok(0)
            }
            // Terminal settings and window size act on the pair's terminal.
            _ => TtyFile::open_named(&self.tty, String::new()).ioctl(cmd, arg, user),
        }
    }

    fn poll(&self) -> IoEvents {
        let mut ev = IoEvents::OUT | IoEvents::WRNORM;
        if !self.link.out.lock().is_empty() {
            ev |= IoEvents::IN | IoEvents::RDNORM;
        }
        if self.link.slave_gone() {
            ev |= IoEvents::HUP;
        }
        ev
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract.
        unsafe {
            sink.register_shared(
                &self.link.readable as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            )
        };
    }

    fn path(&self) -> String {
        String::from("/dev/ptmx")
    }

    fn release(&self) {
        self.link.master_closed.store(true, Ordering::Release);
        self.tty.hang_up();
        wake(&self.link.writable, IoEvents::OUT | IoEvents::HUP);
        if let Some(f) = self.on_close.lock().take() {
            f();
        }
    }

    fn fasync(&self, file: &Arc<super::OpenFile>, fd: i32, on: bool) -> bool {
        self.link.master_fasync.helper(file, fd, on);
        true
    }

    fn tty_foreground(&self) -> Option<i32> {
        // The master side is nobody's controlling terminal here.
        Some(0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
