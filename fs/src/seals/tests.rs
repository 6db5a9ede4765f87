//! The seal state machine: every seal against every write path, and the
//! rule that a failed F_ADD_SEALS changes nothing.

use super::*;

const ALL_PATHS: [&str; 7] = [
    "write",
    "grow-write",
    "shrink",
    "grow",
    "punch",
    "alloc-grow",
    "mmap-write",
];

/// Whether the path is allowed under `seals` on a 2-page file.
fn allowed(seals: u32, path: &str) -> bool {
    let size = 8192;
    match path {
        "write" => writable_len(seals, 0, 10, size).is_ok(),
        "grow-write" => writable_len(seals, size, 10, size).is_ok(),
        "shrink" => check_resize(seals, size, 0).is_ok(),
        "grow" => check_resize(seals, size, 3 * 4096).is_ok(),
        "punch" => check_fallocate(seals, true, 0, 4096, size).is_ok(),
        "alloc-grow" => check_fallocate(seals, false, size, 4096, size).is_ok(),
        "mmap-write" => check_mmap(seals, true, true).is_ok(),
        _ => unreachable!(),
    }
}

#[test]
fn every_seal_against_every_path() {
    let expect = |seal: u32, path: &str| -> bool {
        match (seal, path) {
            (
                F_SEAL_WRITE | F_SEAL_FUTURE_WRITE,
                "write" | "grow-write" | "punch" | "mmap-write",
            ) => false,
            (F_SEAL_GROW, "grow-write" | "grow" | "alloc-grow") => false,
            (F_SEAL_SHRINK, "shrink") => false,
            _ => true,
        }
    };
    for seal in [
        0,
        F_SEAL_SEAL,
        F_SEAL_SHRINK,
        F_SEAL_GROW,
        F_SEAL_WRITE,
        F_SEAL_FUTURE_WRITE,
        F_SEAL_EXEC,
    ] {
        for path in ALL_PATHS {
            assert_eq!(
                allowed(seal, path),
                expect(seal, path),
                "seal {seal:#x} path {path}"
            );
        }
    }
}

#[test]
fn write_seal_allows_resizing_and_zero_length_writes() {
    // kselftest test_seal_write: shrinking, growing and O_TRUNC succeed.
    assert!(check_resize(F_SEAL_WRITE, 8192, 0).is_ok());
    assert!(check_resize(F_SEAL_WRITE, 0, 8192).is_ok());
    assert_eq!(writable_len(F_SEAL_WRITE, 0, 0, 10), Ok(0));
    assert_eq!(writable_len(F_SEAL_GROW, 100, 0, 10), Ok(0));
}

#[test]
fn grow_seal_is_checked_per_page() {
    // Inside the file: whole write.
    assert_eq!(writable_len(F_SEAL_GROW, 0, 8192, 8192), Ok(8192));
    // Two pages, the second reaching past the end: short write of one.
    assert_eq!(writable_len(F_SEAL_GROW, 0, 8192, 6000), Ok(4096));
    // The first page already past the end: EPERM.
    assert_eq!(writable_len(F_SEAL_GROW, 4096, 10, 4096), Err(Errno::EPERM));
    assert_eq!(writable_len(F_SEAL_GROW, 5000, 10, 5005), Err(Errno::EPERM));
    // The part up to the page boundary inside the file is written.
    assert_eq!(writable_len(F_SEAL_GROW, 4000, 200, 4096), Ok(96));
    // Unaligned start: the first chunk ends at the page boundary.
    assert_eq!(writable_len(F_SEAL_GROW, 100, 5000, 4096), Ok(3996));
}

#[test]
fn add_rules() {
    // Unknown bits.
    assert_eq!(add(0, 0x40, 0o600, false, false), Err(Errno::EINVAL));
    // After F_SEAL_SEAL anything, even 0.
    assert_eq!(add(F_SEAL_SEAL, 0, 0o600, false, false), Err(Errno::EPERM));
    // F_SEAL_WRITE with a writable shared mapping: EBUSY, or revoke.
    assert_eq!(add(0, F_SEAL_WRITE, 0o600, true, false), Err(Errno::EBUSY));
    assert_eq!(
        add(0, F_SEAL_WRITE, 0o600, true, true),
        Ok(AddOutcome::RevokeThenSeal(F_SEAL_WRITE))
    );
    // ... but not when already sealed.
    assert_eq!(
        add(F_SEAL_WRITE, F_SEAL_WRITE, 0o600, true, false),
        Ok(AddOutcome::Sealed(F_SEAL_WRITE))
    );
    // FUTURE_WRITE never fails on mappings.
    assert_eq!(
        add(0, F_SEAL_FUTURE_WRITE, 0o600, true, false),
        Ok(AddOutcome::Sealed(F_SEAL_FUTURE_WRITE))
    );
    assert_eq!(
        add(0, F_SEAL_FUTURE_WRITE, 0o600, true, true),
        Ok(AddOutcome::RevokeThenSeal(F_SEAL_FUTURE_WRITE))
    );
    // F_SEAL_EXEC on an executable file adds the write seals before the
    // EBUSY check (current Linux): a writable mapping makes it fail.
    assert_eq!(add(0, F_SEAL_EXEC, 0o755, true, false), Err(Errno::EBUSY));
    assert_eq!(
        add(0, F_SEAL_EXEC, 0o755, false, false),
        Ok(AddOutcome::Sealed(F_SEAL_EXEC | EXEC_IMPLIES))
    );
    assert_eq!(
        add(0, F_SEAL_EXEC, 0o644, true, false),
        Ok(AddOutcome::Sealed(F_SEAL_EXEC))
    );
}

#[test]
fn failed_add_changes_nothing() {
    // The caller stores only an Ok result: a failing combination leaves
    // the current set as it was (here: the EBUSY of a mixed request).
    let current = F_SEAL_SHRINK;
    assert_eq!(
        add(current, F_SEAL_GROW | F_SEAL_WRITE, 0o600, true, false),
        Err(Errno::EBUSY)
    );
    assert_eq!(
        add(current, F_SEAL_GROW, 0o600, true, false),
        Ok(AddOutcome::Sealed(F_SEAL_SHRINK | F_SEAL_GROW))
    );
}

#[test]
fn exec_seal_guards_the_x_bits() {
    assert_eq!(check_chmod(F_SEAL_EXEC, 0o755, 0o644), Err(Errno::EPERM));
    assert!(check_chmod(F_SEAL_EXEC, 0o755, 0o711).is_ok());
    assert!(check_chmod(0, 0o755, 0o644).is_ok());
}

#[test]
fn mmap_under_write_seals() {
    assert_eq!(check_mmap(F_SEAL_WRITE, true, true), Err(Errno::EPERM));
    assert_eq!(check_mmap(F_SEAL_WRITE, true, false), Ok(false));
    assert_eq!(check_mmap(F_SEAL_FUTURE_WRITE, true, false), Ok(false));
    // Private mappings are not affected.
    assert_eq!(check_mmap(F_SEAL_WRITE, false, true), Ok(true));
    assert_eq!(check_mmap(0, true, true), Ok(true));
}
