//! File objects: what a file descriptor refers to.
//!
//! An [`OpenFile`] is Linux's open file description: the object, the status
//! flags (O_NONBLOCK, O_APPEND, access mode) and the file position, shared by
//! every descriptor that `dup` or `fork` derived from one `open`. The object
//! itself implements [`FileLike`].
//!
//! [`FileLike`] operations never block. A read or write that cannot make
//! progress returns `EAGAIN`; the syscall layer registers the caller on the
//! object's readiness sources ([`FileLike::register_poll`]) and retries, which
//! gives blocking I/O, O_NONBLOCK, poll and signal interruption one shared
//! implementation.
//!
//! An open file description is also the owner of flock(2) locks ([`flock`]):
//! the lock it holds is released when it is dropped; and it knows the epoll
//! instances watching it ([`epoll`]), whose entries for it go away with it.

pub mod device;
pub mod epoll;
pub mod eventfd;
pub mod fasync;
pub mod flock;
pub mod inet;
pub mod loopdev;
pub mod mapped;
pub mod pipe;
pub mod pty;
pub mod tty;
pub mod unix;
pub mod vfs;

use alloc::{
    string::String,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::{
    any::Any,
    sync::atomic::{AtomicU32, AtomicU64, Ordering},
};

use ax_sync::{Mutex, SpinLock};
use axpoll::{ExclusiveRegistrationSink, IoEvents, SharedRegistrationSink};

use self::{fasync::FileOwner, flock::FlockNode};
use crate::{Errno, KResult};

/// Linux open flags the file layer keeps per open file description.
pub mod flags {
    pub const O_ACCMODE: u32 = 0o3;
    pub const O_RDONLY: u32 = 0o0;
    pub const O_WRONLY: u32 = 0o1;
    pub const O_RDWR: u32 = 0o2;
    pub const O_CREAT: u32 = 0o100;
    pub const O_EXCL: u32 = 0o200;
    pub const O_NOCTTY: u32 = 0o400;
    pub const O_TRUNC: u32 = 0o1000;
    pub const O_APPEND: u32 = 0o2000;
    pub const O_NONBLOCK: u32 = 0o4000;
    pub const O_DSYNC: u32 = 0o10000;
    pub const O_ASYNC: u32 = 0o20000;
    pub const O_DIRECT: u32 = 0o40000;
    pub const O_LARGEFILE: u32 = 0o100000;
    pub const O_DIRECTORY: u32 = 0o200000;
    pub const O_NOFOLLOW: u32 = 0o400000;
    pub const O_NOATIME: u32 = 0o1000000;
    pub const O_CLOEXEC: u32 = 0o2000000;
    pub const O_SYNC: u32 = 0o4010000;
    pub const O_PATH: u32 = 0o10000000;
    pub const O_TMPFILE: u32 = 0o20200000;
    /// Flags F_SETFL may change (fs/fcntl.c SETFL_MASK). O_ASYNC is not
    /// one: only an object's fasync operation sets or clears it
    /// ([`super::fasync::FasyncList::helper`]).
    pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;
}

/// Where `lseek` counts from.
#[derive(Clone, Copy, Debug)]
pub enum Whence {
    Set,
    Cur,
    End,
    /// SEEK_DATA.
    Data,
    /// SEEK_HOLE.
    Hole,
}

/// The attributes `stat` reports, architecture independent.
#[derive(Clone, Debug, Default)]
pub struct Kstat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: u32,
    pub blocks: i64,
    pub atime: (i64, u32),
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
}

/// File type bits of `st_mode`.
pub mod mode {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFSOCK: u32 = 0o140000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFIFO: u32 = 0o010000;
}

/// The calling process as an ioctl sees it: its memory for the argument,
/// its descriptors (LOOP_SET_FD names one) and its capabilities.
pub trait UserAccess {
    /// Copies `buf.len()` bytes from user address `addr`.
    fn read(&self, addr: usize, buf: &mut [u8]) -> KResult<()>;
    /// Copies `buf` to user address `addr`.
    fn write(&self, addr: usize, buf: &[u8]) -> KResult<()>;
    /// The open file description behind the caller's descriptor `fd`;
    /// EBADF if there is none.
    fn file(&self, _fd: i32) -> KResult<Arc<OpenFile>> {
        Err(Errno::EBADF)
    }
    /// Whether the caller has capability `cap` in its effective set.
    fn capable(&self, _cap: u32) -> bool {
        false
    }
}

