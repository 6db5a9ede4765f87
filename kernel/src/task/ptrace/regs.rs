//! The tracee's registers as ptrace shows them: `struct user_regs_struct`
//! of each architecture (NT_PRSTATUS), the FP state (NT_PRFPREG: x86_64's
//! `fxsave` image, riscv64's `struct __riscv_d_ext_state`), x86_64's
//! `struct user` offsets (PEEKUSER/POKEUSER) and the single-step flag.

use ax_hal::cpu::user::UserContext;

use crate::error::{Errno, KResult};

/// AUDIT_ARCH_* of PTRACE_GET_SYSCALL_INFO.
#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "riscv64")]
pub const AUDIT_ARCH: u32 = 0xc000_00f3;

/// Words in `struct user_regs_struct`.
#[cfg(target_arch = "x86_64")]
pub const NREGS: usize = 27;
#[cfg(target_arch = "riscv64")]
pub const NREGS: usize = 32;

/// x86_64 `struct user` (arch/x86/include/asm/user_64.h): registers, then
/// fields ptrace reads as 0; the debug registers at 848, error_code and
/// fault_address last.
#[cfg(target_arch = "x86_64")]
pub const USER_SIZE: usize = 928;

/// The user_regs_struct words of `ctx`; `orig` is x86_64's orig_rax.
#[cfg(target_arch = "x86_64")]
pub fn get(ctx: &UserContext, orig: usize) -> [u64; NREGS] {
    let r = &ctx.regs;
    [
        r.r15,
        r.r14,
        r.r13,
        r.r12,
        r.rbp,
        r.rbx,
        r.r11,
        r.r10,
        r.r9,
        r.r8,
        r.rax,
        r.rcx,
        r.rdx,
        r.rsi,
        r.rdi,
        orig as u64,
        ctx.rip,
        // Linux's user selectors (__USER_CS, __USER_DS): debuggers tell a
        // 64-bit tracee by its cs.
        USER_CS,
        ctx.rflags,
        ctx.rsp,
        USER_DS,
        ctx.fs_base,
        ctx.gs_base,
        0,
        0,
        0,
        0,
    ]
}

#[cfg(target_arch = "x86_64")]
const USER_CS: u64 = 0x33;
#[cfg(target_arch = "x86_64")]
const USER_DS: u64 = 0x2b;

/// The x87/SSE state in `fxsave` layout (`struct user_fpregs_struct`,
/// NT_PRFPREG).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct FpRegs(pub [u8; 512]);

/// Saves the calling thread's user FP state. The runtime switches the
/// FPU lazily (the registers may hold another task's state while the
/// kernel runs), so the state comes from the runtime, as for a signal
/// frame.
#[cfg(target_arch = "x86_64")]
pub fn save_fp(_ctx: &UserContext) -> FpRegs {
    let mut f = FpRegs([0; 512]);
    if let Ok(state) = ax_runtime::thread::capture_current_user_fp_state() {
        f.0.copy_from_slice(state.fxsave_bytes());
    }
    f
}

/// Loads `f` as the calling thread's user FP state: its x87/SSE part
/// replaces that of the current state (the AVX upper halves stay, as
/// Linux's xfpregs_set leaves the other xfeatures alone).
#[cfg(target_arch = "x86_64")]
pub fn restore_fp(_ctx: &mut UserContext, f: &FpRegs) {
    let mut f = *f;
    sanitize_fp(&mut f);
    let Ok(mut state) = ax_runtime::thread::capture_current_user_fp_state() else {
        return;
    };
    if state.replace_fxsave_bytes(&f.0) {
        let _ = ax_runtime::thread::replace_current_user_fp_state(state);
    }
}

/// riscv64's NT_PRFPREG: `struct __riscv_d_ext_state` (f0..f31, fcsr)
/// padded to the regset's 33 eight-byte words, as arch/riscv/kernel/ptrace.c
/// riscv_fpr_get writes it (the last four bytes are zero).
#[cfg(target_arch = "riscv64")]
#[derive(Clone, Copy)]
pub struct FpRegs(pub [u8; 264]);

