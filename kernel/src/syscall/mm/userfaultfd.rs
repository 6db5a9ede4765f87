//! userfaultfd(2): page faults of registered private anonymous memory
//! reported to user space (MISSING mode), as fs/userfaultfd.c and
//! mm/userfaultfd.c do it for the basic API.
//!
//! A fault on a missing page of a registered range (see
//! `starling_mm::aspace::uffd`) makes the faulting thread queue the page
//! address on its context and sleep ([`wait_user_fault`]); read(2) of the
//! descriptor returns one `struct uffd_msg` per queued fault, and
//! UFFDIO_COPY / UFFDIO_ZEROPAGE map the page (waking the waiters unless
//! UFFDIO_COPY_MODE_DONTWAKE) or UFFDIO_WAKE wakes them. Closing the
//! descriptor drops the registrations: waiting threads retry and get
//! zero-filled pages. A fatal signal or exit ends a wait; a user-mode fault
//! then returns to deliver it, a kernel copy fails with EFAULT.
//!
//! Only the basic API: features (EVENT_FORK/REMAP/REMOVE/UNMAP, WP, MINOR,
//! THREAD_ID, EXACT_ADDRESS, …) are refused with EINVAL by UFFDIO_API.

use alloc::{
    collections::VecDeque,
    string::String,
    sync::{Arc, Weak},
};
use core::{
    any::Any,
    sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
};

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;
use starling_fs::file::{FileLike, Kstat, OpenFile, UserAccess, flags::*};
use starling_mm::aspace::{PAGE_SIZE, UserFaultCtx};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{
        self,
        block::{self, Interruptible},
        creds::CAP_SYS_PTRACE,
        mm::Mm,
    },
};

const UFFD_USER_MODE_ONLY: u32 = 1;
const UFFD_API: u64 = 0xAA;
const UFFD_EVENT_PAGEFAULT: u8 = 0x12;
const UFFD_PAGEFAULT_FLAG_WRITE: u64 = 1;
const UFFDIO_REGISTER_MODE_MISSING: u64 = 1;
const UFFDIO_COPY_MODE_DONTWAKE: u64 = 1;
const UFFDIO_ZEROPAGE_MODE_DONTWAKE: u64 = 1;

/// ioctl numbers: _IOWR/_IOR(0xAA, nr, struct).
const UFFDIO_API: u32 = 0xC018_AA3F;
const UFFDIO_REGISTER: u32 = 0xC020_AA00;
const UFFDIO_UNREGISTER: u32 = 0x8010_AA01;
const UFFDIO_WAKE: u32 = 0x8010_AA02;
const UFFDIO_COPY: u32 = 0xC028_AA03;
const UFFDIO_ZEROPAGE: u32 = 0xC020_AA04;
/// The `_UFFDIO_*` bit numbers reported in `ioctls`.
const API_IOCTLS: u64 = (1 << 0x3F) | (1 << 0x00) | (1 << 0x01);
const RANGE_IOCTLS: u64 = (1 << 0x02) | (1 << 0x03) | (1 << 0x04);
/// Size of `struct uffd_msg`.
const MSG_SIZE: usize = 32;

static NEXT_INO: AtomicU32 = AtomicU32::new(1);

/// One missing page waiting for user space.
struct Pending {
    address: u64,
    write: bool,
}

/// One userfaultfd context.
pub struct Uffd {
    mm: Weak<Mm>,
    api_done: AtomicBool,
    released: AtomicBool,
    /// Faults not yet read.
    pending: SpinLock<VecDeque<Pending>>,
    /// Bumped by UFFDIO_WAKE: every waiter looks again.
    wakes: AtomicU64,
    readable: PollSet,
    resolved: PollSet,
    ino: u64,
}

impl UserFaultCtx for Uffd {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn wake(set: &PollSet, events: IoEvents) {
    // SAFETY: task context, no lock held; the state changed before.
    unsafe { set.wake(events) };
}

impl Uffd {
    /// Queues a fault at `page` (once), for read(2).
    fn report(&self, page: usize, write: bool) {
        {
            let mut pending = self.pending.lock();
            if pending.iter().any(|p| p.address == page as u64) {
                return;
            }
            pending.push_back(Pending {
                address: page as u64,
                write,
            });
        }
        wake(&self.readable, IoEvents::IN);
    }

    fn mm(&self) -> KResult<Arc<Mm>> {
        self.mm.upgrade().ok_or(Errno::ESRCH)
    }

