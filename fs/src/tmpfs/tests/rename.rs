//! rename and renameat2 flags, both through the VFS and straight to tmpfs.

use axfs_ng_vfs::{DeviceId, NodeType, RenameOptions, VfsError};

use super::{create, list, lookup, names, new_fs, read_all, write};

#[test]
fn replace_moves_and_drops_the_victim() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let a = create(&root, "a", NodeType::RegularFile);
    let b = create(&root, "b", NodeType::RegularFile);
    write(&a, 0, b"from a");
    write(&b, 0, b"from b");
    let before = root.metadata().unwrap();

    dir.rename("a", dir, "b").unwrap();
    assert_eq!(names(&root), [".", "..", "b"]);
    assert_eq!(read_all(&lookup(&root, "b")), b"from a");
    assert_eq!(b.metadata().unwrap().nlink, 0);
    let after = root.metadata().unwrap();
    assert!(after.mtime > before.mtime);
    assert!(
        a.metadata().unwrap().ctime > before.mtime,
        "the moved inode's ctime moves"
    );
    assert_eq!(dir.rename("missing", dir, "x"), Err(VfsError::NotFound));
}

#[test]
fn no_replace_and_same_inode() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let a = create(&root, "a", NodeType::RegularFile);
    create(&root, "b", NodeType::RegularFile);
    let ops = dir.inner();
    assert_eq!(
        ops.rename("a", dir, "b", RenameOptions::NO_REPLACE),
        Err(VfsError::AlreadyExists)
    );
    ops.rename("a", dir, "c", RenameOptions::NO_REPLACE)
        .unwrap();
    dir.link("d", &lookup(&root, "c")).unwrap();
    // Two links to one file: POSIX says rename does nothing.
    ops.rename("c", dir, "d", RenameOptions::REPLACE).unwrap();
    assert_eq!(names(&root), [".", "..", "b", "c", "d"]);
    assert_eq!(a.metadata().unwrap().nlink, 2);
    ops.rename("b", dir, "b", RenameOptions::REPLACE).unwrap();
}

#[test]
fn type_and_emptiness_checks() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let ops = dir.inner();
    let full = create(&root, "full", NodeType::Directory);
    create(&full, "x", NodeType::RegularFile);
    create(&root, "empty", NodeType::Directory);
    create(&root, "d", NodeType::Directory);
    create(&root, "f", NodeType::RegularFile);
    let replace = RenameOptions::REPLACE;
    assert_eq!(
        ops.rename("d", dir, "f", replace),
        Err(VfsError::NotADirectory)
    );
    assert_eq!(
        ops.rename("f", dir, "d", replace),
        Err(VfsError::IsADirectory)
    );
    assert_eq!(
        ops.rename("d", dir, "full", replace),
        Err(VfsError::DirectoryNotEmpty)
    );
    let empty = lookup(&root, "empty");
    ops.rename("d", dir, "empty", replace).unwrap();
    assert_eq!(
        empty.metadata().unwrap().nlink,
        0,
        "the replaced directory is gone"
    );
    assert_eq!(
        root.metadata().unwrap().nlink,
        4,
        "root keeps full and empty"
    );
}

#[test]
fn directories_cannot_move_into_themselves() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    let a = create(&root, "a", NodeType::Directory);
    let b = create(&a, "b", NodeType::Directory);
    let c = create(&b, "c", NodeType::Directory);
    let ops = dir.inner();
    let into_c = c.as_dir().unwrap();
    assert_eq!(
        ops.rename("a", into_c, "a", RenameOptions::REPLACE),
        Err(VfsError::InvalidInput)
    );
    assert_eq!(
        ops.rename("a", a.as_dir().unwrap(), "x", RenameOptions::REPLACE),
        Err(VfsError::InvalidInput)
    );
    // The victim contains the source directory: not empty.
    let b_ops = b.as_dir().unwrap().inner();
    assert_eq!(
        b_ops.rename("c", dir, "a", RenameOptions::REPLACE),
        Err(VfsError::DirectoryNotEmpty)
    );
    assert_eq!(
        b_ops.rename("c", into_c, "y", RenameOptions::EXCHANGE),
        Err(VfsError::NotFound)
    );
    create(&c, "y", NodeType::RegularFile);
    assert_eq!(
        b_ops.rename("c", into_c, "y", RenameOptions::EXCHANGE),
        Err(VfsError::InvalidInput)
    );
}

#[test]
fn moving_a_directory_updates_dotdot_and_link_counts() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let src = create(&root, "src", NodeType::Directory);
    let dst = create(&root, "dst", NodeType::Directory);
    let moved = create(&src, "m", NodeType::Directory);
    src.as_dir()
        .unwrap()
        .rename("m", dst.as_dir().unwrap(), "m2")
        .unwrap();
    assert_eq!(src.metadata().unwrap().nlink, 2);
    assert_eq!(dst.metadata().unwrap().nlink, 3);
    let moved_again = lookup(&dst, "m2");
    assert_eq!(moved_again.inode(), moved.inode());
    assert_eq!(
        list(&moved_again, 10)[1].1,
        dst.inode(),
        "`..` follows the move"
    );
    assert_eq!(moved_again.absolute_path().unwrap().as_str(), "/dst/m2");
}

#[test]
fn exchange_swaps_across_directories() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let left = create(&root, "left", NodeType::Directory);
    let right = create(&root, "right", NodeType::Directory);
    let file = create(&left, "x", NodeType::RegularFile);
    let sub = create(&right, "y", NodeType::Directory);
    write(&file, 0, b"file");
    left.as_dir()
        .unwrap()
        .rename_with_options("x", right.as_dir().unwrap(), "y", RenameOptions::EXCHANGE)
        .unwrap();
    let now_left = lookup(&left, "x");
    let now_right = lookup(&right, "y");
    assert_eq!(
        (now_left.inode(), now_right.inode()),
        (sub.inode(), file.inode())
    );
    assert_eq!(read_all(&now_right), b"file");
    assert_eq!(left.metadata().unwrap().nlink, 3);
    assert_eq!(right.metadata().unwrap().nlink, 2);
    assert_eq!(list(&now_left, 10)[1].1, left.inode());
    let ops = left.as_dir().unwrap().inner();
    let missing = ops.rename(
        "x",
        right.as_dir().unwrap(),
        "nope",
        RenameOptions::EXCHANGE,
    );
    assert_eq!(missing, Err(VfsError::NotFound));
}

#[test]
fn whiteout_leaves_a_zero_device() {
    let fs = new_fs(None);
    let root = fs.root_dir();
    let dir = root.as_dir().unwrap();
    create(&root, "a", NodeType::RegularFile);
    dir.rename_with_options("a", dir, "b", RenameOptions::WHITEOUT)
        .unwrap();
    let whiteout = lookup(&root, "a");
    let meta = whiteout.metadata().unwrap();
    assert_eq!(
        (meta.node_type, meta.rdev, meta.mode.bits()),
        (NodeType::CharacterDevice, DeviceId::new(0, 0), 0)
    );
    assert_eq!(lookup(&root, "b").node_type(), NodeType::RegularFile);
}
