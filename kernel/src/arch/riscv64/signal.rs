//! riscv64 signal frames, laid out as Linux's `struct rt_sigframe`
//! (arch/riscv/kernel/signal.c): `siginfo` followed by `ucontext`, whose
//! `uc_mcontext` holds pc and x1..x31 and the floating-point state. The
//! handler returns through the signal-return trampoline page, as Linux
//! returns through the vDSO's `__vdso_rt_sigreturn`.
//!
//! The floating-point registers are saved in `sc_fpregs` (the D-extension
//! layout: f0..f31 then fcsr) and restored by rt_sigreturn.

use ax_hal::cpu::user::UserContext;

use crate::{
    error::{Errno, KResult},
    task::signal::{SigInfo, SigSet, altstack::AltStack},
    usercopy::{copy_from_user, copy_to_user},
};

const FRAME_SIZE: usize = 128 + 960;
const UC: usize = 128;
const UC_STACK: usize = UC + 16;
const SIGMASK: usize = UC + 40;
const MCONTEXT: usize = UC + 176;
const FPREGS: usize = MCONTEXT + 256;

fn gregs(ctx: &UserContext) -> [usize; 32] {
    let r = &ctx.regs;
    [
        ctx.sepc, r.ra, r.sp, r.gp, r.tp, r.t0, r.t1, r.t2, r.s0, r.s1, r.a0, r.a1, r.a2, r.a3,
        r.a4, r.a5, r.a6, r.a7, r.s2, r.s3, r.s4, r.s5, r.s6, r.s7, r.s8, r.s9, r.s10, r.s11, r.t3,
        r.t4, r.t5, r.t6,
    ]
}

/// Builds the frame for a handler and points the context at it;
/// `trampoline` is the signal-return page (unless SA_RESTORER gave one).
pub fn setup_frame(
    ctx: &mut UserContext,
    sig: i32,
    info: &SigInfo,
    handler: usize,
    trampoline: usize,
    old_mask: SigSet,
    stack_top: Option<usize>,
    uc_stack: AltStack,
) -> KResult<()> {
    let sp = stack_top.unwrap_or(ctx.regs.sp);
    let frame = (sp - FRAME_SIZE) & !15;
    let mut f = alloc::vec![0u8; FRAME_SIZE];
    f[0..128].copy_from_slice(&info.to_user());
    f[UC_STACK..UC_STACK + 24].copy_from_slice(&uc_stack.to_user());
    f[SIGMASK..SIGMASK + 8].copy_from_slice(&old_mask.0.to_ne_bytes());
    for (i, v) in gregs(ctx).iter().enumerate() {
        let off = MCONTEXT + i * 8;
        f[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }
    if let Some(fp) = super::fp::capture(ctx) {
        for (i, v) in fp.fp.iter().enumerate() {
            f[FPREGS + i * 8..FPREGS + i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
        }
        f[FPREGS + 256..FPREGS + 260].copy_from_slice(&(fp.fcsr as u32).to_ne_bytes());
    }
    copy_to_user(frame, &f)?;
    ctx.regs.sp = frame;
    ctx.sepc = handler;
    ctx.regs.ra = trampoline;
    ctx.regs.a0 = sig as usize;
    ctx.regs.a1 = frame;
    ctx.regs.a2 = frame + UC;
    Ok(())
}

/// Undoes [`setup_frame`] at rt_sigreturn; returns the mask to restore
/// and the `uc_stack` the frame holds.
pub fn restore_frame(ctx: &mut UserContext) -> KResult<(SigSet, AltStack)> {
    let frame = ctx.regs.sp;
    let mut f = alloc::vec![0u8; FRAME_SIZE];
    copy_from_user(&mut f, frame).map_err(|_| Errno::EFAULT)?;
    let word = |off: usize| usize::from_ne_bytes(f[off..off + 8].try_into().unwrap_or([0; 8]));
    let g = |i: usize| word(MCONTEXT + i * 8);
    ctx.sepc = g(0);
    let r = &mut ctx.regs;
    r.ra = g(1);
    r.sp = g(2);
    r.gp = g(3);
    r.tp = g(4);
    r.t0 = g(5);
    r.t1 = g(6);
    r.t2 = g(7);
    r.s0 = g(8);
    r.s1 = g(9);
    r.a0 = g(10);
    r.a1 = g(11);
    r.a2 = g(12);
    r.a3 = g(13);
    r.a4 = g(14);
    r.a5 = g(15);
    r.a6 = g(16);
    r.a7 = g(17);
    r.s2 = g(18);
    r.s3 = g(19);
    r.s4 = g(20);
    r.s5 = g(21);
    r.s6 = g(22);
    r.s7 = g(23);
    r.s8 = g(24);
    r.s9 = g(25);
    r.s10 = g(26);
    r.s11 = g(27);
    r.t3 = g(28);
    r.t4 = g(29);
    r.t5 = g(30);
    r.t6 = g(31);
    let mut fp = [0u64; 32];
    for (i, v) in fp.iter_mut().enumerate() {
        *v = word(FPREGS + i * 8) as u64;
    }
    let fcsr = u32::from_ne_bytes(f[FPREGS + 256..FPREGS + 260].try_into().unwrap_or([0; 4]));
    super::fp::restore(ctx, &fp, fcsr as usize);
    let stack: [u8; 24] = f[UC_STACK..UC_STACK + 24].try_into().unwrap_or([0; 24]);
    Ok((SigSet(word(SIGMASK) as u64), AltStack::from_user(&stack)))
}

/// The user stack pointer of an interrupted context.
pub fn stack_pointer(ctx: &UserContext) -> usize {
    ctx.regs.sp
}

/// Machine code of the signal-return trampoline: `li a7, 139; ecall`.
pub const SIGRETURN_CODE: [u8; 8] = [0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00];

/// NT_PRFPREG: `struct __riscv_d_ext_state` (f0 … f31, fcsr, padding),
/// when the thread has used the FPU.
pub fn core_fpregs(ctx: &UserContext) -> Option<alloc::vec::Vec<u8>> {
    let fp = super::fp::capture(ctx)?;
    let mut b: alloc::vec::Vec<u8> = fp.fp.iter().flat_map(|v| v.to_le_bytes()).collect();
    b.extend_from_slice(&(fp.fcsr as u32).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    Some(b)
}
