//! Devices: the console terminal, the memory devices and the loop
//! devices, and the tables that map a device node's (major, minor) to its
//! driver (character and block numbers are separate name spaces).

use alloc::{boxed::Box, collections::BTreeMap, string::String, sync::Arc, vec::Vec};

use ax_lazyinit::LazyInit;
use starling_fs::file::{
    FileLike,
    device::MemDevice,
    loopdev::{self, LOOP_CTRL_MINOR, LOOP_MAJOR, LoopControl},
    pty::{PTMX_MINOR, PTS_MAJOR, Pty, PtyMaster},
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

/// The pseudo-terminal pairs by number.
static PTYS: ax_sync::SpinLock<BTreeMap<u32, Arc<Pty>>> = ax_sync::SpinLock::new(BTreeMap::new());
/// The /dev/pts directories of every devtmpfs, to hold the slaves' nodes.
static PTS_DIRS: ax_sync::SpinLock<Vec<axfs_ng_vfs::Location>> = ax_sync::SpinLock::new(Vec::new());
/// Most pairs at once (/proc/sys/kernel/pty/max's default).
const PTY_MAX: u32 = 4096;
/// Group of the slave nodes (devpts' usual gid=5, "tty").
const TTY_GID: u32 = 5;

/// Registers a devtmpfs's /dev/pts directory.
pub fn add_pts_dir(dir: &axfs_ng_vfs::Location) {
    PTS_DIRS.lock().push(dir.clone());
}

/// Opens /dev/ptmx: a new pair, its slave node /dev/pts/N owned by the
/// caller (mode 0620, group tty), removed with the master.
fn open_ptmx() -> KResult<Arc<dyn FileLike>> {
    use axfs_ng_vfs::{DeviceId, MetadataUpdate, NodePermission, NodeType};
    let pty = {
        let mut ptys = PTYS.lock();
        let index = (0..PTY_MAX)
            .find(|i| !ptys.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        let pty = Arc::new(Pty::new(index));
        ptys.insert(index, pty.clone());
        pty
    };
    pty.tty.set_job_control(Arc::new(ProcessJobs));
    let index = pty.link.index();
    let name = alloc::format!("{index}");
    let uid = crate::task::current().map_or(0, |t| t.process.creds.lock().fsuid);
    let dirs = PTS_DIRS.lock().clone();
    for dir in &dirs {
        let made = dir
            .create(
                &name,
                NodeType::CharacterDevice,
                NodePermission::from_bits_truncate(0o620),
                uid,
                TTY_GID,
            )
            .and_then(|node| {
                node.update_metadata(MetadataUpdate {
                    rdev: Some(DeviceId::new(PTS_MAJOR, index)),
                    ..Default::default()
                })
            });
        if let Err(e) = made {
            warn!("pty: cannot create /dev/pts/{index}: {e:?}");
        }
    }
    Ok(PtyMaster::open(
        &pty,
        Box::new(move || {
            PTYS.lock().remove(&index);
            for dir in &dirs {
                if let Ok(d) = dir.entry().as_dir() {
                    let _ = d.unlink(&name, false);
                }
            }
        }),
    ))
}

/// The caller's controlling terminal (/dev/tty): the console or the pty
/// slave whose session is the caller's; ENXIO without one.
fn open_controlling_tty() -> KResult<Arc<dyn FileLike>> {
    let sid = crate::task::current().map_or(0, |t| t.process.sid());
    if sid == 0 {
        return Err(Errno::ENXIO);
    }
    if console().session() == sid {
        return Ok(TtyFile::open(console(), "/dev/tty"));
    }
    let pty = PTYS
        .lock()
        .values()
        .find(|p| p.tty.session() == sid)
        .cloned();
    match pty {
        Some(p) => p.open_slave(),
        None => Err(Errno::ENXIO),
    }
}

/// Opens the device with number (major, minor).
pub fn open_device(major: u32, minor: u32) -> KResult<Arc<dyn FileLike>> {
    if let Some(dev) = MemDevice::from_rdev(major, minor) {
        return Ok(dev.open());
    }
    if (major, minor) == crate::dmesg::kmsg::KMSG_RDEV {
        return Ok(crate::dmesg::kmsg::open());
    }
    match (major, minor) {
        // The caller's controlling terminal (tty_open_current_tty).
        (5, 0) => open_controlling_tty(),
        (5, PTMX_MINOR) => open_ptmx(),
        (PTS_MAJOR, n) => {
            let pty = PTYS.lock().get(&n).cloned();
            pty.ok_or(Errno::ENXIO)?.open_slave()
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
    ("kmsg", 1, 11, 0o644),
    ("tty", 5, 0, 0o666),
    ("ptmx", 5, PTMX_MINOR, 0o666),
    ("console", 5, 1, 0o600),
    ("ttyS0", 4, 64, 0o620),
    ("loop-control", 10, LOOP_CTRL_MINOR, 0o600),
];
