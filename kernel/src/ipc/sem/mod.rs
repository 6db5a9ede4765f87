//! System V semaphores (ipc/sem.c): semaphore arrays, their limits,
//! semget and the semctl commands.
//!
//! A [`SemArray`] keeps its values, the per-undo-list adjustments
//! (`semadj`) and the operations waiting on it under one spin lock. semop
//! ([`op`]) applies an array of operations all or nothing; a caller that
//! must wait sleeps on the array's [`PollSet`] and retries the whole array
//! when any value changes (SETVAL, SETALL, another semop, an exit's undo)
//! or the array goes away (EIDRM). GETNCNT and GETZCNT count the waiters by
//! the operation that blocked them, as Linux's `count_semcnt` does.
//! [`undo`] is the per-process SEM_UNDO list applied at exit.
//!
//! Lock order: the table lock, then an array's lock, then an undo list's.

pub mod op;
pub mod undo;

use alloc::{collections::BTreeMap, string::String, sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicI32, Ordering};

use ax_sync::SpinLock;
use axpoll::IoEvents;
use axpoll_set::PollSet;

use super::{
    ids::{IPCMNI, Ids, IpcObject, StatBy, ipcget},
    now,
    perm::{Caller, Perm, S_IRUGO, S_IWUGO, ipcperms},
};
use crate::error::{Errno, KResult};

/// SEMMSL, SEMMNI, SEMMNS, SEMOPM: the defaults of kernel.sem
/// (include/uapi/linux/sem.h).
pub const SEMMSL: i32 = 32000;
pub const SEMMNI: i32 = 32000;
pub const SEMMNS: i32 = SEMMNI * SEMMSL;
pub const SEMOPM: i32 = 500;
/// The largest semaphore value, and the largest adjustment.
pub const SEMVMX: i32 = 32767;
pub const SEMAEM: i32 = SEMVMX;
/// The fixed seminfo fields.
pub const SEMMNU: i32 = SEMMNS;
pub const SEMMAP: i32 = SEMMNS;
pub const SEMUME: i32 = SEMOPM;
pub const SEMUSZ: i32 = 20;

/// kernel.sem: semmsl, semmns, semopm, semmni (`sem_ctls`).
static SEM_CTLS: [AtomicI32; 4] = [
    AtomicI32::new(SEMMSL),
    AtomicI32::new(SEMMNS),
    AtomicI32::new(SEMOPM),
    AtomicI32::new(SEMMNI),
];

/// kernel.sem's four values.
pub fn sem_ctls() -> [i32; 4] {
    core::array::from_fn(|i| SEM_CTLS[i].load(Ordering::Relaxed))
}

/// Sets kernel.sem (ipc/ipc_sysctl.c `proc_ipc_sem_dointvec`): the values
/// written replace the first ones; a semmni outside 0..=IPCMNI is put back
/// (`sem_check_semmni`) and the write fails, the other values staying
/// written, as in Linux.
pub fn set_sem_ctls(values: &[i32]) -> KResult<()> {
    let old_mni = semmni();
    for (ctl, v) in SEM_CTLS.iter().zip(values) {
        ctl.store(*v, Ordering::Relaxed);
    }
    let mni = semmni();
    if !(0..=IPCMNI as i32).contains(&mni) {
        warn!("kernel.sem: semmni {mni} is not in 0..=32768");
        SEM_CTLS[3].store(old_mni, Ordering::Relaxed);
        return Err(Errno::ERANGE);
    }
    Ok(())
}

pub fn semmsl() -> i32 {
    SEM_CTLS[0].load(Ordering::Relaxed)
}
pub fn semmns() -> i32 {
    SEM_CTLS[1].load(Ordering::Relaxed)
}
pub fn semopm() -> i32 {
    SEM_CTLS[2].load(Ordering::Relaxed)
}
pub fn semmni() -> i32 {
    SEM_CTLS[3].load(Ordering::Relaxed)
}

/// One semaphore.
#[derive(Clone, Copy, Default)]
pub struct Sem {
    pub val: i32,
    /// The process of the last operation (`sempid`).
    pub pid: i32,
}

/// What IPC_STAT and friends report.
#[derive(Clone)]
pub struct ArrayStat {
    pub perm: Perm,
    pub otime: i64,
    pub ctime: i64,
    pub nsems: usize,
}

pub(crate) struct State {
    pub perm: Perm,
    pub otime: i64,
    pub ctime: i64,
    pub sems: Vec<Sem>,
    /// Set by IPC_RMID: waiters leave with EIDRM, undo entries are void.
    pub removed: bool,
    /// `semadj` of each undo list that has an entry for this array.
    pub adj: BTreeMap<u64, Vec<i32>>,
    /// Waiting semops: the semaphore and operation that blocked each.
    pub waiting: BTreeMap<u64, (u16, i16)>,
}

