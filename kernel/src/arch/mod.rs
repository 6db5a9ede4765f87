//! Architecture glue: everything that differs between x86_64 and riscv64.
//!
//! Every architecture module exports the same names: the user address-space
//! layout, the ELF machine number, the kernel-log port, fw_cfg access, the
//! syscall table and the signal-frame layout. Code outside `arch` never tests
//! `target_arch` itself.

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "riscv64")]
pub use self::riscv64::*;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;
