//! System-wide calls: uname, reboot, arch_prctl, getrandom, sched_*, limits.

mod info;
mod power;
mod prctl;

pub use self::{info::*, power::*, prctl::*};
