//! The filesystems mounted at boot besides the ext4 root.

/// Mounts devfs, procfs and the tmpfs instances. Failures are logged: the
/// system still boots to a shell without them.
pub fn mount_all() {
    debug!("mounts: pseudo filesystems are not mounted yet");
}
