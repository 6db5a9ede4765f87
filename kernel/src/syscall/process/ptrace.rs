//! ptrace(2): the tracer's requests (kernel/ptrace.c sys_ptrace,
//! ptrace_request, and the arch_ptrace requests of x86_64 and riscv64).
//!
//! TRACEME, ATTACH and SEIZE make the link; every other request needs a
//! tracee of the caller that is in a ptrace-stop (ESRCH otherwise), except
//! KILL and INTERRUPT. The tracee's side lives in [`crate::task::ptrace`].

use alloc::sync::Arc;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::{
        Thread,
        access::{AccessCreds, may_attach},
        ptrace::{self, O_MASK, Resume, regs, syscall::info as syscall_info},
        signal::{self, SIGKILL, SIGSTOP, SigInfo, SigSet, send},
    },
    usercopy,
};

const TRACEME: i64 = 0;
const PEEKTEXT: i64 = 1;
const PEEKDATA: i64 = 2;
const PEEKUSR: i64 = 3;
const POKETEXT: i64 = 4;
const POKEDATA: i64 = 5;
const POKEUSR: i64 = 6;
const CONT: i64 = 7;
const KILL: i64 = 8;
const SINGLESTEP: i64 = 9;
#[cfg(target_arch = "x86_64")]
const GETREGS: i64 = 12;
#[cfg(target_arch = "x86_64")]
const SETREGS: i64 = 13;
#[cfg(target_arch = "x86_64")]
const GETFPREGS: i64 = 14;
#[cfg(target_arch = "x86_64")]
const SETFPREGS: i64 = 15;
const ATTACH: i64 = 16;
const DETACH: i64 = 17;
const SYSCALL: i64 = 24;
const SETOPTIONS: i64 = 0x4200;
const GETEVENTMSG: i64 = 0x4201;
const GETSIGINFO: i64 = 0x4202;
const SETSIGINFO: i64 = 0x4203;
const GETREGSET: i64 = 0x4204;
const SETREGSET: i64 = 0x4205;
const SEIZE: i64 = 0x4206;
const INTERRUPT: i64 = 0x4207;
const LISTEN: i64 = 0x4208;
const PEEKSIGINFO: i64 = 0x4209;
const GETSIGMASK: i64 = 0x420a;
const SETSIGMASK: i64 = 0x420b;
const GET_SYSCALL_INFO: i64 = 0x420e;

/// ELF note types of GETREGSET/SETREGSET.
const NT_PRSTATUS: usize = 1;
const NT_PRFPREG: usize = 2;
/// The word size of both register sets (`user_regset.size`): an iov_len
/// that is not a multiple of it is EINVAL (kernel/ptrace.c ptrace_regset).
const REGSET_WORD: usize = 8;