/// The interface ioctls reach user memory through the same helpers.
impl crate::inet::netdev::UserMem for &dyn UserAccess {
    fn read(&self, addr: usize, buf: &mut [u8]) -> KResult<()> {
        UserAccess::read(*self, addr, buf)
    }

    fn write(&self, addr: usize, buf: &[u8]) -> KResult<()> {
        UserAccess::write(*self, addr, buf)
    }
}

/// One directory entry as getdents64 reports it.
pub struct DirEntryInfo {
    pub ino: u64,
    /// Offset of the next entry (`d_off`).
    pub next: u64,
    /// `DT_*` type.
    pub dtype: u8,
    pub name: String,
}

/// Behaviour of an object a descriptor can refer to. All methods are
/// non-blocking: `EAGAIN` means "register for readiness and retry".
pub trait FileLike: Send + Sync + Any {
    /// Reads at the object's notion of "here" (streams) or at `pos`
    /// (seekable objects); returns bytes read, 0 at end of file.
    fn read(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize>;

    /// [`read`](Self::read) for a description with O_NOATIME: the file's
    /// access time stays as it is. Objects that keep no access time read
    /// as usual.
    fn read_noatime(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        self.read(buf, pos)
    }

    /// Writes; returns bytes written.
    fn write(&self, buf: &[u8], pos: Option<u64>) -> KResult<usize>;

    /// Whether the object has a file position (regular files, directories,
    /// some devices); streams (pipes, ttys) do not and lseek fails ESPIPE.
    fn seekable(&self) -> bool {
        false
    }

    /// For devices whose lseek ignores its arguments: the position lseek
    /// reports and keeps, given the current one (Linux null_lseek: 0;
    /// noop_llseek: the current position). `None`: the ordinary rules.
    fn fixed_seek(&self, _pos: u64) -> Option<u64> {
        None
    }

    /// Size, for SEEK_END and O_APPEND.
    fn size(&self) -> KResult<u64> {
        Ok(0)
    }

    /// The highest position lseek may set, for objects of a fixed size (a
    /// block device: fixed_size_llseek, EINVAL past it); `None`: no limit.
    fn seek_limit(&self) -> Option<u64> {
        None
    }

    /// Attributes for fstat.
    fn stat(&self) -> KResult<Kstat>;

    /// Device-specific control; `ENOTTY` when the object has none.
    fn ioctl(&self, _cmd: u32, _arg: usize, _user: &dyn UserAccess) -> KResult<usize> {
        Err(Errno::ENOTTY)
    }

    /// Current readiness.
    fn poll(&self) -> IoEvents;

    /// Whether the object has a poll operation of its own (Linux's
    /// `file_can_poll`); epoll refuses the others with EPERM. Regular files
    /// and directories, which are always ready, have none.
    fn can_poll(&self) -> bool {
        true
    }

    /// Registers a waker for the given events.
    ///
    /// # Safety
    ///
    /// As [`axpoll::Pollable::register_shared`]: the sink's registrations
    /// must be dropped before the object.
    unsafe fn register_poll(&self, _sink: &mut dyn SharedRegistrationSink, _events: IoEvents) {}

    /// Registers a waker of which a data wake-up selects one among the
    /// exclusive ones (EPOLLEXCLUSIVE entries; Linux's exclusive wait
    /// queue entries). Objects whose wake-ups do not tell exclusive
    /// waiters apart register it as a shared observer.
    ///
    /// # Safety
    ///
    /// As [`register_poll`](Self::register_poll).
    unsafe fn register_poll_exclusive(
        &self,
        sink: &mut dyn ExclusiveRegistrationSink,
        events: IoEvents,
    ) {
        // SAFETY: forwarded contract.
        unsafe { self.register_poll(sink.as_shared(), events) };
    }

    /// Reads directory entries starting at cursor `pos`; `EnotDir` for
    /// non-directories. The callback returns false when the user buffer is full.
    fn read_dir(&self, _pos: u64, _emit: &mut dyn FnMut(DirEntryInfo) -> bool) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Truncates or extends (ftruncate).
    fn truncate(&self, _len: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }

    /// Writes cached data back (fsync); EINVAL for objects without an
    /// fsync operation in Linux (pipes, sockets, eventfd, ttys, devices).
    fn sync(&self) -> KResult<()> {
        Err(Errno::EINVAL)
    }

    /// fallocate(2) on a regular file: `op` over `len` bytes at `offset`;
    /// ENODEV for objects that are not files of a file system.
    fn fallocate(
        &self,
        _op: axfs_ng_vfs::FileRangeOperation,
        _offset: u64,
        _len: u64,
    ) -> KResult<()> {
        Err(Errno::ENODEV)
    }

    /// lseek's SEEK_DATA / SEEK_HOLE from `offset`: ENXIO at or past the
    /// end; EINVAL for objects that are no regular file.
    fn seek_data(&self, _offset: u64, _what: crate::seekhole::Seek) -> KResult<u64> {
        Err(Errno::EINVAL)
    }

    /// How long a blocking read (`write` false) or write may wait: a
    /// socket's SO_RCVTIMEO or SO_SNDTIMEO. `None` waits without limit,
    /// zero not at all.
    fn io_timeout(&self, _write: bool) -> Option<core::time::Duration> {
        None
    }

    /// The largest message a read or write must move whole (0: none): a
    /// datagram socket's largest datagram. The syscall layer then copies up
    /// to that much at once instead of splitting the call.
    fn message_max(&self) -> usize {
        0
    }

    /// Whether a write failing with EPIPE raises SIGPIPE: it does for pipes
    /// and stream sockets, not for datagram and seqpacket sockets, whose
    /// send path returns EPIPE alone (af_unix.c unix_dgram_sendmsg).
    fn epipe_raises_sigpipe(&self) -> bool {
        true
    }

    /// The path shown in /proc/PID/fd.
    fn path(&self) -> String;

    /// Called when the last descriptor of the open file description closes.
    fn release(&self) {}

    /// The flock(2) state of the file (Linux keeps it in the inode), shared
    /// by every open of it. `None` for objects that are no file of a file
    /// system: each of their open file descriptions gets its own.
    fn flock_node(&self) -> Option<Arc<FlockNode>> {
        None
    }

    /// The flock(2) state of the file if some open of it already made one,
    /// without making it: a close looks here for record locks to release.
    fn existing_flock_node(&self) -> Option<Arc<FlockNode>> {
        None
    }

    /// Turns asynchronous notification of description `file` on or off
    /// (Linux's `f_op->fasync`), called when F_SETFL or FIOASYNC asks to
    /// change O_ASYNC; `fd` is the descriptor it came through. Objects
    /// that can signal readiness keep it on a [`fasync::FasyncList`],
    /// which sets and clears the description's O_ASYNC, and return true.
    /// The others have no fasync operation (false): F_SETFL then leaves
    /// O_ASYNC clear and FIOASYNC fails with ENOTTY, as on Linux.
    fn fasync(&self, _file: &Arc<OpenFile>, _fd: i32, _on: bool) -> bool {
        false
    }

    /// For terminals, the foreground process group (0 without one): turning
    /// O_ASYNC on makes it, or else the caller's process, the owner of a
    /// description that has none (tty_fasync). `None` for other objects.
    fn tty_foreground(&self) -> Option<i32> {
        None
    }

    /// Downcasting support.
    fn as_any(&self) -> &dyn Any;
}

/// An open file description.
pub struct OpenFile {
    file: Arc<dyn FileLike>,
    flags: AtomicU32,
    /// The position; held across a read or write so that concurrent
    /// calls on one description do not use the same offset.
    pos: Mutex<u64>,
    /// A copy of `pos` for readers that must not wait for a read in
    /// progress: /proc/PID/fdinfo can be read through the very description
    /// it describes, whose `pos` lock that read holds.
    pos_copy: AtomicU64,
    /// The flock(2) state this description has locked or asked to lock in,
    /// kept to release its lock when the description goes away.
    flock: SpinLock<Option<Arc<FlockNode>>>,
    /// fsuid and fsgid of the opener (`u64::MAX`: not recorded), for the
    /// checks Linux makes against `f_cred` (linkat AT_EMPTY_PATH).
    opener: AtomicU64,
    /// The epoll instances with entries for this description (file->f_ep),
    /// one element per entry.
    epolls: SpinLock<Vec<Weak<epoll::Epoll>>>,
    /// F_SETOWN / F_SETSIG state (file->f_owner), made on first use.
    owner: SpinLock<Option<Arc<dyn FileOwner>>>,
    /// This open created the file (FMODE_CREATED, F_CREATED_QUERY).
    created: core::sync::atomic::AtomicBool,
}

impl OpenFile {
    /// Wraps an object with its open flags. O_CLOEXEC is not kept (it
    /// belongs to the descriptor), nor are the flags that only steer the
    /// open itself: Linux clears O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC from
    /// `f_flags` (fs/open.c `do_dentry_open`), so F_GETFL and
    /// /proc/PID/fdinfo never show them.
    pub fn new(file: Arc<dyn FileLike>, open_flags: u32) -> Arc<Self> {
        const OPEN_ONLY: u32 =
            flags::O_CLOEXEC | flags::O_CREAT | flags::O_EXCL | flags::O_NOCTTY | flags::O_TRUNC;
        Arc::new(Self {
            file,
            flags: AtomicU32::new(open_flags & !OPEN_ONLY),
            pos: Mutex::new(0),
            pos_copy: AtomicU64::new(0),
            flock: SpinLock::new(None),
            opener: AtomicU64::new(u64::MAX),
            epolls: SpinLock::new(Vec::new()),
            owner: SpinLock::new(None),
            created: core::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The owner that receives this description's SIGIO, if one was set.
    pub fn owner(&self) -> Option<Arc<dyn FileOwner>> {
        self.owner.lock().clone()
    }

    /// Replaces the owner with what `update` makes of the current one,
    /// atomically with respect to other updates.
    pub fn update_owner(
        &self,
        update: impl FnOnce(Option<&Arc<dyn FileOwner>>) -> Option<Arc<dyn FileOwner>>,
    ) {
        let mut slot = self.owner.lock();
        let new = update(slot.as_ref());
        *slot = new;
    }

    /// Marks the description as the open that created its file.
    pub fn set_created(&self) {
        self.created.store(true, Ordering::Relaxed);
    }

    /// Whether this open created the file (F_CREATED_QUERY).
    pub fn created(&self) -> bool {
        self.created.load(Ordering::Relaxed)
    }

    /// Records the credentials that opened the file (fsuid, fsgid).
    pub fn set_opener(&self, fsuid: u32, fsgid: u32) {
        self.opener.store(
            (u64::from(fsuid) << 32) | u64::from(fsgid),
            Ordering::Relaxed,
        );
    }

    /// The credentials that opened the file, if recorded.
    pub fn opener(&self) -> Option<(u32, u32)> {
        let v = self.opener.load(Ordering::Relaxed);
        (v != u64::MAX).then_some(((v >> 32) as u32, v as u32))
    }

    /// The object.
    pub fn file(&self) -> &Arc<dyn FileLike> {
        &self.file
    }

    /// Status flags and access mode (F_GETFL).
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Acquire)
    }

    /// Replaces the F_SETFL-changeable flags.
    pub fn set_status_flags(&self, new: u32) {
        let _ = self
            .flags
            .try_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                Some((old & !flags::SETFL_MASK) | (new & flags::SETFL_MASK))
            });
    }

