//! Process credentials and capabilities (credentials(7), capabilities(7)).
//!
//! Privilege checks ask for one capability ([`Creds::capable`]) in the
//! effective set. The sets change with the ids as Linux's commoncap does
//! without file capabilities: leaving uid 0 everywhere drops the permitted
//! and effective sets, an effective uid of 0 raises the effective set to the
//! permitted one, the filesystem uid moves the file-system capabilities, and
//! execve recomputes the sets from the new ids.

use alloc::vec::Vec;

/// Capability numbers used by privilege checks (linux/capability.h).
pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_SYS_TIME: u32 = 25;
/// The highest capability Linux 6.x defines (CAP_CHECKPOINT_RESTORE).
pub const CAP_LAST_CAP: u32 = 40;
/// Every capability.
pub const CAP_FULL_SET: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;
/// The capabilities that follow the filesystem uid (CAP_FS_MASK).
const CAP_FS_MASK: u64 = (1 << CAP_CHOWN)
    | (1 << CAP_DAC_OVERRIDE)
    | (1 << CAP_DAC_READ_SEARCH)
    | (1 << CAP_FOWNER)
    | (1 << CAP_FSETID)
    | (1 << CAP_LINUX_IMMUTABLE)
    | (1 << CAP_MKNOD);

/// The capability sets of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
}

/// User and group identities of a process.
#[derive(Clone, Debug, Default)]
pub struct Creds {
    /// Supplementary groups (setgroups).
    pub groups: Vec<u32>,
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub caps: Caps,
    /// PR_SET_KEEPCAPS (SECBIT_KEEP_CAPS): leaving uid 0 keeps the
    /// permitted set; cleared by execve.
    pub keep_caps: bool,
    /// PR_SET_SECUREBITS bits other than SECBIT_KEEP_CAPS (kept in
    /// `keep_caps`): NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE and the
    /// lock bits.
    pub securebits: u32,
}

/// include/uapi/linux/securebits.h.
pub const SECBIT_NOROOT: u32 = 1 << 0;
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << 2;
pub const SECBIT_KEEP_CAPS: u32 = 1 << 4;
pub const SECBIT_KEEP_CAPS_LOCKED: u32 = 1 << 5;
pub const SECURE_ALL_BITS: u32 = 0x55;
pub const SECURE_ALL_LOCKS: u32 = 0xaa;

impl Creds {
    /// Root with every capability, as init starts.
    pub const fn root() -> Self {
        Self {
            groups: Vec::new(),
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            caps: Caps {
                effective: CAP_FULL_SET,
                permitted: CAP_FULL_SET,
                inheritable: 0,
                bounding: CAP_FULL_SET,
            },
            keep_caps: false,
            securebits: 0,
        }
    }

    /// The securebits word PR_GET_SECUREBITS reports.
    pub fn securebits(&self) -> u32 {
        (self.securebits & !SECBIT_KEEP_CAPS) | if self.keep_caps { SECBIT_KEEP_CAPS } else { 0 }
    }

    /// PR_SET_SECUREBITS (security/commoncap.c): needs CAP_SETPCAP; locked
    /// bits cannot change, locks cannot be released, unknown bits are
    /// refused; all EPERM.
    pub fn set_securebits(&mut self, bits: u32) -> Result<(), ()> {
        let old = self.securebits();
        if ((old & SECURE_ALL_LOCKS) >> 1) & (old ^ bits) != 0
            || old & SECURE_ALL_LOCKS & !bits != 0
            || bits & !(SECURE_ALL_LOCKS | SECURE_ALL_BITS) != 0
            || !self.capable(CAP_SETPCAP)
        {
            return Err(());
        }
        self.keep_caps = bits & SECBIT_KEEP_CAPS != 0;
        self.securebits = bits & !SECBIT_KEEP_CAPS;
        Ok(())
    }

    /// Whether capability `cap` is in the effective set.
    pub fn capable(&self, cap: u32) -> bool {
        self.caps.effective & (1 << cap) != 0
    }

    /// Whether a process with these credentials may signal one with
    /// `target` (kill(2): CAP_KILL, or the real or effective uid matches
    /// the target's real or saved uid).
    pub fn may_signal(&self, target: &Creds) -> bool {
        self.capable(CAP_KILL)
            || self.uid == target.uid
            || self.uid == target.suid
            || self.euid == target.uid
            || self.euid == target.suid
    }

    /// Adjusts the capability sets after the uids changed from `old`
    /// (cap_emulate_setxuid and the fsuid fixup of commoncap).
    pub fn fix_caps_after_setuid(&mut self, old: &Creds) {
        if self.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
            return;
        }
        let was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
        let now_root = self.uid == 0 || self.euid == 0 || self.suid == 0;
        if was_root && !now_root {
            if !self.keep_caps {
                self.caps.permitted = 0;
            }
            self.caps.effective = 0;
        }
        if old.euid == 0 && self.euid != 0 {
            self.caps.effective = 0;
        }
        if old.euid != 0 && self.euid == 0 {
            self.caps.effective = self.caps.permitted;
        }
        if old.fsuid == 0 && self.fsuid != 0 {
            self.caps.effective &= !CAP_FS_MASK;
        }
        if old.fsuid != 0 && self.fsuid == 0 {
            self.caps.effective |= self.caps.permitted & CAP_FS_MASK;
        }
    }

    /// The capability sets after execve of a program without file
    /// capabilities (cap_bprm_creds_from_file): root gets the bounding set
    /// (with the inheritable one), everyone else keeps nothing.
    pub fn caps_for_exec(&mut self) {
        self.keep_caps = false;
        if self.securebits & SECBIT_NOROOT == 0 && (self.uid == 0 || self.euid == 0) {
            self.caps.permitted = self.caps.inheritable | self.caps.bounding;
        } else {
            self.caps.permitted = 0;
        }
        self.caps.effective = if self.euid == 0 {
            self.caps.permitted
        } else {
            0
        };
    }
}
