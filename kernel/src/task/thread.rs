//! User threads and the "current thread" lookup.

use alloc::{collections::BTreeMap, sync::Arc};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use ax_sync::SpinLock;

use super::{
    Pid, Process,
    block::Waiter,
    signal::{Pending, SigSet, altstack::AltStack},
};

/// The default timer slack of a thread in nanoseconds (PR_SET_TIMERSLACK).
pub const TIMERSLACK_DEFAULT: usize = 50_000;

/// One user thread.
pub struct Thread {
    /// Thread id (the process id for the main thread; an execve from
    /// another thread makes that thread the leader and gives it the pid).
    tid: AtomicI32,
    /// The thread group.
    pub process: Arc<Process>,
    /// Blocked signals.
    mask: AtomicU64,
    /// Signals sent to this thread specifically.
    pub pending: SpinLock<Pending>,
    /// Woken by I/O readiness, timers and signals while the thread blocks.
    pub waiter: Arc<Waiter>,
    /// What /proc shows: b'R' running, b'S' sleeping, b'D' uninterruptible.
    pub state: core::sync::atomic::AtomicU8,
    /// CPU time consumed so far.
    pub cpu: Arc<super::cputime::CpuClock>,
    /// POSIX timers on this thread's CPU clock.
    pub cpu_timers: super::cputimer::CpuTimers,
    /// The name prctl(PR_SET_NAME) sets (comm), NUL padded.
    pub name: SpinLock<[u8; 16]>,
    /// Signal to receive when the parent dies (PR_SET_PDEATHSIG).
    pub pdeathsig: AtomicI32,
    /// Head of the robust futex list (set_robust_list).
    pub robust_list: AtomicUsize,
    /// `set_tid_address` / CLONE_CHILD_CLEARTID word.
    pub clear_child_tid: AtomicUsize,
    /// Set when the thread must leave (group exit, fatal signal).
    exiting: AtomicBool,
    /// Exit code recorded for the thread (wait status of the group exit).
    exit_status: AtomicI32,
    /// The syscall number and first argument of the syscall in progress,
    /// kept so an interrupted call can be restarted after a handler.
    pub restart: SpinLock<Option<(usize, usize)>>,
    /// The mask to restore after the next signal delivery (sigsuspend,
    /// ppoll): handlers run under the temporary mask, the frame saves this.
    saved_mask: SpinLock<Option<SigSet>>,
    /// The alternate signal stack (sigaltstack).
    pub altstack: SpinLock<AltStack>,
    /// PR_SET_NO_NEW_PRIVS (inherited by children, kept across execve).
    pub no_new_privs: AtomicBool,
    /// PR_SET_TIMERSLACK value in nanoseconds.
    pub timer_slack_ns: AtomicUsize,
    /// What PR_SET_TIMERSLACK 0 restores: the creator's slack at clone time
    /// (`default_timer_slack_ns`).
    pub default_timer_slack_ns: AtomicUsize,
    /// Scheduling policy, priority, nice value and affinity.
    pub sched: SpinLock<super::sched::SchedAttr>,
    /// The scheduler's id of the kernel task running this thread.
    task: AtomicU64,
    /// Monotonic time the thread was created (/proc/PID/stat starttime).
    pub start_ns: u64,
    /// The System V semaphore undo list (SEM_UNDO), shared by
    /// CLONE_SYSVSEM.
    pub sysvsem: SpinLock<Option<Arc<crate::ipc::sem::undo::UndoList>>>,
    /// ptrace: whether and by whom the thread is traced, and its stops.
    pub ptrace: super::ptrace::PtraceLink,
}

impl Thread {
    /// Creates a thread of `process` with signal mask `mask`.
    pub fn new(tid: Pid, process: Arc<Process>, mask: SigSet) -> Arc<Self> {
        Arc::new(Self {
            tid: AtomicI32::new(tid),
            process,
            mask: AtomicU64::new(mask.0),
            pending: SpinLock::new(Pending::default()),
            waiter: Waiter::new(),
            state: core::sync::atomic::AtomicU8::new(b'R'),
            cpu: super::cputime::CpuClock::new(),
            cpu_timers: super::cputimer::CpuTimers::default(),
            name: SpinLock::new([0; 16]),
            pdeathsig: AtomicI32::new(0),
            robust_list: AtomicUsize::new(0),
            clear_child_tid: AtomicUsize::new(0),
            exiting: AtomicBool::new(false),
            exit_status: AtomicI32::new(0),
            restart: SpinLock::new(None),
            saved_mask: SpinLock::new(None),
            altstack: SpinLock::new(AltStack::DISABLED),
            no_new_privs: AtomicBool::new(false),
            timer_slack_ns: AtomicUsize::new(TIMERSLACK_DEFAULT),
            default_timer_slack_ns: AtomicUsize::new(TIMERSLACK_DEFAULT),
            sched: SpinLock::new(super::sched::SchedAttr::initial()),
            task: AtomicU64::new(0),
            start_ns: ax_hal::time::monotonic_time_nanos(),
            sysvsem: SpinLock::new(None),
            ptrace: super::ptrace::PtraceLink::default(),
        })
    }

