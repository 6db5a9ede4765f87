//! Processes (thread groups) and their place in the process tree.

use alloc::{
    string::String,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use ax_fs_ng::vfs::FsContext;
use ax_sync::{Mutex, SpinLock};
use axpoll_set::PollSet;
use starling_fs::{fdtable::FdTable, file::OpenFile};

use super::{
    Thread,
    cputime::CpuSample,
    creds::Creds,
    mm::Mm,
    signal::{NSIG, Pending, SigAction},
};

/// Process and thread ids.
pub type Pid = i32;

/// Default RLIMIT_NOFILE soft limit.
pub const NOFILE_DEFAULT: usize = 1024;

/// /proc/sys/fs/nr_open: the highest RLIMIT_NOFILE setrlimit accepts
/// (Linux's default, 1024 * 1024).
static NR_OPEN: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(1 << 20);

/// Current nr_open.
pub fn nr_open() -> usize {
    NR_OPEN.load(Ordering::Relaxed)
}

/// Sets nr_open (the caller validated the range).
pub fn set_nr_open(n: usize) {
    NR_OPEN.store(n, Ordering::Relaxed);
}

/// A descriptor table, shared by CLONE_FILES threads.
pub type FileTable = Mutex<FdTable<Arc<OpenFile>>>;

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Running,
    /// Stopped by a signal; `reported` once a waiter saw it (WUNTRACED).
    Stopped {
        sig: i32,
        reported: bool,
    },
    /// Exited; the wait status until a waiter reaps it.
    Zombie {
        status: i32,
    },
}

/// Process-tree links and life state, under one lock.
pub struct Tree {
    pub parent: Weak<Process>,
    pub children: Vec<Arc<Process>>,
    pub pgid: Pid,
    pub sid: Pid,
    pub state: ProcState,
    /// SIGCONT arrived after a stop and a WCONTINUED waiter has not seen it.
    pub continued: bool,
    /// A group exit is in progress (the status every thread leaves with).
    pub group_exit: Option<i32>,
}

/// A process.
pub struct Process {
    /// The global id (the number the initial PID namespace shows).
    pub pid: Pid,
    /// The PID namespace the process lives in.
    pub pid_ns: Arc<super::pidns::PidNs>,
    /// Where new children go: `pid_ns`, or a namespace made by
    /// unshare(CLONE_NEWPID).
    pub ns_for_children: SpinLock<Arc<super::pidns::PidNs>>,
    pub tree: SpinLock<Tree>,
    /// The address space; `None` once the process exited.
    pub mm: SpinLock<Option<Arc<Mm>>>,
    /// Descriptor table.
    pub files: SpinLock<Arc<FileTable>>,
    /// Root and current directory.
    pub fs: SpinLock<Arc<Mutex<FsContext>>>,
    /// Signal dispositions.
    pub actions: SpinLock<[SigAction; NSIG as usize]>,
    /// Process-directed pending signals.
    pub shared_pending: SpinLock<Pending>,
    /// Woken when a child changes state (wait4).
    pub child_event: PollSet,
    /// The threads of the group.
    pub threads: SpinLock<Vec<Arc<Thread>>>,
    pub creds: SpinLock<Creds>,
    pub umask: AtomicU32,
    /// Path of the executable (/proc/PID/exe) and its argv (/proc/PID/cmdline).
    pub exe: SpinLock<String>,
    pub cmdline: SpinLock<Vec<String>>,
    /// CPU time (ns) of threads that exited, and of reaped children
    /// (including their reaped descendants), for getrusage and times.
    pub exited_cpu_ns: AtomicU64,
    pub children_cpu_ns: AtomicU64,
    /// The user-mode part of `exited_cpu_ns`.
    pub exited_user_ns: AtomicU64,
    /// The user-mode part of `children_cpu_ns`.
    pub children_user_ns: AtomicU64,
    /// Largest resident set (KiB) of the address spaces this process left
    /// behind (execve, exit): Linux's `signal->maxrss`.
    pub maxrss_kb: AtomicU64,
    /// Largest `maxrss` of the reaped children and their reaped
    /// descendants (`signal->cmaxrss`).
    pub children_maxrss_kb: AtomicU64,
    /// /proc/PID/oom_score_adj (recorded; there is no OOM killer).
    pub oom_score_adj: core::sync::atomic::AtomicI32,
    /// ITIMER_REAL (alarm, setitimer).
    pub real_timer: super::itimer::RealTimer,
    /// Timers on this process's CPU clocks: ITIMER_VIRTUAL, ITIMER_PROF and
    /// POSIX timers on them (whoever owns those).
    pub cpu_timers: super::cputimer::CpuTimers,
    /// The POSIX timers this process created (timer_create).
    pub posix_timers: super::posix_timer::TimerTable,
    /// PR_SET_DUMPABLE value.
    pub dumpable: AtomicU32,
    /// personality(2) persona (execution domain and flags such as UNAME26).
    pub personality: AtomicU32,
    /// Set by the first successful execve (setpgid on a child fails with
    /// EACCES afterwards).
    pub did_exec: AtomicBool,
    /// Signal sent to the parent at exit (the low byte of clone's flags).
    pub exit_signal: SpinLock<i32>,
    /// Released when a vfork child execs or exits.
    pub vfork_done: Arc<VforkDone>,
    /// Resource limits (prlimit64).
    pub rlimits: SpinLock<super::rlimit::Rlimits>,
    /// PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented here
    /// rather than to init.
    pub subreaper: AtomicBool,
    /// The thread running a multi-threaded execve, woken as the other
    /// threads exit (de_thread).
    pub exec_waiter: SpinLock<Option<Arc<Thread>>>,
    /// Monotonic time the process was created (/proc/PID/stat starttime).
    pub start_ns: u64,
    /// The threads this process traces (ptrace).
    pub tracees: SpinLock<Vec<Arc<Thread>>>,
    /// Counts SIGCONT/SIGKILL generations: a stop signal dequeued before
    /// one of them no longer stops (Linux's JOBCTL_STOP_DEQUEUED), e.g. one
    /// a tracer passes on after the process was continued.
    pub cont_seq: AtomicU64,
}

