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

pub mod block;
pub mod cputime;
pub mod creds;
pub mod exit;
pub mod futex;
pub mod itimer;
pub mod jobs;
pub mod mm;
pub mod process;
pub mod run;
pub mod signal;
pub mod stats;
pub mod table;
pub mod thread;
pub mod wait;

pub use self::{
    process::{Pid, Process},
    thread::{Thread, current},
};