/// Byte offset of fcsr in [`FpRegs`].
#[cfg(target_arch = "riscv64")]
const FCSR: usize = 256;

/// Saves the calling thread's user FP state. The kernel never uses the FP
/// registers and the runtime reloads a task's registers when it switches
/// to it, so on the tracee's own task they hold its user values; a thread
/// whose FPU is off reads zeros (Linux's initial `fstate`).
#[cfg(target_arch = "riscv64")]
pub fn save_fp(ctx: &UserContext) -> FpRegs {
    let mut f = FpRegs([0; 264]);
    if let Some(fp) = crate::arch::fp::capture(ctx) {
        for (i, v) in fp.fp.iter().enumerate() {
            f.0[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
        }
        f.0[FCSR..FCSR + 4].copy_from_slice(&(fp.fcsr as u32).to_ne_bytes());
    }
    f
}

/// Loads `f` as the calling thread's user FP state (riscv_fpr_set: the 32
/// registers and fcsr; the padding is ignored).
#[cfg(target_arch = "riscv64")]
pub fn restore_fp(ctx: &mut UserContext, f: &FpRegs) {
    let mut regs = [0u64; 32];
    for (i, r) in regs.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&f.0[i * 8..i * 8 + 8]);
        *r = u64::from_ne_bytes(w);
    }
    let mut w = [0u8; 4];
    w.copy_from_slice(&f.0[FCSR..FCSR + 4]);
    crate::arch::fp::restore(ctx, &regs, u32::from_ne_bytes(w) as usize);
}

/// Clears the MXCSR bits the CPU does not support (Linux masks them with
/// mxcsr_feature_mask on SETFPREGS).
#[cfg(target_arch = "x86_64")]
fn sanitize_fp(f: &mut FpRegs) {
    let word = |o: usize| u32::from_ne_bytes([f.0[o], f.0[o + 1], f.0[o + 2], f.0[o + 3]]);
    let mask = match word(28) {
        0 => 0xffbf,
        m => m,
    };
    let mxcsr = word(24) & mask;
    f.0[24..28].copy_from_slice(&mxcsr.to_ne_bytes());
}

/// Flags user space may change (arch/x86/kernel/ptrace.c FLAG_MASK: CF PF
/// AF ZF SF TF DF OF NT RF AC).
#[cfg(target_arch = "x86_64")]
const FLAG_MASK: u64 = 0x0005_4dd5;

/// Highest user address + 1 for fs_base/gs_base (TASK_SIZE_MAX).
#[cfg(target_arch = "x86_64")]
const TASK_SIZE_MAX: u64 = 0x7fff_ffff_f000;

/// Writes word `i` of user_regs_struct into `ctx` (putreg): segment
/// selectors keep their values, flags only the user-changeable bits.
/// Returns the new orig_rax when `i` is that word.
#[cfg(target_arch = "x86_64")]
pub fn put(ctx: &mut UserContext, i: usize, v: u64) -> KResult<Option<usize>> {
    let r = &mut ctx.regs;
    match i {
        0 => r.r15 = v,
        1 => r.r14 = v,
        2 => r.r13 = v,
        3 => r.r12 = v,
        4 => r.rbp = v,
        5 => r.rbx = v,
        6 => r.r11 = v,
        7 => r.r10 = v,
        8 => r.r9 = v,
        9 => r.r8 = v,
        10 => r.rax = v,
        11 => r.rcx = v,
        12 => r.rdx = v,
        13 => r.rsi = v,
        14 => r.rdi = v,
        15 => return Ok(Some(v as usize)),
        16 => ctx.rip = v,
        18 => ctx.rflags = (ctx.rflags & !FLAG_MASK) | (v & FLAG_MASK),
        19 => ctx.rsp = v,
        21 | 22 if v >= TASK_SIZE_MAX => return Err(Errno::EIO),
        21 => ctx.fs_base = v,
        22 => ctx.gs_base = v,
        // cs, ss, ds, es, fs, gs: only the user selectors are valid, and
        // they are what the thread already has.
        17 | 20 | 23..=26 => {}
        _ => return Err(Errno::EIO),
    }
    Ok(None)
}

