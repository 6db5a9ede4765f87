//! Files, directories, links, metadata and limits through the VFS.

use std::{sync::Arc, thread};

use axfs_ng_vfs::{
    DeviceId, FileRangeOperation, MetadataUpdate, Mountpoint, NodeType, PreallocationMode, VfsError,
};

use super::{create, list, lookup, names, new_fs, perm, read_all, write};
use crate::tmpfs::{
    PROC_SUPER_MAGIC, TMPFS_MAGIC,
    inode::{DirInode, Meta},
    new_tmpfs,
    superblock::Super,
    with_inode_data,
};

#[test]
fn create_lookup_and_errors() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let file = create(&root, "a", NodeType::RegularFile);
    assert_eq!(write(&file, 0, b"hello"), 5);
    assert_eq!(read_all(&lookup(&root, "a")), b"hello");

    let dir = root.as_dir().unwrap();
    let again = dir.create("a", NodeType::RegularFile, perm(0o644), 0, 0);
    assert_eq!(again.err(), Some(VfsError::AlreadyExists));
    assert_eq!(dir.lookup("missing").err(), Some(VfsError::NotFound));
    assert_eq!(
        dir.inner().lookup("missing").err(),
        Some(VfsError::NotFound)
    );
    let unknown = dir.create("u", NodeType::Unknown, perm(0o644), 0, 0);
    assert_eq!(unknown.err(), Some(VfsError::InvalidInput));
}

#[test]
fn inode_numbers_link_counts_and_sizes() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    assert_eq!(root.inode(), 1);
    let sub = create(&root, "sub", NodeType::Directory);
    let file = create(&root, "f", NodeType::RegularFile);
    create(&sub, "inner", NodeType::Directory);
    let inos = [root.inode(), sub.inode(), file.inode()];
    assert!(inos[0] != inos[1] && inos[1] != inos[2] && inos[0] != inos[2]);

    let meta = root.metadata().unwrap();
    assert_eq!(meta.nlink, 3, "root: itself, `.`, and sub's `..`");
    assert_eq!(meta.size, 20 * 4, "BOGO_DIRENT_SIZE for ., .., sub, f");
    assert_eq!(meta.mode.bits(), 0o1777);
    assert_eq!(sub.metadata().unwrap().nlink, 3);

    write(&file, 8192, b"x");
    let meta = file.metadata().unwrap();
    assert_eq!(
        (meta.nlink, meta.size, meta.blocks, meta.block_size),
        (1, 8193, 8, 4096)
    );
    assert_eq!((meta.uid, meta.gid, meta.mode.bits()), (1000, 1000, 0o644));
}

#[test]
fn hard_links_share_data_and_count() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let file = create(&root, "a", NodeType::RegularFile);
    let link = dir.link("b", &file).unwrap();
    assert_eq!(link.inode(), file.inode());
    write(&link, 0, b"shared");
    assert_eq!(read_all(&file), b"shared");
    assert_eq!(file.metadata().unwrap().nlink, 2);
    with_inode_data(&file, |data| data.insert(7u32)).unwrap();
    assert_eq!(
        with_inode_data(&link, |data| data.get::<u32>())
            .unwrap()
            .as_deref(),
        Some(&7)
    );

    dir.unlink("a", false).unwrap();
    assert_eq!(link.metadata().unwrap().nlink, 1);
    dir.unlink("b", false).unwrap();
    assert_eq!(file.metadata().unwrap().nlink, 0);
    assert_eq!(
        read_all(&file),
        b"shared",
        "an open unlinked file keeps its data"
    );
    assert_eq!(dir.link("c", &file).err(), Some(VfsError::NotFound));

    let sub = create(&root, "sub", NodeType::Directory);
    assert_eq!(
        dir.inner().link("d", &sub).err(),
        Some(VfsError::OperationNotPermitted)
    );
    let other = new_fs(None).root_dir();
    let foreign = create(&other, "x", NodeType::RegularFile);
    assert_eq!(
        dir.inner().link("x", &foreign).err(),
        Some(VfsError::CrossesDevices)
    );
}

