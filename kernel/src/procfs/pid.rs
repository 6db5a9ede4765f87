//! /proc/PID: exe, cmdline, comm, stat, status, fd/.

use alloc::{format, string::String, sync::Arc, vec::Vec};

use axfs_ng_vfs::NodeType;
use starling_fs::tmpfs::{GeneratedDir, GeneratedNode};

use crate::task::{Pid, Process, process::ProcState, table};

/// One /proc/PID directory.
pub struct PidDir {
    pid: Pid,
}

impl PidDir {
    pub fn new(pid: Pid) -> Self {
        Self { pid }
    }

    fn process(&self) -> Option<Arc<Process>> {
        table::process(self.pid)
    }
}

const ENTRIES: &[(&str, NodeType)] = &[
    ("exe", NodeType::Symlink),
    ("cwd", NodeType::Symlink),
    ("cmdline", NodeType::RegularFile),
    ("comm", NodeType::RegularFile),
    ("stat", NodeType::RegularFile),
    ("status", NodeType::RegularFile),
    ("fd", NodeType::Directory),
    ("oom_score_adj", NodeType::RegularFile),
];

fn state_char(p: &Process) -> char {
    match p.tree.lock().state {
        ProcState::Running => p.threads.lock().first().map_or('R', |t| {
            t.state.load(core::sync::atomic::Ordering::Acquire) as char
        }),
        ProcState::Stopped { .. } => 'T',
        ProcState::Zombie { .. } => 'Z',
    }
}

fn comm(p: &Process) -> String {
    p.comm()
}

impl GeneratedDir for PidDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        if self.process().is_none() {
            return Vec::new();
        }
        ENTRIES
            .iter()
            .map(|(n, t)| (String::from(*n), *t))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let pid = self.pid;
        let p = self.process()?;
        let read = |f: fn(&Process) -> String| -> GeneratedNode {
            GeneratedNode::file(
                0o444,
                Arc::new(move || {
                    table::process(pid)
                        .map(|p| f(&p).into_bytes())
                        .unwrap_or_default()
                }),
                None,
            )
        };
        let node = match name {
            "exe" => GeneratedNode::symlink(Arc::new(move || {
                table::process(pid)
                    .map(|p| p.exe.lock().clone())
                    .unwrap_or_default()
            })),
            "cwd" => GeneratedNode::symlink(Arc::new(move || {
                table::process(pid)
                    .and_then(|p| {
                        p.fs()
                            .lock()
                            .current_dir()
                            .absolute_path()
                            .ok()
                            .map(|a| String::from(a.as_str()))
                    })
                    .unwrap_or_default()
            })),
            "cmdline" => read(|p| {
                let mut s = String::new();
                for a in p.cmdline.lock().iter() {
                    s.push_str(a);
                    s.push('\0');
                }
                s
            }),
            "comm" => read(|p| format!("{}\n", comm(p))),
            "stat" => read(|p| {
                let cpu = 0;
                format!(
                    "{} ({}) {} {} {} {} 0 -1 0 0 0 0 0 0 0 0 20 0 {} 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 {} 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                    p.pid,
                    comm(p),
                    state_char(p),
                    p.ppid(),
                    p.pgid(),
                    p.sid(),
                    p.threads.lock().len().max(1),
                    cpu
                )
            }),
            "status" => read(|p| {
                let c = p.creds.lock().clone();
                format!(
                    "Name:\t{}\nState:\t{}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nThreads:\t{}\n",
                    comm(p),
                    state_char(p),
                    p.pid,
                    p.pid,
                    p.ppid(),
                    c.uid,
                    c.euid,
                    c.suid,
                    c.fsuid,
                    c.gid,
                    c.egid,
                    c.sgid,
                    c.fsgid,
                    p.threads.lock().len()
                )
            }),
            "fd" => GeneratedNode::dir(0o500, Arc::new(FdDir { pid })),
            "oom_score_adj" => GeneratedNode::file(
                0o644,
                Arc::new(move || {
                    let v = table::process(pid).map_or(0, |p| {
                        p.oom_score_adj.load(core::sync::atomic::Ordering::Relaxed)
                    });
                    format!("{v}\n").into_bytes()
                }),
                Some(Arc::new(move |data: &[u8]| {
                    let text = core::str::from_utf8(data)
                        .map_err(|_| axfs_ng_vfs::VfsError::InvalidInput)?;
                    let v: i32 = text
                        .trim()
                        .parse()
                        .map_err(|_| axfs_ng_vfs::VfsError::InvalidInput)?;
                    if !(-1000..=1000).contains(&v) {
                        return Err(axfs_ng_vfs::VfsError::InvalidInput);
                    }
                    if let Some(p) = table::process(pid) {
                        p.oom_score_adj
                            .store(v, core::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(())
                })),
            ),
            _ => return None,
        };
        let uid = p.creds.lock().uid;
        let gid = p.creds.lock().gid;
        Some(node.owned_by(uid, gid))
    }
}

/// /proc/PID/fd: one symlink per descriptor, naming what it refers to.
struct FdDir {
    pid: Pid,
}

impl GeneratedDir for FdDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        let Some(p) = table::process(self.pid) else {
            return Vec::new();
        };
        let files = p.files();
        let table = files.lock();
        table
            .iter()
            .map(|(fd, _, _)| (format!("{fd}"), NodeType::Symlink))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let fd: i32 = name.parse().ok()?;
        let pid = self.pid;
        let p = table::process(pid)?;
        p.files().lock().get(fd)?;
        Some(GeneratedNode::symlink(Arc::new(move || {
            table::process(pid)
                .and_then(|p| p.files().lock().get(fd).map(|f| f.file().path()))
                .unwrap_or_default()
        })))
    }
}
