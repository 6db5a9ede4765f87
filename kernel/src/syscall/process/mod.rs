//! Process syscalls: clone/fork/vfork, execve, exit, wait4, ids, groups.

mod clone;
mod execve;
mod exit;
mod ids;
mod wait;

pub use self::{clone::*, execve::*, exit::*, ids::*, wait::*};