#[test]
fn unlink_checks_type_and_emptiness() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let sub = create(&root, "sub", NodeType::Directory);
    create(&root, "f", NodeType::RegularFile);
    create(&sub, "x", NodeType::RegularFile);

    let ops = dir.inner();
    assert_eq!(ops.unlink("sub", false), Err(VfsError::IsADirectory));
    assert_eq!(ops.unlink("f", true), Err(VfsError::NotADirectory));
    assert_eq!(ops.unlink("sub", true), Err(VfsError::DirectoryNotEmpty));
    assert_eq!(ops.unlink("nope", false), Err(VfsError::NotFound));
    assert_eq!(dir.unlink("sub", false), Err(VfsError::IsADirectory));

    sub.as_dir().unwrap().unlink("x", false).unwrap();
    dir.unlink("sub", true).unwrap();
    assert_eq!(root.metadata().unwrap().nlink, 2);
    assert_eq!(sub.metadata().unwrap().nlink, 0);
    let gone = sub.as_dir().unwrap();
    assert_eq!(
        gone.read_dir(Default::default(), &mut |_: &[u8], _, _, _| true)
            .err(),
        Some(VfsError::NotFound)
    );
    let late = gone.create("late", NodeType::RegularFile, perm(0o644), 0, 0);
    assert_eq!(late.err(), Some(VfsError::NotFound));
}

#[test]
fn read_dir_lists_dots_first_and_resumes_stably() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let sub = create(&root, "sub", NodeType::Directory);
    for i in 0..150 {
        create(&sub, &format!("f{i}"), NodeType::RegularFile);
    }
    let all = list(&sub, 7);
    assert_eq!(all.len(), 152);
    assert_eq!(all[0], (".".into(), sub.inode(), NodeType::Directory));
    assert_eq!(all[1], ("..".into(), root.inode(), NodeType::Directory));
    assert_eq!(all[2].0, "f0");
    assert_eq!(all[151].0, "f149");
    assert_eq!(
        list(&root, 1)[1].1,
        root.inode(),
        "the root is its own parent"
    );

    // Remove an already-read entry and add one mid-listing: nothing untouched
    // is skipped or repeated.
    let dir = sub.as_dir().unwrap();
    let mut seen = Vec::new();
    let mut cursor = Default::default();
    dir.read_dir(cursor, &mut |name: &[u8], _, _, c| {
        seen.push(String::from_utf8(name.to_vec()).unwrap());
        cursor = c;
        seen.len() < 10
    })
    .unwrap();
    dir.unlink("f3", false).unwrap();
    create(&sub, "new", NodeType::RegularFile);
    dir.read_dir(cursor, &mut |name: &[u8], _, _, _| {
        seen.push(String::from_utf8(name.to_vec()).unwrap());
        true
    })
    .unwrap();
    assert_eq!(seen.len(), 153);
    assert_eq!(seen.iter().filter(|n| n.as_str() == "f3").count(), 1);
    assert_eq!(seen.last().map(String::as_str), Some("new"));
}

#[test]
fn timestamps_follow_linux_rules() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let before = root.metadata().unwrap();
    let file = create(&root, "f", NodeType::RegularFile);
    let created = file.metadata().unwrap();
    let after = root.metadata().unwrap();
    assert!(after.mtime > before.mtime && after.ctime > before.ctime);
    assert_eq!(
        (created.atime, created.mtime),
        (created.ctime, created.ctime)
    );

    write(&file, 0, b"data");
    let written = file.metadata().unwrap();
    assert!(written.mtime > created.mtime && written.ctime == written.mtime);
    assert_eq!(written.atime, created.atime);
    read_all(&file);
    let read = file.metadata().unwrap();
    assert!(
        read.atime > written.mtime,
        "relatime: atime older than mtime moves"
    );
    read_all(&file);
    assert_eq!(
        file.metadata().unwrap().atime,
        read.atime,
        "relatime: no second update"
    );

    let update = MetadataUpdate {
        mode: Some(perm(0o4711)),
        owner: Some((5, 6)),
        atime: Some(core::time::Duration::from_secs(1)),
        mtime: Some(core::time::Duration::from_secs(2)),
        ..Default::default()
    };
    file.update_metadata(update).unwrap();
    let meta = file.metadata().unwrap();
    assert_eq!((meta.mode.bits(), meta.uid, meta.gid), (0o4711, 5, 6));
    assert_eq!((meta.atime.as_secs(), meta.mtime.as_secs()), (1, 2));
    assert!(meta.ctime > read.atime);

    file.as_file().unwrap().set_len(1).unwrap();
    assert!(file.metadata().unwrap().mtime > meta.ctime);
}

