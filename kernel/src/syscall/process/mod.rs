//! Process syscalls: clone/fork/vfork, execve, exit, wait4, ids, groups.

mod caps;
mod clone;
mod creds;
mod execve;
mod exit;
mod futex;
mod ids;
mod ptrace;
mod usage;
mod wait;

pub use self::{
    caps::*, clone::*, creds::*, execve::*, exit::*, futex::*, ids::*, ptrace::*, usage::*, wait::*,
};
