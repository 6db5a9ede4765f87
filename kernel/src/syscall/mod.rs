//! System calls: the dispatcher and one module per family.
//!
//! [`handle`] reads the number and arguments from the trapped user context,
//! calls the architecture's table ([`table`]), and writes the result back.
//! This is the only place where a kernel [`Errno`] becomes the negative
//! return value user space sees. Handlers validate their arguments first
//! (flag masks, alignment, ranges with checked arithmetic) and then call one
//! operation of the subsystem they belong to.

pub(crate) mod fs;
mod ipc;
pub(crate) mod mm;
mod net;
mod process;
mod signal;
mod sys;
mod table;
mod time;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use ax_runtime::thread::UserExecutionContext;

pub use self::{
    fs::{credentials as fs_credentials, open_in},
    sys::{RELEASE, VERSION},
};
use crate::{
    error::{Errno, KResult},
    task::{Thread, signal::deliver::Interrupted},
};

/// Internal "restart if no handler ran" code (Linux's ERESTARTNOHAND).
pub const ERESTARTNOHAND: Errno = Errno(514);

/// What a handler sees: the calling thread and its saved user registers.
pub struct SyscallContext<'a> {
    pub thread: &'a Arc<Thread>,
    pub uctx: &'a mut UserExecutionContext,
}

impl SyscallContext<'_> {
    /// The process the caller calls `pid` (a number in its PID namespace).
    pub fn process_by_pid(&self, pid: crate::task::Pid) -> Option<Arc<crate::task::Process>> {
        let global = self.thread.process.resolve(pid)?;
        crate::task::table::process(global)
    }

    /// The thread the caller calls `tid`.
    pub fn thread_by_tid(&self, tid: crate::task::Pid) -> Option<Arc<Thread>> {
        let global = self.thread.process.resolve(tid)?;
        crate::task::table::thread(global)
    }

    /// The global id of the caller's number `id` (a pid, tid, pgid or sid).
    pub fn global_id(&self, id: crate::task::Pid) -> Option<crate::task::Pid> {
        self.thread.process.resolve(id)
    }

    /// The caller's number for global id `global` (0 if outside its view).
    pub fn user_id(&self, global: crate::task::Pid) -> crate::task::Pid {
        self.thread.process.view(global)
    }
}

/// Result of a handler: the value for the return register.
pub type SysResult = KResult<usize>;

/// Handles the syscall that trapped into the kernel from `uctx`.
pub fn handle(thread: &Arc<Thread>, uctx: &mut UserExecutionContext) -> Interrupted {
    if crate::arch::is_foreign_syscall(uctx) {
        // x86_64 `int $0x80`: a #GP on Linux without IA32 emulation, with
        // rip at the faulting instruction.
        let ip = uctx.ip() - uctx.syscall_insn_len();
        uctx.set_ip(ip);
        crate::task::signal::send::force_fault(
            thread,
            crate::task::signal::SigInfo::kernel(crate::task::signal::SIGSEGV),
        );
        return Interrupted::No;
    }
    // One flag load when the thread is not traced.
    if thread.ptrace.syscall_stops() {
        return crate::task::ptrace::syscall::traced(thread, uctx, run);
    }
    run(thread, uctx, uctx.sysno())
}

/// Runs syscall `nr` with the arguments in `uctx` and stores its result.
fn run(thread: &Arc<Thread>, uctx: &mut UserExecutionContext, nr: usize) -> Interrupted {
    let args = [
        uctx.arg0(),
        uctx.arg1(),
        uctx.arg2(),
        uctx.arg3(),
        uctx.arg4(),
        uctx.arg5(),
    ];
    *thread.restart.lock() = Some((nr, args[0]));
    let tid = thread.tid();
    let cpu = crate::debug::cpus::enter(tid, nr, args[0]);
    let mut ctx = SyscallContext { thread, uctx };
    let result = table::dispatch(&mut ctx, nr, args);
    crate::debug::cpus::exit(tid, cpu);
    #[cfg(feature = "mm-debug")]
    check_mm(thread, nr);
    let (ret, interrupted) = match result {
        Ok(v) => (v, Interrupted::No),
        Err(Errno::ERESTARTSYS) => (neg(Errno::EINTR), Interrupted::RestartSys),
        Err(ERESTARTNOHAND) => (neg(Errno::EINTR), Interrupted::RestartNoHandler),
        Err(e) => (neg(e), Interrupted::No),
    };
    trace!(
        "tid {} syscall {} {:x?} = {:#x}",
        thread.tid(),
        table::name(nr).unwrap_or("?"),
        args,
        ret
    );
    if table::sets_return_register(nr) {
        ctx.uctx.set_retval(ret);
    }
    interrupted
}

/// The syscalls after which `mm-debug` checks the registry invariant.
#[cfg(feature = "mm-debug")]
const MM_SYSCALLS: &[&str] = &[
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "msync",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "shmat",
    "shmdt",
    "memfd_create",
    "fcntl",
    "ftruncate",
    "fallocate",
];

/// Verifies the shared-mapping registry after a memory-management syscall.
#[cfg(feature = "mm-debug")]
fn check_mm(thread: &Arc<Thread>, nr: usize) {
    if let Some(name) = table::name(nr)
        && MM_SYSCALLS.contains(&name)
        && let Some(mm) = thread.process.mm()
    {
        mm.check_registry(name);
    }
}

fn neg(e: Errno) -> usize {
    (-(e.0 as isize)) as usize
}

/// Numbers already reported as unimplemented (each is logged once).
static LOGGED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// The architecture's name for syscall `nr`.
pub fn syscall_name(nr: usize) -> Option<&'static str> {
    table::name(nr)
}

/// The answer for a syscall Starling does not implement: ENOSYS, logged
/// once per number with its Linux name.
pub fn unimplemented(nr: usize) -> SysResult {
    // Numbers past the bitmap (no Linux syscall is that high) share its
    // last bit, so a program probing them cannot flood the log.
    let slot = nr.min(LOGGED.len() * 64 - 1);
    let (word, bit) = (slot / 64, slot % 64);
    let first = LOGGED[word].fetch_or(1 << bit, Ordering::Relaxed) & (1 << bit) == 0;
    if first {
        warn!(
            "syscall {} ({nr}) is not implemented: ENOSYS",
            table::name(nr).unwrap_or("unknown")
        );
    }
    Err(Errno::ENOSYS)
}
