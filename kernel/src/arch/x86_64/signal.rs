//! x86_64 signal frames, laid out as Linux's `struct rt_sigframe`
//! (arch/x86/include/asm/sigframe.h): return address, `ucontext` with the
//! `sigcontext` registers and the saved mask, `siginfo`, and a 512-byte
//! FXSAVE image that `sigcontext.fpstate` points to.

use ax_hal::cpu::user::UserContext;

use crate::{
    error::{Errno, KResult},
    task::signal::{SigInfo, SigSet, altstack::AltStack},
    usercopy::{copy_from_user, copy_to_user},
};

const FRAME_SIZE: usize = 440;
const UC: usize = 8;
const UC_STACK: usize = UC + 16;
const MCONTEXT: usize = UC + 40;
const SIGMASK: usize = UC + 296;
const INFO: usize = 312;
const FXSAVE_SIZE: usize = 512;
const REDZONE: usize = 128;
/// UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS.
const UC_FLAGS: u64 = 6;
/// EFLAGS bits a signal handler may change (arch/x86/kernel/signal.c FIX_EFLAGS).
const FIX_EFLAGS: u64 = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;

/// Order of the general registers in `struct sigcontext` (r8 … rcx, rsp, rip).
fn gregs(ctx: &UserContext) -> [u64; 18] {
    let r = &ctx.regs;
    [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, ctx.rsp, ctx.rip, ctx.rflags,
    ]
}

/// Builds the frame for a handler and points the context at it.
///
/// `restorer` is the SA_RESTORER address (glibc and musl always provide it).
pub fn setup_frame(
    ctx: &mut UserContext,
    sig: i32,
    info: &SigInfo,
    handler: usize,
    restorer: usize,
    old_mask: SigSet,
    stack_top: Option<usize>,
    uc_stack: AltStack,
) -> KResult<()> {
    // The handler's frame goes below the red zone of the interrupted code,
    // or at the top of the alternate stack.
    let sp = stack_top.unwrap_or(ctx.rsp as usize - REDZONE);
    let fp_addr = (sp - FXSAVE_SIZE) & !63;
    let frame = ((fp_addr - FRAME_SIZE) & !15) - 8;

    let fx = ax_runtime::thread::capture_current_user_fp_state().map_err(|_| Errno::EFAULT)?;
    copy_to_user(fp_addr, fx.fxsave_bytes())?;

    let mut f = [0u8; FRAME_SIZE];
    f[0..8].copy_from_slice(&(restorer as u64).to_ne_bytes());
    f[UC..UC + 8].copy_from_slice(&UC_FLAGS.to_ne_bytes());
    f[UC_STACK..UC_STACK + 24].copy_from_slice(&uc_stack.to_user());
    for (i, v) in gregs(ctx).iter().enumerate() {
        let off = MCONTEXT + i * 8;
        f[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }
    // cs, gs, fs, ss as 16-bit fields.
    f[MCONTEXT + 144..MCONTEXT + 146].copy_from_slice(&(ctx.cs as u16).to_ne_bytes());
    f[MCONTEXT + 150..MCONTEXT + 152].copy_from_slice(&(ctx.ss as u16).to_ne_bytes());
    f[MCONTEXT + 160..MCONTEXT + 168].copy_from_slice(&ctx.vector.to_ne_bytes());
    f[MCONTEXT + 168..MCONTEXT + 176].copy_from_slice(&old_mask.0.to_ne_bytes());
    f[MCONTEXT + 184..MCONTEXT + 192].copy_from_slice(&(fp_addr as u64).to_ne_bytes());
    f[SIGMASK..SIGMASK + 8].copy_from_slice(&old_mask.0.to_ne_bytes());
    f[INFO..INFO + 128].copy_from_slice(&info.to_user());
    copy_to_user(frame, &f)?;

    ctx.rsp = frame as u64;
    ctx.rip = handler as u64;
    ctx.regs.rdi = sig as u64;
    ctx.regs.rsi = (frame + INFO) as u64;
    ctx.regs.rdx = (frame + UC) as u64;
    ctx.regs.rax = 0;
    // The handler starts with DF and TF clear (Linux clears them too).
    ctx.rflags &= !(0x400 | 0x100);
    Ok(())
}

/// Undoes [`setup_frame`] at rt_sigreturn; returns the mask to restore
/// and the `uc_stack` the frame holds.
pub fn restore_frame(ctx: &mut UserContext) -> KResult<(SigSet, AltStack)> {
    let frame = (ctx.rsp as usize).checked_sub(8).ok_or(Errno::EFAULT)?;
    let mut f = [0u8; FRAME_SIZE];
    copy_from_user(&mut f, frame)?;
    let word = |off: usize| u64::from_ne_bytes(f[off..off + 8].try_into().unwrap_or([0; 8]));
    let g = |i: usize| word(MCONTEXT + i * 8);
    let r = &mut ctx.regs;
    r.r8 = g(0);
    r.r9 = g(1);
    r.r10 = g(2);
    r.r11 = g(3);
    r.r12 = g(4);
    r.r13 = g(5);
    r.r14 = g(6);
    r.r15 = g(7);
    r.rdi = g(8);
    r.rsi = g(9);
    r.rbp = g(10);
    r.rbx = g(11);
    r.rdx = g(12);
    r.rax = g(13);
    r.rcx = g(14);
    ctx.rsp = g(15);
    ctx.rip = g(16);
    ctx.rflags = (ctx.rflags & !FIX_EFLAGS) | (g(17) & FIX_EFLAGS);
    let fp_addr = word(MCONTEXT + 184) as usize;
    if fp_addr != 0 {
        let mut bytes = [0u8; FXSAVE_SIZE];
        copy_from_user(&mut bytes, fp_addr)?;
        let mut state = ax_hal::cpu::registers::UserXstate::initial();
        if state.replace_fxsave_bytes(&bytes) {
            let _ = ax_runtime::thread::replace_current_user_fp_state(state);
        }
    }
    let stack: [u8; 24] = f[UC_STACK..UC_STACK + 24].try_into().unwrap_or([0; 24]);
    Ok((SigSet(word(SIGMASK)), AltStack::from_user(&stack)))
}

/// The user stack pointer of an interrupted context.
pub fn stack_pointer(ctx: &UserContext) -> usize {
    ctx.rsp as usize
}

/// NT_PRFPREG: the 512-byte FXSAVE image (`struct user_i387_struct`).
pub fn core_fpregs(_ctx: &UserContext) -> Option<alloc::vec::Vec<u8>> {
    ax_runtime::thread::capture_current_user_fp_state()
        .ok()
        .map(|fx| fx.fxsave_bytes().to_vec())
}