/// The event a vfork parent waits for.
pub struct VforkDone {
    done: AtomicBool,
    event: PollSet,
}

impl VforkDone {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            done: AtomicBool::new(false),
            event: PollSet::new(),
        })
    }

    /// Releases the parent (the child exec'd or exited).
    pub fn complete(&self) {
        if !self.done.swap(true, Ordering::AcqRel) {
            // SAFETY: task context, no lock held.
            unsafe { self.event.wake_all(axpoll::IoEvents::IN) };
        }
    }

    /// Whether the parent may continue.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Subscribes a waiter.
    pub fn register(&self, sink: &mut dyn axpoll::SharedRegistrationSink) {
        // SAFETY: the caller drops the registration before this object.
        unsafe {
            sink.register_shared(&self.event as &dyn axpoll::PollSource, axpoll::IoEvents::IN)
        };
    }
}

impl Process {
    /// Creates a process. The caller registers it in the table and links it
    /// to its parent.
    pub fn new(
        pid: Pid,
        parent: Weak<Process>,
        pgid: Pid,
        sid: Pid,
        mm: Arc<Mm>,
        files: Arc<FileTable>,
        fs: Arc<Mutex<FsContext>>,
        pid_ns: Arc<super::pidns::PidNs>,
    ) -> Arc<Self> {
        mm.claim_pid(pid);
        Arc::new(Self {
            pid,
            ns_for_children: SpinLock::new(pid_ns.clone()),
            pid_ns,
            tree: SpinLock::new(Tree {
                parent,
                children: Vec::new(),
                pgid,
                sid,
                state: ProcState::Running,
                continued: false,
                group_exit: None,
            }),
            mm: SpinLock::new(Some(mm)),
            files: SpinLock::new(files),
            fs: SpinLock::new(fs),
            actions: SpinLock::new([SigAction::default(); NSIG as usize]),
            shared_pending: SpinLock::new(Pending::default()),
            child_event: PollSet::new(),
            threads: SpinLock::new(Vec::new()),
            creds: SpinLock::new(Creds::root()),
            umask: AtomicU32::new(0o022),
            exe: SpinLock::new(String::new()),
            cmdline: SpinLock::new(Vec::new()),
            exited_cpu_ns: AtomicU64::new(0),
            children_cpu_ns: AtomicU64::new(0),
            exited_user_ns: AtomicU64::new(0),
            children_user_ns: AtomicU64::new(0),
            maxrss_kb: AtomicU64::new(0),
            children_maxrss_kb: AtomicU64::new(0),
            oom_score_adj: core::sync::atomic::AtomicI32::new(0),
            real_timer: super::itimer::RealTimer::default(),
            cpu_timers: super::cputimer::CpuTimers::default(),
            posix_timers: super::posix_timer::TimerTable::default(),
            dumpable: AtomicU32::new(1),
            personality: AtomicU32::new(0),
            did_exec: AtomicBool::new(false),
            exit_signal: SpinLock::new(super::signal::SIGCHLD),
            vfork_done: VforkDone::new(),
            rlimits: SpinLock::new(super::rlimit::defaults(
                crate::arch::user_layout().stack_size as u64,
            )),
            subreaper: AtomicBool::new(false),
            exec_waiter: SpinLock::new(None),
            start_ns: ax_hal::time::monotonic_time_nanos(),
            tracees: SpinLock::new(Vec::new()),
            cont_seq: AtomicU64::new(0),
        })
    }

