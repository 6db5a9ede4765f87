//! System V message queues (ipc/msg.c): the queues, their limits and
//! msgget, msgsnd, msgrcv and the msgctl commands.
//!
//! A [`Queue`] holds its messages in arrival order under one spin lock
//! together with its `msqid_ds`. Blocked senders and receivers sleep in
//! `task::block::wait_event` on the queue's [`PollSet`], which every change
//! of the queue (a message in or out, IPC_SET, IPC_RMID) wakes; each then
//! retries from the top of Linux's loop: the permission check, the removal
//! check (EIDRM), then the space or message test. A woken receiver thus
//! finds what Linux's `pipelined_send` would have handed it, including the
//! E2BIG for a message larger than its buffer. The lock is never held
//! while sleeping or copying from or to user memory.
//!
//! Lock order: the table lock, then a queue's lock.

use alloc::{collections::VecDeque, string::String, sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicI32, Ordering};

use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource};
use axpoll_set::PollSet;

use super::{
    ids::{IPC_NOWAIT, Ids, IpcObject, StatBy, ipcget},
    now,
    perm::{Caller, Perm, S_IRUGO, S_IWUGO, ipcperms},
};
use crate::{
    error::{Errno, KResult},
    task::{Thread, block},
};

/// MSGMAX, MSGMNB, MSGMNI: the defaults of the sysctls
/// (include/uapi/linux/msg.h).
pub const MSGMAX: i32 = 8192;
pub const MSGMNB: i32 = 16384;
pub const MSGMNI: i32 = 32000;
/// The fixed msginfo fields IPC_INFO reports.
pub const MSGPOOL: i32 = MSGMNI * MSGMNB / 1024;
pub const MSGTQL: i32 = MSGMNB;
pub const MSGMAP: i32 = MSGMNB;
pub const MSGSSZ: i32 = 16;
pub const MSGSEG: u16 = 0xffff;

pub const MSG_NOERROR: i32 = 0o10000;
pub const MSG_EXCEPT: i32 = 0o20000;
pub const MSG_COPY: i32 = 0o40000;

/// kernel.msgmax, msgmnb, msgmni.
static MSG_CTLMAX: AtomicI32 = AtomicI32::new(MSGMAX);
static MSG_CTLMNB: AtomicI32 = AtomicI32::new(MSGMNB);
static MSG_CTLMNI: AtomicI32 = AtomicI32::new(MSGMNI);

pub fn msgmax() -> i32 {
    MSG_CTLMAX.load(Ordering::Relaxed)
}
pub fn set_msgmax(v: i32) {
    MSG_CTLMAX.store(v, Ordering::Relaxed);
}
pub fn msgmnb() -> i32 {
    MSG_CTLMNB.load(Ordering::Relaxed)
}
pub fn set_msgmnb(v: i32) {
    MSG_CTLMNB.store(v, Ordering::Relaxed);
}
pub fn msgmni() -> i32 {
    MSG_CTLMNI.load(Ordering::Relaxed)
}
pub fn set_msgmni(v: i32) {
    MSG_CTLMNI.store(v, Ordering::Relaxed);
}

/// One message.
pub struct Msg {
    pub mtype: i64,
    pub text: Vec<u8>,
}

/// The changing part of a queue: `msg_queue` less its wait lists.
#[derive(Clone)]
pub struct QueueStat {
    pub perm: Perm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    /// Bytes of message text queued (`q_cbytes`).
    pub cbytes: u64,
    pub qnum: u64,
    /// The most the queue holds (`q_qbytes`): bytes of text, and messages.
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
}

struct State {
    stat: QueueStat,
    messages: VecDeque<Msg>,
    /// Set by IPC_RMID: waiters leave with EIDRM.
    removed: bool,
}

/// A message queue.
pub struct Queue {
    id: i32,
    key: i32,
    state: SpinLock<State>,
    /// Woken at every change that may let a waiter go on.
    event: PollSet,
}

impl IpcObject for Queue {
    fn id(&self) -> i32 {
        self.id
    }
    fn key(&self) -> i32 {
        self.key
    }
}

impl Queue {
    fn wake(&self) {
        // SAFETY: task context; the change was made under `state`, which
        // is no longer held.
        unsafe { self.event.wake_all(IoEvents::IN) };
    }

    fn wait<T>(&self, thread: &Thread, attempt: impl FnMut() -> Option<KResult<T>>) -> KResult<T> {
        // msgsnd and msgrcv end with EINTR after a signal, never restarted
        // with a handler (ipc/msg.c: -ERESTARTNOHAND).
        block::wait_event(
            thread,
            None,
            block::Interruptible::Eintr,
            |sink| {
                // SAFETY: the registration is dropped by `wait_event`, which
                // returns before `self` can go.
                unsafe { sink.register_shared(&self.event as &dyn PollSource, IoEvents::IN) };
            },
            attempt,
        )
    }
}

