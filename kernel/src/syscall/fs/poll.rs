//! poll, ppoll, select and pselect6.

use alloc::{sync::Arc, vec::Vec};
use core::time::Duration;

use axpoll::IoEvents;
use starling_fs::file::OpenFile;

use crate::{
    error::{Errno, KResult},
    syscall::{ERESTARTNOHAND, SysResult, SyscallContext},
    task::{block, signal::SigSet},
    usercopy,
};

/// Most descriptors one poll may watch; RLIMIT_NOFILE bounds it too, as on
/// Linux (fs/select.c do_sys_poll).
const MAX_POLL: usize = 1 << 16;

struct Entry {
    fd: i32,
    events: IoEvents,
    file: Option<Arc<OpenFile>>,
}

fn do_poll(
    sc: &SyscallContext<'_>,
    fds: usize,
    nfds: usize,
    deadline: Option<Duration>,
) -> SysResult {
    // nfds is an unsigned int (fs/select.c); the array must lie in user
    // space even when it is empty (access_ok before the results are
    // written back).
    let nfds = nfds as u32 as usize;
    let nofile = sc.thread.process.rlimits.lock()[crate::task::rlimit::RLIMIT_NOFILE as usize].cur;
    if nfds > MAX_POLL || nfds as u64 > nofile {
        return Err(Errno::EINVAL);
    }
    if fds
        .checked_add(nfds * 8)
        .is_none_or(|end| end > usercopy::user_end())
    {
        return Err(Errno::EFAULT);
    }
    let mut raw = alloc::vec![0u8; nfds * 8];
    usercopy::copy_from_user(&mut raw, fds)?;
    let files = sc.thread.process.files();
    let entries: Vec<Entry> = raw
        .chunks(8)
        .map(|c| {
            let fd = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            let events = IoEvents::from_bits_truncate(u32::from(u16::from_ne_bytes([c[4], c[5]])));
            let file = if fd >= 0 {
                files.lock().get(fd).cloned()
            } else {
                None
            };
            Entry { fd, events, file }
        })
        .collect();
    let always = IoEvents::ERR | IoEvents::HUP | IoEvents::NVAL;
    let scan = |out: &mut [u8]| -> usize {
        let mut ready = 0;
        for (i, e) in entries.iter().enumerate() {
            let revents = if e.fd < 0 {
                IoEvents::empty()
            } else {
                match &e.file {
                    None => IoEvents::NVAL,
                    Some(f) => f.file().poll() & (e.events | always),
                }
            };
            out[i * 8 + 6..i * 8 + 8].copy_from_slice(&(revents.bits() as u16).to_ne_bytes());
            if !revents.is_empty() {
                ready += 1;
            }
        }
        ready
    };
    let result = block::wait_event(
        sc.thread,
        deadline,
        block::Interruptible::Eintr,
        |sink| {
            for e in &entries {
                if let Some(f) = &e.file {
                    // SAFETY: the registrar is dropped before `entries`.
                    unsafe { f.file().register_poll(sink, e.events | always) };
                }
            }
        },
        || {
            let n = scan(&mut raw);
            (n > 0).then_some(Ok(n))
        },
    );
    let n = match result {
        Ok(n) => n,
        Err(Errno::ETIMEDOUT) => 0,
        Err(Errno::EINTR) => return Err(ERESTARTNOHAND),
        Err(e) => return Err(e),
    };
    usercopy::copy_to_user(fds, &raw)?;
    Ok(n)
}

fn deadline_after(d: Duration) -> Duration {
    block::now().saturating_add(d)
}

#[cfg(target_arch = "x86_64")]
/// poll(2).
#[inline(never)]
pub fn sys_poll(
    sc: &mut SyscallContext<'_>,
    fds: usize,
    nfds: usize,
    timeout_ms: i32,
) -> SysResult {
    let deadline =
        (timeout_ms >= 0).then(|| deadline_after(Duration::from_millis(timeout_ms as u64)));
    do_poll(sc, fds, nfds, deadline)
}

