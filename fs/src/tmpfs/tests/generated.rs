//! procfs-style generated files, symlinks and directories.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU32, Ordering},
};

use axfs_ng_vfs::{NodeType, RenameOptions, VfsError};

use super::{create, list, lookup, names, new_fs, perm, read_all};
use crate::tmpfs::{
    GeneratedDir, GeneratedNode, add_dir, add_generated_dir, add_generated_file,
    add_generated_symlink, new_tmpfs, set_dir_generator,
};

/// A stand-in process table: `/proc/<pid>` for every live pid, each with a
/// `status` file, an `exe` link and an `fd` directory.
struct Processes(Arc<Mutex<Vec<u32>>>);

impl GeneratedDir for Processes {
    fn list(&self) -> Vec<(String, NodeType)> {
        let pids = self.0.lock().unwrap();
        pids.iter()
            .map(|pid| (pid.to_string(), NodeType::Directory))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let pid: u32 = name.parse().ok()?;
        self.0
            .lock()
            .unwrap()
            .contains(&pid)
            .then(|| GeneratedNode::dir(0o555, Arc::new(Process(pid))).owned_by(pid, pid))
    }
}

struct Process(u32);

impl GeneratedDir for Process {
    fn list(&self) -> Vec<(String, NodeType)> {
        vec![
            ("status".into(), NodeType::RegularFile),
            ("exe".into(), NodeType::Symlink),
        ]
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let pid = self.0;
        match name {
            "status" => Some(GeneratedNode::file(
                0o444,
                Arc::new(move || format!("Pid:\t{pid}\n").into_bytes()),
                None,
            )),
            "exe" => Some(GeneratedNode::symlink(Arc::new(move || {
                format!("/bin/p{pid}")
            }))),
            // Like /proc/PID/pagemap: byte i is (i / 8) as u8, EINVAL for
            // unaligned offsets, 64 bytes in all.
            "pagemap" => Some(GeneratedNode::ranged_file(
                0o400,
                Arc::new(|buf: &mut [u8], offset: u64| {
                    if offset % 8 != 0 {
                        return Err(VfsError::InvalidInput);
                    }
                    let n = buf.len().min(64usize.saturating_sub(offset as usize));
                    for (i, b) in buf[..n].iter_mut().enumerate() {
                        *b = ((offset as usize + i) / 8) as u8;
                    }
                    Ok(n)
                }),
            )),
            _ => None,
        }
    }
}

#[test]
fn generated_file_reads_fresh_contents_at_offsets() {
    let fs = new_tmpfs("proc", None);
    let root = fs.root_dir();
    let counter = Arc::new(AtomicU32::new(0));
    let seen = counter.clone();
    let written = Arc::new(Mutex::new(Vec::new()));
    let sink = written.clone();
    let file = add_generated_file(
        &root,
        "counter",
        0o644,
        Arc::new(move || format!("value {}\n", seen.fetch_add(1, Ordering::SeqCst)).into_bytes()),
        Some(Arc::new(move |data: &[u8]| {
            sink.lock().unwrap().extend_from_slice(data);
            Ok(())
        })),
    )
    .unwrap();
    let ops = file.as_file().unwrap();
    let mut buf = [0; 64];
    let n = ops.read_at(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"value 0\n");
    let n = ops.read_at(&mut buf, 6).unwrap();
    assert_eq!(&buf[..n], b"1\n");
    assert_eq!(ops.read_at(&mut buf, 100), Ok(0));
    assert_eq!(ops.write_at(b"42", 0), Ok(2));
    assert_eq!(&*written.lock().unwrap(), b"42");
    assert_eq!(ops.set_len(0), Ok(()));
    let meta = file.metadata().unwrap();
    assert_eq!((meta.size, meta.mode.bits(), meta.uid), (0, 0o644, 0));

    let ro = add_generated_file(&root, "ro", 0o444, Arc::new(Vec::new), None).unwrap();
    assert_eq!(ro.as_file().unwrap().write_at(b"x", 0), Err(VfsError::Io));
    let dup = add_generated_file(&root, "ro", 0o444, Arc::new(Vec::new), None);
    assert_eq!(dup.err(), Some(VfsError::AlreadyExists));
    assert_eq!(lookup(&root, "ro").inode(), ro.inode());
    let bad = add_generated_file(&root, "a/b", 0o444, Arc::new(Vec::new), None);
    assert_eq!(bad.err(), Some(VfsError::InvalidInput));
}

#[test]
fn generated_symlink_computes_its_target() {
    let fs = new_tmpfs("proc", None);
    let root = fs.root_dir();
    let current = Arc::new(AtomicU32::new(1));
    let pid = current.clone();
    add_generated_symlink(
        &root,
        "self",
        Arc::new(move || pid.load(Ordering::SeqCst).to_string()),
    )
    .unwrap();
    let link = lookup(&root, "self");
    assert_eq!(link.node_type(), NodeType::Symlink);
    assert_eq!(link.read_link().unwrap(), "1");
    current.store(1234, Ordering::SeqCst);
    assert_eq!(link.read_link().unwrap(), "1234");
    assert_eq!(link.metadata().unwrap().size, 4);
}