    fn ctx(self: &Arc<Self>) -> Arc<dyn UserFaultCtx> {
        self.clone()
    }
}

/// Waits for user space to resolve the userfault at `addr` in `mm`.
/// Returns false if the wait ended for a signal or exit (the page may
/// still be missing).
pub fn wait_user_fault(mm: &Mm, addr: usize, write: bool) -> bool {
    let page = addr & !(PAGE_SIZE - 1);
    let ctx = mm.aspace.lock().uffd_ctx_at(page);
    let Some(ctx) = ctx else {
        return true;
    };
    let Some(uffd) = ctx.as_any().downcast_ref::<Uffd>() else {
        return true;
    };
    let Some(thread) = task::current() else {
        return false;
    };
    uffd.report(page, write);
    let wakes = uffd.wakes.load(Ordering::Acquire);
    let result = block::wait_event(
        &thread,
        None,
        Interruptible::Eintr,
        |sink| {
            // SAFETY: the registration is dropped before `uffd` (the
            // context outlives this call: `ctx` holds it).
            unsafe {
                sink.register_shared(
                    &uffd.resolved as &dyn PollSource,
                    IoEvents::IN | IoEvents::ALWAYS_POLL,
                );
            }
        },
        || {
            let done = uffd.released.load(Ordering::Acquire)
                || uffd.wakes.load(Ordering::Acquire) != wakes
                || mm.aspace.lock().translate(page).is_some()
                || mm.aspace.lock().uffd_ctx_at(page).is_none();
            done.then_some(Ok(()))
        },
    );
    result.is_ok()
}

/// userfaultfd(2).
#[inline(never)]
pub fn sys_userfaultfd(sc: &mut SyscallContext<'_>, flags: u32) -> SysResult {
    if flags & !(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY) != 0 {
        return Err(Errno::EINVAL);
    }
    // vm.unprivileged_userfaultfd = 0: kernel-mode faults need
    // CAP_SYS_PTRACE; Starling reports kernel-mode faults too.
    if flags & UFFD_USER_MODE_ONLY == 0 && !sc.thread.process.creds.lock().capable(CAP_SYS_PTRACE) {
        return Err(Errno::EPERM);
    }
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let uffd = Arc::new(Uffd {
        mm: Arc::downgrade(&mm),
        api_done: AtomicBool::new(false),
        released: AtomicBool::new(false),
        pending: SpinLock::new(VecDeque::new()),
        wakes: AtomicU64::new(0),
        readable: PollSet::new(),
        resolved: PollSet::new(),
        ino: u64::from(NEXT_INO.fetch_add(1, Ordering::Relaxed)),
    });
    let file = OpenFile::new(Arc::new(UffdFile(uffd)), O_RDWR | (flags & O_NONBLOCK));
    super::super::fs::install(sc, file, flags & O_CLOEXEC != 0)
}

/// The descriptor's object.
struct UffdFile(Arc<Uffd>);

fn read_u64s<const N: usize>(user: &dyn UserAccess, arg: usize) -> KResult<[u64; N]> {
    let mut bytes = [0u8; 48];
    user.read(arg, &mut bytes[..N * 8])?;
    let mut out = [0u64; N];
    for (i, v) in out.iter_mut().enumerate() {
        *v = u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    }
    Ok(out)
}

fn write_u64(user: &dyn UserAccess, addr: usize, v: u64) -> KResult<()> {
    user.write(addr, &v.to_ne_bytes())
}

/// validate_range: page aligned, non-empty, inside user space.
fn range(start: u64, len: u64, mm: &Mm) -> KResult<(usize, usize)> {
    let page = PAGE_SIZE as u64;
    if start % page != 0 || len % page != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    let layout = *mm.aspace.lock().layout();
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    if start < layout.min_addr as u64 || end > layout.end as u64 {
        return Err(Errno::EINVAL);
    }
    Ok((start as usize, end as usize))
}

impl UffdFile {
    fn fill(&self, user: &dyn UserAccess, arg: usize, copy: bool) -> KResult<usize> {
        let uffd = &self.0;
        let mm = uffd.mm()?;
        // uffdio_copy {dst, src, len, mode, copy}; uffdio_zeropage
        // {range {start, len}, mode, zeropage}.
        let (dst, src, len, mode, result_at) = if copy {
            let [dst, src, len, mode] = read_u64s::<4>(user, arg)?;
            (dst, src, len, mode, arg + 32)
        } else {
            let [dst, len, mode] = read_u64s::<3>(user, arg)?;
            (dst, 0, len, mode, arg + 24)
        };
        let dontwake = if copy {
            UFFDIO_COPY_MODE_DONTWAKE
        } else {
            UFFDIO_ZEROPAGE_MODE_DONTWAKE
        };
        if mode & !dontwake != 0 {
            return Err(Errno::EINVAL);
        }
        let (start, end) = range(dst, len, &mm)?;
        let len = end - start;
        let result = if copy {
            if src % PAGE_SIZE as u64 != 0 || src.checked_add(len as u64).is_none() {
                return Err(Errno::EINVAL);
            }
            let mut data = alloc::vec![0u8; len];
            user.read(src as usize, &mut data)?;
            mm.aspace.lock().uffd_fill(start, len, Some(&data))
        } else {
            mm.aspace.lock().uffd_fill(start, len, None)
        };
        let (filled, error) = match result {
            Ok(n) => (n as i64, None),
            Err(e) => {
                let e = Errno::from(match e {
                    starling_mm::MmError::BadAddress => starling_mm::MmError::InvalidInput,
                    e => e,
                });
                let e = if e == Errno::EINVAL { Errno::ENOENT } else { e };
                (-(e.0 as i64), Some(e))
            }
        };
        write_u64(user, result_at, filled as u64)?;
        if mode & dontwake == 0 {
            wake(&uffd.resolved, IoEvents::IN);
        }
        match error {
            Some(e) => Err(e),
            None if (filled as usize) < len => Err(Errno::EAGAIN),
            None => Ok(0),
        }
    }
}

impl FileLike for UffdFile {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        if buf.len() < MSG_SIZE {
            return Err(Errno::EINVAL);
        }
        if !self.0.api_done.load(Ordering::Acquire) {
            return Err(Errno::EINVAL);
        }
        let mut pending = self.0.pending.lock();
        if pending.is_empty() {
            return Err(Errno::EAGAIN);
        }
        let mut done = 0;
        while done + MSG_SIZE <= buf.len() {
            let Some(p) = pending.pop_front() else {
                break;
            };
            let msg = &mut buf[done..done + MSG_SIZE];
            msg.fill(0);
            msg[0] = UFFD_EVENT_PAGEFAULT;
            let flags = if p.write {
                UFFD_PAGEFAULT_FLAG_WRITE
            } else {
                0
            };
            msg[8..16].copy_from_slice(&flags.to_ne_bytes());
            msg[16..24].copy_from_slice(&p.address.to_ne_bytes());
            done += MSG_SIZE;
        }
        Ok(done)
    }

