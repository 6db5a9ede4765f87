//! execve(2).

use alloc::{string::String, vec::Vec};

use ax_hal::cpu::user::UserContext;

use crate::{
    error::{Errno, KResult},
    loader,
    syscall::{SysResult, SyscallContext, fs::at_context},
    task::{
        Thread,
        mm::Mm,
        signal::{SIG_DFL, SIG_IGN, SigAction},
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
    if process.threads.lock().len() > 1 {
        warn!("execve: multi-threaded exec is not supported yet");
        return Err(Errno::EAGAIN);
    }
    let ctx = at_context(thread, super::super::fs::AT_FDCWD, path)?;
    let creds = process.creds.lock().clone();
    let image = loader::load(&ctx, path, argv, envp, &creds)?;

    // Point of no return: the new image exists; switch to it.
    let mm = Mm::new(image.aspace);
    let token = mm.task_token()?;
    let old = process.mm.lock().replace(mm);
    ax_runtime::thread::switch_current_address_space(token).map_err(|e| {
        error!("execve: switching address space failed: {e:?}");
        Errno::ENOMEM
    })?;
    drop(old);
    sc.uctx.refresh_address_space().map_err(|e| {
        error!("execve: refreshing the user context failed: {e:?}");
        Errno::ENOMEM
    })?;
    **sc.uctx = UserContext::new(image.entry, image.stack_pointer.into(), 0);
    let _ = ax_runtime::thread::reset_current_user_fp_state();

    finish_exec(thread, image.path, image.argv);
    Ok(())
}

/// The process-wide effects of a successful exec.
fn finish_exec(thread: &Thread, path: String, argv: Vec<Vec<u8>>) {
    let process = &thread.process;
    let closing = process.files().lock().close_on_exec();
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
    *process.exe.lock() = path;
    *process.cmdline.lock() = argv
        .into_iter()
        .map(|a| String::from_utf8_lossy(&a).into_owned())
        .collect();
    thread
        .clear_child_tid
        .store(0, core::sync::atomic::Ordering::Release);
    process
        .did_exec
        .store(true, core::sync::atomic::Ordering::Release);
    process.vfork_done.complete();
}

/// execve(2).
pub fn sys_execve(sc: &mut SyscallContext<'_>, path: usize, argv: usize, envp: usize) -> SysResult {
    let path = usercopy::read_path(path)?;
    let argv = usercopy::read_string_array(argv, ARG_MAX)?;
    let envp = usercopy::read_string_array(envp, ARG_MAX)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    exec(sc, &path, argv, envp)?;
    Ok(0)
}
