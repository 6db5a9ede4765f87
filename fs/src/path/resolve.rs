//! openat2(2)'s scoped path walk: `struct open_how` and the RESOLVE_* rules.
//!
//! The walk goes component by component over any tree that implements
//! [`WalkTree`] (the kernel's is the VFS; the tests use a small in-memory
//! one), applying fs/namei.c's rules as openat2(2) describes them:
//!
//! - RESOLVE_NO_XDEV: crossing a mount point, downwards into a mount or
//!   upwards by `..`, is EXDEV; so is an absolute symlink, or a magic link,
//!   that lands on another mount (nd_jump_root, nd_jump_link). An absolute
//!   path given by the caller is allowed.
//! - RESOLVE_NO_MAGICLINKS: a magic link (/proc/PID/fd/N) is ELOOP.
//! - RESOLVE_NO_SYMLINKS: any symlink followed, the last one too, is ELOOP.
//! - RESOLVE_BENEATH: an absolute path or symlink, and `..` at the starting
//!   directory, are EXDEV; magic links are EXDEV.
//! - RESOLVE_IN_ROOT: the starting directory is the root: `/` and absolute
//!   symlinks lead to it, `..` stops at it; magic links are EXDEV.
//! - RESOLVE_CACHED: a name the tree cannot answer from its cache is
//!   EAGAIN (so is any O_CREAT, O_TRUNC or O_TMPFILE open, decided by
//!   [`OpenHow::check`]).
//!
//! At most [`MAX_LINKS`] symlinks are followed (ELOOP).

use alloc::vec::Vec;

use super::{Component, components, has_trailing_slash};
use crate::{Errno, KResult};

pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const RESOLVE_CACHED: u64 = 0x20;
const VALID_RESOLVE: u64 = 0x3f;

/// Symlinks one walk follows at most (include/linux/namei.h MAXSYMLINKS).
pub const MAX_LINKS: usize = 40;

/// Size of the first `struct open_how` (OPEN_HOW_SIZE_VER0).
pub const OPEN_HOW_SIZE_VER0: usize = 24;

/// `struct open_how`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenHow {
    pub flags: u64,
    pub mode: u64,
    pub resolve: u64,
}

/// Open flags (asm-generic/fcntl.h, the same on x86_64 and riscv64).
mod oflags {
    pub const O_CREAT: u64 = 0o100;
    pub const O_TRUNC: u64 = 0o1000;
    pub const O_DIRECTORY: u64 = 0o200000;
    pub const O_NOFOLLOW: u64 = 0o400000;
    pub const O_CLOEXEC: u64 = 0o2000000;
    pub const O_PATH: u64 = 0o10000000;
    pub const O_TMPFILE_BIT: u64 = 0o20000000;
    /// fs/fcntl.c VALID_OPEN_FLAGS.
    pub const VALID: u64 = 0o3
        | O_CREAT
        | 0o200
        | 0o400
        | O_TRUNC
        | 0o2000
        | 0o4000
        | 0o10000
        | 0o20000
        | 0o40000
        | 0o100000
        | O_DIRECTORY
        | O_NOFOLLOW
        | 0o1000000
        | O_CLOEXEC
        | O_PATH
        | O_TMPFILE_BIT
        | 0o4000000;
    pub const PATH_FLAGS: u64 = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
}

impl OpenHow {
    /// Reads the structure from the `bytes` the caller passed (its whole
    /// `size`): fewer than [`OPEN_HOW_SIZE_VER0`] is EINVAL; bytes past the
    /// fields Starling knows must be zero, else E2BIG
    /// (copy_struct_from_user). Pages past 4096 bytes are the caller's
    /// business (E2BIG before reading).
    pub fn parse(bytes: &[u8]) -> KResult<Self> {
        if bytes.len() < OPEN_HOW_SIZE_VER0 {
            return Err(Errno::EINVAL);
        }
        if bytes[OPEN_HOW_SIZE_VER0..].iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(w)
        };
        Ok(Self {
            flags: word(0),
            mode: word(1),
            resolve: word(2),
        })
    }

    /// fs/open.c build_open_flags, for openat2: unknown flag or resolve
    /// bits, BENEATH with IN_ROOT, a mode without O_CREAT or O_TMPFILE (or
    /// with bits outside 07777), O_DIRECTORY with O_CREAT, a bad O_TMPFILE
    /// combination and O_PATH with flags it does not allow are EINVAL;
    /// RESOLVE_CACHED with O_CREAT, O_TRUNC or O_TMPFILE is EAGAIN.
    pub fn check(&self) -> KResult<()> {
        use oflags::*;
        let flags = self.flags & !O_CLOEXEC;
        if flags & !VALID != 0 || self.resolve & !VALID_RESOLVE != 0 {
            return Err(Errno::EINVAL);
        }
        if self.resolve & RESOLVE_BENEATH != 0 && self.resolve & RESOLVE_IN_ROOT != 0 {
            return Err(Errno::EINVAL);
        }
        let creates = flags & (O_CREAT | O_TMPFILE_BIT) != 0;
        if (creates && self.mode & !0o7777 != 0) || (!creates && self.mode != 0) {
            return Err(Errno::EINVAL);
        }
        if flags & (O_DIRECTORY | O_CREAT) == O_DIRECTORY | O_CREAT {
            return Err(Errno::EINVAL);
        }
        if flags & O_TMPFILE_BIT != 0 {
            let acc = flags & 3;
            if flags & O_DIRECTORY == 0 || acc == 0 {
                return Err(Errno::EINVAL);
            }
        }
        if flags & O_PATH != 0 && flags & !PATH_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        if self.resolve & RESOLVE_CACHED != 0 && flags & (O_TRUNC | O_CREAT | O_TMPFILE_BIT) != 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(())
    }
}