/// ptrace(2).
#[inline(never)]
pub fn sys_ptrace(
    sc: &mut SyscallContext<'_>,
    request: i64,
    pid: i32,
    addr: usize,
    data: usize,
) -> SysResult {
    let me = sc.thread.process.clone();
    if request == TRACEME {
        return traceme(sc.thread);
    }
    let target = sc.thread_by_tid(pid).ok_or(Errno::ESRCH)?;
    match request {
        ATTACH | SEIZE => return attach(sc, &target, request == SEIZE, addr, data),
        KILL | INTERRUPT => {
            let traced_by_me = me.tracees.lock().iter().any(|t| Arc::ptr_eq(t, &target));
            if !traced_by_me {
                return Err(Errno::ESRCH);
            }
            if request == KILL {
                send::send_to_process(&target.process, SigInfo::kernel(SIGKILL));
            } else {
                interrupt(&target)?;
            }
            return Ok(0);
        }
        _ => {}
    }
    let t = ptrace::stopped_tracee(&me, target.tid())?;
    match request {
        PEEKTEXT | PEEKDATA => {
            let mut word = [0u8; 8];
            remote(&t, addr, &mut word, false)?;
            usercopy::copy_to_user(data, &word)?;
            Ok(0)
        }
        POKETEXT | POKEDATA => {
            let mut word = (data as u64).to_ne_bytes();
            remote(&t, addr, &mut word, true)?;
            Ok(0)
        }
        PEEKUSR => {
            let v = peek_user(&t, addr)?;
            usercopy::write_u64(data, v)?;
            Ok(0)
        }
        POKEUSR => poke_user(&t, addr, data as u64).map(|()| 0),
        CONT | SYSCALL | SINGLESTEP => {
            let sig = resume_signal(data)?;
            if request == SINGLESTEP && !regs::HAS_SINGLE_STEP {
                return Err(Errno::EIO);
            }
            resume(
                &t,
                Resume::Cont(sig),
                request == SYSCALL,
                request == SINGLESTEP,
            );
            Ok(0)
        }
        DETACH => {
            let sig = resume_signal(data)?;
            ptrace::unlink(&me, &t, sig);
            Ok(0)
        }
        #[cfg(target_arch = "x86_64")]
        GETREGS => {
            let words = get_regs(&t)?;
            usercopy::copy_to_user(data, &to_bytes(&words))?;
            Ok(0)
        }
        #[cfg(target_arch = "x86_64")]
        SETREGS => {
            let mut bytes = [0u8; regs::NREGS * 8];
            usercopy::copy_from_user(&mut bytes, data)?;
            set_regs(&t, &bytes)?;
            Ok(0)
        }
        #[cfg(target_arch = "x86_64")]
        GETFPREGS => {
            usercopy::copy_to_user(data, &get_fp(&t)?.0)?;
            Ok(0)
        }
        #[cfg(target_arch = "x86_64")]
        SETFPREGS => {
            let mut fp = regs::FpRegs([0; 512]);
            usercopy::copy_from_user(&mut fp.0, data)?;
            set_fp(&t, fp)?;
            Ok(0)
        }
        GETREGSET | SETREGSET => regset(&t, request == SETREGSET, addr, data),
        LISTEN => listen(&t),
        PEEKSIGINFO => peek_siginfo(&t, addr, data),
        SETOPTIONS => {
            let options = u32::try_from(data).ok().filter(|o| o & !O_MASK == 0);
            let options = options.ok_or(Errno::EINVAL)?;
            with_state(&t, |s| s.options = options)?;
            Ok(0)
        }
        GETEVENTMSG => {
            let msg = with_state(&t, |s| s.event_msg)?;
            usercopy::write_u64(data, msg as u64)?;
            Ok(0)
        }
        GETSIGINFO => {
            let info = with_state(&t, |s| s.siginfo)?.ok_or(Errno::EINVAL)?;
            usercopy::copy_to_user(data, &info.to_user())?;
            Ok(0)
        }
        SETSIGINFO => {
            let mut b = [0u8; 128];
            usercopy::copy_from_user(&mut b, data)?;
            let info = siginfo_from_user(&b);
            with_state(&t, |s| {
                if s.siginfo.is_some() {
                    s.siginfo = Some(info);
                    Ok(0)
                } else {
                    Err(Errno::EINVAL)
                }
            })?
        }
        GETSIGMASK | SETSIGMASK => {
            // The size must be the kernel's sigset_t (kernel/ptrace.c).
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            if request == GETSIGMASK {
                usercopy::write_u64(data, t.sigmask().0)?;
            } else {
                let mask = usercopy::read_u64(data)?;
                t.set_sigmask(SigSet(mask));
            }
            Ok(0)
        }
        GET_SYSCALL_INFO => {
            let (bytes, len) = syscall_info(&t);
            let n = addr.min(len);
            usercopy::copy_to_user(data, &bytes[..n])?;
            Ok(len)
        }
        _ => {
            warn!("ptrace: request {request:#x} is not supported: EIO");
            Err(Errno::EIO)
        }
    }
}

/// PTRACE_TRACEME: the parent becomes the tracer (ptrace_traceme).
fn traceme(thread: &Arc<Thread>) -> SysResult {
    let parent = thread.process.tree.lock().parent.upgrade();
    let parent = parent.ok_or(Errno::EPERM)?;
    ptrace::link(&parent, thread, 0, false)?;
    Ok(0)
}

