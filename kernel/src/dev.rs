//! Devices: the console terminal, the memory devices and the loop
//! devices, and the tables that map a device node's (major, minor) to its
//! driver (character and block numbers are separate name spaces).

use alloc::{string::String, sync::Arc};

use ax_lazyinit::LazyInit;
use starling_fs::file::{
    FileLike,
    device::MemDevice,
    loopdev::{self, LOOP_CTRL_MINOR, LOOP_MAJOR, LoopControl},
    tty::{Tty, TtyFile},
};

use crate::{
    error::{Errno, KResult},
    task::jobs::ProcessJobs,
};

static CONSOLE: LazyInit<Arc<Tty>> = LazyInit::new();

/// The console terminal.
pub fn console() -> &'static Arc<Tty> {
    &CONSOLE
}

/// Creates the console terminal and the kernel thread that feeds it input.
pub fn init_console() -> KResult<()> {
    let output = ax_runtime::console::output().map_err(|e| {
        error!("console: no output: {e:?}");
        Errno::ENODEV
    })?;
    let tty = Tty::new(output);
    tty.set_job_control(Arc::new(ProcessJobs));
    CONSOLE.init_once(tty.clone());
    match ax_runtime::console::take_input() {
        Ok(input) => {
            let spawned =
                ax_runtime::thread::builder(String::from("console-rx")).spawn(move || {
                    let mut items = [ax_runtime::console::RxItem::default(); 64];
                    loop {
                        let n = match input.read(&mut items) {
                            Ok(n) => n,
                            Err(e) => {
                                warn!("console: input stopped: {e:?}");
                                return;
                            }
                        };
                        for item in &items[..n] {
                            if let ax_runtime::console::RxItem::Byte { byte, .. } = item {
                                tty.receive(*byte);
                            }
                        }
                    }
                });
            if let Err(e) = spawned {
                warn!("console: cannot start the input thread: {e:?}");
            }
        }
        Err(e) => warn!("console: no input: {e:?}"),
    }
    Ok(())
}

/// Opens the device with number (major, minor).
pub fn open_device(major: u32, minor: u32) -> KResult<Arc<dyn FileLike>> {
    if let Some(dev) = MemDevice::from_rdev(major, minor) {
        return Ok(dev.open());
    }
    match (major, minor) {
        // The caller's controlling terminal: the console if its session
        // owns it, else ENXIO (tty_open_current_tty).
        (5, 0) => {
            let sid = crate::task::current().map_or(0, |t| t.process.sid());
            if sid == 0 || console().session() != sid {
                return Err(Errno::ENXIO);
            }
            Ok(TtyFile::open(console(), "/dev/tty"))
        }
        (5, 1) => Ok(TtyFile::open(console(), "/dev/console")),
        (4, 64) => Ok(TtyFile::open(console(), "/dev/ttyS0")),
        (10, LOOP_CTRL_MINOR) => Ok(LoopControl::open()),
        _ => Err(Errno::ENXIO),
    }
}

/// Opens the block device with number (major, minor), for writing if
/// `write`: the loop devices; ENXIO for any other number.
pub fn open_block_device(major: u32, minor: u32, write: bool) -> KResult<Arc<dyn FileLike>> {
    match major {
        LOOP_MAJOR => loopdev::open(minor, write),
        _ => Err(Errno::ENXIO),
    }
}

/// The device nodes devfs holds: name, major, minor, mode.
pub const DEVICE_NODES: &[(&str, u32, u32, u16)] = &[
    ("null", 1, 3, 0o666),
    ("zero", 1, 5, 0o666),
    ("full", 1, 7, 0o666),
    ("random", 1, 8, 0o666),
    ("urandom", 1, 9, 0o666),
    ("tty", 5, 0, 0o666),
    ("console", 5, 1, 0o600),
    ("ttyS0", 4, 64, 0o620),
    ("loop-control", 10, LOOP_CTRL_MINOR, 0o600),
];
