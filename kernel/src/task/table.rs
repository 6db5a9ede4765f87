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

/// The range Linux accepts for threads-max (MIN_THREADS, MAX_THREADS =
/// FUTEX_TID_MASK in kernel/fork.c).
pub const THREADS_MAX_RANGE: core::ops::RangeInclusive<i32> = 20..=0x3fff_ffff;

/// /proc/sys/kernel/threads-max: clone fails with EAGAIN at this many
/// threads (kernel/fork.c copy_process).
static THREADS_MAX: AtomicI32 = AtomicI32::new(*THREADS_MAX_RANGE.start());
/// RLIMIT_NPROC and RLIMIT_SIGPENDING of every process: half the boot-time
/// threads-max, as Linux's fork_init gives init.
static TASK_RLIMIT: AtomicI32 = AtomicI32::new(*THREADS_MAX_RANGE.start() / 2);

/// Sets the boot-time threads-max from the memory size as Linux's
/// `set_max_threads` does: thread structures (16 KiB stacks) may use at most
/// an eighth of memory.
pub fn init_threads_max(total_bytes: usize) {
    const THREAD_SIZE: usize = 16 * 1024;
    let max = (total_bytes / (8 * THREAD_SIZE)).min(*THREADS_MAX_RANGE.end() as usize) as i32;
    let max = max.max(*THREADS_MAX_RANGE.start());
    THREADS_MAX.store(max, Ordering::Relaxed);
    TASK_RLIMIT.store(max / 2, Ordering::Relaxed);
}

/// Current threads-max.
pub fn threads_max() -> i32 {
    THREADS_MAX.load(Ordering::Relaxed)
}

/// The RLIMIT_NPROC and RLIMIT_SIGPENDING value processes start with.
pub fn task_rlimit() -> u64 {
    TASK_RLIMIT.load(Ordering::Relaxed) as u64
}

/// Sets threads-max (the caller checked [`THREADS_MAX_RANGE`]).
pub fn set_threads_max(v: i32) {
    THREADS_MAX.store(v, Ordering::Relaxed);
}

/// The most recently allocated pid (the last field of /proc/loadavg).
pub fn last_pid() -> Pid {
    NEXT_PID.load(Ordering::Relaxed) - 1
}

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
    crate::debug::tasks::add(t);
}

/// Removes an exited thread.
pub fn remove_thread(tid: Pid) {
    THREADS.lock().remove(&tid);
    crate::debug::tasks::remove(tid);
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

/// Every live thread, by ascending tid.
pub fn all_threads() -> Vec<Arc<Thread>> {
    THREADS.lock().values().filter_map(Weak::upgrade).collect()
}

/// Number of live threads.
pub fn thread_count() -> usize {
    THREADS.lock().len()
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
