//! Signal syscalls.

mod action;
mod kill;
mod mask;

pub use self::{action::*, kill::*, mask::*};
