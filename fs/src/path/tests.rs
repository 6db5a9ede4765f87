//! Tests of the path parser: components, trailing slashes, parent splitting,
//! length limits and lexical normalization.

use alloc::{vec, vec::Vec};

use super::{
    Component::{self, CurDir, Normal, ParentDir, Root},
    NAME_MAX, PATH_MAX, ParentSplit, PathError, check_name, components, has_trailing_slash,
    is_absolute, normalize_lexically, split_parent, validate, within_root,
};

fn comps(path: &[u8]) -> Vec<Component<'_>> {
    components(path).collect()
}

fn split(path: &[u8]) -> (&[u8], Option<&[u8]>, bool) {
    let s = split_parent(path).expect("non-empty path");
    (s.parent, s.last, s.trailing_slash)
}

/// `n` bytes of `x`.
fn name(n: usize) -> Vec<u8> {
    vec![b'x'; n]
}

#[test]
fn errno_values_are_linux() {
    assert_eq!(PathError::NotFound.errno(), 2);
    assert_eq!(PathError::NameTooLong.errno(), 36);
    assert_eq!(PathError::NotADirectory.errno(), 20);
}

mod components_iter {
    use super::*;

    #[test]
    fn empty_and_root() {
        assert_eq!(comps(b""), []);
        assert_eq!(comps(b"/"), [Root]);
        assert_eq!(comps(b"//"), [Root]);
        assert_eq!(comps(b"////"), [Root]);
    }

    #[test]
    fn repeated_slashes_collapse() {
        assert_eq!(comps(b"///a//b///"), [Root, Normal(b"a"), Normal(b"b")]);
        assert_eq!(comps(b"a//b"), [Normal(b"a"), Normal(b"b")]);
    }

    #[test]
    fn dots_are_reported_not_folded() {
        assert_eq!(
            comps(b"a/./b/../c"),
            [Normal(b"a"), CurDir, Normal(b"b"), ParentDir, Normal(b"c")]
        );
        assert_eq!(comps(b"/.."), [Root, ParentDir]);
        assert_eq!(comps(b"."), [CurDir]);
        assert_eq!(comps(b".."), [ParentDir]);
        assert_eq!(comps(b"a/."), [Normal(b"a"), CurDir]);
        assert_eq!(comps(b"a/./"), [Normal(b"a"), CurDir]);
    }

    #[test]
    fn dot_lookalikes_are_names() {
        assert_eq!(comps(b"..."), [Normal(b"...")]);
        assert_eq!(
            comps(b".a/..b/a."),
            [Normal(b".a"), Normal(b"..b"), Normal(b"a.")]
        );
    }

    #[test]
    fn bytes_need_not_be_utf8() {
        assert_eq!(
            comps(b"/\xff\xfe/x\x80"),
            [Root, Normal(b"\xff\xfe"), Normal(b"x\x80")]
        );
    }

    #[test]
    fn as_bytes_round_trips() {
        let joined: Vec<&[u8]> = comps(b"/a/./..").iter().map(Component::as_bytes).collect();
        assert_eq!(joined, [&b"/"[..], b"a", b".", b".."]);
    }

    #[test]
    fn remaining_follows_the_iteration() {
        let mut it = components(b"/a//b/c/");
        assert_eq!(it.remaining(), b"/a//b/c/");
        assert_eq!(it.next(), Some(Root));
        assert_eq!(it.remaining(), b"a//b/c/");
        assert_eq!(it.next(), Some(Normal(b"a")));
        assert_eq!(it.remaining(), b"b/c/");
        assert_eq!(it.next(), Some(Normal(b"b")));
        assert_eq!(it.next(), Some(Normal(b"c")));
        assert_eq!(it.remaining(), b"");
        assert!(it.has_trailing_slash());
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None, "fused");

        let mut it = components(b"x");
        assert_eq!(it.remaining(), b"x");
        it.next();
        assert_eq!(it.remaining(), b"");
        assert!(!it.has_trailing_slash());
    }
}

