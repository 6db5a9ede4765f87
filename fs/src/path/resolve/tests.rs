//! Tests of the openat2 walk over a small in-memory tree with two mounts,
//! symlinks and a magic link, and of `struct open_how` checking.

use alloc::{vec, vec::Vec};

use super::*;

#[derive(Clone)]
enum Kind {
    Dir,
    File,
    Link(&'static str),
    Magic(usize),
}

/// Node i: (name, parent, kind, mount). Node 0 is the root of mount 0.
struct Tree(Vec<(&'static str, Option<usize>, Kind, usize)>);

/// /a/b/file, /a/up -> "..", /a/abs -> "/a", /a/loop -> "loop",
/// /mnt (mount 1 on it: its root is node 6) with /mnt/f, /a/tomnt -> "/mnt",
/// /a/magic -> node 3 (magic), /a/dangling -> "nothere".
fn tree() -> Tree {
    Tree(vec![
        ("", None, Kind::Dir, 0),                        // 0 /
        ("a", Some(0), Kind::Dir, 0),                    // 1 /a
        ("b", Some(1), Kind::Dir, 0),                    // 2 /a/b
        ("file", Some(2), Kind::File, 0),                // 3 /a/b/file
        ("up", Some(1), Kind::Link(".."), 0),            // 4 /a/up
        ("abs", Some(1), Kind::Link("/a"), 0),           // 5 /a/abs
        ("mnt", Some(0), Kind::Dir, 1),                  // 6 /mnt (root of mount 1)
        ("f", Some(6), Kind::File, 1),                   // 7 /mnt/f
        ("tomnt", Some(1), Kind::Link("/mnt"), 0),       // 8 /a/tomnt
        ("magic", Some(1), Kind::Magic(3), 0),           // 9 /a/magic
        ("loop", Some(1), Kind::Link("loop"), 0),        // 10 /a/loop
        ("dangling", Some(1), Kind::Link("nothere"), 0), // 11
    ])
}

impl WalkTree for Tree {
    type Node = usize;

    fn lookup(&self, dir: &usize, name: &[u8], cached_only: bool) -> KResult<usize> {
        if cached_only && name == b"b" {
            return Err(Errno::EAGAIN);
        }
        self.0
            .iter()
            .position(|(n, p, _, _)| *p == Some(*dir) && n.as_bytes() == name)
            .ok_or(Errno::ENOENT)
    }

    fn check_search(&self, _dir: &usize) -> KResult<()> {
        Ok(())
    }

    fn parent(&self, node: &usize) -> Option<usize> {
        self.0[*node].1
    }

    fn same(&self, a: &usize, b: &usize) -> bool {
        a == b
    }

    fn mount(&self, node: &usize) -> usize {
        self.0[*node].3
    }

    fn is_dir(&self, node: &usize) -> bool {
        matches!(self.0[*node].2, Kind::Dir)
    }

    fn link(&self, node: &usize) -> KResult<Option<Link<usize>>> {
        Ok(match self.0[*node].2 {
            Kind::Link(t) => Some(Link::Text(t.as_bytes().to_vec())),
            Kind::Magic(n) => Some(Link::Magic(n)),
            _ => None,
        })
    }
}

fn walk(resolve: u64, start: usize, path: &str) -> KResult<usize> {
    let t = tree();
    let mut w = Walk::new(&t, resolve, 0, &start);
    match w.walk(start, path.as_bytes(), true, false)? {
        Outcome::Found(n) => Ok(n),
        Outcome::Missing { .. } => unreachable!(),
    }
}

#[test]
fn plain_walk_follows_links() {
    assert_eq!(walk(0, 0, "/a/b/file"), Ok(3));
    assert_eq!(walk(0, 1, "b/../b/file"), Ok(3));
    assert_eq!(walk(0, 1, "up/a/abs/b"), Ok(2));
    assert_eq!(walk(0, 1, "magic"), Ok(3));
    assert_eq!(walk(0, 0, "/.."), Ok(0));
    assert_eq!(walk(0, 1, "loop"), Err(Errno::ELOOP));
    assert_eq!(walk(0, 1, "b/file/"), Err(Errno::ENOTDIR));
    assert_eq!(walk(0, 1, "b/file/x"), Err(Errno::ENOTDIR));
    assert_eq!(walk(0, 1, "dangling"), Err(Errno::ENOENT));
}

#[test]
fn missing_last_component() {
    let t = tree();
    let mut w = Walk::new(&t, 0, 0, &1);
    match w.walk(1, b"dangling", true, true) {
        Ok(Outcome::Missing { parent, name, .. }) => {
            assert_eq!(parent, 1);
            assert_eq!(name, b"nothere");
        }
        other => panic!("{other:?}"),
    }
    let mut w = Walk::new(&t, 0, 0, &1);
    assert!(matches!(w.walk(1, b"x/y", true, true), Err(Errno::ENOENT)));
}

#[test]
fn no_xdev() {
    let x = RESOLVE_NO_XDEV;
    // An absolute path given by the caller is fine, a mount crossing not.
    assert_eq!(walk(x, 1, "/a/b"), Ok(2));
    assert_eq!(walk(x, 0, "mnt/f"), Err(Errno::EXDEV));
    assert_eq!(walk(x, 6, "f"), Ok(7));
    assert_eq!(walk(x, 6, ".."), Err(Errno::EXDEV));
    assert_eq!(walk(x, 1, "tomnt"), Err(Errno::EXDEV));
    // An absolute symlink from another mount than the root's.
    let t = Tree(
        tree()
            .0
            .into_iter()
            .chain([("l", Some(6), Kind::Link("/a"), 1)])
            .collect(),
    );
    let mut w = Walk::new(&t, x, 0, &6);
    assert!(matches!(w.walk(6, b"l", true, false), Err(Errno::EXDEV)));
}

#[test]
fn no_symlinks_and_magiclinks() {
    assert_eq!(walk(RESOLVE_NO_SYMLINKS, 1, "abs"), Err(Errno::ELOOP));
    assert_eq!(walk(RESOLVE_NO_SYMLINKS, 1, "up/a"), Err(Errno::ELOOP));
    assert_eq!(walk(RESOLVE_NO_SYMLINKS, 1, "magic"), Err(Errno::ELOOP));
    assert_eq!(walk(RESOLVE_NO_SYMLINKS, 1, "b/file"), Ok(3));
    assert_eq!(walk(RESOLVE_NO_MAGICLINKS, 1, "magic"), Err(Errno::ELOOP));
    assert_eq!(walk(RESOLVE_NO_MAGICLINKS, 1, "abs"), Ok(1));
    // The last link is not followed when not asked to.
    let t = tree();
    let mut w = Walk::new(&t, RESOLVE_NO_SYMLINKS, 0, &1);
    assert!(matches!(
        w.walk(1, b"abs", false, false),
        Ok(Outcome::Found(5))
    ));
}

#[test]
fn beneath() {
    let b = RESOLVE_BENEATH;
    assert_eq!(walk(b, 1, "b/file"), Ok(3));
    assert_eq!(walk(b, 1, "b/.."), Ok(1));
    assert_eq!(walk(b, 1, ".."), Err(Errno::EXDEV));
    assert_eq!(walk(b, 1, "b/../.."), Err(Errno::EXDEV));
    assert_eq!(walk(b, 1, "/a"), Err(Errno::EXDEV));
    assert_eq!(walk(b, 1, "abs"), Err(Errno::EXDEV));
    assert_eq!(walk(b, 1, "up"), Err(Errno::EXDEV));
    assert_eq!(walk(b, 1, "magic"), Err(Errno::EXDEV));
}

#[test]
fn in_root() {
    let r = RESOLVE_IN_ROOT;
    // `..` stops at the starting directory, `/` is it.
    assert_eq!(walk(r, 1, ".."), Ok(1));
    assert_eq!(walk(r, 1, "../../b"), Ok(2));
    assert_eq!(walk(r, 1, "/b/file"), Ok(3));
    // "/a" under /a is /a/a, which does not exist.
    assert_eq!(walk(r, 1, "abs"), Err(Errno::ENOENT));
    assert_eq!(walk(r, 1, "up/b"), Ok(2));
    assert_eq!(walk(r, 1, "magic"), Err(Errno::EXDEV));
}

#[test]
fn cached() {
    assert_eq!(walk(RESOLVE_CACHED, 1, "b"), Err(Errno::EAGAIN));
    assert_eq!(walk(RESOLVE_CACHED, 0, "a"), Ok(1));
}

#[test]
fn open_how_parsing() {
    let mut bytes = vec![0u8; 32];
    bytes[0] = 0o2; // O_RDWR
    bytes[16] = 0x08;
    assert_eq!(
        OpenHow::parse(&bytes),
        Ok(OpenHow {
            flags: 2,
            mode: 0,
            resolve: 8
        })
    );
    assert_eq!(OpenHow::parse(&bytes[..23]), Err(Errno::EINVAL));
    bytes[30] = 1;
    assert_eq!(OpenHow::parse(&bytes), Err(Errno::E2BIG));
}

#[test]
fn open_how_checks() {
    let how = |flags: u64, mode: u64, resolve: u64| {
        OpenHow {
            flags,
            mode,
            resolve,
        }
        .check()
    };
    assert_eq!(how(0, 0, 0), Ok(()));
    assert_eq!(how(1 << 40, 0, 0), Err(Errno::EINVAL));
    assert_eq!(how(0, 0, 0x40), Err(Errno::EINVAL));
    assert_eq!(
        how(0, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT),
        Err(Errno::EINVAL)
    );
    assert_eq!(how(0, 0o644, 0), Err(Errno::EINVAL));
    assert_eq!(how(0o100, 0o644, 0), Ok(()));
    assert_eq!(how(0o100, 0o10000, 0), Err(Errno::EINVAL));
    assert_eq!(how(0o100 | 0o200000, 0, 0), Err(Errno::EINVAL));
    assert_eq!(how(0o10000000 | 0o2, 0, 0), Err(Errno::EINVAL));
    assert_eq!(how(0o10000000 | 0o2000000, 0, 0), Ok(()));
    assert_eq!(how(0o20200000, 0, 0), Err(Errno::EINVAL));
    assert_eq!(how(0o20200002, 0o600, 0), Ok(()));
    assert_eq!(how(0o100, 0, RESOLVE_CACHED), Err(Errno::EAGAIN));
    assert_eq!(how(0o1000, 0, RESOLVE_CACHED), Err(Errno::EAGAIN));
}
