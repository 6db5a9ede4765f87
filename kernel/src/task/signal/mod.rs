//! POSIX signals: numbers, sets, actions, pending queues and delivery.
//!
//! Dispositions ([`SigAction`]) belong to the process; the blocked mask and
//! the thread-directed pending set belong to the thread; process-directed
//! signals (kill) wait in the process's shared pending set. Delivery happens
//! on the way back to user mode ([`deliver::deliver_pending`]): default
//! actions terminate, stop, continue or ignore; a handler gets a frame on the
//! user stack built by the architecture's `arch::signal` code, and `rt_sigreturn`
//! undoes it.

pub mod altstack;
mod consts;
pub mod deliver;
pub mod send;
pub mod sigio;

use alloc::{collections::VecDeque, sync::Arc};

pub use self::consts::*;
use crate::task::Thread;

/// `SIG_DFL` and `SIG_IGN` handler values.
pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;

/// A set of signals; bit `n-1` is signal `n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// The bit of one signal.
    pub const fn of(sig: i32) -> Self {
        Self(1u64 << (sig - 1))
    }

    /// Whether `sig` is in the set.
    pub const fn has(self, sig: i32) -> bool {
        self.0 & (1u64 << (sig - 1)) != 0
    }

    /// Adds `sig`.
    pub fn add(&mut self, sig: i32) {
        self.0 |= 1u64 << (sig - 1);
    }

    /// Removes `sig`.
    pub fn remove(&mut self, sig: i32) {
        self.0 &= !(1u64 << (sig - 1));
    }

    /// The set without SIGKILL and SIGSTOP, which can never be blocked.
    pub const fn blockable(self) -> Self {
        Self(self.0 & !((1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))))
    }
}

/// Signals with `si_code` values of their own (kernel/signal.c
/// SIG_SPECIFIC_SICODES_MASK): SIGIO sent for another reason than SIGPOLL's
/// POLL_* codes carries SI_SIGIO on them.
pub const SIGPOLL_SPECIFIC: SigSet = SigSet(
    SigSet::of(SIGILL).0
        | SigSet::of(SIGFPE).0
        | SigSet::of(SIGSEGV).0
        | SigSet::of(SIGBUS).0
        | SigSet::of(SIGTRAP).0
        | SigSet::of(SIGCHLD).0
        | SigSet::of(SIGIO).0
        | SigSet::of(SIGSYS).0,
);

/// Whether `sig` is a valid signal number.
pub const fn valid(sig: i32) -> bool {
    sig >= 1 && sig <= NSIG
}

/// One disposition (kernel `struct sigaction`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SigAction {
    pub handler: usize,
    pub flags: u64,
    pub restorer: usize,
    pub mask: SigSet,
}

/// What a signal does when its disposition is SIG_DFL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    /// Terminate with a core dump (task/coredump.rs): the wait status
    /// carries the 0x80 bit only when a core file was written.
    Core,
    Ignore,
    Stop,
    Continue,
}

/// The default action of `sig` (signal(7)).
pub const fn default_action(sig: i32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::Core,
        _ => DefaultAction::Terminate,
    }
}

/// Signal information (`siginfo_t`) in kernel form.
#[derive(Clone, Copy, Debug, Default)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub errno: i32,
    pub pid: i32,
    pub uid: u32,
    pub status: i32,
    pub addr: usize,
    pub value: usize,
    /// `si_timerid` and `si_overrun` of an `SI_TIMER` signal.
    pub timer_id: i32,
    pub overrun: i32,
    /// Kernel-only: the POSIX timer that queued this signal (its
    /// [`crate::task::posix_timer`] key), 0 for every other signal. A
    /// queued entry with a key is the timer's one preallocated signal.
    pub timer_key: u64,
    /// `si_band` and `si_fd` of a SIGIO or F_SETSIG signal from an O_ASYNC
    /// description (task/signal/sigio.rs); `poll` selects that layout
    /// (kernel/signal.c SIL_POLL).
    pub band: i64,
    pub fd: i32,
    pub poll: bool,
}

impl SigInfo {
    /// A signal sent by a process (kill).
    pub fn user(signo: i32, pid: i32, uid: u32) -> Self {
        Self {
            signo,
            code: SI_USER,
            pid,
            uid,
            ..Self::default()
        }
    }

    /// A signal raised by the kernel itself.
    pub fn kernel(signo: i32) -> Self {
        Self {
            signo,
            code: SI_KERNEL,
            ..Self::default()
        }
    }

    /// A synchronous fault signal with its address.
    pub fn fault(signo: i32, code: i32, addr: usize) -> Self {
        Self {
            signo,
            code,
            addr,
            ..Self::default()
        }
    }

    /// The information as `receiver` sees it: the sender's (or child's)
    /// global pid becomes its number in the receiver's PID namespace, 0 if
    /// the sender is outside it. Applied when the signal is queued, while
    /// the sender's numbers still exist.
    pub fn for_receiver(mut self, receiver: &crate::task::Process) -> Self {
        if self.pid != 0 {
            self.pid = receiver.view(self.pid);
        }
        self
    }

