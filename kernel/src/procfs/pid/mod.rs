//! /proc/PID and /proc/PID/task/TID.
//!
//! A [`PidDir`] shows either a whole process (/proc/PID: the leader
//! thread's signal state, the group's CPU time) or one thread (the
//! directories under /proc/PID/task, and /proc/TID for a thread that is not
//! a group leader). Every node re-resolves its process by pid when read, so
//! a file opened before the process exited reads as empty instead of
//! showing stale data.
//!
//! The file formats live in [`status`] (status), [`stat`] (stat, statm),
//! [`maps`] (maps), [`smaps`] (smaps, smaps_rollup), [`pagemap`]
//! (pagemap), [`mem`] (mem) and [`fd`] (fd/, fdinfo/).

mod fd;
pub mod mem;
pub use self::fd::magic_link_file;

/// The node a /proc/PID/cwd, root or exe link at `loc` stands for: these
/// are magic links too (proc_pid_get_link), followed to the process's
/// directory or executable rather than through their text. `None` for any
/// other node (fd links: [`magic_link_file`]).
pub fn magic_link_node(loc: &axfs_ng_vfs::Location) -> Option<axfs_ng_vfs::Location> {
    if loc.node_type() != NodeType::Symlink || loc.filesystem().name() != "proc" {
        return None;
    }
    let name = loc.name();
    if !matches!(&*name, "cwd" | "root" | "exe") {
        return None;
    }
    let pid: Pid = loc.parent()?.name().parse().ok()?;
    let p = table::process(pid)?;
    let fs = p.fs();
    let ctx = fs.lock();
    match &*name {
        "cwd" => Some(ctx.current_dir().clone()),
        "root" => Some(ctx.root_dir().clone()),
        _ => {
            let exe = p.exe.lock().clone();
            ctx.resolve(exe.as_str()).ok()
        }
    }
}
mod maps;
mod pagemap;
mod smaps;
mod stat;
mod status;

use alloc::{format, string::String, sync::Arc, vec::Vec};
use core::sync::atomic::Ordering;

use axfs_ng_vfs::{NodeType, VfsError};
use starling_fs::{
    sysctl,
    tmpfs::{GeneratedDir, GeneratedNode},
};

use crate::task::{Pid, Process, Thread, process::ProcState, table};

/// Which task a directory shows.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pid: Pid,
    /// `None`: the whole process; `Some`: this thread of it.
    tid: Option<Pid>,
}

impl Target {
    /// /proc/PID.
    pub fn process(pid: Pid) -> Self {
        Self { pid, tid: None }
    }

    /// A thread of process `pid`.
    pub fn thread(pid: Pid, tid: Pid) -> Self {
        Self {
            pid,
            tid: Some(tid),
        }
    }

    /// The process and the thread whose per-thread state is shown (the
    /// leader for a whole-process view), if the process still exists.
    fn resolve(self) -> Option<(Arc<Process>, Option<Arc<Thread>>)> {
        let p = table::process(self.pid)?;
        let t = match self.tid {
            None => p.leader(),
            Some(tid) => {
                let t = table::thread(tid)?;
                if !Arc::ptr_eq(&t.process, &p) {
                    return None;
                }
                Some(t)
            }
        };
        Some((p, t))
    }

    /// The id the directory is named after.
    fn id(self) -> Pid {
        self.tid.unwrap_or(self.pid)
    }
}

/// What the kernel shows for one task, resolved at read time.
pub struct Task {
    pub process: Arc<Process>,
    pub thread: Option<Arc<Thread>>,
    /// The whole process (/proc/PID) rather than one thread.
    pub whole: bool,
    /// The id in the directory name (pid or tid).
    pub id: Pid,
}

impl Task {
    /// The one-letter state: the process's stop or zombie state, else what
    /// the thread is doing (R, S, D).
    pub fn state(&self) -> u8 {
        match self.process.tree.lock().state {
            ProcState::Running => self
                .thread
                .as_ref()
                .map_or(b'R', |t| t.state.load(Ordering::Acquire)),
            ProcState::Stopped { .. } => b'T',
            ProcState::Zombie { .. } => b'Z',
        }
    }

    /// The command name: the thread's, else (a zombie has no threads) the
    /// executable's base name.
    pub fn comm(&self) -> String {
        match &self.thread {
            Some(t) => t.comm(),
            None => {
                let exe = self.process.exe.lock().clone();
                let base = exe.rsplit('/').next().unwrap_or("");
                String::from(&base[..base.len().min(15)])
            }
        }
    }

