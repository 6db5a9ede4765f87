//! The task table: one entry per live thread, for `starling-ps`.
//!
//! Entries are claimed in `task::table::insert_thread` and freed in
//! `remove_thread`; the comm, the address space and the parent are
//! refreshed where they change (`Thread::set_comm`, execve, reparenting).
//! The state is not copied: the entry holds the address of the thread's
//! own state byte (`Thread::state`, b'R'/b'S'/b'D'), which the script reads.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering::Relaxed};

use ax_sync::SpinLock;

use super::{Header, store_bytes};
use crate::task::{Pid, Process, Thread};

/// Threads the table can show; later ones are counted in `overflow`.
pub const MAX_TASKS: usize = 512;

/// One thread (all zero: a free entry).
#[repr(C)]
pub struct DebugTask {
    /// Thread id, global (0: free entry).
    pub tid: AtomicI32,
    /// Its process (thread group) id.
    pub pid: AtomicI32,
    /// The parent process's id (0 for init).
    pub ppid: AtomicI32,
    pub _pad: AtomicI32,
    /// comm, NUL padded.
    pub comm: [AtomicU8; 16],
    /// Address of the thread's state byte.
    pub state: AtomicUsize,
    /// The address space (`Arc<Mm>` data pointer, the owner address the
    /// registry records name); 0 for none.
    pub mm: AtomicUsize,
    /// The `Thread` itself.
    pub thread: AtomicUsize,
}

impl DebugTask {
    #[expect(
        clippy::declare_interior_mutable_const,
        reason = "only the initialiser of the static table: each entry gets its own copy"
    )]
    const EMPTY: Self = Self {
        tid: AtomicI32::new(0),
        pid: AtomicI32::new(0),
        ppid: AtomicI32::new(0),
        _pad: AtomicI32::new(0),
        comm: [const { AtomicU8::new(0) }; 16],
        state: AtomicUsize::new(0),
        mm: AtomicUsize::new(0),
        thread: AtomicUsize::new(0),
    };
}

/// The table behind `STARLING_DEBUG_TASKS`.
#[repr(C)]
pub struct TaskTable {
    pub header: Header,
    /// Threads that found no free entry (shown as a warning).
    pub overflow: AtomicUsize,
    pub tasks: [DebugTask; MAX_TASKS],
}

/// "STKS".
const MAGIC: u32 = 0x534b_5453;

#[unsafe(no_mangle)]
pub static STARLING_DEBUG_TASKS: TaskTable = TaskTable {
    header: Header::new::<DebugTask>(MAGIC, MAX_TASKS),
    overflow: AtomicUsize::new(0),
    tasks: [const { DebugTask::EMPTY }; MAX_TASKS],
};

/// Serialises writers (claiming and freeing entries); readers need no lock.
static WRITERS: SpinLock<()> = SpinLock::new(());

fn ppid_of(process: &Process) -> Pid {
    process.tree.lock().parent.upgrade().map_or(0, |p| p.pid)
}

fn mm_of(process: &Process) -> usize {
    process.mm().map_or(0, |mm| Arc::as_ptr(&mm) as usize)
}

/// A new thread (or one whose tid changed).
pub fn add(thread: &Arc<Thread>) {
    let ppid = ppid_of(&thread.process);
    let mm = mm_of(&thread.process);
    let comm = *thread.name.lock();
    let _guard = WRITERS.lock();
    let Some(entry) = STARLING_DEBUG_TASKS
        .tasks
        .iter()
        .find(|e| e.tid.load(Relaxed) == 0)
    else {
        STARLING_DEBUG_TASKS.overflow.fetch_add(1, Relaxed);
        return;
    };
    entry.pid.store(thread.process.pid, Relaxed);
    entry.ppid.store(ppid, Relaxed);
    store_bytes(&entry.comm, &comm);
    entry
        .state
        .store(&thread.state as *const AtomicU8 as usize, Relaxed);
    entry.mm.store(mm, Relaxed);
    entry.thread.store(Arc::as_ptr(thread) as usize, Relaxed);
    entry.tid.store(thread.tid(), Relaxed);
}

/// A thread left the thread table.
pub fn remove(tid: Pid) {
    let _guard = WRITERS.lock();
    if let Some(entry) = find(tid) {
        entry.tid.store(0, Relaxed);
        entry.state.store(0, Relaxed);
        entry.mm.store(0, Relaxed);
        entry.thread.store(0, Relaxed);
    }
}

fn find(tid: Pid) -> Option<&'static DebugTask> {
    STARLING_DEBUG_TASKS
        .tasks
        .iter()
        .find(|e| e.tid.load(Relaxed) == tid)
}

/// The comm of thread `tid` as this table last saw it, read without a
/// lock (for reports made while other CPUs may hold any lock).
pub fn comm_of(tid: Pid) -> Option<[u8; 16]> {
    let entry = find(tid)?;
    let mut comm = [0; 16];
    for (dst, src) in comm.iter_mut().zip(&entry.comm) {
        *dst = src.load(Relaxed);
    }
    Some(comm)
}

/// The thread's comm changed.
pub fn set_comm(tid: Pid, comm: &[u8; 16]) {
    let _guard = WRITERS.lock();
    if let Some(entry) = find(tid) {
        store_bytes(&entry.comm, comm);
    }
}

/// `process` has a new address space (execve) or parent (reparenting):
/// refreshes every thread of it.
pub fn refresh_process(process: &Process) {
    let pid = process.pid;
    let ppid = ppid_of(process);
    let mm = mm_of(process);
    let _guard = WRITERS.lock();
    for entry in &STARLING_DEBUG_TASKS.tasks {
        if entry.tid.load(Relaxed) != 0 && entry.pid.load(Relaxed) == pid {
            entry.ppid.store(ppid, Relaxed);
            entry.mm.store(mm, Relaxed);
        }
    }
}