/// What following a symlink leads to.
pub enum Link<N> {
    /// An ordinary symlink: its target text.
    Text(Vec<u8>),
    /// A magic link (/proc/PID/fd/N): the node of the open file itself.
    Magic(N),
}

/// The tree a walk runs over.
pub trait WalkTree {
    type Node: Clone;

    /// `name` in the directory `dir`, after the caller's search permission
    /// on `dir`; ENOENT when missing, EAGAIN when `cached_only` and the
    /// answer is not cached. A name with a mount on it gives the mount's
    /// root.
    fn lookup(&self, dir: &Self::Node, name: &[u8], cached_only: bool) -> KResult<Self::Node>;
    /// Search permission on `dir` (EACCES), checked before `..`.
    fn check_search(&self, dir: &Self::Node) -> KResult<()>;
    /// The parent, from a mount's root the parent of where it is mounted;
    /// `None` at the top of the tree.
    fn parent(&self, node: &Self::Node) -> Option<Self::Node>;
    /// Whether two nodes are the same place (same node on the same mount).
    fn same(&self, a: &Self::Node, b: &Self::Node) -> bool;
    /// An identity of the mount `node` is on.
    fn mount(&self, node: &Self::Node) -> usize;
    fn is_dir(&self, node: &Self::Node) -> bool;
    /// The link `node` is, if it is a symlink.
    fn link(&self, node: &Self::Node) -> KResult<Option<Link<Self::Node>>>;
}

/// Where a walk ended.
#[derive(Debug)]
pub enum Outcome<N> {
    /// The path names this node.
    Found(N),
    /// Everything but the last component exists: `name` is missing from
    /// `parent` (only when the walk was asked to allow it).
    Missing {
        parent: N,
        name: Vec<u8>,
        trailing_slash: bool,
    },
}

/// One openat2 walk.
pub struct Walk<'a, T: WalkTree> {
    tree: &'a T,
    resolve: u64,
    /// Where `/` leads: the process root, or the starting directory under
    /// RESOLVE_IN_ROOT.
    root: T::Node,
    /// The starting directory of a RESOLVE_BENEATH or RESOLVE_IN_ROOT walk.
    scope: Option<T::Node>,
    links: usize,
}

impl<'a, T: WalkTree> Walk<'a, T> {
    /// A walk from `start` under the process root `root` with RESOLVE_*
    /// bits `resolve`.
    pub fn new(tree: &'a T, resolve: u64, root: T::Node, start: &T::Node) -> Self {
        let scoped = resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0;
        let root = if resolve & RESOLVE_IN_ROOT != 0 {
            start.clone()
        } else {
            root
        };
        Self {
            tree,
            resolve,
            root,
            scope: scoped.then(|| start.clone()),
            links: 0,
        }
    }

    fn has(&self, bit: u64) -> bool {
        self.resolve & bit != 0
    }

    /// Whether `node` is at or below the scope (true when unscoped).
    fn within_scope(&self, node: &T::Node) -> bool {
        let Some(scope) = &self.scope else {
            return true;
        };
        let mut cur = Some(node.clone());
        while let Some(n) = cur {
            if self.tree.same(&n, scope) {
                return true;
            }
            cur = self.tree.parent(&n);
        }
        false
    }