    /// The thread whose id is the process id (after a multi-threaded
    /// execve, the thread that took it over), else the first thread.
    pub fn leader(&self) -> Option<Arc<Thread>> {
        let threads = self.threads.lock();
        threads
            .iter()
            .find(|t| t.tid() == self.pid)
            .or_else(|| threads.first())
            .cloned()
    }

    /// Process group id.
    pub fn pgid(&self) -> Pid {
        self.tree.lock().pgid
    }

    /// Session id.
    pub fn sid(&self) -> Pid {
        self.tree.lock().sid
    }

    /// Parent's global id (0 for init).
    pub fn ppid(&self) -> Pid {
        self.tree.lock().parent.upgrade().map_or(0, |p| p.pid)
    }

    /// The number global id `global` has in this process's PID namespace
    /// (0 when it lies outside: a parent beyond the namespace's init).
    pub fn view(&self, global: Pid) -> Pid {
        self.pid_ns.local_or_zero(global)
    }

    /// The global id of number `local` in this process's namespace.
    pub fn resolve(&self, local: Pid) -> Option<Pid> {
        self.pid_ns.global(local)
    }

    /// Whether this process is the init of its PID namespace (the initial
    /// namespace's init is pid 1).
    pub fn is_ns_init(&self) -> bool {
        self.pid_ns
            .reaper()
            .is_some_and(|r| core::ptr::eq(Arc::as_ptr(&r), self))
    }

    /// Whether this process is the init of namespace `ns`.
    pub fn is_ns_init_of(&self, ns: &super::pidns::PidNs) -> bool {
        ns.reaper()
            .is_some_and(|r| core::ptr::eq(Arc::as_ptr(&r), self))
    }

    /// The address space, unless the process already exited.
    pub fn mm(&self) -> Option<Arc<Mm>> {
        self.mm.lock().clone()
    }

    /// The descriptor table.
    pub fn files(&self) -> Arc<FileTable> {
        self.files.lock().clone()
    }

    /// The filesystem context (root, cwd).
    pub fn fs(&self) -> Arc<Mutex<FsContext>> {
        self.fs.lock().clone()
    }

    /// Whether the process has exited (zombie).
    pub fn is_zombie(&self) -> bool {
        matches!(self.tree.lock().state, ProcState::Zombie { .. })
    }

    /// Reaped children's CPU time: (total, user) in ns.
    pub fn children_cpu(&self) -> CpuSample {
        CpuSample {
            total: self.children_cpu_ns.load(Ordering::Acquire),
            user: self.children_user_ns.load(Ordering::Acquire),
        }
    }

    /// Records the resident set of `mm`, about to be left (execve, exit),
    /// in the high-water mark.
    pub fn note_rss(&self, mm: &super::mm::Mm) {
        let kb = mm.rss_kb();
        self.maxrss_kb.fetch_max(kb, Ordering::AcqRel);
    }

    /// getrusage(RUSAGE_SELF) ru_maxrss: the high-water mark and the
    /// current resident set, in KiB.
    pub fn self_maxrss_kb(&self) -> u64 {
        let now = self.mm().map_or(0, |mm| mm.rss_kb());
        self.maxrss_kb.load(Ordering::Acquire).max(now)
    }

    /// A reading of the process's CPU clocks (all its threads, live and
    /// exited).
    pub fn cpu_sample(&self) -> CpuSample {
        // Exiting threads move their time to the `exited_*` counters under
        // this lock (exit.rs).
        let threads = self.threads.lock();
        let mut sample = CpuSample {
            total: self.exited_cpu_ns.load(Ordering::Acquire),
            user: self.exited_user_ns.load(Ordering::Acquire),
        };
        for t in threads.iter() {
            let s = t.cpu.sample();
            sample.total += s.total;
            sample.user += s.user;
        }
        sample
    }

    /// Whether the process has called execve since it was forked.
    pub fn exe_done(&self) -> bool {
        self.did_exec.load(Ordering::Acquire)
    }

    /// Wakes waiters in wait4 on this process.
    pub fn notify_child_event(&self) {
        // SAFETY: task context, no lock held; the state change was published
        // under `tree` before this call.
        unsafe { self.child_event.wake_all(axpoll::IoEvents::IN) };
    }
}
