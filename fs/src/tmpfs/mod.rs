//! tmpfs: the in-memory file system behind /tmp, /dev/shm, devfs and procfs.
//!
//! One implementation of the `axfs-ng-vfs` traits serves every in-memory
//! mount. [`new_tmpfs`] builds an instance; the kernel mounts it and then
//! uses it through the VFS like any other file system:
//!
//! * /tmp, /dev/shm and `mount -t tmpfs`: regular files, directories,
//!   symlinks, FIFOs, sockets and device nodes created through
//!   `Location::create`/`create_symlink`, with Linux tmpfs semantics.
//! * devfs: the kernel `create`s `CharacterDevice` nodes and sets their
//!   `rdev` with `update_metadata`. Device nodes, FIFOs and sockets carry
//!   metadata only: their `read_at`/`write_at` answer
//!   `OperationNotSupported`, since the kernel's open path dispatches on node
//!   type and `rdev` (and [`with_inode_data`] can hold per-inode state such
//!   as a FIFO's pipe).
//! * procfs: files, symlinks and directories whose contents closures or a
//!   [`GeneratedDir`] compute on demand ([`generated`](self::generated)).
//!
//! # Layout
//!
//! `superblock.rs` (the instance, its counters, `statfs`), `inode.rs`
//! (shared inode state), `pages.rs` (sparse file data), `file.rs` and
//! `dir.rs` (the per-`DirEntry` VFS handles), `readdir.rs`, `rename.rs`,
//! `generated.rs` (the procfs API).
//!
//! # Semantics
//!
//! * Regular file data is a sparse map of 4 KiB pages: holes read as zeros,
//!   writes past EOF leave a hole, `set_len` grows without allocating and
//!   shrinks by dropping pages. `st_blocks` is 8 per allocated page,
//!   `st_blksize` 4096. An optional size limit turns allocation past it into
//!   `StorageFull` (a write that stored some bytes returns the short count).
//! * Inode numbers are unique per instance, counted from 1 (the root).
//! * `st_nlink` is the link count for non-directories and 2 + number of
//!   subdirectories for directories (0 once removed). A directory's size is
//!   20 bytes per entry including `.` and `..`, as Linux tmpfs reports.
//! * Timestamps come from the instance's clock: creation sets all three,
//!   data changes set mtime and ctime, metadata changes and link-count
//!   changes set ctime, adding or removing a name sets the directory's mtime
//!   and ctime, reads update atime under `relatime` rules.
//! * `getdents` offsets are per-directory slot numbers (0 `.`, 1 `..`, then
//!   one per name in creation order), so concurrent creates and unlinks
//!   never make a reader skip or repeat an untouched entry.
//! * Regular files report `NodeFlags::NON_CACHEABLE`: the data lives here,
//!   and ax-fs-ng's own page cache, which it would otherwise put in front of
//!   a file system named "tmpfs", must not shadow it.
//!
//! # Locking
//!
//! Locks are `ax_sync::Mutex` (sleepable); the order is
//!
//! 1. the instance's namespace lock, taken by every operation that changes
//!    the tree (create, link, unlink, rename, the `add_generated_*` calls);
//! 2. directory state locks: a mutation holds at most the directories it
//!    changes, and since only the namespace-lock holder ever holds more than
//!    one, their mutual order is irrelevant;
//! 3. the state lock of a non-directory (link counts, data, metadata);
//! 4. leaf locks: a directory's `parent` pointer, per-inode attachments,
//!    a handle's cache of handed-out entries, the root-entry slot.
//!
//! Reads, writes, `lookup`, `getdents` and `stat` take a single inode lock.
//! No tmpfs lock is held while calling VFS code that locks or calls back
//! (`insert_cache`, a `DirEntrySink`) or kernel code (a generator or a
//! read/write/target closure). Constructing a `DirEntry` only allocates;
//! the root-entry slot is held across that to keep one root entry.

#![deny(unsafe_code)]

mod dir;
mod file;
pub mod generated;
mod inode;
mod pages;
mod readdir;
mod rename;
mod superblock;

#[cfg(test)]
mod tests;

pub use self::{
    dir::TmpDir,
    file::TmpFile,
    generated::{
        GeneratedDir, GeneratedNode, ReadAtFn, ReadFn, TargetFn, WriteFn, add_dir,
        add_generated_dir, add_generated_file, add_generated_symlink, set_dir_generator,
        with_inode_data,
    },
    pages::{MAX_FILE_SIZE, PAGE_SIZE},
    superblock::{
        PROC_SUPER_MAGIC, SYSFS_MAGIC, TMPFS_MAGIC, TmpFs, TmpfsOptions, new_tmpfs, new_tmpfs_with,
    },
};