    fn write(&self, _buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(Kstat {
            ino: self.0.ino,
            mode: 0o600,
            nlink: 1,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> KResult<usize> {
        let uffd = &self.0;
        if cmd == UFFDIO_API {
            let [api, features, _] = read_u64s::<3>(user, arg)?;
            if uffd.api_done.load(Ordering::Acquire) || api != UFFD_API || features != 0 {
                // userfaultfd_api: the request is answered with zeros.
                user.write(arg, &[0u8; 24])?;
                return Err(Errno::EINVAL);
            }
            write_u64(user, arg + 8, 0)?;
            write_u64(user, arg + 16, API_IOCTLS)?;
            uffd.api_done.store(true, Ordering::Release);
            return Ok(0);
        }
        if !uffd.api_done.load(Ordering::Acquire) {
            return Err(Errno::EINVAL);
        }
        match cmd {
            UFFDIO_REGISTER => {
                let [start, len, mode] = read_u64s::<3>(user, arg)?;
                if mode == 0 || mode & !UFFDIO_REGISTER_MODE_MISSING != 0 {
                    // WP and MINOR modes are not offered.
                    return Err(Errno::EINVAL);
                }
                let mm = uffd.mm()?;
                let (start, end) = range(start, len, &mm)?;
                mm.aspace.lock().uffd_register(start, end, uffd.ctx())?;
                write_u64(user, arg + 24, RANGE_IOCTLS)?;
                Ok(0)
            }
            UFFDIO_UNREGISTER | UFFDIO_WAKE => {
                let [start, len] = read_u64s::<2>(user, arg)?;
                let mm = uffd.mm()?;
                let (start, end) = range(start, len, &mm)?;
                if cmd == UFFDIO_UNREGISTER {
                    mm.aspace.lock().uffd_unregister(start, end);
                }
                uffd.wakes.fetch_add(1, Ordering::AcqRel);
                wake(&uffd.resolved, IoEvents::IN);
                Ok(0)
            }
            UFFDIO_COPY => self.fill(user, arg, true),
            UFFDIO_ZEROPAGE => self.fill(user, arg, false),
            _ => Err(Errno::EINVAL),
        }
    }

    fn poll(&self) -> IoEvents {
        if self.0.pending.lock().is_empty() {
            IoEvents::empty()
        } else {
            IoEvents::IN | IoEvents::RDNORM
        }
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract: the registrations are dropped first.
        unsafe {
            sink.register_shared(
                &self.0.readable as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            );
        }
    }

    fn release(&self) {
        // userfaultfd_release: the registrations go and every waiter
        // retries (and gets a zero page).
        let uffd = &self.0;
        uffd.released.store(true, Ordering::Release);
        if let Some(mm) = uffd.mm.upgrade() {
            mm.aspace.lock().uffd_release(&uffd.ctx());
        }
        wake(&uffd.resolved, IoEvents::IN);
    }

    fn path(&self) -> String {
        String::from("anon_inode:[userfaultfd]")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
