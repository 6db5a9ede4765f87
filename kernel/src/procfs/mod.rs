//! /proc: files generated from kernel state at read time.
//!
//! procfs is a tmpfs instance whose files are generated (see
//! `starling_fs::tmpfs::generated`): the system-wide files are added at
//! mount time, and the root's generator lists one directory per live
//! process ([`pid`]). /proc/self and /proc/thread-self are symlinks computed
//! for the reader; /proc/mounts is a symlink to self/mounts, as on Linux.
//!
//! Every file's text is built whole by a closure; an open file keeps the
//! text it saw at offset 0 and serves later offsets from it (see
//! `starling_fs::file::vfs`), so small reads, `lseek` and `pread` see one
//! consistent text. docs/procfs.md lists every file and where its values
//! come from.
//!
//! Layout: [`meminfo`], [`kstat`] (/proc/stat, loadavg, uptime),
//! [`mounts`] (mounts, filesystems), [`config`] (config.gz), cpuinfo in
//! `arch::cpuinfo`, [`locks`] (/proc/locks), [`pid`] (the per-process directories) and [`sys`]
//! (/proc/sys).

mod config;
mod kstat;
mod locks;
mod meminfo;
mod mounts;
mod pid;
mod sys;

use alloc::{format, string::String, sync::Arc, vec::Vec};

use axfs_ng_vfs::{DirEntry, NodeType, VfsResult};
use starling_fs::tmpfs::{self, GeneratedDir, GeneratedNode};

pub use self::{
    locks::publish_locks,
    pid::{magic_link_file, magic_link_node, mem::open as pid_mem_open},
    sys::{core_pattern, core_uses_pid},
};
use crate::task::{self, table};

/// A generated file whose text `f` builds.
fn text(f: impl Fn() -> String + Send + Sync + 'static) -> tmpfs::ReadFn {
    Arc::new(move || f().into_bytes())
}

/// Adds a read-only (0444) generated text file.
fn add_text(
    dir: &DirEntry,
    name: &str,
    f: impl Fn() -> String + Send + Sync + 'static,
) -> VfsResult<()> {
    tmpfs::add_generated_file(dir, name, 0o444, text(f), None).map(|_| ())
}

/// Populates a freshly created procfs root.
pub fn populate(root: &DirEntry) -> VfsResult<()> {
    tmpfs::add_generated_symlink(
        root,
        "self",
        Arc::new(|| {
            task::current().map_or_else(|| String::from("1"), |t| format!("{}", t.process.pid))
        }),
    )?;
    tmpfs::add_generated_symlink(
        root,
        "thread-self",
        Arc::new(|| {
            task::current().map_or_else(
                || String::from("1/task/1"),
                |t| format!("{}/task/{}", t.process.pid, t.tid()),
            )
        }),
    )?;
    tmpfs::add_generated_symlink(root, "mounts", Arc::new(|| String::from("self/mounts")))?;
    add_text(root, "uptime", kstat::uptime)?;
    add_text(root, "loadavg", kstat::loadavg)?;
    add_text(root, "stat", kstat::stat)?;
    add_text(root, "meminfo", meminfo::meminfo)?;
    add_text(root, "cpuinfo", crate::arch::cpuinfo)?;
    add_text(root, "filesystems", mounts::filesystems)?;
    add_text(root, "locks", locks::proc_locks)?;
    add_text(root, "kallsyms", kallsyms)?;
    add_text(root, "version", || {
        format!(
            "Linux version {} (starling) {}\n",
            crate::syscall::RELEASE,
            crate::syscall::VERSION
        )
    })?;
    tmpfs::add_generated_file(root, "config.gz", 0o444, Arc::new(config::config_gz), None)?;
    tmpfs::add_generated_file(
        root,
        "sysrq-trigger",
        0o200,
        Arc::new(Vec::new),
        Some(Arc::new(|data: &[u8]| {
            // Linux's 'c' crashes the kernel on purpose (to test crash
            // handling) and 'l' logs every CPU's backtrace; the other keys
            // are not implemented.
            match data.first() {
                Some(b'c') => panic!("sysrq: crash requested through /proc/sysrq-trigger"),
                Some(b'l') => {
                    crate::debug::watchdog::show_all_cpus();
                    return Ok(());
                }
                _ => {}
            }
            warn!(
                "sysrq: key {:?} is not implemented",
                data.first().map(|&b| b as char)
            );
            Ok(())
        })),
    )?;
    // /proc/net (a link to self/net on Linux, whose tables are per network
    // namespace; Starling has one): the AF_UNIX socket table.
    let net = tmpfs::add_dir(root, "net", 0o555)?;
    add_text(&net, "unix", starling_fs::file::unix::proc_net_unix)?;
    {
        use starling_fs::file::inet::{Table, proc_net_inet};
        add_text(&net, "tcp", || proc_net_inet(Table::Tcp))?;
        add_text(&net, "tcp6", || proc_net_inet(Table::Tcp6))?;
        add_text(&net, "udp", || proc_net_inet(Table::Udp))?;
        add_text(&net, "udp6", || proc_net_inet(Table::Udp6))?;
    }
    sys::populate(root)?;
    let sysvipc = tmpfs::add_dir(root, "sysvipc", 0o555)?;
    add_text(&sysvipc, "msg", crate::ipc::msg::proc_text)?;
    add_text(&sysvipc, "sem", crate::ipc::sem::proc_text)?;
    add_text(&sysvipc, "shm", crate::ipc::shm::proc_text)?;
    let starling = tmpfs::add_dir(root, "starling", 0o555)?;
    add_text(&starling, "ipi", crate::selftest::ipi_round_trip)?;
    add_text(&starling, "mm", meminfo::mm_counts)?;
    tmpfs::add_generated_file(
        &starling,
        "provoke",
        0o200,
        Arc::new(Vec::new),
        Some(Arc::new(crate::debug::provoke::write)),
    )?;
    tmpfs::set_dir_generator(root, Some(Arc::new(Pids)))?;
    Ok(())
}

/// /proc/kallsyms: "address type name" per symbol, in address order.
/// Addresses show for root only (Linux's `kallsyms_show_value` under the
/// default kptr_restrict 0 and perf_event_paranoid 2 asks for CAP_SYSLOG);
/// others read zeros.
fn kallsyms() -> String {
    use core::fmt::Write;
    let show = task::current().is_none_or(|t| t.process.creds.lock().euid == 0);
    let mut out = String::new();
    crate::debug::ksyms::for_each(|sym| {
        let addr = if show { sym.addr } else { 0 };
        let _ = writeln!(out, "{addr:016x} {} {}", sym.kind as char, sym.name);
    });
    out
}

/// The process directories of the /proc root.
struct Pids;

impl GeneratedDir for Pids {
    fn list(&self) -> Vec<(String, NodeType)> {
        table::all_processes()
            .iter()
            .map(|p| (format!("{}", p.pid), NodeType::Directory))
            .collect()
    }

    /// A process id names its directory; so does the id of any other
    /// thread, which Linux resolves without listing it (fs/proc/base.c
    /// `proc_pid_lookup` finds any task), showing that thread.
    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let id: i32 = name.parse().ok()?;
        if table::process(id).is_some() {
            return Some(pid::PidDir::node(pid::Target::process(id)));
        }
        let thread = table::thread(id)?;
        Some(pid::PidDir::node(pid::Target::thread(
            thread.process.pid,
            id,
        )))
    }
}