#[test]
fn trailing_slash_needs_a_last_component() {
    for path in [&b"a/"[..], b"/a//", b"a/./", b"/./", b"a/b/", b"../"] {
        assert!(has_trailing_slash(path), "{:?}", core::str::from_utf8(path));
    }
    for path in [&b""[..], b"/", b"//", b"a", b"/a", b"a/.", b"a/b/..", b"/."] {
        assert!(
            !has_trailing_slash(path),
            "{:?}",
            core::str::from_utf8(path)
        );
    }
}

#[test]
fn absolute_paths_start_with_a_slash() {
    assert!(is_absolute(b"/"));
    assert!(is_absolute(b"//a"));
    assert!(!is_absolute(b""));
    assert!(!is_absolute(b"a/"));
    assert!(!is_absolute(b"./a"));
}

mod limits {
    use super::*;

    #[test]
    fn empty_is_enoent() {
        assert_eq!(validate(b""), Err(PathError::NotFound));
        assert_eq!(validate(b"").map_err(PathError::errno), Err(2));
    }

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            &b"/"[..],
            b"//",
            b"/..",
            b".",
            b"a/./b/../c",
            b"a/",
            b"\xff",
        ] {
            assert_eq!(validate(path), Ok(()));
        }
    }

    #[test]
    fn component_of_255_bytes_passes_256_fails() {
        assert_eq!(NAME_MAX, 255);
        assert_eq!(validate(&name(255)), Ok(()));
        assert_eq!(validate(&name(256)), Err(PathError::NameTooLong));
        assert_eq!(validate(&name(256)).map_err(PathError::errno), Err(36));
        let mut middle = b"/a/".to_vec();
        middle.extend(name(256));
        middle.extend(b"/b");
        assert_eq!(validate(&middle), Err(PathError::NameTooLong));
        let mut last = b"dir/".to_vec();
        last.extend(name(255));
        last.push(b'/');
        assert_eq!(validate(&last), Ok(()));
        assert_eq!(check_name(&name(255)), Ok(()));
        assert_eq!(check_name(&name(256)), Err(PathError::NameTooLong));
        assert_eq!(check_name(b""), Ok(()));
    }

    /// A path of exactly `len` bytes made of short components.
    fn path_of_len(len: usize) -> Vec<u8> {
        let mut p: Vec<u8> = b"/abcdefg".iter().copied().cycle().take(len).collect();
        p[len - 1] = b'z';
        p
    }

    #[test]
    fn path_of_4095_bytes_passes_4096_fails() {
        assert_eq!(PATH_MAX, 4096);
        assert_eq!(validate(&path_of_len(4095)), Ok(()));
        assert_eq!(validate(&path_of_len(4096)), Err(PathError::NameTooLong));
        assert_eq!(validate(&path_of_len(10_000)), Err(PathError::NameTooLong));
        assert_eq!(validate(&vec![b'/'; 4095]), Ok(()));
        assert_eq!(validate(&vec![b'/'; 4096]), Err(PathError::NameTooLong));
    }
}

mod parent_split {
    use super::*;

    #[test]
    fn empty_is_enoent() {
        assert_eq!(split_parent(b""), Err(PathError::NotFound));
    }

    #[test]
    fn root_has_no_last_component() {
        assert_eq!(split(b"/"), (&b"/"[..], None, false));
        assert_eq!(split(b"//"), (&b"/"[..], None, false));
        assert_eq!(split_parent(b"///").map(|s| s.last_component()), Ok(None));
    }

    #[test]
    fn relative_single_name_has_dot_parent() {
        assert_eq!(split(b"a"), (&b"."[..], Some(&b"a"[..]), false));
        assert_eq!(split(b"a/"), (&b"."[..], Some(&b"a"[..]), true));
        assert_eq!(split(b"a//"), (&b"."[..], Some(&b"a"[..]), true));
    }

