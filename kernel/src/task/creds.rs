//! Process credentials (credentials(7)).

use alloc::vec::Vec;

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
}

impl Creds {
    /// Root, as init starts.
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
        }
    }
}

impl Creds {
    /// CAP_SETUID/CAP_SETGID/CAP_KILL: held by euid 0.
    pub fn privileged(&self) -> bool {
        self.euid == 0
    }

    /// Whether a process with these credentials may signal one with
    /// `target` (kill(2): real or effective uid matches the target's real
    /// or saved uid).
    pub fn may_signal(&self, target: &Creds) -> bool {
        self.privileged()
            || self.uid == target.uid
            || self.uid == target.suid
            || self.euid == target.uid
            || self.euid == target.suid
    }
}
