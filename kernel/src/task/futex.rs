//! Futexes: wait queues keyed by a user memory word.
//!
//! A key names the word independently of who looks at it: for a private
//! futex, or any word in private memory, the address space and the virtual
//! address; for a word in shared memory, the physical location, so that
//! processes mapping the same frame at different addresses meet (futex(2)).
//!
//! The comparison of FUTEX_WAIT and the enqueue happen under the queue lock,
//! reading the word without faulting; a waker takes the same lock, so a wake
//! between the value check and the sleep is never lost.

use alloc::{collections::BTreeMap, sync::Arc, vec::Vec};
use core::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use ax_sync::SpinLock;
use starling_mm::aspace::VmaFlags;

use super::{Thread, block};
use crate::{
    error::{Errno, KResult},
    usercopy,
};

/// Which memory word a futex is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// (address space, virtual address).
    Private(usize, usize),
    /// Physical address of the word.
    Shared(usize),
}

struct Waiter {
    thread: Arc<Thread>,
    bitset: u32,
    woken: AtomicBool,
}

static QUEUES: SpinLock<BTreeMap<Key, Vec<Arc<Waiter>>>> = SpinLock::new(BTreeMap::new());

/// The key of the word at `addr` for `thread` (`private`: FUTEX_PRIVATE_FLAG).
pub fn key_of(thread: &Thread, addr: usize, private: bool) -> KResult<Key> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    // Fault the page in (and check access) before looking at the tables.
    usercopy::read_u32(addr)?;
    let mm = thread.process.mm().ok_or(Errno::EFAULT)?;
    let mm_id = Arc::as_ptr(&mm) as usize;
    if private {
        return Ok(Key::Private(mm_id, addr));
    }
    let aspace = mm.aspace.lock();
    let shared = aspace
        .find_vma(addr)
        .is_some_and(|v| v.flags.contains(VmaFlags::SHARED));
    if shared {
        let paddr = aspace.translate(addr).ok_or(Errno::EFAULT)?;
        Ok(Key::Shared(paddr.as_usize()))
    } else {
        Ok(Key::Private(mm_id, addr))
    }
}

fn read_nofault(addr: usize) -> Option<u32> {
    // SAFETY: `addr` is 4-byte aligned and below the user limit (checked by
    // `key_of`); the read is fault-tolerant and never sleeps.
    unsafe { ax_hal::cpu::user::user_read_u32(addr as *const u32) }.ok()
}

/// FUTEX_WAIT(_BITSET): sleeps while the word at `addr` holds `expected`.
pub fn wait(
    thread: &Arc<Thread>,
    addr: usize,
    key: Key,
    expected: u32,
    bitset: u32,
    deadline: Option<Duration>,
) -> KResult<usize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let waiter = Arc::new(Waiter {
        thread: thread.clone(),
        bitset,
        woken: AtomicBool::new(false),
    });
    loop {
        let mut queues = QUEUES.lock();
        match read_nofault(addr) {
            Some(v) if v != expected => return Err(Errno::EAGAIN),
            Some(_) => {
                queues.entry(key).or_default().push(waiter.clone());
                break;
            }
            None => {
                drop(queues);
                usercopy::read_u32(addr)?;
            }
        }
    }
    let result = block::wait_event(
        thread,
        deadline,
        block::Interruptible::Restart,
        |_| {},
        || waiter.woken.load(Ordering::Acquire).then_some(Ok(0)),
    );
    if result.is_err() {
        let mut queues = QUEUES.lock();
        if let Some(q) = queues.get_mut(&key) {
            q.retain(|w| !Arc::ptr_eq(w, &waiter));
            if q.is_empty() {
                queues.remove(&key);
            }
        }
        if waiter.woken.load(Ordering::Acquire) {
            return Ok(0);
        }
    }
    result
}

/// FUTEX_WAKE(_BITSET): wakes up to `count` waiters whose bitset matches.
pub fn wake(key: Key, count: usize, bitset: u32) -> KResult<usize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let mut woken = Vec::new();
    {
        let mut queues = QUEUES.lock();
        if let Some(q) = queues.get_mut(&key) {
            let mut i = 0;
            while i < q.len() && woken.len() < count {
                if q[i].bitset & bitset != 0 {
                    let w = q.remove(i);
                    w.woken.store(true, Ordering::Release);
                    woken.push(w);
                } else {
                    i += 1;
                }
            }
            if q.is_empty() {
                queues.remove(&key);
            }
        }
    }
    for w in &woken {
        w.thread.waiter.wake();
    }
    Ok(woken.len())
}