static IDS: SpinLock<Ids<Queue>> = SpinLock::new(Ids::new());
/// Messages and bytes in all queues (MSG_INFO's msgmap and msgtql).
static TOTALS: SpinLock<(u64, u64)> = SpinLock::new((0, 0));

fn totals_add(msgs: i64, bytes: i64) {
    let mut t = TOTALS.lock();
    t.0 = t.0.saturating_add_signed(msgs);
    t.1 = t.1.saturating_add_signed(bytes);
}

/// ipc/msg.c `newque`.
fn newque(ids: &mut Ids<Queue>, key: i32, flg: i32, caller: &Caller) -> KResult<i32> {
    let perm = Perm::new(key, flg, caller);
    ids.add(msgmni(), |id| {
        Arc::new(Queue {
            id,
            key,
            state: SpinLock::new(State {
                stat: QueueStat {
                    perm,
                    stime: 0,
                    rtime: 0,
                    ctime: now(),
                    cbytes: 0,
                    qnum: 0,
                    qbytes: msgmnb() as u64,
                    lspid: 0,
                    lrpid: 0,
                },
                messages: VecDeque::new(),
                removed: false,
            }),
            event: PollSet::new(),
        })
    })
}

/// msgget(2).
pub fn get(key: i32, flg: i32, caller: &Caller) -> KResult<i32> {
    let mut ids = IDS.lock();
    let found = ids.find_key(key);
    ipcget(
        key,
        flg,
        found,
        || newque(&mut ids, key, flg, caller),
        |_| Ok(()),
        |q| ipcperms(&q.state.lock().stat.perm, caller, flg),
    )
}

/// msgsnd(2) (ipc/msg.c `do_msgsnd`) once the message is copied in.
pub fn send(thread: &Thread, id: i32, msg: Msg, flg: i32, caller: &Caller) -> KResult<()> {
    let queue = IDS.lock().by_id(id)?;
    let size = msg.text.len() as u64;
    let pid = thread.process.pid;
    let mut msg = Some(msg);
    let mut attempt = || {
        let mut st = queue.state.lock();
        if !ipcperms(&st.stat.perm, caller, S_IWUGO) {
            return Some(Err(Errno::EACCES));
        }
        if st.removed {
            return Some(Err(Errno::EIDRM));
        }
        // msg_fits_inqueue: room for the bytes and for one more message.
        let s = &st.stat;
        if size + s.cbytes > s.qbytes || 1 + s.qnum > s.qbytes {
            return (flg & IPC_NOWAIT != 0).then_some(Err(Errno::EAGAIN));
        }
        let msg = msg.take()?;
        st.stat.lspid = pid;
        st.stat.stime = now();
        st.stat.cbytes += size;
        st.stat.qnum += 1;
        st.messages.push_back(msg);
        Some(Ok(()))
    };
    let result = match attempt() {
        Some(r) => r,
        None => queue.wait(thread, attempt),
    };
    if result.is_ok() {
        totals_add(1, size as i64);
        queue.wake();
    }
    result
}

/// How msgrcv picks a message (ipc/msg.c `convert_mode`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Search {
    Any,
    Equal(i64),
    NotEqual(i64),
    /// The lowest type at or below the bound.
    LessEqual(i64),
    /// MSG_COPY: the message at this position.
    Number(i64),
}

impl Search {
    pub fn new(msgtyp: i64, flg: i32) -> Self {
        if flg & MSG_COPY != 0 {
            return Search::Number(msgtyp);
        }
        match msgtyp {
            0 => Search::Any,
            // -LONG_MIN is undefined: Linux takes LONG_MAX.
            i64::MIN => Search::LessEqual(i64::MAX),
            t if t < 0 => Search::LessEqual(-t),
            t if flg & MSG_EXCEPT != 0 => Search::NotEqual(t),
            t => Search::Equal(t),
        }
    }

    /// ipc/msg.c `find_msg`: the index of the message to take.
    fn find(self, messages: &VecDeque<Msg>) -> Option<usize> {
        match self {
            Search::Any => (!messages.is_empty()).then_some(0),
            Search::Equal(t) => messages.iter().position(|m| m.mtype == t),
            Search::NotEqual(t) => messages.iter().position(|m| m.mtype != t),
            Search::LessEqual(t) => {
                let mut best: Option<(usize, i64)> = None;
                for (i, m) in messages.iter().enumerate() {
                    if m.mtype <= best.map_or(t, |(_, b)| b - 1) {
                        best = Some((i, m.mtype));
                    }
                }
                best.map(|(i, _)| i)
            }
            Search::Number(n) => usize::try_from(n).ok().filter(|&n| n < messages.len()),
        }
    }
}

