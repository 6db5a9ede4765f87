//! System-wide calls: uname, reboot, arch_prctl, getrandom, sched_*, limits.

mod info;
mod membarrier;
mod power;
mod prctl;
mod sched;
mod syslog;

pub use self::{info::*, membarrier::*, power::*, prctl::*, sched::*, syslog::*};
