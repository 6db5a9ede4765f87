//! Resource limits (getrlimit(2)): per process, inherited by fork, kept by
//! execve.
//!
//! Enforced: RLIMIT_NOFILE (the descriptor table's limit), RLIMIT_NPROC
//! (clone fails with EAGAIN once the caller's user has that many threads),
//! RLIMIT_CPU (SIGXCPU each second past the soft limit, SIGKILL at the hard
//! one: task/cputimer.rs), RLIMIT_FSIZE (writes and truncation of regular
//! files: EFBIG and SIGXFSZ) and RLIMIT_CORE (task/coredump.rs).
//! The others are kept and reported as set; the main stack is the
//! architecture's fixed 8 MiB whatever RLIMIT_STACK says.

/// Resource numbers (asm-generic/resource.h; the same on both architectures).
pub const RLIMIT_CPU: u32 = 0;
pub const RLIMIT_FSIZE: u32 = 1;
pub const RLIMIT_STACK: u32 = 3;
pub const RLIMIT_CORE: u32 = 4;
pub const RLIMIT_NPROC: u32 = 6;
pub const RLIMIT_NOFILE: u32 = 7;
pub const RLIMIT_MEMLOCK: u32 = 8;
pub const RLIMIT_SIGPENDING: u32 = 11;
pub const RLIMIT_MSGQUEUE: u32 = 12;
pub const RLIMIT_NLIMITS: u32 = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

/// One limit: soft (cur) and hard (max).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

impl Rlimit {
    const fn new(cur: u64, max: u64) -> Self {
        Self { cur, max }
    }

    /// The `struct rlimit64` bytes.
    pub fn to_user(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.cur.to_ne_bytes());
        b[8..].copy_from_slice(&self.max.to_ne_bytes());
        b
    }

    /// Decodes `struct rlimit64`.
    pub fn from_user(b: &[u8; 16]) -> Self {
        let w = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        Self::new(w(0), w(8))
    }
}

/// All limits of a process.
pub type Rlimits = [Rlimit; RLIMIT_NLIMITS as usize];

/// Linux's defaults for init (include/asm-generic/resource.h INIT_RLIMITS),
/// with `stack` the architecture's default stack size.
pub fn defaults(stack: u64) -> Rlimits {
    const INF: Rlimit = Rlimit::new(RLIM_INFINITY, RLIM_INFINITY);
    let mut l = [INF; RLIMIT_NLIMITS as usize];
    l[RLIMIT_STACK as usize] = Rlimit::new(stack, RLIM_INFINITY);
    l[RLIMIT_CORE as usize] = Rlimit::new(0, RLIM_INFINITY);
    // Linux derives these from memory: half of threads-max at boot.
    let tasks = super::table::task_rlimit();
    l[RLIMIT_NPROC as usize] = Rlimit::new(tasks, tasks);
    l[RLIMIT_NOFILE as usize] = Rlimit::new(1024, 4096);
    l[RLIMIT_MEMLOCK as usize] = Rlimit::new(8 << 20, 8 << 20);
    l[RLIMIT_SIGPENDING as usize] = Rlimit::new(tasks, tasks);
    l[RLIMIT_MSGQUEUE as usize] = Rlimit::new(819_200, 819_200);
    l[13] = Rlimit::new(0, 0); // RLIMIT_NICE
    l[14] = Rlimit::new(0, 0); // RLIMIT_RTPRIO
    l
}