/// Reads a `struct timespec` (validated: 0 <= nsec < 1e9, sec >= 0).
pub fn read_timespec(addr: usize) -> KResult<Duration> {
    let sec = usercopy::read_u64(addr)? as i64;
    let nsec = usercopy::read_u64(addr + 8)? as i64;
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(sec as u64, nsec as u32))
}

/// ppoll(2): poll with a timespec and a temporary signal mask.
#[inline(never)]
pub fn sys_ppoll(
    sc: &mut SyscallContext<'_>,
    fds: usize,
    nfds: usize,
    tsp: usize,
    sigmask: usize,
    sigsetsize: usize,
) -> SysResult {
    let deadline = if tsp == 0 {
        None
    } else {
        Some(deadline_after(read_timespec(tsp)?))
    };
    let old = sc.thread.sigmask();
    if sigmask != 0 {
        if sigsetsize != 8 {
            return Err(Errno::EINVAL);
        }
        sc.thread.set_sigmask(SigSet(usercopy::read_u64(sigmask)?));
    }
    let r = do_poll(sc, fds, nfds, deadline);
    if sigmask != 0 {
        if r == Err(ERESTARTNOHAND) {
            // The handler runs under the temporary mask; its frame restores
            // the old one (as sigsuspend).
            sc.thread.set_saved_sigmask(old);
        } else {
            sc.thread.set_sigmask(old);
        }
    }
    r
}

/// The readiness select(2) reports in each set (fs/select.c POLLIN_SET,
/// POLLOUT_SET, POLLEX_SET).
fn select_sets() -> [IoEvents; 3] {
    [
        IoEvents::IN | IoEvents::RDNORM | IoEvents::RDBAND | IoEvents::HUP | IoEvents::ERR,
        IoEvents::OUT | IoEvents::WRNORM | IoEvents::WRBAND | IoEvents::ERR,
        IoEvents::PRI,
    ]
}

/// Reads an `fd_set` of `nfds` bits (empty when `addr` is 0).
fn read_fd_set(addr: usize, nfds: usize) -> KResult<Vec<u64>> {
    let words = nfds.div_ceil(64);
    let mut set = alloc::vec![0u64; words];
    if addr != 0 && words > 0 {
        let mut raw = alloc::vec![0u8; words * 8];
        usercopy::copy_from_user(&mut raw, addr)?;
        for (w, c) in set.iter_mut().zip(raw.chunks(8)) {
            *w = u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]));
        }
    }
    Ok(set)
}

fn write_fd_set(addr: usize, set: &[u64]) -> KResult<()> {
    if addr == 0 || set.is_empty() {
        return Ok(());
    }
    let raw: Vec<u8> = set.iter().flat_map(|w| w.to_ne_bytes()).collect();
    usercopy::copy_to_user(addr, &raw)
}

/// select core (fs/select.c core_sys_select): the three sets at `addrs`,
/// waiting until `deadline`; the sets are rewritten with what is ready.
fn do_select(
    sc: &SyscallContext<'_>,
    nfds: i32,
    addrs: [usize; 3],
    deadline: Option<Duration>,
) -> SysResult {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    // Bits past the table's size cannot name open descriptors.
    let files = sc.thread.process.files();
    let nfds = (nfds as usize).min(files.lock().limit().max(1024));
    let sets = [
        read_fd_set(addrs[0], nfds)?,
        read_fd_set(addrs[1], nfds)?,
        read_fd_set(addrs[2], nfds)?,
    ];
    let wanted = select_sets();
    let mut entries: Vec<(usize, Arc<OpenFile>, IoEvents)> = Vec::new();
    for fd in 0..nfds {
        let (w, b) = (fd / 64, 1u64 << (fd % 64));
        let mut events = IoEvents::empty();
        for (set, want) in sets.iter().zip(wanted) {
            if set[w] & b != 0 {
                events |= want;
            }
        }
        if events.is_empty() {
            continue;
        }
        let file = files.lock().get(fd as i32).cloned().ok_or(Errno::EBADF)?;
        entries.push((fd, file, events));
    }
    drop(files);
    let words = nfds.div_ceil(64);
    let scan = || -> ([Vec<u64>; 3], usize) {
        let mut out = [
            alloc::vec![0u64; words],
            alloc::vec![0u64; words],
            alloc::vec![0u64; words],
        ];
        let mut count = 0;
        for (fd, file, _) in &entries {
            let revents = file.file().poll();
            let (w, b) = (fd / 64, 1u64 << (fd % 64));
            for (i, want) in wanted.iter().enumerate() {
                if sets[i][w] & b != 0 && revents.intersects(*want) {
                    out[i][w] |= b;
                    count += 1;
                }
            }
        }
        (out, count)
    };
    let result = block::wait_event(
        sc.thread,
        deadline,
        block::Interruptible::Eintr,
        |sink| {
            for (_, file, events) in &entries {
                // SAFETY: the registrar is dropped before `entries`.
                unsafe { file.file().register_poll(sink, *events) };
            }
        },
        || {
            let (out, n) = scan();
            (n > 0).then_some(Ok((out, n)))
        },
    );
    let (out, n) = match result {
        Ok(r) => r,
        Err(Errno::ETIMEDOUT) => (
            [
                alloc::vec![0u64; words],
                alloc::vec![0u64; words],
                alloc::vec![0u64; words],
            ],
            0,
        ),
        Err(Errno::EINTR) => return Err(ERESTARTNOHAND),
        Err(e) => return Err(e),
    };
    for (addr, set) in addrs.iter().zip(&out) {
        write_fd_set(*addr, set)?;
    }
    Ok(n)
}

