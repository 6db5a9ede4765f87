//! poll and ppoll.

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

/// Most descriptors one poll may watch (RLIMIT_NOFILE bounds it on Linux).
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
    if nfds > MAX_POLL {
        return Err(Errno::EINVAL);
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
