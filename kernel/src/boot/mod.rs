//! Bring-up after the runtime: kernel log routing, devices, filesystems,
//! the first user process, and the end of the run.
//!
//! Two boot modes exist. Normally init is `/sbin/init` (busybox init with
//! the image's inittab). When the host passes a command through fw_cfg
//! (`make exec`), init is `/bin/sh -c CMD`: the console carries exactly the
//! command's output, framed by a start marker, and the machine powers off
//! when the command exits, reporting its status on the kernel log.

mod cmdline;
pub mod fwcfg;
pub mod klog;
pub mod mounts;

use alloc::{string::String, sync::Weak, vec, vec::Vec};
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use ax_hal::cpu::user::UserContext;
use ax_sync::{Mutex, SpinLock};
use ax_task::sync::WaitQueue;
use starling_fs::{
    fdtable::FdTable,
    file::{OpenFile, flags::O_RDWR, tty::TtyFile},
};

pub use self::mounts::mount_options;
use crate::{
    dev,
    error::{Errno, KResult},
    loader,
    task::{
        Process, Thread,
        creds::Creds,
        mm::Mm,
        process::NOFILE_DEFAULT,
        run::{self, FpInit},
        signal::SigSet,
        table,
    },
};

/// Marker written to the console right before the `make exec` command runs;
/// the host discards everything before it.
const EXEC_MARKER: &[u8] = b"\n@@starling-exec-begin@@\n";

static HOSTNAME: SpinLock<String> = SpinLock::new(String::new());
static INIT_STATUS: AtomicI32 = AtomicI32::new(0);
static INIT_DONE: AtomicBool = AtomicBool::new(false);
static INIT_EXIT: WaitQueue = WaitQueue::new();

/// The node name (uname -n).
pub fn hostname() -> String {
    let h = HOSTNAME.lock();
    if h.is_empty() {
        String::from("starling")
    } else {
        h.clone()
    }
}

/// Sets the node name (sethostname).
pub fn set_hostname(name: String) {
    *HOSTNAME.lock() = name;
}

/// Total and free memory in bytes (sysinfo, /proc/meminfo).
pub fn memory_totals() -> (usize, usize) {
    let a = ax_alloc::global_allocator();
    let used = a.used_bytes();
    let free = a.available_bytes();
    (used + free, free)
}

/// Called when pid 1 exits with wait status `status`.
pub fn init_exited(status: i32) {
    INIT_STATUS.store(status, Ordering::Release);
    INIT_DONE.store(true, Ordering::Release);
    INIT_EXIT.notify_all();
}

/// Flushes the filesystems and powers the machine off.
pub fn power_off(status: Option<i32>) -> ! {
    if let Err(e) = ax_fs_ng::shutdown_filesystems() {
        warn!("shutdown: flushing filesystems failed: {e:?}");
    }
    if let Some(status) = status {
        let code = if status & 0x7f == 0 {
            (status >> 8) & 0xff
        } else {
            128 + (status & 0x7f)
        };
        klog::write_direct(&alloc::format!("starling: init exited code={code}\n"));
    }
    klog::write_direct("starling: power off\n");
    ax_runtime::terminate()
}

/// Entry from `main` once the runtime is up.
pub fn start() {
    klog::init();
    info!(
        "Starling {} on {} ({} CPUs)",
        crate::syscall_release(),
        crate::arch::MACHINE,
        ax_hal::cpu_num()
    );
    crate::mmfault::install();
    starling_fs::file::device::seed_random(
        ax_hal::time::monotonic_time_nanos() ^ ax_hal::time::wall_time_nanos(),
    );
    if let Err(e) = dev::init_console() {
        error!("boot: console setup failed: {e:?}");
    }
    starling_fs::file::loopdev::init();
    mounts::mount_all();
    table::init_threads_max(memory_totals().0);
    crate::task::stats::start_load_sampler();
    crate::debug::watchdog::start();

    let command = cmdline::exec_command();
    let (argv, exec_mode): (Vec<Vec<u8>>, bool) = match command {
        Some(cmd) => (vec![b"/bin/sh".to_vec(), b"-c".to_vec(), cmd], true),
        None => (vec![b"/sbin/init".to_vec()], false),
    };
    if exec_mode {
        // The command's output must reach the host byte for byte.
        dev::console().set_output_flags(0);
        let _ = ax_runtime::console::output().map(|o| {
            let _ = o.write_all(EXEC_MARKER);
        });
    }
    let envp = vec![
        b"PATH=/bin:/sbin:/usr/bin:/usr/sbin".to_vec(),
        b"HOME=/root".to_vec(),
        b"TERM=vt100".to_vec(),
        b"SHELL=/bin/sh".to_vec(),
    ];
    let path = String::from_utf8_lossy(&argv[0]).into_owned();
    info!(
        "boot: starting init {path} (uptime {:?})",
        ax_hal::time::monotonic_time()
    );
    if let Err(e) = spawn_init(&path, argv, envp) {
        error!("boot: cannot start {path}: {e:?}");
        power_off(Some(127 << 8));
    }
    INIT_EXIT.wait_until(|| INIT_DONE.load(Ordering::Acquire));
    let status = INIT_STATUS.load(Ordering::Acquire);
    info!("boot: init exited with wait status {status:#x}");
    if !exec_mode {
        warn!("boot: init exited; powering off");
    }
    power_off(Some(status));
}

fn spawn_init(path: &str, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> KResult<()> {
    let fs = ax_fs_ng::vfs::current_fs_context()
        .lock()
        .clone()
        .into_shared();
    let creds = Creds::root();
    let image = loader::load(
        &fs.lock(),
        path,
        argv,
        envp,
        &creds,
        loader::aslr::enabled(0),
    )?;
    let pid = table::alloc_pid();
    if pid != 1 {
        return Err(Errno::EAGAIN);
    }
    let console = crate::syscall::open_in(
        &fs.lock(),
        "/dev/console",
        O_RDWR,
        0,
        0,
        String::from("/dev/console"),
        &axfs_ng_vfs::MutationCredentials::root(),
    )
    .unwrap_or_else(|e| {
        warn!("boot: /dev/console: {e:?}; using the console directly");
        OpenFile::new(TtyFile::open(dev::console(), "/dev/console"), O_RDWR)
    });
    let mut fds = FdTable::new(NOFILE_DEFAULT);
    for _ in 0..3 {
        fds.alloc(console.clone(), false)?;
    }
    let mm = Mm::new(image.aspace);
    *mm.info.lock() = image.info;
    *mm.exe_deny.lock() = Some(image.deny_write);
    let process = Process::new(
        pid,
        Weak::new(),
        pid,
        pid,
        mm.clone(),
        alloc::sync::Arc::new(Mutex::new(fds)),
        fs,
        crate::task::pidns::root(),
    );
    crate::task::pidns::root().set_reaper(&process);
    *process.exe.lock() = image.path;
    *process.cmdline.lock() = image
        .argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    table::insert_process(&process);
    dev::console().attach_session(pid, pid);
    let thread = Thread::new(pid, process, SigSet::EMPTY);
    thread.set_comm_from_path(path);
    let uctx = UserContext::new(image.entry, image.stack_pointer.into(), 0);
    run::spawn(thread, uctx, &mm, FpInit::Fresh)
}