    #[test]
    fn nested_paths() {
        assert_eq!(split(b"a/b/"), (&b"a"[..], Some(&b"b"[..]), true));
        assert_eq!(split(b"a//b"), (&b"a"[..], Some(&b"b"[..]), false));
        assert_eq!(split(b"/a"), (&b"/"[..], Some(&b"a"[..]), false));
        assert_eq!(split(b"//a"), (&b"/"[..], Some(&b"a"[..]), false));
        assert_eq!(split(b"/a/b"), (&b"/a"[..], Some(&b"b"[..]), false));
        assert_eq!(split(b"/a//b//"), (&b"/a"[..], Some(&b"b"[..]), true));
        assert_eq!(split(b"a/./b"), (&b"a/."[..], Some(&b"b"[..]), false));
    }

    #[test]
    fn dot_and_dotdot_last_components_are_classified() {
        let s = split_parent(b"a/b/.").expect("non-empty");
        assert_eq!(
            s,
            ParentSplit {
                parent: b"a/b",
                last: Some(b"."),
                trailing_slash: false,
            }
        );
        assert_eq!(s.last_component(), Some(CurDir));
        let s = split_parent(b"a/..").expect("non-empty");
        assert_eq!((s.parent, s.last_component()), (&b"a"[..], Some(ParentDir)));
        assert_eq!(split(b"."), (&b"."[..], Some(&b"."[..]), false));
        assert_eq!(split(b".."), (&b"."[..], Some(&b".."[..]), false));
        assert_eq!(split(b"/.."), (&b"/"[..], Some(&b".."[..]), false));
        assert_eq!(split(b"a/./"), (&b"a"[..], Some(&b"."[..]), true));
        let s = split_parent(b"dir/file").expect("non-empty");
        assert_eq!(s.last_component(), Some(Normal(b"file")));
    }
}

mod normalize {
    use super::*;

    fn norm(cwd: &[u8], path: &[u8]) -> Vec<u8> {
        normalize_lexically(cwd, path)
    }

    #[test]
    fn relative_paths_join_the_cwd() {
        assert_eq!(norm(b"/home/u", b"a/./b/../c"), b"/home/u/a/c");
        assert_eq!(norm(b"/home/u/", b"x/"), b"/home/u/x");
        assert_eq!(norm(b"/a", b""), b"/a");
        assert_eq!(norm(b"/a", b"."), b"/a");
        assert_eq!(norm(b"/a/b", b".."), b"/a");
    }

    #[test]
    fn absolute_paths_ignore_the_cwd() {
        assert_eq!(norm(b"/cwd", b"/b/./c/."), b"/b/c");
        assert_eq!(norm(b"/cwd", b"//"), b"/");
        assert_eq!(norm(b"/cwd", b"/"), b"/");
    }

    #[test]
    fn dotdot_stops_at_the_root() {
        assert_eq!(norm(b"/x", b"/.."), b"/");
        assert_eq!(norm(b"/a/b", b"../../.."), b"/");
        assert_eq!(norm(b"/", b"../a/../../b"), b"/b");
    }

    #[test]
    fn relative_cwd_is_taken_from_the_root_and_bytes_are_kept() {
        assert_eq!(norm(b"rel/dir", b"x"), b"/rel/dir/x");
        assert_eq!(norm(b"", b""), b"/");
        assert_eq!(norm(b"/\xff", b"\xfe/./"), b"/\xff/\xfe");
    }
}

#[test]
fn paths_within_a_root() {
    assert_eq!(within_root(b"/", b"/a/b"), Some(&b"/a/b"[..]));
    assert_eq!(within_root(b"/", b"/"), Some(&b"/"[..]));
    assert_eq!(within_root(b"/jail", b"/jail"), Some(&b"/"[..]));
    assert_eq!(
        within_root(b"/jail", b"/jail/bin/sh"),
        Some(&b"/bin/sh"[..])
    );
    // A sibling whose name only starts with the root's is outside it.
    assert_eq!(within_root(b"/jail", b"/jailbreak/x"), None);
    assert_eq!(within_root(b"/jail", b"/etc"), None);
    assert_eq!(within_root(b"/jail", b"/"), None);
}