    /// Sets or clears O_ASYNC; only a fasync list does (fasync_insert_entry
    /// and fasync_remove_entry).
    pub fn set_async_flag(&self, on: bool) {
        if on {
            self.flags.fetch_or(flags::O_ASYNC, Ordering::AcqRel);
        } else {
            self.flags.fetch_and(!flags::O_ASYNC, Ordering::AcqRel);
        }
    }

    /// Whether the description was opened for reading.
    pub fn readable(&self) -> bool {
        let mode = self.flags() & flags::O_ACCMODE;
        mode == flags::O_RDONLY || mode == flags::O_RDWR
    }

    /// Whether the description was opened for writing.
    pub fn writable(&self) -> bool {
        let mode = self.flags() & flags::O_ACCMODE;
        mode == flags::O_WRONLY || mode == flags::O_RDWR
    }

    /// Whether O_NONBLOCK is set.
    pub fn nonblocking(&self) -> bool {
        self.flags() & flags::O_NONBLOCK != 0
    }

    /// Whether this is an O_PATH description (no I/O allowed).
    pub fn is_path(&self) -> bool {
        self.flags() & flags::O_PATH != 0
    }

    /// One non-blocking read at the file position, advancing it.
    pub fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if !self.readable() || self.is_path() {
            return Err(Errno::EBADF);
        }
        if self.file.seekable() {
            let mut pos = self.pos.lock();
            let n = self.read_object(buf, Some(*pos))?;
            *pos += n as u64;
            self.pos_copy.store(*pos, Ordering::Release);
            Ok(n)
        } else {
            self.read_object(buf, None)
        }
    }

    /// Reads the object, leaving its access time alone under O_NOATIME.
    fn read_object(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        if self.flags() & flags::O_NOATIME != 0 {
            self.file.read_noatime(buf, pos)
        } else {
            self.file.read(buf, pos)
        }
    }

    /// One non-blocking write at the file position (or the end with
    /// O_APPEND), advancing it.
    pub fn write(&self, buf: &[u8]) -> KResult<usize> {
        self.write_limited(buf, u64::MAX)
    }

    /// How much of a `len`-byte write at `pos` a regular file takes under
    /// the file size limit `limit` (RLIMIT_FSIZE; mm/filemap.c
    /// generic_write_check_limits): EFBIG at or past the limit, else the
    /// write is cut at it. Other kinds of files are not limited.
    fn clamp_to_limit(&self, pos: u64, len: usize, limit: u64) -> KResult<usize> {
        if limit == u64::MAX || len == 0 {
            return Ok(len);
        }
        if self.file.stat()?.mode & mode::S_IFMT != mode::S_IFREG {
            return Ok(len);
        }
        if pos >= limit {
            return Err(Errno::EFBIG);
        }
        Ok(len.min((limit - pos).try_into().unwrap_or(usize::MAX)))
    }

    /// [`write`](Self::write) with a file size limit (RLIMIT_FSIZE):
    /// EFBIG when the position is at or past it; the caller sends SIGXFSZ.
    pub fn write_limited(&self, buf: &[u8], limit: u64) -> KResult<usize> {
        if !self.writable() || self.is_path() {
            return Err(Errno::EBADF);
        }
        if self.file.seekable() {
            let mut pos = self.pos.lock();
            if self.flags() & flags::O_APPEND != 0 {
                *pos = self.file.size()?;
                self.pos_copy.store(*pos, Ordering::Release);
            }
            let len = self.clamp_to_limit(*pos, buf.len(), limit)?;
            let n = self.file.write(&buf[..len], Some(*pos))?;
            *pos += n as u64;
            self.pos_copy.store(*pos, Ordering::Release);
            Ok(n)
        } else {
            self.file.write(buf, None)
        }
    }

    /// pread: reads at `offset` without moving the position.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> KResult<usize> {
        if !self.readable() || self.is_path() {
            return Err(Errno::EBADF);
        }
        if !self.file.seekable() {
            return Err(Errno::ESPIPE);
        }
        self.read_object(buf, Some(offset))
    }

    /// pwrite: writes at `offset` without moving the position.
    pub fn write_at(&self, buf: &[u8], offset: u64) -> KResult<usize> {
        self.write_at_limited(buf, offset, u64::MAX)
    }

    /// [`write_at`](Self::write_at) with a file size limit (RLIMIT_FSIZE).
    pub fn write_at_limited(&self, buf: &[u8], offset: u64, limit: u64) -> KResult<usize> {
        if !self.writable() || self.is_path() {
            return Err(Errno::EBADF);
        }
        if !self.file.seekable() {
            return Err(Errno::ESPIPE);
        }
        // pwrite(2) BUGS: with O_APPEND Linux appends whatever the offset.
        let offset = if self.flags() & flags::O_APPEND != 0 {
            self.file.size()?
        } else {
            offset
        };
        let len = self.clamp_to_limit(offset, buf.len(), limit)?;
        self.file.write(&buf[..len], Some(offset))
    }

    /// lseek.
    pub fn seek(&self, offset: i64, whence: Whence) -> KResult<u64> {
        if !self.file.seekable() {
            return Err(Errno::ESPIPE);
        }
        let mut pos = self.pos.lock();
        if let Some(fixed) = self.file.fixed_seek(*pos) {
            *pos = fixed;
            self.pos_copy.store(fixed, Ordering::Release);
            return Ok(fixed);
        }
        let base: i64 = match whence {
            Whence::Set => 0,
            Whence::Cur => i64::try_from(*pos).map_err(|_| Errno::EOVERFLOW)?,
            Whence::End => i64::try_from(self.file.size()?).map_err(|_| Errno::EOVERFLOW)?,
            Whence::Data | Whence::Hole => {
                let what = if matches!(whence, Whence::Data) {
                    crate::seekhole::Seek::Data
                } else {
                    crate::seekhole::Seek::Hole
                };
                // A negative offset is past no end: ENXIO, as Linux.
                let from = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
                let found = self.file.seek_data(from, what)?;
                *pos = found;
                self.pos_copy.store(found, Ordering::Release);
                return Ok(found);
            }
        };
        let new = base.checked_add(offset).ok_or(Errno::EOVERFLOW)?;
        if new < 0 || self.file.seek_limit().is_some_and(|max| new as u64 > max) {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        self.pos_copy.store(*pos, Ordering::Release);
        Ok(*pos)
    }

    /// Current position (for getdents cursors and /proc fdinfo); never
    /// waits for a read or write in progress, whose start position it
    /// returns.
    pub fn position(&self) -> u64 {
        self.pos_copy.load(Ordering::Acquire)
    }

    /// Sets the position (getdents advances it to the next cursor).
    pub fn set_position(&self, pos: u64) {
        let mut p = self.pos.lock();
        *p = pos;
        self.pos_copy.store(pos, Ordering::Release);
    }

    /// The flock(2) state of the file: the object's
    /// ([`FileLike::flock_node`]), or one of this description's own for
    /// objects without one.
    pub fn flock_node(&self) -> Arc<FlockNode> {
        if let Some(node) = &*self.flock.lock() {
            return node.clone();
        }
        // Looked up outside the spin lock: the VFS node's user data is
        // behind a sleeping mutex. Racing callers find the same node, or
        // for objects without one keep the first fallback.
        let node = self.file.flock_node().unwrap_or_default();
        self.flock.lock().get_or_insert(node).clone()
    }

    /// The lock state of the file if it has one yet, without making it.
    pub fn existing_flock_node(&self) -> Option<Arc<FlockNode>> {
        if let Some(node) = &*self.flock.lock() {
            return Some(node.clone());
        }
        self.file.existing_flock_node()
    }

    /// This description as the owner of flock(2) locks: its address, unique
    /// while it exists (it lives in an `Arc` from [`OpenFile::new`] on).
    pub fn flock_owner(&self) -> usize {
        core::ptr::from_ref(self) as usize
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        // The last reference went away: leave the epoll instances watching
        // the description (eventpoll_release), then release the flock lock,
        // as Linux's __fput does (locks_remove_file) before the file's
        // release.
        let addr = core::ptr::from_ref(self) as usize;
        for ep in core::mem::take(self.epolls.get_mut()) {
            if let Some(ep) = ep.upgrade() {
                ep.release_file(addr);
            }
        }
        let node = self.flock.lock().take();
        if let Some(node) = node {
            node.unlock(self.flock_owner());
            node.remove_records(crate::reclock::LockOwner::ofd(self.flock_owner()));
            node.release_lease(self.flock_owner());
        }
        self.file.release();
    }
}