/// PTRACE_ATTACH and PTRACE_SEIZE (kernel/ptrace.c ptrace_attach).
fn attach(
    sc: &SyscallContext<'_>,
    target: &Arc<Thread>,
    seize: bool,
    addr: usize,
    data: usize,
) -> SysResult {
    let mut options = 0;
    if seize {
        if addr != 0 {
            return Err(Errno::EIO);
        }
        options = u32::try_from(data)
            .ok()
            .filter(|o| o & !O_MASK == 0)
            .ok_or(Errno::EIO)?;
    }
    let me = &sc.thread.process;
    // A thread of one's own group, or an exiting task, cannot be traced.
    if Arc::ptr_eq(me, &target.process) || target.is_exiting() || target.process.is_zombie() {
        return Err(Errno::EPERM);
    }
    if !may_attach(me, &target.process, AccessCreds::Real) {
        return Err(Errno::EPERM);
    }
    ptrace::link(me, target, options, seize)?;
    if !seize {
        send::send_to_thread(target, SigInfo::kernel(SIGSTOP));
    }
    Ok(0)
}

/// PTRACE_INTERRUPT: only for a seized tracee; it stops with
/// PTRACE_EVENT_STOP on its way back to user mode.
fn interrupt(t: &Arc<Thread>) -> Result<(), Errno> {
    let seized = with_state(t, |s| {
        if s.seized {
            s.interrupt = s.stop.is_none();
        }
        s.seized
    })?;
    if !seized {
        return Err(Errno::EIO);
    }
    t.waiter.wake();
    Ok(())
}

/// PTRACE_LISTEN: a seized tracee in an EVENT_STOP stays stopped but is
/// not available to requests until SIGCONT ends its group-stop; the stop
/// counts as reported (EIO for another tracee or stop, as Linux).
fn listen(t: &Arc<Thread>) -> SysResult {
    with_state(t, |s| {
        let event_stop = s
            .stop
            .is_some_and(|st| (st.status >> 16) == ptrace::EVENT_STOP);
        if !s.seized || !event_stop {
            return Err(Errno::EIO);
        }
        s.listening = true;
        if let Some(st) = s.stop.as_mut() {
            st.reported = true;
        }
        Ok(0)
    })?
}

/// PTRACE_PEEKSIGINFO_SHARED: read the process's queue, not the thread's.
const PEEKSIGINFO_SHARED: u32 = 1;

/// PTRACE_PEEKSIGINFO (kernel/ptrace.c ptrace_peek_siginfo): copies up to
/// `nr` queued siginfos from position `off` of the thread's (or, with
/// PEEKSIGINFO_SHARED, the process's) pending queue to `data`, leaving the
/// queue alone. Returns how many were copied; EFAULT only if none was.
fn peek_siginfo(t: &Thread, addr: usize, data: usize) -> SysResult {
    // struct ptrace_peeksiginfo_args { u64 off; u32 flags; s32 nr; }
    let mut args = [0u8; 16];
    usercopy::copy_from_user(&mut args, addr)?;
    let off = u64::from_ne_bytes(args[0..8].try_into().unwrap_or_default());
    let flags = u32::from_ne_bytes(args[8..12].try_into().unwrap_or_default());
    let nr = i32::from_ne_bytes(args[12..16].try_into().unwrap_or_default());
    if flags & !PEEKSIGINFO_SHARED != 0 || nr < 0 {
        return Err(Errno::EINVAL);
    }
    let Ok(off) = usize::try_from(off) else {
        return Ok(0);
    };
    let mut copied = 0usize;
    for i in 0..nr as usize {
        // One entry at a time under the queue's lock, as Linux takes the
        // siglock per entry: the copy to user space may fault.
        let Some(pos) = off.checked_add(i) else {
            break;
        };
        let info = if flags & PEEKSIGINFO_SHARED != 0 {
            t.process.shared_pending.lock().peek(pos)
        } else {
            t.pending.lock().peek(pos)
        };
        let Some(info) = info else {
            break;
        };
        let dst = data.checked_add(i * 128).ok_or(Errno::EFAULT);
        if let Err(e) = dst.and_then(|d| usercopy::copy_to_user(d, &info.to_user())) {
            if copied == 0 {
                return Err(e);
            }
            break;
        }
        copied += 1;
    }
    Ok(copied)
}