/// msgrcv(2) (ipc/msg.c `do_msgrcv`): the message taken (or copied, for
/// MSG_COPY); its text is cut to `bufsz` by the caller.
pub fn receive(
    thread: &Thread,
    id: i32,
    bufsz: usize,
    search: Search,
    flg: i32,
    caller: &Caller,
) -> KResult<Msg> {
    let queue = IDS.lock().by_id(id)?;
    let pid = thread.process.pid;
    let attempt = || {
        let mut st = queue.state.lock();
        if !ipcperms(&st.stat.perm, caller, S_IRUGO) {
            return Some(Err(Errno::EACCES));
        }
        if st.removed {
            return Some(Err(Errno::EIDRM));
        }
        let Some(i) = search.find(&st.messages) else {
            return (flg & IPC_NOWAIT != 0).then_some(Err(Errno::ENOMSG));
        };
        let len = st.messages[i].text.len();
        if bufsz < len && flg & MSG_NOERROR == 0 {
            return Some(Err(Errno::E2BIG));
        }
        if flg & MSG_COPY != 0 {
            let m = &st.messages[i];
            return Some(Ok(Msg {
                mtype: m.mtype,
                text: m.text.clone(),
            }));
        }
        let msg = st.messages.remove(i)?;
        st.stat.qnum -= 1;
        st.stat.rtime = now();
        st.stat.lrpid = pid;
        st.stat.cbytes -= len as u64;
        Some(Ok(msg))
    };
    let result = match attempt() {
        Some(r) => r,
        None => queue.wait(thread, attempt),
    };
    if let Ok(msg) = &result
        && flg & MSG_COPY == 0
    {
        totals_add(-1, -(msg.text.len() as i64));
        queue.wake();
    }
    result
}

/// ipc/msg.c `msgctl_stat`: the queue's identifier and `msqid_ds`.
pub fn stat(id: i32, by: StatBy, caller: &Caller) -> KResult<(i32, QueueStat)> {
    let queue = {
        let ids = IDS.lock();
        match by {
            StatBy::Id => ids.by_id(id)?,
            _ => ids.by_index(id)?,
        }
    };
    let st = queue.state.lock();
    if by != StatBy::IndexAny && !ipcperms(&st.stat.perm, caller, S_IRUGO) {
        return Err(Errno::EACCES);
    }
    if st.removed {
        return Err(Errno::EIDRM);
    }
    Ok((queue.id, st.stat.clone()))
}

/// IPC_SET (ipc/msg.c `msgctl_down`).
pub fn set(id: i32, uid: u32, gid: u32, mode: u32, qbytes: u64, caller: &Caller) -> KResult<()> {
    let queue = IDS.lock().by_id(id)?;
    {
        let mut st = queue.state.lock();
        if !caller.owns(&st.stat.perm) {
            return Err(Errno::EPERM);
        }
        if qbytes > msgmnb() as u64 && !caller.cap_sys_resource {
            return Err(Errno::EPERM);
        }
        st.stat.perm.update(uid, gid, mode)?;
        st.stat.qbytes = qbytes;
        st.stat.ctime = now();
    }
    // Receivers recheck their permission, senders the room.
    queue.wake();
    Ok(())
}

/// IPC_RMID (ipc/msg.c `freeque`): waiters leave with EIDRM.
pub fn remove(id: i32, caller: &Caller) -> KResult<()> {
    let mut ids = IDS.lock();
    let queue = ids.by_id(id)?;
    let (msgs, bytes) = {
        let mut st = queue.state.lock();
        if !caller.owns(&st.stat.perm) {
            return Err(Errno::EPERM);
        }
        st.removed = true;
        let bytes: usize = st.messages.iter().map(|m| m.text.len()).sum();
        let msgs = st.messages.len();
        st.messages.clear();
        (msgs, bytes)
    };
    ids.remove(id);
    drop(ids);
    totals_add(-(msgs as i64), -(bytes as i64));
    queue.wake();
    Ok(())
}

/// IPC_INFO and MSG_INFO (ipc/msg.c `msgctl_info`): msgpool, msgmap,
/// msgtql (in use for MSG_INFO: queues, messages, bytes) and the return
/// value.
pub fn info(msg_info: bool) -> ([i32; 3], usize) {
    let ids = IDS.lock();
    let max_idx = ids.max_idx();
    if msg_info {
        let (msgs, bytes) = *TOTALS.lock();
        ([ids.len() as i32, msgs as i32, bytes as i32], max_idx)
    } else {
        ([MSGPOOL, MSGMAP, MSGTQL], max_idx)
    }
}

/// /proc/sysvipc/msg (ipc/msg.c `sysvipc_msg_proc_show`).
pub fn proc_text() -> String {
    use core::fmt::Write;
    let mut out = String::from(
        "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n",
    );
    let queues = IDS.lock().all();
    for q in queues {
        let s = q.state.lock().stat.clone();
        let p = &s.perm;
        let _ = writeln!(
            out,
            "{:>10} {:>10}  {:>4o}  {:>10} {:>10} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>10} {:>10} {:>10}",
            p.key,
            q.id,
            p.mode,
            s.cbytes,
            s.qnum,
            s.lspid,
            s.lrpid,
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            s.stime,
            s.rtime,
            s.ctime
        );
    }
    out
}
