//! execve(2).

use alloc::{string::String, sync::Arc, vec::Vec};

use ax_hal::cpu::user::UserContext;

use crate::{
    error::{Errno, KResult},
    loader,
    syscall::{SysResult, SyscallContext, fs::at_context},
    task::{
        Process, Thread, block,
        mm::Mm,
        signal::{SIG_DFL, SIG_IGN, SigAction, altstack::AltStack},
        table,
    },
    usercopy,
};

/// Upper bound of argv + envp (Linux: a quarter of the stack limit).
const ARG_MAX: usize = 2 << 20;

/// Replaces the calling process's image with the program at `path`.
pub fn exec(
    sc: &mut SyscallContext<'_>,
    path: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> KResult<()> {
    let thread = sc.thread;
    let process = &thread.process;
    let ctx = at_context(thread, super::super::fs::AT_FDCWD, path)?;
    let creds = process.creds.lock().clone();
    let randomize = loader::aslr::enabled(
        process
            .personality
            .load(core::sync::atomic::Ordering::Relaxed),
    );
    let image = loader::load(&ctx, path, argv, envp, &creds, randomize)?;

    // Point of no return: the new image exists; switch to it.
    if process.threads.lock().len() > 1 {
        de_thread(thread)?;
    }
    crate::task::futex::exit_robust_list(thread);
    unshare_files(process);
    let mm = Mm::new(image.aspace);
    mm.claim_pid(process.pid);
    *mm.info.lock() = image.info;
    *mm.exe_deny.lock() = Some(image.deny_write);
    let token = mm.task_token()?;
    let old = process.mm.lock().replace(mm);
    if let Some(old) = &old {
        process.note_rss(old);
        crate::task::exit::release_mm(process, old);
    }
    ax_runtime::thread::switch_current_address_space(token).map_err(|e| {
        error!("execve: switching address space failed: {e:?}");
        Errno::ENOMEM
    })?;
    drop(old);
    crate::debug::tasks::refresh_process(process);
    sc.uctx.refresh_address_space().map_err(|e| {
        error!("execve: refreshing the user context failed: {e:?}");
        Errno::ENOMEM
    })?;
    **sc.uctx = UserContext::new(image.entry, image.stack_pointer.into(), 0);
    let _ = ax_runtime::thread::reset_current_user_fp_state();

    thread.set_comm_from_path(path);
    finish_exec(thread, image.path, image.argv);
    Ok(())
}

/// Makes the calling thread the only one of its process, as Linux's
/// de_thread: every other thread is asked to exit (its robust futexes and
/// clear-tid word are handled as at any thread exit) and the caller waits
/// for them; a non-leader caller then takes over the process id.
fn de_thread(thread: &Arc<Thread>) -> KResult<()> {
    let process = &thread.process;
    {
        let mut waiter = process.exec_waiter.lock();
        // Another thread is already exec'ing and will kill this one.
        if waiter.is_some() || process.tree.lock().group_exit.is_some() {
            return Err(Errno::EAGAIN);
        }
        *waiter = Some(thread.clone());
    }
    let others: Vec<_> = process
        .threads
        .lock()
        .iter()
        .filter(|t| !Arc::ptr_eq(t, thread))
        .cloned()
        .collect();
    for t in &others {
        t.request_exit(0);
    }
    drop(others);
    let waited = block::wait_event(
        thread,
        None,
        block::Interruptible::No,
        |_| {},
        || (process.threads.lock().len() == 1).then_some(Ok(())),
    );
    *process.exec_waiter.lock() = None;
    // Interrupted only by a group exit (SIGKILL): the caller leaves too.
    waited?;
    let old_tid = thread.tid();
    if old_tid != process.pid {
        table::remove_thread(old_tid);
        thread.set_tid(process.pid);
        table::insert_thread(thread);
    }
    Ok(())
}

/// Gives the process a private copy of a descriptor table it shares with
/// another process (CLONE_FILES), as execve's unshare_files.
fn unshare_files(process: &Process) {
    let files = process.files();
    if Arc::strong_count(&files) > 2 {
        let copy = files.lock().clone();
        *process.files.lock() = Arc::new(ax_sync::Mutex::new(copy));
    }
}

/// The process-wide effects of a successful exec.
fn finish_exec(thread: &Thread, path: String, argv: Vec<Vec<u8>>) {
    let process = &thread.process;
    let files = process.files();
    let closing = files.lock().close_on_exec();
    for file in &closing {
        crate::syscall::fs::release_posix_locks(&files, file);
    }
    drop(closing);
    for act in process.actions.lock().iter_mut() {
        // Handlers cannot survive the old image; ignored signals stay ignored.
        if act.handler != SIG_IGN && act.handler != SIG_DFL {
            *act = SigAction::default();
        } else {
            act.flags = 0;
            act.mask = Default::default();
        }
    }
    process.creds.lock().caps_for_exec();
    crate::task::posix_timer::exec(process);
    *process.exe.lock() = path;
    *process.cmdline.lock() = argv
        .into_iter()
        .map(|a| String::from_utf8_lossy(&a).into_owned())
        .collect();
    thread
        .clear_child_tid
        .store(0, core::sync::atomic::Ordering::Release);
    *thread.altstack.lock() = AltStack::DISABLED;
    process
        .did_exec
        .store(true, core::sync::atomic::Ordering::Release);
    // begin_new_exec: a new image is dumpable again (no set-id exec
    // exists here); SET_PERSONALITY drops READ_IMPLIES_EXEC, keeps the rest.
    process
        .dumpable
        .store(1, core::sync::atomic::Ordering::Release);
    process.personality.fetch_and(
        !crate::syscall::sys::READ_IMPLIES_EXEC,
        core::sync::atomic::Ordering::AcqRel,
    );
    process.vfork_done.complete();
}

/// execve(2).
#[inline(never)]
pub fn sys_execve(sc: &mut SyscallContext<'_>, path: usize, argv: usize, envp: usize) -> SysResult {
    // getname refuses an empty name before the arguments are read.
    let path = crate::syscall::fs::read_name(path)?;
    let argv = usercopy::read_string_array(argv, ARG_MAX)?;
    let envp = usercopy::read_string_array(envp, ARG_MAX)?;
    exec(sc, &path, argv, envp)?;
    // The stop after a traced exec sees the call's result in place.
    sc.uctx.set_retval(0);
    crate::task::ptrace::after_exec(sc.thread, sc.uctx);
    Ok(0)
}