/// The signal of CONT, SYSCALL, SINGLESTEP and DETACH (EIO if invalid).
fn resume_signal(data: usize) -> Result<i32, Errno> {
    match i32::try_from(data) {
        Ok(0) => Ok(0),
        Ok(sig) if signal::valid(sig) => Ok(sig),
        _ => Err(Errno::EIO),
    }
}

/// Resumes a stopped tracee (ptrace_resume): the mode flags, the trap
/// flag for a single step, then the answer that ends its stop.
fn resume(t: &Arc<Thread>, how: Resume, syscall: bool, step: bool) {
    {
        let mut st = t.ptrace.state.lock();
        let Some(s) = st.as_mut() else {
            return;
        };
        if let Some(regs) = s.regs.as_mut()
            && (step || t.ptrace.stepping())
        {
            regs::set_single_step(regs, step);
        }
        s.resume = Some(how);
        t.ptrace.set_mode(syscall, step);
    }
    t.waiter.wake();
}

/// Runs `f` on the tracee's record (ESRCH if it was detached meanwhile).
fn with_state<R>(t: &Thread, f: impl FnOnce(&mut ptrace::Tracee) -> R) -> Result<R, Errno> {
    let mut st = t.ptrace.state.lock();
    st.as_mut().map(f).ok_or(Errno::ESRCH)
}

/// Reads (`write` false) or writes one word of the tracee's memory with
/// FOLL_FORCE (ptrace_access_vm): EIO unless the whole word was copied.
fn remote(t: &Thread, addr: usize, word: &mut [u8; 8], write: bool) -> Result<(), Errno> {
    let mm = t.process.mm().ok_or(Errno::EIO)?;
    let done = if write {
        mm.aspace.lock().write_remote(addr, word, true)
    } else {
        mm.aspace.lock().read_remote(addr, word, true)
    };
    if done == word.len() {
        Ok(())
    } else {
        Err(Errno::EIO)
    }
}

/// The orig_rax value: the syscall number of a syscall-stop or of a
/// syscall the signal interrupted, else -1.
fn orig_nr(t: &Thread, s: &ptrace::Tracee) -> usize {
    s.syscall_nr
        .or_else(|| t.restart.lock().map(|(nr, _)| nr))
        .unwrap_or(usize::MAX)
}

fn get_regs(t: &Thread) -> Result<[u64; regs::NREGS], Errno> {
    let st = t.ptrace.state.lock();
    let s = st.as_ref().ok_or(Errno::ESRCH)?;
    let ctx = s.regs.as_ref().ok_or(Errno::ESRCH)?;
    Ok(regs::get(ctx, orig_nr(t, s)))
}

/// Applies a user_regs_struct image (all words validated before any is
/// written back).
fn set_regs(t: &Thread, bytes: &[u8]) -> Result<(), Errno> {
    let mut st = t.ptrace.state.lock();
    let s = st.as_mut().ok_or(Errno::ESRCH)?;
    let mut ctx = s.regs.ok_or(Errno::ESRCH)?;
    let mut orig = None;
    for (i, w) in bytes.as_chunks::<8>().0.iter().enumerate() {
        if let Some(nr) = regs::put(&mut ctx, i, u64::from_ne_bytes(*w))? {
            orig = Some(nr);
        }
    }
    s.regs = Some(ctx);
    if let Some(nr) = orig
        && s.syscall_nr.is_some()
    {
        s.syscall_nr = Some(nr);
    }
    Ok(())
}

fn to_bytes(words: &[u64; regs::NREGS]) -> [u8; regs::NREGS * 8] {
    let mut b = [0u8; regs::NREGS * 8];
    for (i, w) in words.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_ne_bytes());
    }
    b
}

/// PEEKUSER: x86_64 `struct user` offsets (registers; the rest reads 0);
/// riscv64 has no PEEKUSR (EIO, as arch/riscv/kernel/ptrace.c).
fn peek_user(t: &Thread, offset: usize) -> Result<u64, Errno> {
    #[cfg(target_arch = "x86_64")]
    {
        if !offset.is_multiple_of(8) || offset >= regs::USER_SIZE {
            return Err(Errno::EIO);
        }
        let words = get_regs(t)?;
        Ok(words.get(offset / 8).copied().unwrap_or(0))
    }
    #[cfg(target_arch = "riscv64")]
    {
        let _ = (t, offset);
        Err(Errno::EIO)
    }
}

