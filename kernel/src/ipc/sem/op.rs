//! semop and semtimedop (ipc/sem.c `do_semtimedop`,
//! `perform_atomic_semop`).
//!
//! The operations of one call apply in order to a scratch copy of the
//! values they touch; the first that cannot go on (a zero wait on a
//! non-zero value, a decrement below zero) blocks the whole call, which
//! then changes nothing. A value above SEMVMX, or a SEM_UNDO adjustment
//! outside -32768..=32767, fails the call with ERANGE. A blocked call
//! records which operation blocked it (GETNCNT/GETZCNT) and sleeps until
//! the array changes, then tries again from the start.

use alloc::{collections::BTreeMap, sync::Arc};
use core::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axpoll::{IoEvents, PollSource};

use super::{SEMAEM, SEMVMX, State, by_id, undo};
use crate::{
    error::{Errno, KResult},
    ipc::{
        ids::IPC_NOWAIT,
        now,
        perm::{Caller, S_IRUGO, S_IWUGO, ipcperms},
    },
    task::{Thread, block},
};

/// `sem_flg`: undo the operation when the process exits.
pub const SEM_UNDO: i16 = 0x1000;

/// `struct sembuf`.
#[derive(Clone, Copy, Debug)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

/// Why an attempt did not complete.
enum Fail {
    /// Would block on this operation (its semaphore and value).
    Block { num: u16, op: i16, nowait: bool },
    /// ERANGE.
    Range,
}

/// Numbers the waiting calls, for the array's waiter records.
static TICKETS: AtomicU64 = AtomicU64::new(1);

/// perform_atomic_semop: all of `sops` or nothing.
fn perform(st: &mut State, sops: &[SemBuf], list: Option<u64>, pid: i32) -> Result<(), Fail> {
    let mut vals: BTreeMap<usize, i32> = BTreeMap::new();
    let mut adj: BTreeMap<usize, i32> = BTreeMap::new();
    for s in sops {
        let n = s.num as usize;
        let cur = *vals.entry(n).or_insert(st.sems[n].val);
        if (s.op == 0 && cur != 0) || cur + (s.op as i32) < 0 {
            return Err(Fail::Block {
                num: s.num,
                op: s.op,
                nowait: s.flg as i32 & IPC_NOWAIT != 0,
            });
        }
        let result = cur + s.op as i32;
        if result > SEMVMX {
            return Err(Fail::Range);
        }
        if s.flg & SEM_UNDO != 0 {
            let base = list.and_then(|l| st.adj.get(&l)).map_or(0, |a| a[n]);
            let a = adj.entry(n).or_insert(base);
            let undo = *a - s.op as i32;
            if !(-SEMAEM - 1..=SEMAEM).contains(&undo) {
                return Err(Fail::Range);
            }
            *a = undo;
        }
        vals.insert(n, result);
    }
    for (n, v) in vals {
        st.sems[n].val = v;
    }
    if let Some(entry) = list.and_then(|l| st.adj.get_mut(&l)) {
        for (n, a) in adj {
            entry[n] = a;
        }
    }
    for s in sops {
        st.sems[s.num as usize].pid = pid;
    }
    st.otime = now();
    Ok(())
}

/// semtimedop(2) once the operations are copied in and checked for count
/// and timeout: `deadline` is monotonic.
pub fn semop(
    thread: &Arc<Thread>,
    id: i32,
    sops: &[SemBuf],
    deadline: Option<Duration>,
    caller: &Caller,
) -> KResult<()> {
    let max = sops.iter().map(|s| s.num).max().unwrap_or(0) as usize;
    let undos = sops.iter().any(|s| s.flg & SEM_UNDO != 0);
    let alter = sops.iter().any(|s| s.op != 0);
    // find_alloc_undo looks the array up first (EINVAL).
    let list = if undos {
        by_id(id)?;
        Some(undo::current_list(thread))
    } else {
        None
    };
    let array = by_id(id)?;
    {
        let st = array.state.lock();
        if max >= st.sems.len() {
            return Err(Errno::EFBIG);
        }
        if !ipcperms(&st.perm, caller, if alter { S_IWUGO } else { S_IRUGO }) {
            return Err(Errno::EACCES);
        }
    }
    if let Some(list) = &list {
        undo::attach(list, &array)?;
    }
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    let pid = thread.process.pid;
    let list_id = list.as_ref().map(|l| l.id());
    let result = block::wait_event(
        thread,
        deadline,
        block::Interruptible::Eintr,
        |sink| {
            // SAFETY: the registration is dropped by `wait_event`, which
            // returns while `array` is still held.
            unsafe { sink.register_shared(&array.event as &dyn PollSource, IoEvents::IN) };
        },
        || {
            let mut st = array.state.lock();
            if st.removed {
                return Some(Err(Errno::EIDRM));
            }
            match perform(&mut st, sops, list_id, pid) {
                Ok(()) => Some(Ok(())),
                Err(Fail::Range) => Some(Err(Errno::ERANGE)),
                Err(Fail::Block { nowait: true, .. }) => Some(Err(Errno::EAGAIN)),
                Err(Fail::Block { num, op, .. }) => {
                    st.waiting.insert(ticket, (num, op));
                    None
                }
            }
        },
    );
    array.state.lock().waiting.remove(&ticket);
    match result {
        Ok(()) => {
            if alter {
                array.wake();
            }
            Ok(())
        }
        // A timeout ends semtimedop with EAGAIN.
        Err(Errno::ETIMEDOUT) => Err(Errno::EAGAIN),
        Err(e) => Err(e),
    }
}
