//! rt_sigaction(2) and rt_sigreturn(2).

use arch::KSIGACTION_SIZE;

use crate::{
    arch,
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::signal::{SIGKILL, SIGSTOP, SigAction, SigSet, altstack::AltStack, valid},
    usercopy,
};

/// The kernel `struct sigaction`: handler, flags, then (x86_64 only)
/// restorer, then the mask; riscv64 has no sa_restorer.
fn encode(act: &SigAction) -> [u8; KSIGACTION_SIZE] {
    let mut b = [0u8; KSIGACTION_SIZE];
    b[0..8].copy_from_slice(&(act.handler as u64).to_ne_bytes());
    b[8..16].copy_from_slice(&act.flags.to_ne_bytes());
    if KSIGACTION_SIZE == 32 {
        b[16..24].copy_from_slice(&(act.restorer as u64).to_ne_bytes());
    }
    b[KSIGACTION_SIZE - 8..].copy_from_slice(&act.mask.0.to_ne_bytes());
    b
}

fn decode(b: &[u8; KSIGACTION_SIZE]) -> SigAction {
    let w = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    SigAction {
        handler: w(0) as usize,
        flags: w(8),
        restorer: if KSIGACTION_SIZE == 32 {
            w(16) as usize
        } else {
            0
        },
        mask: SigSet(w(KSIGACTION_SIZE - 8)).blockable(),
    }
}

/// rt_sigaction(2).
#[inline(never)]
pub fn sys_rt_sigaction(
    sc: &mut SyscallContext<'_>,
    sig: i32,
    act: usize,
    oldact: usize,
    sigsetsize: usize,
) -> SysResult {
    if sigsetsize != 8 || !valid(sig) {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        let mut b = [0u8; KSIGACTION_SIZE];
        usercopy::copy_from_user(&mut b, act)?;
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(Errno::EINVAL);
        }
        Some(decode(&b))
    } else {
        None
    };
    let old = {
        let mut actions = sc.thread.process.actions.lock();
        let slot = &mut actions[(sig - 1) as usize];
        let old = *slot;
        if let Some(new) = new {
            *slot = new;
        }
        old
    };
    if let Some(new) = new {
        // Setting SIG_IGN (or SIG_DFL for a default-ignored signal) discards
        // pending instances (signal(7), POSIX).
        use crate::task::signal::{DefaultAction, SIG_DFL, SIG_IGN, default_action};
        if new.handler == SIG_IGN
            || (new.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore)
        {
            let p = &sc.thread.process;
            p.shared_pending.lock().discard(SigSet::of(sig));
            for t in p.threads.lock().iter() {
                t.pending.lock().discard(SigSet::of(sig));
            }
        }
    }
    if oldact != 0 {
        usercopy::copy_to_user(oldact, &encode(&old))?;
    }
    Ok(0)
}

/// rt_sigreturn(2): restores the registers and mask saved in the frame.
/// The dispatcher leaves the return register alone for this call.
#[inline(never)]
pub fn sys_rt_sigreturn(sc: &mut SyscallContext<'_>) -> SysResult {
    match arch::signal::restore_frame(sc.uctx) {
        Ok((mask, uc_stack)) => {
            sc.thread.set_sigmask(mask);
            // restore_altstack: reinstate the stack the frame recorded
            // (this re-arms an SS_AUTODISARM stack); refused, as
            // sigaltstack would be, while still running on the stack.
            let sp = arch::signal::stack_pointer(sc.uctx);
            let mut alt = sc.thread.altstack.lock();
            if !alt.contains(sp) {
                if let Ok(new) = AltStack::validate(uc_stack) {
                    *alt = new;
                }
            }
            Ok(0)
        }
        Err(_) => {
            crate::task::exit::group_exit(sc.thread, crate::task::signal::SIGSEGV);
            Ok(0)
        }
    }
}

/// sigaltstack(2).
#[inline(never)]
pub fn sys_sigaltstack(sc: &mut SyscallContext<'_>, ss: usize, old_ss: usize) -> SysResult {
    let sp = arch::signal::stack_pointer(sc.uctx);
    let new = if ss != 0 {
        let mut b = [0u8; 24];
        usercopy::copy_from_user(&mut b, ss)?;
        Some(AltStack::from_user(&b))
    } else {
        None
    };
    let mut alt = sc.thread.altstack.lock();
    let old = alt.report(sp);
    if let Some(new) = new {
        if alt.contains(sp) {
            return Err(Errno::EPERM);
        }
        *alt = AltStack::validate(new)?;
    }
    drop(alt);
    if old_ss != 0 {
        usercopy::copy_to_user(old_ss, &old.to_user())?;
    }
    Ok(0)
}
