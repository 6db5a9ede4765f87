//! The process table: pid allocation and lookup.

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicI32, Ordering};

use ax_sync::SpinLock;

use super::{Pid, Process, Thread};

/// Default of /proc/sys/kernel/pid_max.
pub const PID_MAX_DEFAULT: Pid = 32768;
/// Largest value pid_max accepts (PID_MAX_LIMIT on 64-bit Linux).
pub const PID_MAX_LIMIT: Pid = 4 * 1024 * 1024;

/// Pids wrap before reaching this (/proc/sys/kernel/pid_max).
static PID_MAX: AtomicI32 = AtomicI32::new(PID_MAX_DEFAULT);

/// Current pid_max.
pub fn pid_max() -> Pid {
    PID_MAX.load(Ordering::Relaxed)
}

/// Sets pid_max; false if out of Linux's range (301..=PID_MAX_LIMIT).
pub fn set_pid_max(v: Pid) -> bool {
    if !(301..=PID_MAX_LIMIT).contains(&v) {
        return false;
    }
    PID_MAX.store(v, Ordering::Relaxed);
    true
}

static NEXT_PID: AtomicI32 = AtomicI32::new(1);

/// Live processes (including zombies) by pid.
static PROCESSES: SpinLock<BTreeMap<Pid, Weak<Process>>> = SpinLock::new(BTreeMap::new());
/// Live threads by tid.
static THREADS: SpinLock<BTreeMap<Pid, Weak<Thread>>> = SpinLock::new(BTreeMap::new());

/// Allocates an unused pid and reserves it (an empty entry in the thread
/// table) until [`insert_thread`] fills it or [`release_pid`] frees it.
pub fn alloc_pid() -> Pid {
    let procs = PROCESSES.lock();
    let mut threads = THREADS.lock();
    loop {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        if pid >= pid_max() {
            NEXT_PID.store(300, Ordering::Relaxed);
            continue;
        }
        if !procs.contains_key(&pid) && !threads.contains_key(&pid) {
            threads.insert(pid, Weak::new());
            return pid;
        }
    }
}

/// Frees a reserved pid whose thread never started.
pub fn release_pid(pid: Pid) {
    let mut threads = THREADS.lock();
    if threads.get(&pid).is_some_and(|t| t.upgrade().is_none()) {
        threads.remove(&pid);
    }
    drop(threads);
    release_if_unused(pid);
}

/// Reserves the specific pid `pid` (clone3's set_tid) like [`alloc_pid`]:
/// EINVAL outside 1..pid_max, EEXIST when taken.
pub fn claim_pid(pid: Pid) -> crate::error::KResult<Pid> {
    use crate::error::Errno;
    if pid <= 0 || pid >= pid_max() {
        return Err(Errno::EINVAL);
    }
    let procs = PROCESSES.lock();
    let mut threads = THREADS.lock();
    if procs.contains_key(&pid) || threads.contains_key(&pid) {
        return Err(Errno::EEXIST);
    }
    threads.insert(pid, Weak::new());
    Ok(pid)
}

/// Registers a process.
pub fn insert_process(p: &Arc<Process>) {
    PROCESSES.lock().insert(p.pid, Arc::downgrade(p));
}

/// Removes a reaped process.
pub fn remove_process(pid: Pid) {
    PROCESSES.lock().remove(&pid);
    release_if_unused(pid);
}

/// Frees an id's PID-namespace numbers once neither table holds it.
fn release_if_unused(id: Pid) {
    let used = PROCESSES.lock().contains_key(&id) || THREADS.lock().contains_key(&id);
    if !used {
        super::pidns::release(id);
    }
}

/// Registers a thread.
pub fn insert_thread(t: &Arc<Thread>) {
    THREADS.lock().insert(t.tid(), Arc::downgrade(t));
}

/// Removes an exited thread.
pub fn remove_thread(tid: Pid) {
    THREADS.lock().remove(&tid);
    release_if_unused(tid);
}

/// Looks up a process by pid.
pub fn process(pid: Pid) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).and_then(Weak::upgrade)
}

/// Looks up a thread by tid.
pub fn thread(tid: Pid) -> Option<Arc<Thread>> {
    THREADS.lock().get(&tid).and_then(Weak::upgrade)
}

/// Every live process.
pub fn all_processes() -> Vec<Arc<Process>> {
    PROCESSES
        .lock()
        .values()
        .filter_map(Weak::upgrade)
        .collect()
}

/// The processes of process group `pgid`.
pub fn group_members(pgid: Pid) -> Vec<Arc<Process>> {
    all_processes()
        .into_iter()
        .filter(|p| p.pgid() == pgid)
        .collect()
}

/// The init process (pid 1).
pub fn init_process() -> Option<Arc<Process>> {
    process(1)
}