    /// CPU time (total and user) of the group or the thread.
    pub fn cpu_sample(&self) -> crate::task::cputime::CpuSample {
        if self.whole {
            self.process.cpu_sample()
        } else {
            self.thread
                .as_ref()
                .map_or_else(Default::default, |t| t.cpu.sample())
        }
    }
}

/// One /proc/PID or /proc/PID/task/TID directory.
pub struct PidDir {
    target: Target,
    /// Inside a task/ directory (no task/ of its own).
    nested: bool,
}

impl PidDir {
    /// The node of /proc/ID.
    pub fn node(target: Target) -> GeneratedNode {
        GeneratedNode::dir(
            0o555,
            Arc::new(Self {
                target,
                nested: false,
            }),
        )
    }

    fn entries(&self) -> &'static [(&'static str, NodeType)] {
        if self.nested { &ENTRIES[1..] } else { ENTRIES }
    }
}

/// The names in a process directory; a task/TID directory has all but the
/// first.
const ENTRIES: &[(&str, NodeType)] = &[
    ("task", NodeType::Directory),
    ("exe", NodeType::Symlink),
    ("cwd", NodeType::Symlink),
    ("root", NodeType::Symlink),
    ("cmdline", NodeType::RegularFile),
    ("comm", NodeType::RegularFile),
    ("stat", NodeType::RegularFile),
    ("statm", NodeType::RegularFile),
    ("status", NodeType::RegularFile),
    ("maps", NodeType::RegularFile),
    ("smaps", NodeType::RegularFile),
    ("smaps_rollup", NodeType::RegularFile),
    ("pagemap", NodeType::RegularFile),
    ("mem", NodeType::RegularFile),
    ("mounts", NodeType::RegularFile),
    ("mountinfo", NodeType::RegularFile),
    ("fd", NodeType::Directory),
    ("fdinfo", NodeType::Directory),
    ("oom_score_adj", NodeType::RegularFile),
    ("personality", NodeType::RegularFile),
    ("auxv", NodeType::RegularFile),
];

/// A read-only file whose text `f` builds from the task, empty once the
/// task is gone.
fn task_file(target: Target, whole: bool, f: fn(&Task) -> String) -> GeneratedNode {
    GeneratedNode::file(
        0o444,
        Arc::new(move || {
            target
                .resolve()
                .map(|(process, thread)| {
                    f(&Task {
                        process,
                        thread,
                        whole,
                        id: target.id(),
                    })
                    .into_bytes()
                })
                .unwrap_or_default()
        }),
        None,
    )
}

/// The path of a location, for the cwd and root links.
fn location_path(loc: &axfs_ng_vfs::Location) -> String {
    loc.absolute_path()
        .map(|a| seen_by_reader(a.as_str()))
        .unwrap_or_default()
}

/// A global path (as the VFS and `FileLike::path` report it) as the
/// reading process sees it from its root directory (d_path): the part
/// below a chroot, or the global path when outside it.
pub(super) fn seen_by_reader(path: &str) -> String {
    match crate::task::current() {
        Some(t) => {
            let root = t.process.fs().lock().root_dir().clone();
            crate::syscall::fs::display_path(&root, path)
        }
        None => String::from(path),
    }
}

