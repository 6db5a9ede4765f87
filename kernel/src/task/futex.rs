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
    /// The queue the waiter is on now (FUTEX_REQUEUE moves it); only
    /// read and written under the `QUEUES` lock.
    key: SpinLock<Key>,
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
        key: SpinLock::new(key),
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
        let key = *waiter.key.lock();
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

/// Takes up to `count` waiters of `key` whose bitset matches, marking them
/// woken. Called with the queues locked.
fn take(
    queues: &mut BTreeMap<Key, Vec<Arc<Waiter>>>,
    key: Key,
    count: usize,
    bitset: u32,
) -> Vec<Arc<Waiter>> {
    let mut woken = Vec::new();
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
    woken
}

fn wake_all(woken: &[Arc<Waiter>]) {
    for w in woken {
        w.thread.waiter.wake();
    }
}

/// FUTEX_WAKE(_BITSET): wakes up to `count` waiters whose bitset matches.
pub fn wake(key: Key, count: usize, bitset: u32) -> KResult<usize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let woken = take(&mut QUEUES.lock(), key, count, bitset);
    wake_all(&woken);
    Ok(woken.len())
}

/// FUTEX_(CMP_)REQUEUE: wakes up to `wake_count` waiters of `from` and moves
/// up to `requeue_count` more to `to`. With `expected`, the word at `addr`
/// must still hold it (EAGAIN otherwise), checked under the queue lock.
pub fn requeue(
    addr: usize,
    from: Key,
    to: Key,
    wake_count: usize,
    requeue_count: usize,
    expected: Option<u32>,
) -> KResult<usize> {
    let woken;
    let mut moved = 0;
    loop {
        let mut queues = QUEUES.lock();
        if let Some(expected) = expected {
            match read_nofault(addr) {
                Some(v) if v != expected => return Err(Errno::EAGAIN),
                Some(_) => {}
                None => {
                    drop(queues);
                    usercopy::read_u32(addr)?;
                    continue;
                }
            }
        }
        woken = take(&mut queues, from, wake_count, u32::MAX);
        if from != to && requeue_count > 0 {
            let mut rest = queues.remove(&from).unwrap_or_default();
            let n = rest.len().min(requeue_count);
            let tail = rest.split_off(n);
            for w in &rest {
                *w.key.lock() = to;
            }
            moved = rest.len();
            queues.entry(to).or_default().extend(rest);
            if !tail.is_empty() {
                queues.insert(from, tail);
            }
        }
        break;
    }
    wake_all(&woken);
    Ok(woken.len() + moved)
}

/// FUTEX_WAKE_OP: applies `op` to the word at `addr2` atomically, wakes up
/// to `count` waiters of `key1`, and, if the old value of the word passes
/// the comparison in `op`, up to `count2` waiters of `key2`.
pub fn wake_op(
    key1: Key,
    addr2: usize,
    key2: Key,
    count: usize,
    count2: usize,
    op: u32,
) -> KResult<usize> {
    use ax_hal::cpu::user::{UserAtomicError, UserAtomicU32Op, user_atomic_u32};
    let mut oparg = ((op >> 12) & 0xfff) as i32;
    oparg = (oparg << 20) >> 20;
    let mut cmparg = (op & 0xfff) as i32;
    cmparg = (cmparg << 20) >> 20;
    let kind = (op >> 28) & 0x7;
    let shift = op & (8 << 28) != 0;
    let cmp = (op >> 24) & 0xf;
    if shift {
        if !(0..32).contains(&oparg) {
            return Err(Errno::EINVAL);
        }
        oparg = 1 << oparg;
    }
    let atomic_op = match kind {
        0 => UserAtomicU32Op::Set,
        1 => UserAtomicU32Op::Add,
        2 => UserAtomicU32Op::Or,
        3 => UserAtomicU32Op::AndNot,
        4 => UserAtomicU32Op::Xor,
        _ => return Err(Errno::ENOSYS),
    };
    if !addr2.is_multiple_of(4)
        || addr2
            .checked_add(4)
            .is_none_or(|e| e > usercopy::user_end())
    {
        return Err(Errno::EFAULT);
    }
    let mut woken;
    loop {
        let mut queues = QUEUES.lock();
        // SAFETY: `addr2` is aligned and in the user half (checked above);
        // the access is fault-tolerant and does not sleep.
        let old = match unsafe { user_atomic_u32(addr2 as *mut u32, atomic_op, oparg as u32) } {
            Ok(old) => old as i32,
            Err(UserAtomicError::Retry) => continue,
            Err(UserAtomicError::Fault) => {
                drop(queues);
                // Fault the page in writably, then retry.
                let v = usercopy::read_u32(addr2)?;
                usercopy::write_u32(addr2, v)?;
                continue;
            }
        };
        let hit = match cmp {
            0 => old == cmparg,
            1 => old != cmparg,
            2 => old < cmparg,
            3 => old <= cmparg,
            4 => old > cmparg,
            5 => old >= cmparg,
            _ => return Err(Errno::ENOSYS),
        };
        woken = take(&mut queues, key1, count, u32::MAX);
        if hit {
            woken.extend(take(&mut queues, key2, count2, u32::MAX));
        }
        break;
    }
    wake_all(&woken);
    Ok(woken.len())
}

