//! Path parsing for the kernel's path walk.
//!
//! Linux paths are byte strings, not UTF-8: every function here works on
//! `&[u8]` and never allocates except [`normalize_lexically`]. This module only
//! splits and checks paths; it never looks anything up. The walk itself (in the
//! VFS) resolves each component through the dentry and mount trees, follows
//! symlinks, and checks permissions.
//!
//! The rules, as in Linux `fs/namei.c`:
//!
//! - Runs of `/` count as one separator; a leading `/` makes the path absolute.
//! - `.` and `..` are components like any other. They are reported, not folded
//!   away: `a/..` must still fail with `ENOTDIR` if `a` is a regular file, and
//!   `..` must cross mount points, which only the walk can do.
//! - A trailing `/` after the last component means that component must be a
//!   directory (`LOOKUP_DIRECTORY`). [`has_trailing_slash`] reports it; the
//!   components themselves never include a `/`.
//! - The empty path is `ENOENT` (unless the caller handles `AT_EMPTY_PATH`
//!   before getting here); a path of `PATH_MAX` bytes or more, or a component
//!   longer than `NAME_MAX`, is `ENAMETOOLONG`.
//!
//! Errors are [`PathError`]; the syscall layer turns them into errno values with
//! [`PathError::errno`].

use alloc::vec::Vec;

pub mod resolve;
#[cfg(test)]
mod tests;

/// Maximum length of a path in bytes, including the terminating NUL: a path of
/// 4096 or more bytes (not counting the NUL) is `ENAMETOOLONG`.
pub const PATH_MAX: usize = 4096;

/// Maximum length of one path component in bytes.
pub const NAME_MAX: usize = 255;

/// Why a path is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// The path is empty (`ENOENT`).
    NotFound,
    /// The path, or one of its components, is too long (`ENAMETOOLONG`).
    NameTooLong,
    /// A component used as a directory is not one (`ENOTDIR`). Never produced
    /// by this module's parsing; the path walk reports it with the same type.
    NotADirectory,
}

impl PathError {
    /// The Linux errno value (positive) for this error.
    pub const fn errno(self) -> i32 {
        match self {
            Self::NotFound => 2,       // ENOENT
            Self::NameTooLong => 36,   // ENAMETOOLONG
            Self::NotADirectory => 20, // ENOTDIR
        }
    }
}

/// One element of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component<'a> {
    /// The leading `/` of an absolute path (however many slashes it has).
    Root,
    /// `.`
    CurDir,
    /// `..`
    ParentDir,
    /// Any other name: never empty, never containing `/`.
    Normal(&'a [u8]),
}

impl<'a> Component<'a> {
    /// Classifies one slash-free, non-empty name.
    fn from_name(name: &'a [u8]) -> Self {
        match name {
            b"." => Self::CurDir,
            b".." => Self::ParentDir,
            _ => Self::Normal(name),
        }
    }

    /// The component's bytes: `/`, `.`, `..` or the name.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            Self::Root => b"/",
            Self::CurDir => b".",
            Self::ParentDir => b"..",
            Self::Normal(name) => name,
        }
    }
}

/// Iterator over the [`Component`]s of a path; see [`components`].
#[derive(Clone, Debug)]
pub struct Components<'a> {
    path: &'a [u8],
    /// Index of the next unread byte.
    pos: usize,
}

impl<'a> Components<'a> {
    /// Whether the whole path ends in `/` after its last component (see
    /// [`has_trailing_slash`]).
    pub fn has_trailing_slash(&self) -> bool {
        has_trailing_slash(self.path)
    }

    /// The part of the path not yet yielded, without the separators in front
    /// of it: what the walk continues with after, say, substituting a symlink.
    /// Before the [`Component::Root`] of an absolute path is yielded, this is
    /// the whole path; once the last component is yielded it is empty.
    pub fn remaining(&self) -> &'a [u8] {
        if self.pos == 0 {
            return self.path;
        }
        let rest = &self.path[self.pos..];
        let skip = rest.iter().take_while(|&&b| b == b'/').count();
        &rest[skip..]
    }
}

impl<'a> Iterator for Components<'a> {
    type Item = Component<'a>;

    fn next(&mut self) -> Option<Component<'a>> {
        if self.pos == 0 && self.path.first() == Some(&b'/') {
            self.pos = skip_slashes(self.path, 0);
            return Some(Component::Root);
        }
        let start = skip_slashes(self.path, self.pos);
        if start == self.path.len() {
            self.pos = start;
            return None;
        }
        let end = self.path[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(self.path.len(), |n| start + n);
        self.pos = end;
        Some(Component::from_name(&self.path[start..end]))
    }
}

impl core::iter::FusedIterator for Components<'_> {}

/// The components of `path`, in order: [`Component::Root`] first if it is
/// absolute, then every name, `.` and `..` as written. Repeated slashes
/// collapse; a trailing slash yields nothing (ask [`has_trailing_slash`]).
/// The empty path has no components.
pub fn components(path: &[u8]) -> Components<'_> {
    Components { path, pos: 0 }
}

/// Whether `path` starts with `/`.
pub fn is_absolute(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
}

/// Whether `path` has a last component followed by at least one `/`, so that
/// component must be a directory: true for `a/`, `/a//`, `a/./`; false for
/// `a`, `a/.`, and for `/` (the root has no last component).
pub fn has_trailing_slash(path: &[u8]) -> bool {
    path.last() == Some(&b'/') && path.iter().any(|&b| b != b'/')
}