#[test]
fn generated_directories_list_and_resolve_dynamic_names() {
    let fs = new_tmpfs("proc", None);
    let root = fs.root_dir();
    let pids = Arc::new(Mutex::new(vec![1, 42]));
    set_dir_generator(&root, Some(Arc::new(Processes(pids.clone())))).unwrap();
    add_generated_file(
        &root,
        "meminfo",
        0o444,
        Arc::new(|| b"MemTotal: 1 kB\n".to_vec()),
        None,
    )
    .unwrap();
    let sys = add_dir(&root, "sys", 0o555).unwrap();
    let user = root
        .as_dir()
        .unwrap()
        .create("tmp", NodeType::Directory, perm(0o755), 0, 0);
    assert_eq!(
        user.err(),
        Some(VfsError::OperationNotPermitted),
        "mkdir: EPERM"
    );

    assert_eq!(names(&root), [".", "..", "meminfo", "sys", "1", "42"]);
    let listed = list(&root, 2);
    assert_eq!(listed.len(), 6, "resuming mid-way through both parts");
    let proc42 = lookup(&root, "42");
    assert_eq!(proc42.inode(), listed[5].1, "getdents and stat agree");
    assert_eq!(
        lookup(&root, "42").inode(),
        proc42.inode(),
        "stable across lookups"
    );
    let meta = proc42.metadata().unwrap();
    assert_eq!(
        (meta.uid, meta.mode.bits(), meta.node_type),
        (42, 0o555, NodeType::Directory)
    );
    assert_eq!(names(&proc42), [".", "..", "status", "exe"]);
    assert_eq!(list(&proc42, 10)[1].1, root.inode());
    let status = lookup(&proc42, "status");
    assert_eq!(read_all(&status), b"", "size 0 as on procfs");
    let mut buf = [0; 64];
    let n = status.as_file().unwrap().read_at(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"Pid:\t42\n");
    assert_eq!(lookup(&proc42, "exe").read_link().unwrap(), "/bin/p42");
    assert_eq!(proc42.absolute_path().unwrap().as_str(), "/42");

    pids.lock().unwrap().retain(|&pid| pid != 42);
    assert_eq!(
        root.as_dir().unwrap().lookup("42").err(),
        Some(VfsError::NotFound)
    );
    assert_eq!(names(&root), [".", "..", "meminfo", "sys", "1"]);
    assert!(
        lookup(&root, "sys").ptr_eq(&sys),
        "own entries keep their DirEntry"
    );
    create(&sys, "kernel", NodeType::Directory);
    assert_eq!(names(&lookup(&root, "sys")), [".", "..", "kernel"]);
}

#[test]
fn users_cannot_change_generated_directories() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let pids = Arc::new(Mutex::new(vec![7]));
    let proc_dir = add_generated_dir(&root, "proc", 0o555, Arc::new(Processes(pids))).unwrap();
    let dir = proc_dir.as_dir().unwrap();
    assert!(!dir.inner().is_cacheable());
    let created = dir.create("x", NodeType::RegularFile, perm(0o644), 0, 0);
    assert_eq!(
        created.err(),
        Some(VfsError::PermissionDenied),
        "O_CREAT: EACCES"
    );
    let symlink = dir.create_symlink("s", "t", perm(0o777), 0, 0);
    assert_eq!(symlink.err(), Some(VfsError::OperationNotPermitted));
    let linked = dir.link("l", &create(&root, "plain", NodeType::RegularFile));
    assert_eq!(linked.err(), Some(VfsError::OperationNotPermitted));
    assert_eq!(dir.unlink("7", true), Err(VfsError::OperationNotPermitted));
    assert_eq!(
        root.as_dir().unwrap().unlink("proc", true),
        Err(VfsError::OperationNotPermitted)
    );
    let ops = dir.inner();
    assert_eq!(
        ops.rename("7", dir, "8", RenameOptions::REPLACE),
        Err(VfsError::OperationNotPermitted)
    );
    let status = lookup(&lookup(&proc_dir, "7"), "status");
    let linked = root.as_dir().unwrap().link("status", &status);
    assert_eq!(linked.err(), Some(VfsError::OperationNotPermitted));
    assert_eq!(names(&root), [".", "..", "proc", "plain"]);
    assert_eq!(root.metadata().unwrap().nlink, 3);
}

#[test]
fn ranged_file_reads_at_each_offset() {
    let fs = new_tmpfs("proc", None);
    let root = fs.root_dir();
    set_dir_generator(
        &root,
        Some(Arc::new(Processes(Arc::new(Mutex::new(vec![7]))))),
    )
    .unwrap();
    let file = lookup(&lookup(&root, "7"), "pagemap");
    assert_eq!(file.node_type(), NodeType::RegularFile);
    let meta = file.metadata().unwrap();
    assert_eq!((meta.size, meta.mode.bits()), (0, 0o400));
    let ops = file.as_file().unwrap();
    let mut buf = [0xff; 16];
    assert_eq!(ops.read_at(&mut buf, 40), Ok(16));
    assert_eq!(buf, [5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6]);
    assert_eq!(ops.read_at(&mut buf, 56), Ok(8));
    assert_eq!(ops.read_at(&mut buf, 64), Ok(0));
    assert_eq!(ops.read_at(&mut buf, 3), Err(VfsError::InvalidInput));
    assert_eq!(ops.write_at(b"x", 0), Err(VfsError::InvalidInput));
    assert_eq!(ops.set_len(0), Ok(()));
}