/// A semaphore array.
pub struct SemArray {
    id: i32,
    key: i32,
    pub(crate) state: SpinLock<State>,
    pub(crate) event: PollSet,
}

impl IpcObject for SemArray {
    fn id(&self) -> i32 {
        self.id
    }
    fn key(&self) -> i32 {
        self.key
    }
}

impl SemArray {
    /// Wakes every waiting semop to try again.
    pub(crate) fn wake(&self) {
        // SAFETY: task context; the change was made under `state`, which
        // is no longer held.
        unsafe { self.event.wake_all(IoEvents::IN) };
    }
}

struct Table {
    ids: Ids<SemArray>,
    /// Semaphores in all arrays (`used_sems`).
    used: usize,
}

static TABLE: SpinLock<Table> = SpinLock::new(Table {
    ids: Ids::new(),
    used: 0,
});

/// The array `id` names exactly (EINVAL).
pub(crate) fn by_id(id: i32) -> KResult<Arc<SemArray>> {
    TABLE.lock().ids.by_id(id)
}

/// ipc/sem.c `newary`.
fn newary(t: &mut Table, key: i32, nsems: i32, flg: i32, caller: &Caller) -> KResult<i32> {
    if nsems == 0 {
        return Err(Errno::EINVAL);
    }
    let nsems = nsems as usize;
    if t.used + nsems > semmns().max(0) as usize {
        return Err(Errno::ENOSPC);
    }
    let perm = Perm::new(key, flg, caller);
    let sems = super::try_filled(nsems, Sem::default())?;
    let id = t.ids.add(semmni(), |id| {
        Arc::new(SemArray {
            id,
            key,
            state: SpinLock::new(State {
                perm,
                otime: 0,
                ctime: now(),
                sems,
                removed: false,
                adj: BTreeMap::new(),
                waiting: BTreeMap::new(),
            }),
            event: PollSet::new(),
        })
    })?;
    t.used += nsems;
    Ok(id)
}

/// semget(2) (ipc/sem.c `ksys_semget`).
pub fn get(key: i32, nsems: i32, flg: i32, caller: &Caller) -> KResult<i32> {
    if nsems < 0 || nsems > semmsl() {
        return Err(Errno::EINVAL);
    }
    let mut t = TABLE.lock();
    let found = t.ids.find_key(key);
    ipcget(
        key,
        flg,
        found,
        || newary(&mut t, key, nsems, flg, caller),
        // sem_more_checks.
        |a| {
            if nsems as usize > a.state.lock().sems.len() {
                return Err(Errno::EINVAL);
            }
            Ok(())
        },
        |a| ipcperms(&a.state.lock().perm, caller, flg),
    )
}

/// ipc/sem.c `semctl_stat`.
pub fn stat(id: i32, by: StatBy, caller: &Caller) -> KResult<(i32, ArrayStat)> {
    let array = {
        let t = TABLE.lock();
        match by {
            StatBy::Id => t.ids.by_id(id)?,
            _ => t.ids.by_index(id)?,
        }
    };
    let st = array.state.lock();
    if by != StatBy::IndexAny && !ipcperms(&st.perm, caller, S_IRUGO) {
        return Err(Errno::EACCES);
    }
    if st.removed {
        return Err(Errno::EIDRM);
    }
    Ok((
        array.id,
        ArrayStat {
            perm: st.perm.clone(),
            otime: st.otime,
            ctime: st.ctime,
            nsems: st.sems.len(),
        },
    ))
}

/// The commands semctl_main serves (and SETVAL).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Get {
    Val,
    Pid,
    Ncnt,
    Zcnt,
}

/// The array `id` with `flag`'s access granted (EINVAL, EACCES), checked
/// before the lock is taken for the operation.
fn checked(id: i32, flag: i32, caller: &Caller) -> KResult<Arc<SemArray>> {
    let array = by_id(id)?;
    if !ipcperms(&array.state.lock().perm, caller, flag) {
        return Err(Errno::EACCES);
    }
    Ok(array)
}

/// GETVAL, GETPID, GETNCNT, GETZCNT of semaphore `num`.
pub fn get_one(id: i32, num: i32, what: Get, caller: &Caller) -> KResult<i32> {
    let array = checked(id, S_IRUGO, caller)?;
    let st = array.state.lock();
    if num < 0 || num as usize >= st.sems.len() {
        return Err(Errno::EINVAL);
    }
    if st.removed {
        return Err(Errno::EIDRM);
    }
    let num = num as usize;
    let count = |zero: bool| {
        st.waiting
            .values()
            .filter(|&&(n, op)| n as usize == num && if zero { op == 0 } else { op < 0 })
            .count() as i32
    };
    Ok(match what {
        Get::Val => st.sems[num].val,
        Get::Pid => st.sems[num].pid,
        Get::Ncnt => count(false),
        Get::Zcnt => count(true),
    })
}