/// Checks the limits Linux puts on a path before the walk: empty is `ENOENT`;
/// `PATH_MAX` bytes or more is `ENAMETOOLONG`; so is any component longer than
/// `NAME_MAX`.
///
/// Linux checks a component's length only when the file system looks it up, so
/// `missing/<256 bytes>` is `ENOENT` there but `ENAMETOOLONG` here. A walk that
/// needs the exact order skips the component part and calls [`check_name`] on
/// each component it looks up.
pub fn validate(path: &[u8]) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::NotFound);
    }
    if path.len() >= PATH_MAX {
        return Err(PathError::NameTooLong);
    }
    path.split(|&b| b == b'/').try_for_each(check_name)
}

/// Checks one component: longer than `NAME_MAX` bytes is `ENAMETOOLONG`.
pub fn check_name(name: &[u8]) -> Result<(), PathError> {
    if name.len() > NAME_MAX {
        Err(PathError::NameTooLong)
    } else {
        Ok(())
    }
}

/// A path cut into the directory to walk and the final name, for the calls
/// that create or remove an entry (`openat(O_CREAT)`, `mkdirat`, `unlinkat`,
/// `renameat`, `symlinkat`, `linkat`, `mknodat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentSplit<'a> {
    /// The directory holding the last component: `/` for `/a`, `.` (relative
    /// to the starting directory) for `a`, otherwise everything before the
    /// last component without its trailing slashes.
    pub parent: &'a [u8],
    /// The last component as written (may be `.` or `..`); `None` when the
    /// path is the root itself (`/`, `//`).
    pub last: Option<&'a [u8]>,
    /// Whether slashes follow the last component (it must be a directory:
    /// `mkdir("a/")` is fine, `open("a/", O_CREAT)` is `EISDIR`).
    pub trailing_slash: bool,
}

impl<'a> ParentSplit<'a> {
    /// The last component classified: `.` and `..` are not names that can be
    /// created or removed (Linux `LAST_DOT`/`LAST_DOTDOT`: `mkdir` gives
    /// `EEXIST`, `rmdir` `EINVAL`/`ENOTEMPTY`).
    pub fn last_component(&self) -> Option<Component<'a>> {
        self.last.map(Component::from_name)
    }
}

/// Splits `path` into its parent directory and last component; see
/// [`ParentSplit`]. Examples: `a/b/` → (`a`, `b`, trailing slash); `a` →
/// (`.`, `a`); `/a` → (`/`, `a`); `/` → (`/`, none); `a/.` → (`a`, `.`).
///
/// The empty path is `ENOENT`. Length limits are [`validate`]'s business.
pub fn split_parent(path: &[u8]) -> Result<ParentSplit<'_>, PathError> {
    if path.is_empty() {
        return Err(PathError::NotFound);
    }
    let trimmed = path.len() - path.iter().rev().take_while(|&&b| b == b'/').count();
    if trimmed == 0 {
        // Only slashes: the root itself.
        return Ok(ParentSplit {
            parent: &path[..1],
            last: None,
            trailing_slash: false,
        });
    }
    let last_start = path[..trimmed]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    let parent_end = last_start
        - path[..last_start]
            .iter()
            .rev()
            .take_while(|&&b| b == b'/')
            .count();
    let parent: &[u8] = match (last_start, parent_end) {
        (0, _) => b".",
        (_, 0) => &path[..1],
        _ => &path[..parent_end],
    };
    Ok(ParentSplit {
        parent,
        last: Some(&path[last_start..trimmed]),
        trailing_slash: trimmed < path.len(),
    })
}

/// Joins `path` to `cwd` (unless `path` is absolute) and resolves `.` and `..`
/// lexically, giving an absolute path with single slashes and no trailing
/// slash (`/` for the root). `..` at the root stays at the root. A relative
/// `cwd` is taken as relative to `/`.
///
/// This is for display only (`/proc/<pid>/cwd`, `getcwd` fallbacks, logs).
/// It is not how a path is resolved: the kernel's walk resolves `..` through
/// the dentry and mount trees and follows symlinks, so `a/link/..` need not be
/// `a`.
pub fn normalize_lexically(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    let mut names: Vec<&[u8]> = Vec::new();
    let base = if is_absolute(path) { &[][..] } else { cwd };
    for c in components(base).chain(components(path)) {
        match c {
            Component::Root => names.clear(),
            Component::CurDir => {}
            Component::ParentDir => {
                names.pop();
            }
            Component::Normal(name) => names.push(name),
        }
    }
    if names.is_empty() {
        return b"/".to_vec();
    }
    let len = names.iter().map(|n| n.len() + 1).sum();
    let mut out = Vec::with_capacity(len);
    for name in names {
        out.push(b'/');
        out.extend_from_slice(name);
    }
    out
}

/// `abs` (an absolute path from the global root, as the VFS reports it) as
/// a process whose root directory is `root` (also absolute) sees it: the
/// part below `root`, or `None` when `abs` lies outside it (Linux's
/// "unreachable" paths after chroot). Both are taken as normalised: single
/// slashes, no trailing slash except for `/` itself.
pub fn within_root<'a>(root: &[u8], abs: &'a [u8]) -> Option<&'a [u8]> {
    if root == b"/" {
        return Some(abs);
    }
    let rest = abs.strip_prefix(root)?;
    match rest.first() {
        None => Some(b"/"),
        Some(b'/') => Some(rest),
        Some(_) => None,
    }
}

fn skip_slashes(path: &[u8], from: usize) -> usize {
    from + path[from..].iter().take_while(|&&b| b == b'/').count()
}
