//! Processes and threads.
//!
//! A [`Process`] is a thread group: address space, descriptor table,
//! filesystem context, signal dispositions, credentials, and its place in the
//! process tree (parent, children, process group, session). A [`Thread`] is
//! one schedulable user context; every user thread runs on its own ArceOS
//! kernel task whose body is the loop in [`run`].
//!
//! Lock order (outer first): `table::PROCESSES` → `Process::tree` →
//! `Thread::pending`/`Process::shared_pending`. The address-space mutex is
//! never held across a user-memory access (see `starling_mm::aspace`).
//! Timer state locks are leaves under `Process::posix_timers` or a
//! `CpuTimers` list, never held while sending a signal (see `posix_timer`).

pub mod access;
pub mod block;
pub mod clock;
pub mod coredump;
pub mod cputime;
pub mod cputimer;
pub mod creds;
pub mod exit;
pub mod futex;
pub mod itimer;
pub mod jobs;
pub mod mm;
pub mod pidns;
pub mod posix_timer;
pub mod process;
pub mod ptrace;
pub mod rlimit;
pub mod run;
pub mod sched;
pub mod signal;
pub mod stats;
pub mod table;
pub mod thread;
pub mod wait;

pub use self::{
    process::{Pid, Process},
    thread::{Thread, current},
};
