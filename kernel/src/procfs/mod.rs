//! /proc: files generated from kernel state at read time.
//!
//! procfs is a tmpfs instance whose files are generated (see
//! `starling_fs::tmpfs::generated`): static entries are added at mount time,
//! and the root's generator lists one directory per live process
//! ([`pid`]). /proc/self is a symlink computed for the reader.

mod pid;
mod sys;

use alloc::{format, string::String, sync::Arc, vec::Vec};

use axfs_ng_vfs::{DirEntry, NodeType, VfsResult};
use starling_fs::tmpfs::{self, GeneratedDir, GeneratedNode};

use crate::task::{self, table};

fn text(f: impl Fn() -> String + Send + Sync + 'static) -> tmpfs::ReadFn {
    Arc::new(move || f().into_bytes())
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
    tmpfs::add_generated_file(
        root,
        "uptime",
        0o444,
        text(|| {
            let up = task::block::now();
            format!("{}.{:02} 0.00\n", up.as_secs(), up.subsec_millis() / 10)
        }),
        None,
    )?;
    tmpfs::add_generated_file(root, "meminfo", 0o444, text(meminfo), None)?;
    tmpfs::add_generated_file(
        root,
        "version",
        0o444,
        text(|| {
            format!(
                "Linux version {} (starling) {}\n",
                crate::syscall::RELEASE,
                crate::syscall::VERSION
            )
        }),
        None,
    )?;
    tmpfs::add_generated_file(root, "mounts", 0o444, text(crate::boot::mounts_text), None)?;
    tmpfs::add_generated_file(
        root,
        "sysrq-trigger",
        0o200,
        Arc::new(Vec::new),
        Some(Arc::new(|data: &[u8]| {
            // Linux's 'c' crashes the kernel on purpose (to test crash
            // handling); the other keys are not implemented.
            if data.first() == Some(&b'c') {
                panic!("sysrq: crash requested through /proc/sysrq-trigger");
            }
            warn!(
                "sysrq: key {:?} is not implemented",
                data.first().map(|&b| b as char)
            );
            Ok(())
        })),
    )?;
    sys::populate(root)?;
    let starling = tmpfs::add_dir(root, "starling", 0o555)?;
    tmpfs::add_generated_file(
        &starling,
        "ipi",
        0o444,
        text(crate::selftest::ipi_round_trip),
        None,
    )?;
    tmpfs::set_dir_generator(root, Some(Arc::new(Pids)))?;
    Ok(())
}

fn meminfo() -> String {
    let (total, free) = crate::boot::memory_totals();
    let user = starling_mm::frame::allocated() * 4;
    format!(
        "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nAnonPages:      {:8} kB\n",
        total / 1024,
        free / 1024,
        free / 1024,
        user
    )
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

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let pid: i32 = name.parse().ok()?;
        table::process(pid)?;
        Some(GeneratedNode::dir(0o555, Arc::new(pid::PidDir::new(pid))))
    }
}