    /// The 128-byte user `siginfo_t`.
    pub fn to_user(self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.to_ne_bytes());
        b[8..12].copy_from_slice(&self.code.to_ne_bytes());
        match self.signo {
            // SIL_TIMER (kernel/signal.c siginfo_layout): si_tid at 16,
            // si_overrun at 20, si_value at 24, whatever the signal.
            _ if self.code == SI_TIMER => {
                b[16..20].copy_from_slice(&self.timer_id.to_ne_bytes());
                b[20..24].copy_from_slice(&self.overrun.to_ne_bytes());
                b[24..32].copy_from_slice(&self.value.to_ne_bytes());
            }
            SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP if self.code > 0 => {
                b[16..24].copy_from_slice(&self.addr.to_ne_bytes());
            }
            _ if self.poll => {
                b[16..24].copy_from_slice(&self.band.to_ne_bytes());
                b[24..28].copy_from_slice(&self.fd.to_ne_bytes());
            }
            SIGCHLD => {
                b[16..20].copy_from_slice(&self.pid.to_ne_bytes());
                b[20..24].copy_from_slice(&self.uid.to_ne_bytes());
                b[24..28].copy_from_slice(&self.status.to_ne_bytes());
            }
            _ => {
                b[16..20].copy_from_slice(&self.pid.to_ne_bytes());
                b[20..24].copy_from_slice(&self.uid.to_ne_bytes());
                b[24..32].copy_from_slice(&self.value.to_ne_bytes());
            }
        }
        b
    }
}

/// Pending signals of a thread or a process.
#[derive(Default)]
pub struct Pending {
    set: SigSet,
    infos: VecDeque<SigInfo>,
}

impl Pending {
    /// Queues a signal. Standard signals coalesce; real-time ones queue.
    pub fn push(&mut self, info: SigInfo) {
        if info.signo < SIGRTMIN && self.set.has(info.signo) {
            return;
        }
        self.set.add(info.signo);
        self.infos.push_back(info);
    }

    /// Queues the signal of a POSIX timer (`info.timer_key` set). As Linux's
    /// send_sigqueue, the timer has one preallocated entry: while it is still
    /// queued nothing new is queued and its `si_overrun` grows by the
    /// expirations this one stands for (`1 + info.overrun`) instead. Standard
    /// signals do not coalesce with it. Returns true if a new entry was queued.
    pub fn push_timer(&mut self, info: SigInfo) -> bool {
        if let Some(queued) = self
            .infos
            .iter_mut()
            .find(|i| i.timer_key == info.timer_key)
        {
            let more = info.overrun.saturating_add(1);
            queued.overrun = queued.overrun.saturating_add(more);
            return false;
        }
        self.set.add(info.signo);
        self.infos.push_back(info);
        true
    }

    /// Drops every queued POSIX timer signal (execve's flush_itimer_signals).
    pub fn discard_timer_signals(&mut self) {
        self.infos.retain(|i| i.timer_key == 0);
        let mut set = SigSet::EMPTY;
        for i in &self.infos {
            set.add(i.signo);
        }
        self.set = set;
    }

    /// The pending set.
    pub fn set(&self) -> SigSet {
        self.set
    }

    /// The `i`th queued signal, oldest first (PTRACE_PEEKSIGINFO).
    pub fn peek(&self, i: usize) -> Option<SigInfo> {
        self.infos.get(i).copied()
    }

    /// Number of queued signals (each real-time instance counts).
    pub fn queued(&self) -> usize {
        self.infos.len()
    }

    /// Removes and returns the lowest-numbered pending signal not in `blocked`.
    pub fn take(&mut self, blocked: SigSet) -> Option<SigInfo> {
        let ready = self.set.0 & !blocked.0;
        if ready == 0 {
            return None;
        }
        // SIGKILL first, then the lowest number.
        let sig = if ready & SigSet::of(SIGKILL).0 != 0 {
            SIGKILL
        } else {
            ready.trailing_zeros() as i32 + 1
        };
        let idx = self.infos.iter().position(|i| i.signo == sig)?;
        let info = self.infos.remove(idx)?;
        if !self.infos.iter().any(|i| i.signo == sig) {
            self.set.remove(sig);
        }
        Some(info)
    }

    /// Drops every pending instance of signals in `which`.
    pub fn discard(&mut self, which: SigSet) {
        self.set.0 &= !which.0;
        self.infos.retain(|i| !which.has(i.signo));
    }
}

/// Takes the next signal for `thread` not in `blocked`: its own pending
/// signals first, then the process's. A POSIX timer signal reports its
/// overrun count to the timer as it leaves the queue (timer_getoverrun(2)
/// returns the count of the last delivered signal).
pub fn dequeue(thread: &Arc<Thread>, blocked: SigSet) -> Option<SigInfo> {
    let own = thread.pending.lock().take(blocked);
    let info = own.or_else(|| thread.process.shared_pending.lock().take(blocked))?;
    if info.timer_key != 0 {
        crate::task::posix_timer::delivered(&thread.process, &info);
    }
    Some(info)
}
