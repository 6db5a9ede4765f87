//! clone, fork, vfork: new processes and threads.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use ax_sync::Mutex;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::{
        Process, Thread, block,
        mm::Mm,
        run::{self, FpInit},
        signal::NSIG,
        table,
    },
    usercopy,
};

pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
const CSIGNAL: u64 = 0xff;
/// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
const NAMESPACE_FLAGS: u64 = 0x7e02_0000;

/// The arguments of one clone, architecture independent.
pub struct CloneArgs {
    pub flags: u64,
    pub stack: usize,
    pub parent_tid: usize,
    pub child_tid: usize,
    pub tls: usize,
}

#[cfg(target_arch = "x86_64")]
/// fork(2).
pub fn sys_fork(sc: &mut SyscallContext<'_>) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags: crate::task::signal::SIGCHLD as u64,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
        },
    )
}

#[cfg(target_arch = "x86_64")]
/// vfork(2).
pub fn sys_vfork(sc: &mut SyscallContext<'_>) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags: CLONE_VM | CLONE_VFORK | crate::task::signal::SIGCHLD as u64,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
        },
    )
}

/// clone(2) after the architecture table put the arguments in order.
pub fn do_clone(sc: &mut SyscallContext<'_>, args: CloneArgs) -> SysResult {
    let flags = args.flags;
    let exit_signal = (flags & CSIGNAL) as i32;
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if exit_signal > NSIG {
        return Err(Errno::EINVAL);
    }
    if flags & NAMESPACE_FLAGS != 0 {
        warn!(
            "clone: namespaces ({:#x}) are not supported yet",
            flags & NAMESPACE_FLAGS
        );
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PIDFD != 0 {
        warn!("clone: CLONE_PIDFD is not supported yet");
        return Err(Errno::EINVAL);
    }
    let parent_thread = sc.thread;
    let parent = &parent_thread.process;
    if table::thread_count() >= table::threads_max() as usize {
        // kernel/fork.c copy_process: no new task past threads-max.
        return Err(Errno::EAGAIN);
    }
    let tid = table::alloc_pid();

    let (process, mm) = if flags & CLONE_THREAD != 0 {
        (parent.clone(), parent.mm().ok_or(Errno::ENOMEM)?)
    } else {
        let mm = if flags & CLONE_VM != 0 {
            parent.mm().ok_or(Errno::ENOMEM)?
        } else {
            let old = parent.mm().ok_or(Errno::ENOMEM)?;
            let child_space = old.aspace.lock().fork()?;
            let mm = Mm::new(child_space);
            *mm.info.lock() = *old.info.lock();
            mm
        };
        let files = if flags & CLONE_FILES != 0 {
            parent.files()
        } else {
            let table = parent.files().lock().clone();
            Arc::new(Mutex::new(table))
        };
        let fs = if flags & CLONE_FS != 0 {
            parent.fs()
        } else {
            let ctx = parent.fs().lock().clone();
            ctx.into_shared()
        };
        let real_parent = if flags & CLONE_PARENT != 0 {
            parent.tree.lock().parent.clone()
        } else {
            Arc::downgrade(parent)
        };
        let (pgid, sid) = {
            let tree = parent.tree.lock();
            (tree.pgid, tree.sid)
        };
        let child = Process::new(tid, real_parent.clone(), pgid, sid, mm.clone(), files, fs);
        *child.actions.lock() = *parent.actions.lock();
        *child.creds.lock() = parent.creds.lock().clone();
        child
            .umask
            .store(parent.umask.load(Ordering::Relaxed), Ordering::Relaxed);
        *child.exe.lock() = parent.exe.lock().clone();
        *child.cmdline.lock() = parent.cmdline.lock().clone();
        *child.exit_signal.lock() = exit_signal;
        table::insert_process(&child);
        if let Some(rp) = real_parent.upgrade() {
            rp.tree.lock().children.push(child.clone());
        }
        (child, mm)
    };

    let thread = Thread::new(tid, process.clone(), parent_thread.sigmask());
    *thread.name.lock() = *parent_thread.name.lock();
    // A child that does not share the parent's memory keeps its alternate
    // signal stack (fork, vfork); a new thread starts without one.
    if flags & (CLONE_VM | CLONE_VFORK) != CLONE_VM {
        *thread.altstack.lock() = *parent_thread.altstack.lock();
    }
    let mut uctx = **sc.uctx;
    uctx.set_retval(0);
    if args.stack != 0 {
        uctx.set_sp(args.stack);
    }
    if flags & CLONE_SETTLS != 0 {
        uctx.set_tls(args.tls);
    }
    uctx.prepare_clone_child_return_state();
    if flags & CLONE_PARENT_SETTID != 0 {
        usercopy::write_i32(args.parent_tid, tid)?;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        if flags & CLONE_VM != 0 {
            usercopy::write_i32(args.child_tid, tid)?;
        } else {
            mm.aspace
                .lock()
                .write_bytes(args.child_tid, &tid.to_ne_bytes())?;
        }
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        thread
            .clear_child_tid
            .store(args.child_tid, Ordering::Release);
    }
    let vfork = (flags & CLONE_VFORK != 0).then(|| process.vfork_done.clone());
    #[cfg(target_arch = "x86_64")]
    let fp = FpInit::InheritCurrent;
    #[cfg(target_arch = "riscv64")]
    let fp = FpInit::InheritCurrent(crate::arch::fp::capture(sc.uctx).map(alloc::boxed::Box::new));
    if let Err(e) = run::spawn(thread, uctx, &mm, fp) {
        if flags & CLONE_THREAD == 0 {
            parent.tree.lock().children.retain(|c| c.pid != tid);
            table::remove_process(tid);
        }
        return Err(e);
    }
    crate::task::stats::note_fork();
    if let Some(done) = vfork {
        wait_vfork(sc, &done);
    }
    Ok(tid as usize)
}

/// Blocks the vfork parent until the child execs or exits.
fn wait_vfork(sc: &SyscallContext<'_>, done: &Arc<crate::task::process::VforkDone>) {
    let _ = block::wait_event(
        sc.thread,
        None,
        block::Interruptible::No,
        |sink| done.register(sink),
        || done.is_done().then_some(Ok::<(), Errno>(())),
    );
}

#[cfg(target_arch = "x86_64")]
/// Validates and runs clone with the x86_64 argument order
/// (flags, stack, parent_tid, child_tid, tls).
pub fn sys_clone_x86(
    sc: &mut SyscallContext<'_>,
    flags: u64,
    stack: usize,
    ptid: usize,
    ctid: usize,
    tls: usize,
) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags,
            stack,
            parent_tid: ptid,
            child_tid: ctid,
            tls,
        },
    )
}

#[cfg(target_arch = "riscv64")]
/// Validates and runs clone with the generic (riscv64) argument order
/// (flags, stack, parent_tid, tls, child_tid).
pub fn sys_clone_generic(
    sc: &mut SyscallContext<'_>,
    flags: u64,
    stack: usize,
    ptid: usize,
    tls: usize,
    ctid: usize,
) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags,
            stack,
            parent_tid: ptid,
            child_tid: ctid,
            tls,
        },
    )
}