/// The number of semaphores in array `id` once read access is checked
/// (GETALL and SETALL size their buffers by it).
pub fn nsems(id: i32, write: bool, caller: &Caller) -> KResult<usize> {
    let flag = if write { S_IWUGO } else { S_IRUGO };
    let array = checked(id, flag, caller)?;
    Ok(array.state.lock().sems.len())
}

/// GETALL.
pub fn get_all(id: i32, caller: &Caller) -> KResult<Vec<u16>> {
    let array = checked(id, S_IRUGO, caller)?;
    let st = array.state.lock();
    if st.removed {
        return Err(Errno::EIDRM);
    }
    Ok(st.sems.iter().map(|s| s.val as u16).collect())
}

/// SETVAL (ipc/sem.c `semctl_setval`).
pub fn set_val(id: i32, num: i32, val: i32, pid: i32, caller: &Caller) -> KResult<()> {
    if !(0..=SEMVMX).contains(&val) {
        return Err(Errno::ERANGE);
    }
    let array = by_id(id)?;
    {
        let mut st = array.state.lock();
        if num < 0 || num as usize >= st.sems.len() {
            return Err(Errno::EINVAL);
        }
        if !ipcperms(&st.perm, caller, S_IWUGO) {
            return Err(Errno::EACCES);
        }
        if st.removed {
            return Err(Errno::EIDRM);
        }
        let num = num as usize;
        for adj in st.adj.values_mut() {
            adj[num] = 0;
        }
        st.sems[num] = Sem { val, pid };
        st.ctime = now();
    }
    array.wake();
    Ok(())
}

/// SETALL: `values` holds one value per semaphore.
pub fn set_all(id: i32, values: &[u16], pid: i32, caller: &Caller) -> KResult<()> {
    let array = checked(id, S_IWUGO, caller)?;
    if values.iter().any(|&v| v as i32 > SEMVMX) {
        return Err(Errno::ERANGE);
    }
    {
        let mut st = array.state.lock();
        if st.removed {
            return Err(Errno::EIDRM);
        }
        if values.len() != st.sems.len() {
            return Err(Errno::EINVAL);
        }
        for (sem, &v) in st.sems.iter_mut().zip(values) {
            *sem = Sem { val: v as i32, pid };
        }
        for adj in st.adj.values_mut() {
            adj.fill(0);
        }
        st.ctime = now();
    }
    array.wake();
    Ok(())
}

/// IPC_SET (ipc/sem.c `semctl_down`).
pub fn set(id: i32, uid: u32, gid: u32, mode: u32, caller: &Caller) -> KResult<()> {
    let array = by_id(id)?;
    let mut st = array.state.lock();
    if !caller.owns(&st.perm) {
        return Err(Errno::EPERM);
    }
    st.perm.update(uid, gid, mode)?;
    st.ctime = now();
    Ok(())
}

/// IPC_RMID (ipc/sem.c `freeary`): waiters leave with EIDRM; the undo
/// entries of the array are void.
pub fn remove(id: i32, caller: &Caller) -> KResult<()> {
    let mut t = TABLE.lock();
    let array = t.ids.by_id(id)?;
    let nsems = {
        let mut st = array.state.lock();
        if !caller.owns(&st.perm) {
            return Err(Errno::EPERM);
        }
        st.removed = true;
        st.adj.clear();
        st.sems.len()
    };
    t.ids.remove(id);
    t.used -= nsems;
    drop(t);
    array.wake();
    Ok(())
}

/// IPC_INFO and SEM_INFO (ipc/sem.c `semctl_info`): `struct seminfo` and
/// the return value.
pub fn info(sem_info: bool) -> ([i32; 10], usize) {
    let t = TABLE.lock();
    let [msl, mns, opm, mni] = sem_ctls();
    let (usz, aem) = if sem_info {
        (t.ids.len() as i32, t.used as i32)
    } else {
        (SEMUSZ, SEMAEM)
    };
    (
        [SEMMAP, mni, mns, SEMMNU, msl, opm, SEMUME, usz, SEMVMX, aem],
        t.ids.max_idx(),
    )
}

/// /proc/sysvipc/sem (ipc/sem.c `sysvipc_sem_proc_show`).
pub fn proc_text() -> String {
    use core::fmt::Write;
    let mut out = String::from(
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    );
    let arrays = TABLE.lock().ids.all();
    for a in arrays {
        let st = a.state.lock();
        let p = &st.perm;
        let _ = writeln!(
            out,
            "{:>10} {:>10}  {:>4o} {:>10} {:>5} {:>5} {:>5} {:>5} {:>10} {:>10}",
            p.key,
            a.id,
            p.mode,
            st.sems.len(),
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            st.otime,
            st.ctime
        );
    }
    out
}