    /// The command name (`comm`): what execve or PR_SET_NAME set, at most
    /// 15 bytes.
    pub fn comm(&self) -> alloc::string::String {
        let name = *self.name.lock();
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        alloc::string::String::from_utf8_lossy(&name[..len]).into_owned()
    }

    /// Sets the command name, cut to 15 bytes (TASK_COMM_LEN - 1).
    pub fn set_comm(&self, name: &[u8]) {
        let mut comm = [0u8; 16];
        let n = name.len().min(15);
        comm[..n].copy_from_slice(&name[..n]);
        *self.name.lock() = comm;
        crate::debug::tasks::set_comm(self.tid(), &comm);
    }

    /// The thread id.
    pub fn tid(&self) -> Pid {
        self.tid.load(Ordering::Acquire)
    }

    /// Takes over `tid` (exec from a non-leader thread, de_thread).
    pub fn set_tid(&self, tid: Pid) {
        self.tid.store(tid, Ordering::Release);
    }

    /// Sets comm to the last component of the path execve was given (not
    /// the resolved file: a busybox applet link gives the applet's name).
    pub fn set_comm_from_path(&self, path: &str) {
        self.set_comm(path.rsplit('/').next().unwrap_or("").as_bytes());
    }

    /// The scheduler's id of the task running this thread.
    pub fn task_id(&self) -> u64 {
        self.task.load(Ordering::Acquire)
    }

    /// The blocked-signal mask.
    pub fn sigmask(&self) -> SigSet {
        SigSet(self.mask.load(Ordering::Acquire))
    }

    /// Replaces the blocked-signal mask (SIGKILL/SIGSTOP stay unblocked).
    pub fn set_sigmask(&self, mask: SigSet) {
        self.mask.store(mask.blockable().0, Ordering::Release);
    }

    /// Records the mask to restore once a signal was delivered.
    pub fn set_saved_sigmask(&self, mask: SigSet) {
        *self.saved_mask.lock() = Some(mask);
    }

    /// Takes the saved mask, if a temporary one is in force.
    pub fn take_saved_sigmask(&self) -> Option<SigSet> {
        self.saved_mask.lock().take()
    }

    /// Whether a signal that is not blocked is pending for this thread.
    pub fn has_deliverable_signal(&self) -> bool {
        let blocked = self.sigmask();
        let own = self.pending.lock().set();
        let shared = self.process.shared_pending.lock().set();
        (own.0 | shared.0) & !blocked.0 != 0
    }

    /// Asks the thread to leave at its next return towards user mode.
    pub fn request_exit(&self, status: i32) {
        if !self.exiting.swap(true, Ordering::AcqRel) {
            self.exit_status.store(status, Ordering::Release);
        }
        self.waiter.wake();
    }

    /// The wait status the thread leaves with, once exit was requested.
    pub fn exit_requested(&self) -> Option<i32> {
        self.exiting
            .load(Ordering::Acquire)
            .then(|| self.exit_status.load(Ordering::Acquire))
    }

    /// Whether the thread was asked to leave.
    pub fn is_exiting(&self) -> bool {
        self.exiting.load(Ordering::Acquire)
    }
}

/// Threads by scheduler thread id, for [`current`].
static BY_TASK: SpinLock<BTreeMap<u64, Arc<Thread>>> = SpinLock::new(BTreeMap::new());

/// Records that scheduler thread `task` runs `thread`.
pub fn bind_task(task: u64, thread: &Arc<Thread>) {
    thread.task.store(task, Ordering::Release);
    BY_TASK.lock().insert(task, thread.clone());
}

/// Forgets the binding of scheduler thread `task` (at thread exit).
pub fn unbind_task(task: u64) {
    let removed = BY_TASK.lock().remove(&task);
    drop(removed);
}

/// The user thread the calling kernel task runs, if any.
pub fn current() -> Option<Arc<Thread>> {
    let id = ax_task::thread::current::current_thread_id().ok()?;
    BY_TASK.lock().get(&id.as_u64()).cloned()
}