/// The user_regs_struct words of `ctx`: pc, then x1..x31.
#[cfg(target_arch = "riscv64")]
pub fn get(ctx: &UserContext, _orig: usize) -> [u64; NREGS] {
    let r = &ctx.regs;
    [
        ctx.sepc, r.ra, r.sp, r.gp, r.tp, r.t0, r.t1, r.t2, r.s0, r.s1, r.a0, r.a1, r.a2, r.a3,
        r.a4, r.a5, r.a6, r.a7, r.s2, r.s3, r.s4, r.s5, r.s6, r.s7, r.s8, r.s9, r.s10, r.s11, r.t3,
        r.t4, r.t5, r.t6,
    ]
    .map(|v| v as u64)
}

/// Writes word `i` of user_regs_struct into `ctx`.
#[cfg(target_arch = "riscv64")]
pub fn put(ctx: &mut UserContext, i: usize, v: u64) -> KResult<Option<usize>> {
    let v = v as usize;
    let r = &mut ctx.regs;
    let slot = match i {
        0 => {
            ctx.sepc = v;
            return Ok(None);
        }
        1 => &mut r.ra,
        2 => &mut r.sp,
        3 => &mut r.gp,
        4 => &mut r.tp,
        5 => &mut r.t0,
        6 => &mut r.t1,
        7 => &mut r.t2,
        8 => &mut r.s0,
        9 => &mut r.s1,
        10 => &mut r.a0,
        11 => &mut r.a1,
        12 => &mut r.a2,
        13 => &mut r.a3,
        14 => &mut r.a4,
        15 => &mut r.a5,
        16 => &mut r.a6,
        17 => &mut r.a7,
        18 => &mut r.s2,
        19 => &mut r.s3,
        20 => &mut r.s4,
        21 => &mut r.s5,
        22 => &mut r.s6,
        23 => &mut r.s7,
        24 => &mut r.s8,
        25 => &mut r.s9,
        26 => &mut r.s10,
        27 => &mut r.s11,
        28 => &mut r.t3,
        29 => &mut r.t4,
        30 => &mut r.t5,
        31 => &mut r.t6,
        _ => return Err(Errno::EIO),
    };
    *slot = v;
    Ok(None)
}

/// The number of the syscall at a syscall-stop: x86_64 keeps it apart
/// from the registers (orig_rax, `recorded`), riscv64 reads a7.
#[cfg(target_arch = "x86_64")]
pub fn syscall_nr(_ctx: &UserContext, recorded: usize) -> usize {
    recorded
}

/// The number of the syscall at a syscall-stop (a7).
#[cfg(target_arch = "riscv64")]
pub fn syscall_nr(ctx: &UserContext, _recorded: usize) -> usize {
    ctx.sysno()
}

/// Sets or clears the trap flag (x86_64 single step).
#[cfg(target_arch = "x86_64")]
pub fn set_single_step(ctx: &mut UserContext, on: bool) {
    const TF: u64 = 1 << 8;
    if on {
        ctx.rflags |= TF;
    } else {
        ctx.rflags &= !TF;
    }
}

/// riscv64 has no hardware single step (Linux: PTRACE_SINGLESTEP is EIO).
#[cfg(target_arch = "riscv64")]
pub fn set_single_step(_ctx: &mut UserContext, _on: bool) {}

/// Whether PTRACE_SINGLESTEP is supported.
pub const HAS_SINGLE_STEP: bool = cfg!(target_arch = "x86_64");

/// The stack pointer, instruction pointer and the six syscall arguments
/// (GET_SYSCALL_INFO).
pub fn syscall_args(ctx: &UserContext) -> [u64; 6] {
    [
        ctx.arg0(),
        ctx.arg1(),
        ctx.arg2(),
        ctx.arg3(),
        ctx.arg4(),
        ctx.arg5(),
    ]
    .map(|v| v as u64)
}
