//! The user's floating-point registers while the kernel runs on its behalf.
//!
//! The runtime switches FP state lazily: during a syscall the hardware
//! registers hold the calling thread's values unless its FS field is Off.
//! Kernel code never uses floating point itself.

use ax_hal::cpu::{registers::FpState, user::UserContext};
use riscv::register::sstatus::{self, FS};

fn user_fs(ctx: &UserContext) -> FS {
    ctx.sstatus.fs()
}

/// A copy of the live FP registers, or `None` when the thread has not used
/// the FPU (FS is Off).
pub fn capture(ctx: &UserContext) -> Option<FpState> {
    if user_fs(ctx) == FS::Off || sstatus::read().fs() == FS::Off {
        return None;
    }
    let mut state = FpState::default();
    state.save();
    state.fs = FS::Clean;
    Some(state)
}

/// Loads saved FP registers and marks them dirty so the next switch-out
/// saves them.
pub fn restore(ctx: &mut UserContext, fp: &[u64; 32], fcsr: usize) {
    // SAFETY: enabling the FPU for the current hart only changes which
    // instructions trap; the registers are about to be loaded.
    unsafe { sstatus::set_fs(FS::Dirty) };
    let state = FpState {
        fp: *fp,
        fcsr,
        fs: FS::Dirty,
    };
    state.restore();
    ctx.sstatus.set_fs(FS::Dirty);
}