/// Time left until `deadline` (0 once passed).
fn remaining(deadline: Duration) -> Duration {
    deadline.saturating_sub(block::now())
}

#[cfg(target_arch = "x86_64")]
/// select(2): the timeval, if any, is updated with the time not slept.
#[inline(never)]
pub fn sys_select(
    sc: &mut SyscallContext<'_>,
    nfds: i32,
    readfds: usize,
    writefds: usize,
    exceptfds: usize,
    timeout: usize,
) -> SysResult {
    let deadline = if timeout == 0 {
        None
    } else {
        let sec = usercopy::read_u64(timeout)? as i64;
        let usec = usercopy::read_u64(timeout + 8)? as i64;
        if sec < 0 || usec < 0 {
            return Err(Errno::EINVAL);
        }
        // Microseconds past a second carry over (fs/select.c).
        let d = Duration::from_secs(sec as u64).saturating_add(Duration::from_micros(usec as u64));
        Some(deadline_after(d))
    };
    let r = do_select(sc, nfds, [readfds, writefds, exceptfds], deadline);
    if let Some(d) = deadline {
        let left = remaining(d);
        usercopy::write_u64(timeout, left.as_secs())?;
        usercopy::write_u64(timeout + 8, u64::from(left.subsec_micros()))?;
    }
    r
}

/// pselect6(2): select with a timespec (updated with the time not slept)
/// and a temporary signal mask passed as { sigset_t *, size_t }.
#[inline(never)]
pub fn sys_pselect6(
    sc: &mut SyscallContext<'_>,
    nfds: i32,
    readfds: usize,
    writefds: usize,
    exceptfds: usize,
    tsp: usize,
    sig: usize,
) -> SysResult {
    let deadline = if tsp == 0 {
        None
    } else {
        Some(deadline_after(read_timespec(tsp)?))
    };
    let mask = if sig == 0 {
        None
    } else {
        let set = usercopy::read_u64(sig)? as usize;
        let size = usercopy::read_u64(sig + 8)? as usize;
        if set == 0 {
            None
        } else {
            if size != 8 {
                return Err(Errno::EINVAL);
            }
            Some(SigSet(usercopy::read_u64(set)?))
        }
    };
    let old = sc.thread.sigmask();
    if let Some(m) = mask {
        sc.thread.set_sigmask(m);
    }
    let r = do_select(sc, nfds, [readfds, writefds, exceptfds], deadline);
    if mask.is_some() {
        if r == Err(ERESTARTNOHAND) {
            sc.thread.set_saved_sigmask(old);
        } else {
            sc.thread.set_sigmask(old);
        }
    }
    if let Some(d) = deadline {
        let left = remaining(d);
        usercopy::write_u64(tsp, left.as_secs())?;
        usercopy::write_u64(tsp + 8, u64::from(left.subsec_nanos()))?;
    }
    r
}