impl GeneratedDir for PidDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        if self.target.resolve().is_none() {
            return Vec::new();
        }
        self.entries()
            .iter()
            .map(|(n, t)| (String::from(*n), *t))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        if !self.entries().iter().any(|(n, _)| *n == name) {
            return None;
        }
        let target = self.target;
        let pid = target.pid;
        let whole = target.tid.is_none();
        let (p, _) = target.resolve()?;
        let node = match name {
            "task" => GeneratedNode::dir(0o555, Arc::new(TaskDir { pid })),
            "exe" => GeneratedNode::symlink(Arc::new(move || {
                table::process(pid)
                    .map(|p| p.exe.lock().clone())
                    .unwrap_or_default()
            })),
            "cwd" => GeneratedNode::symlink(Arc::new(move || {
                table::process(pid)
                    .map(|p| {
                        // Cloned out: seen_by_reader locks the reader's context,
                        // which may be this one.
                        let cwd = p.fs().lock().current_dir().clone();
                        location_path(&cwd)
                    })
                    .unwrap_or_default()
            })),
            "root" => GeneratedNode::symlink(Arc::new(move || {
                table::process(pid)
                    .map(|p| {
                        let root = p.fs().lock().root_dir().clone();
                        location_path(&root)
                    })
                    .unwrap_or_default()
            })),
            "cmdline" => task_file(target, whole, |t| {
                let mut s = String::new();
                for a in t.process.cmdline.lock().iter() {
                    s.push_str(a);
                    s.push('\0');
                }
                s
            }),
            "comm" => GeneratedNode::file(
                0o644,
                Arc::new(move || {
                    target
                        .resolve()
                        .map(|(process, thread)| {
                            let task = Task {
                                process,
                                thread,
                                whole,
                                id: target.id(),
                            };
                            format!("{}\n", task.comm()).into_bytes()
                        })
                        .unwrap_or_default()
                }),
                // fs/proc/base.c comm_write: sets the thread's name, cut to
                // 15 bytes at the first newline.
                Some(Arc::new(move |data: &[u8]| {
                    let (process, thread) = target.resolve().ok_or(VfsError::NotFound)?;
                    let thread = thread.ok_or(VfsError::NotFound)?;
                    // Only a thread of the same group may rename it.
                    if crate::task::current().is_none_or(|c| !Arc::ptr_eq(&c.process, &process)) {
                        return Err(VfsError::InvalidInput);
                    }
                    thread.set_comm(sysctl::parse_string(data, 16).as_bytes());
                    Ok(())
                })),
            ),
            "stat" => task_file(target, whole, stat::stat),
            "statm" => task_file(target, whole, stat::statm),
            "status" => task_file(target, whole, status::status),
            "maps" => task_file(target, whole, maps::maps),
            "smaps" => task_file(target, whole, smaps::smaps),
            "smaps_rollup" => task_file(target, whole, smaps::smaps_rollup),
            "pagemap" => pagemap::node(target),
            "mem" => mem::node(),
            "personality" => task_file(target, whole, |t| {
                format!("{:08x}\n", t.process.personality.load(Ordering::Relaxed))
            }),
            // The auxiliary vector as (type, value) words (fs/proc/base.c
            // proc_pid_auxv); debuggers find a PIE's load address in it.
            "auxv" => GeneratedNode::file(
                0o400,
                Arc::new(move || {
                    let Some(mm) = table::process(pid).and_then(|p| p.mm()) else {
                        return alloc::vec::Vec::new();
                    };
                    let auxv = mm.info.lock().auxv;
                    let mut out = alloc::vec::Vec::with_capacity(auxv.len() * 16);
                    for (k, v) in auxv {
                        out.extend_from_slice(&k.to_ne_bytes());
                        out.extend_from_slice(&v.to_ne_bytes());
                    }
                    out
                }),
                None,
            ),
            "mounts" => task_file(target, whole, |t| {
                super::mounts::mounts_text(&t.process.fs().lock())
            }),
            "mountinfo" => task_file(target, whole, |t| {
                super::mounts::mountinfo_text(&t.process.fs().lock())
            }),
            "fd" => GeneratedNode::dir(0o500, Arc::new(fd::FdDir { pid })),
            "fdinfo" => GeneratedNode::dir(0o500, Arc::new(fd::FdinfoDir { pid })),
            "oom_score_adj" => GeneratedNode::file(
                0o644,
                Arc::new(move || {
                    let v =
                        table::process(pid).map_or(0, |p| p.oom_score_adj.load(Ordering::Relaxed));
                    format!("{v}\n").into_bytes()
                }),
                Some(Arc::new(move |data: &[u8]| {
                    let v = sysctl::parse_int(data, -1000, 1000).ok_or(VfsError::InvalidInput)?;
                    if let Some(p) = table::process(pid) {
                        p.oom_score_adj.store(v, Ordering::Relaxed);
                    }
                    Ok(())
                })),
            ),
            _ => return None,
        };
        // task_dump_owner: a process that is not dumpable (after a
        // change of ids, PR_SET_DUMPABLE 0) has its files owned by root.
        let (uid, gid) = if p.dumpable.load(Ordering::Relaxed) == 1 {
            let c = p.creds.lock();
            (c.euid, c.egid)
        } else {
            (0, 0)
        };
        Some(node.owned_by(uid, gid))
    }
}

/// /proc/PID/task: one directory per thread, by ascending tid.
struct TaskDir {
    pid: Pid,
}

impl TaskDir {
    fn tids(&self) -> Vec<Pid> {
        let Some(p) = table::process(self.pid) else {
            return Vec::new();
        };
        let mut tids: Vec<Pid> = p.threads.lock().iter().map(|t| t.tid()).collect();
        tids.sort_unstable();
        tids
    }
}

impl GeneratedDir for TaskDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        self.tids()
            .into_iter()
            .map(|tid| (format!("{tid}"), NodeType::Directory))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let tid: Pid = name.parse().ok()?;
        if !self.tids().contains(&tid) {
            return None;
        }
        Some(GeneratedNode::dir(
            0o555,
            Arc::new(PidDir {
                target: Target::thread(self.pid, tid),
                nested: true,
            }),
        ))
    }
}