#[test]
fn symlinks_special_nodes_and_devices() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let link = dir
        .create_symlink("l", "../target", perm(0o600), 3, 4)
        .unwrap();
    assert_eq!(link.node_type(), NodeType::Symlink);
    assert_eq!(link.read_link().unwrap(), "../target");
    let meta = link.metadata().unwrap();
    assert_eq!((meta.mode.bits(), meta.size, meta.blocks), (0o777, 9, 0));
    let long = "x".repeat(4096);
    assert_eq!(
        dir.create_symlink("long", &long, perm(0o777), 0, 0).err(),
        Some(VfsError::NameTooLong)
    );
    let page_long = dir
        .create_symlink("pl", &long[..200], perm(0o777), 0, 0)
        .unwrap();
    assert_eq!(page_long.metadata().unwrap().blocks, 8);

    let tty = create(&root, "tty", NodeType::CharacterDevice);
    let update = MetadataUpdate {
        rdev: Some(DeviceId::new(5, 0)),
        ..Default::default()
    };
    tty.update_metadata(update).unwrap();
    let meta = tty.metadata().unwrap();
    assert_eq!(
        (meta.node_type, meta.rdev),
        (NodeType::CharacterDevice, DeviceId::new(5, 0))
    );
    let mut buf = [0; 4];
    assert_eq!(
        tty.as_file().unwrap().read_at(&mut buf, 0),
        Err(VfsError::OperationNotSupported)
    );
    for ty in [NodeType::Fifo, NodeType::Socket, NodeType::BlockDevice] {
        let node = create(&root, &format!("{ty:?}"), ty);
        assert_eq!(node.metadata().unwrap().node_type, ty);
        assert_eq!(
            node.as_file().unwrap().set_len(0),
            Err(VfsError::InvalidInput)
        );
    }
    assert!(names(&root).contains(&"Fifo".to_string()));
}

#[test]
fn set_group_id_directories_pass_their_group_on() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let shared = create(&root, "shared", NodeType::Directory);
    let update = MetadataUpdate {
        mode: Some(perm(0o2775)),
        owner: Some((0, 50)),
        ..Default::default()
    };
    shared.update_metadata(update).unwrap();
    let file = create(&shared, "f", NodeType::RegularFile);
    let sub = create(&shared, "d", NodeType::Directory);
    assert_eq!(file.metadata().unwrap().gid, 50);
    assert_eq!(file.metadata().unwrap().mode.bits(), 0o644);
    let meta = sub.metadata().unwrap();
    assert_eq!((meta.gid, meta.mode.bits()), (50, 0o2644));
}

