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

use alloc::collections::VecDeque;

pub use self::consts::*;

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
    /// Terminate with a core dump; Starling writes no core file, so the wait
    /// status carries no 0x80 bit, as on Linux when no core is written.
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

    /// The 128-byte user `siginfo_t`.
    pub fn to_user(self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.to_ne_bytes());
        b[8..12].copy_from_slice(&self.code.to_ne_bytes());
        match self.signo {
            SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP if self.code > 0 => {
                b[16..24].copy_from_slice(&self.addr.to_ne_bytes());
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

    /// The pending set.
    pub fn set(&self) -> SigSet {
        self.set
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
