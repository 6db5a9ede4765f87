//! Process credentials (credentials(7)).

/// User and group identities of a process.
#[derive(Clone, Debug, Default)]
pub struct Creds {
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
        Self { uid: 0, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0 }
    }
}