#[test]
fn size_limit_statfs_and_space_reuse() {
    let fs = new_fs(Some(3 * 4096));
    let stat = fs.stat().unwrap();
    assert_eq!(
        (stat.fs_type, stat.block_size, stat.blocks, stat.blocks_free),
        (TMPFS_MAGIC, 4096, 3, 3)
    );
    let root = fs.root_dir();
    let file = create(&root, "big", NodeType::RegularFile);
    let ops = file.as_file().unwrap().clone();
    assert_eq!(ops.write_at(&[1; 5 * 4096], 0), Ok(3 * 4096));
    assert_eq!(ops.write_at(&[1; 1], 3 * 4096), Err(VfsError::StorageFull));
    assert_eq!(fs.stat().unwrap().blocks_available, 0);
    let keep = FileRangeOperation::Allocate(PreallocationMode::KeepSize);
    assert_eq!(
        ops.operate_range(4 * 4096, 1, keep),
        Err(VfsError::StorageFull)
    );
    assert_eq!(
        ops.operate_range(0, 4096, FileRangeOperation::PunchHole),
        Ok(())
    );
    assert_eq!(fs.stat().unwrap().blocks_free, 1);
    assert_eq!(
        ops.operate_range(0, 1, FileRangeOperation::CollapseRange),
        Err(VfsError::OperationNotSupported)
    );

    root.as_dir().unwrap().unlink("big", false).unwrap();
    assert_eq!(fs.stat().unwrap().blocks_free, 1, "still open");
    drop(ops);
    drop(file);
    assert_eq!(fs.stat().unwrap().blocks_free, 3, "last reference gone");

    assert_eq!(
        new_tmpfs("proc", None).stat().unwrap().fs_type,
        PROC_SUPER_MAGIC
    );
    let unlimited = new_tmpfs("tmpfs", None).stat().unwrap();
    assert_eq!((unlimited.blocks, unlimited.name_length), (0, 255));
}

#[test]
fn location_api_reaches_tmpfs() {
    let fs = new_fs(None);
    let mount = Mountpoint::new_root(&fs);
    let root = mount.root_location();
    let dir = root
        .create("d", NodeType::Directory, perm(0o755), 0, 0)
        .unwrap();
    let file = dir
        .create("f", NodeType::RegularFile, perm(0o600), 0, 0)
        .unwrap();
    file.entry()
        .as_file()
        .unwrap()
        .write_at(b"via location", 0)
        .unwrap();
    dir.create_symlink("s", "f", perm(0o777), 0, 0).unwrap();
    let found = root
        .lookup_no_follow("d")
        .unwrap()
        .lookup_no_follow("s")
        .unwrap();
    assert_eq!(found.read_link().unwrap(), "f");
    assert_eq!(found.metadata().unwrap().device, mount.device());
    root.rename("d", &root, "e").unwrap();
    let moved = root
        .lookup_no_follow("e")
        .unwrap()
        .lookup_no_follow("f")
        .unwrap();
    assert_eq!(read_all(moved.entry()), b"via location");
    assert_eq!(moved.absolute_path().unwrap().as_str(), "/e/f");
}

#[test]
fn deep_trees_are_freed_without_recursion() {
    let sb = Arc::new(Super::new(None, super::tick));
    let meta = Meta::new(perm(0o755), 0, 0, super::tick());
    let root = DirInode::new(&sb, sb.alloc_ino(), meta.clone(), Default::default(), None);
    let mut current = root.clone();
    for _ in 0..200_000 {
        let child = DirInode::new(
            &sb,
            sb.alloc_ino(),
            meta.clone(),
            Arc::downgrade(&current),
            None,
        );
        current
            .state
            .lock()
            .insert("d".into(), crate::tmpfs::inode::Child::Dir(child.clone()));
        current = child;
    }
    drop(current);
    assert_eq!(sb.inodes_used(), 200_001);
    drop(root);
    assert_eq!(sb.inodes_used(), 0);
}

#[test]
fn concurrent_mutations_do_not_deadlock() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let a = create(&root, "a", NodeType::Directory);
    let b = create(&root, "b", NodeType::Directory);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                let (from, to) = if t % 2 == 0 { (&a, &b) } else { (&b, &a) };
                let name = format!("t{t}");
                for _ in 0..300 {
                    create(from, &name, NodeType::Directory);
                    let from_dir = from.as_dir().unwrap();
                    from_dir.rename(&name, to.as_dir().unwrap(), &name).unwrap();
                    let _ = to.metadata();
                    let _ = list(to, 3);
                    to.as_dir().unwrap().unlink(&name, true).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(names(&a), [".", ".."]);
    assert_eq!(root.metadata().unwrap().nlink, 4);
}