    /// Walks `path` from `start`. The last component's symlink is followed
    /// when `follow_last` (or a trailing slash asks for a directory); a
    /// missing last component is [`Outcome::Missing`] when `allow_missing`.
    pub fn walk(
        &mut self,
        start: T::Node,
        path: &[u8],
        follow_last: bool,
        allow_missing: bool,
    ) -> KResult<Outcome<T::Node>> {
        let tree = self.tree;
        let mut dir = start;
        let mut buf: Vec<u8> = path.to_vec();
        let mut want_dir = has_trailing_slash(path);
        let mut from_link = false;
        'restart: loop {
            let mut comps = components(&buf);
            while let Some(comp) = comps.next() {
                let last = comps.remaining().is_empty();
                match comp {
                    Component::Root => {
                        // nd_jump_root.
                        if self.has(RESOLVE_BENEATH) {
                            return Err(Errno::EXDEV);
                        }
                        if self.has(RESOLVE_NO_XDEV)
                            && from_link
                            && tree.mount(&dir) != tree.mount(&self.root)
                        {
                            return Err(Errno::EXDEV);
                        }
                        dir = self.root.clone();
                    }
                    Component::CurDir => {
                        if !tree.is_dir(&dir) {
                            return Err(Errno::ENOTDIR);
                        }
                    }
                    Component::ParentDir => {
                        if !tree.is_dir(&dir) {
                            return Err(Errno::ENOTDIR);
                        }
                        tree.check_search(&dir)?;
                        // follow_dotdot: at the root (the scope under
                        // BENEATH and IN_ROOT), `..` stays, or is EXDEV
                        // under BENEATH.
                        let at_root = tree.same(&dir, &self.root)
                            || self.scope.as_ref().is_some_and(|s| tree.same(&dir, s));
                        if at_root {
                            if self.has(RESOLVE_BENEATH) {
                                return Err(Errno::EXDEV);
                            }
                        } else if let Some(parent) = tree.parent(&dir) {
                            if self.has(RESOLVE_NO_XDEV) && tree.mount(&parent) != tree.mount(&dir)
                            {
                                return Err(Errno::EXDEV);
                            }
                            dir = parent;
                        }
                    }
                    Component::Normal(name) => {
                        if !tree.is_dir(&dir) {
                            return Err(Errno::ENOTDIR);
                        }
                        tree.check_search(&dir)?;
                        let child = match tree.lookup(&dir, name, self.has(RESOLVE_CACHED)) {
                            Ok(child) => child,
                            Err(Errno::ENOENT) if last && allow_missing => {
                                return Ok(Outcome::Missing {
                                    parent: dir,
                                    name: name.to_vec(),
                                    trailing_slash: want_dir,
                                });
                            }
                            Err(e) => return Err(e),
                        };
                        if self.has(RESOLVE_NO_XDEV) && tree.mount(&child) != tree.mount(&dir) {
                            return Err(Errno::EXDEV);
                        }
                        let follow = !last || follow_last || want_dir;
                        let link = if follow { tree.link(&child)? } else { None };
                        let Some(link) = link else {
                            dir = child;
                            continue;
                        };
                        if self.has(RESOLVE_NO_SYMLINKS) {
                            return Err(Errno::ELOOP);
                        }
                        self.links += 1;
                        if self.links > MAX_LINKS {
                            return Err(Errno::ELOOP);
                        }
                        match link {
                            Link::Magic(target) => {
                                // nd_jump_link.
                                if self.has(RESOLVE_NO_MAGICLINKS) {
                                    return Err(Errno::ELOOP);
                                }
                                if self.has(RESOLVE_NO_XDEV)
                                    && tree.mount(&target) != tree.mount(&dir)
                                {
                                    return Err(Errno::EXDEV);
                                }
                                if self.scope.is_some() {
                                    return Err(Errno::EXDEV);
                                }
                                dir = target;
                            }
                            Link::Text(target) => {
                                if target.is_empty() {
                                    return Err(Errno::ENOENT);
                                }
                                if last && has_trailing_slash(&target) {
                                    want_dir = true;
                                }
                                let rest = comps.remaining();
                                let mut next = target;
                                if !rest.is_empty() {
                                    next.push(b'/');
                                    next.extend_from_slice(rest);
                                }
                                buf = next;
                                from_link = true;
                                continue 'restart;
                            }
                        }
                    }
                }
            }
            break;
        }
        if want_dir && !tree.is_dir(&dir) {
            return Err(Errno::ENOTDIR);
        }
        // complete_walk: a scoped walk must end inside its scope.
        if !self.within_scope(&dir) {
            return Err(Errno::EXDEV);
        }
        Ok(Outcome::Found(dir))
    }
}

#[cfg(test)]
mod tests;