/// Bits of a robust futex word (futex(2), "Robust futexes").
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Linux's bound on the list walk (ROBUST_LIST_LIMIT), against cycles.
const ROBUST_LIST_LIMIT: usize = 2048;

/// Marks one robust futex of an exiting owner (handle_futex_death): a word
/// still owned by `tid` gets FUTEX_OWNER_DIED and one waiter is woken; a
/// pending operation's unowned word wakes a waiter too.
fn futex_death(thread: &Thread, addr: usize, tid: u32, pi: bool, pending: bool) {
    use ax_hal::cpu::user::{UserAtomicError, user_cmpxchg_u32};
    if !addr.is_multiple_of(4) || addr.checked_add(4).is_none_or(|e| e > usercopy::user_end()) {
        return;
    }
    let wake_one = || {
        if let Ok(key) = key_of(thread, addr, false) {
            let _ = wake(key, 1, u32::MAX);
        }
    };
    for _ in 0..ROBUST_LIST_LIMIT {
        let Ok(val) = usercopy::read_u32(addr) else {
            return;
        };
        if pending && !pi && val == 0 {
            wake_one();
            return;
        }
        if val & FUTEX_TID_MASK != tid {
            return;
        }
        let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        // SAFETY: `addr` is aligned and in the user half (checked above);
        // the access is fault-tolerant and no lock is held.
        match unsafe { user_cmpxchg_u32(addr as *mut u32, val, new) } {
            Ok(seen) if seen == val => {
                if !pi && val & FUTEX_WAITERS != 0 {
                    wake_one();
                }
                return;
            }
            Ok(_) | Err(UserAtomicError::Retry) => continue,
            Err(UserAtomicError::Fault) => {
                // Make the page writable (copy-on-write), then retry.
                if usercopy::write_u32(addr, val).is_err() {
                    return;
                }
            }
        }
    }
}

/// Walks the exiting thread's robust futex list (set_robust_list) and
/// releases every lock it still holds with FUTEX_OWNER_DIED, as Linux's
/// exit_robust_list does. Runs in the thread's own address space.
pub fn exit_robust_list(thread: &Thread) {
    let head = thread.robust_list.swap(0, Ordering::AcqRel);
    if head == 0 {
        return;
    }
    // struct robust_list_head { next; long futex_offset; list_op_pending; }
    let (Ok(first), Ok(offset), Ok(pending)) = (
        usercopy::read_usize(head),
        usercopy::read_usize(head + 8),
        usercopy::read_usize(head + 16),
    ) else {
        return;
    };
    let offset = offset as isize;
    let tid = thread.tid() as u32;
    let pending_entry = pending & !1;
    let mut entry = first;
    for _ in 0..ROBUST_LIST_LIMIT {
        let node = entry & !1;
        if node == head {
            break;
        }
        // Fetch the successor first: the lock may be freed once released.
        let next = usercopy::read_usize(node);
        if node != pending_entry {
            futex_death(
                thread,
                node.wrapping_add_signed(offset),
                tid,
                entry & 1 != 0,
                false,
            );
        }
        match next {
            Ok(n) => entry = n,
            Err(_) => return,
        }
    }
    if pending_entry != 0 {
        futex_death(
            thread,
            pending_entry.wrapping_add_signed(offset),
            tid,
            pending & 1 != 0,
            true,
        );
    }
}
