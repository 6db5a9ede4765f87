//! The per-architecture syscall tables: number → handler, nothing else.

#[cfg(target_arch = "riscv64")]
mod names_riscv64;
#[cfg(target_arch = "x86_64")]
mod names_x86_64;
#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "riscv64")]
pub use self::{
    names_riscv64::name,
    riscv64::{dispatch, sets_return_register},
};
#[cfg(target_arch = "x86_64")]
pub use self::{
    names_x86_64::name,
    x86_64::{dispatch, sets_return_register},
};