/// POKEUSER: x86_64 registers only (the debug registers are not
/// supported: EIO).
fn poke_user(t: &Thread, offset: usize, v: u64) -> Result<(), Errno> {
    if cfg!(target_arch = "riscv64") || !offset.is_multiple_of(8) || offset >= regs::NREGS * 8 {
        return Err(Errno::EIO);
    }
    let mut words = get_regs(t)?;
    words[offset / 8] = v;
    set_regs(t, &to_bytes(&words))
}

/// The FP state the stopped tracee saved (x86_64 `fxsave` layout,
/// riscv64 `__riscv_d_ext_state`).
fn get_fp(t: &Thread) -> Result<regs::FpRegs, Errno> {
    let st = t.ptrace.state.lock();
    let s = st.as_ref().ok_or(Errno::ESRCH)?;
    s.fp.map(|(fp, _)| fp).ok_or(Errno::ESRCH)
}

/// Replaces the tracee's FP state; it loads it when it resumes.
fn set_fp(t: &Thread, fp: regs::FpRegs) -> Result<(), Errno> {
    let mut st = t.ptrace.state.lock();
    let s = st.as_mut().ok_or(Errno::ESRCH)?;
    s.fp = Some((fp, true));
    Ok(())
}

/// GETREGSET/SETREGSET with NT_PRFPREG: x86_64's 512 bytes of `fxsave`,
/// riscv64's 264 bytes of `__riscv_d_ext_state` (riscv_fpr_get/set).
fn fp_regset(t: &Thread, set: bool, base: usize, len: usize, iov: usize) -> SysResult {
    let mut fp = get_fp(t)?;
    let n = len.min(fp.0.len());
    if set {
        usercopy::copy_from_user(&mut fp.0[..n], base)?;
        set_fp(t, fp)?;
    } else {
        usercopy::copy_to_user(base, &fp.0[..n])?;
    }
    usercopy::copy_to_user(iov + 8, &n.to_ne_bytes())?;
    Ok(0)
}

/// GETREGSET/SETREGSET with NT_PRSTATUS (the general registers) and
/// NT_PRFPREG (the FP state); other notes (x86 XSTATE, riscv64's vector
/// state) are EINVAL, as is a length that is not a multiple of the
/// register word.
fn regset(t: &Thread, set: bool, note: usize, iov: usize) -> SysResult {
    if note != NT_PRSTATUS && note != NT_PRFPREG {
        return Err(Errno::EINVAL);
    }
    let base = usercopy::read_usize(iov)?;
    let len = usercopy::read_usize(iov.checked_add(8).ok_or(Errno::EFAULT)?)?;
    if !len.is_multiple_of(REGSET_WORD) {
        return Err(Errno::EINVAL);
    }
    if note == NT_PRFPREG {
        return fp_regset(t, set, base, len, iov);
    }
    let size = regs::NREGS * 8;
    let n = len.min(size);
    let mut bytes = to_bytes(&get_regs(t)?);
    if set {
        usercopy::copy_from_user(&mut bytes[..n], base)?;
        set_regs(t, &bytes)?;
    } else {
        usercopy::copy_to_user(base, &bytes[..n])?;
    }
    usercopy::copy_to_user(iov + 8, &n.to_ne_bytes())?;
    Ok(0)
}

/// A siginfo_t from user space (SETSIGINFO): the common header, and the
/// first union words read both as pid/uid/value and as an address.
fn siginfo_from_user(b: &[u8; 128]) -> SigInfo {
    let i32_at = |o: usize| i32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |o: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[o..o + 8]);
        u64::from_ne_bytes(w)
    };
    SigInfo {
        signo: i32_at(0),
        errno: i32_at(4),
        code: i32_at(8),
        pid: i32_at(16),
        uid: i32_at(20) as u32,
        addr: u64_at(16) as usize,
        value: u64_at(24) as usize,
        status: i32_at(24),
        ..SigInfo::default()
    }
}
