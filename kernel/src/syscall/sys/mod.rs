//! System-wide calls: uname, reboot, arch_prctl, getrandom, sched_*, limits.

mod info;
mod power;

pub use self::{info::*, power::*};
