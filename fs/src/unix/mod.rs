//! AF_UNIX socket logic that needs no kernel: addresses, the receive queue
//! and the control-message layout.
//!
//! The socket objects behind descriptors ([`crate::file::unix`]) build on
//! these; keeping them here lets `cargo test` on the host check the parts
//! whose byte layouts and boundaries must match Linux (net/unix/af_unix.c,
//! net/core/scm.c).

pub mod addr;
pub mod cmsg;
pub mod queue;

/// Credentials a message carries (struct ucred): the sender's process id
/// (global, turned into the receiver's view by the caller), real uid and gid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ucred {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    /// What a receiver with SO_PASSCRED sees for a message sent without
    /// credentials: no pid and the overflow ids (scm_recv's INVALID_UID
    /// turned into the user namespace's overflowuid).
    pub const NONE: Ucred = Ucred {
        pid: 0,
        uid: 65534,
        gid: 65534,
    };
}
