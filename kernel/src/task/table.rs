//! The process table: pid allocation and lookup.

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicI32, Ordering};

use ax_sync::SpinLock;

use super::{Pid, Process, Thread};

/// Highest pid before wrapping (/proc/sys/kernel/pid_max default).
pub const PID_MAX: Pid = 32768;

static NEXT_PID: AtomicI32 = AtomicI32::new(1);

/// Live processes (including zombies) by pid.
static PROCESSES: SpinLock<BTreeMap<Pid, Weak<Process>>> = SpinLock::new(BTreeMap::new());
/// Live threads by tid.
static THREADS: SpinLock<BTreeMap<Pid, Weak<Thread>>> = SpinLock::new(BTreeMap::new());

/// Allocates an unused pid.
pub fn alloc_pid() -> Pid {
    let procs = PROCESSES.lock();
    let threads = THREADS.lock();
    loop {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        if pid >= PID_MAX {
            NEXT_PID.store(300, Ordering::Relaxed);
            continue;
        }
        if !procs.contains_key(&pid) && !threads.contains_key(&pid) {
            return pid;
        }
    }
}

/// Registers a process.
pub fn insert_process(p: &Arc<Process>) {
    PROCESSES.lock().insert(p.pid, Arc::downgrade(p));
}

/// Removes a reaped process.
pub fn remove_process(pid: Pid) {
    PROCESSES.lock().remove(&pid);
}

/// Registers a thread.
pub fn insert_thread(t: &Arc<Thread>) {
    THREADS.lock().insert(t.tid, Arc::downgrade(t));
}

/// Removes an exited thread.
pub fn remove_thread(tid: Pid) {
    THREADS.lock().remove(&tid);
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
