//! The alternate signal stack (sigaltstack(2)).

use crate::error::{Errno, KResult};

/// `ss_flags` values.
pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const SS_AUTODISARM: i32 = 1 << 31;
/// The smallest stack sigaltstack accepts (MINSIGSTKSZ on both architectures).
pub const MINSIGSTKSZ: usize = 2048;

/// A thread's alternate signal stack, as `stack_t` describes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: usize,
    pub size: usize,
    /// `SS_AUTODISARM` if requested; `SS_DISABLE` when there is no stack.
    pub flags: i32,
}

impl AltStack {
    /// No alternate stack (the state of a new thread and after execve).
    pub const DISABLED: Self = Self {
        sp: 0,
        size: 0,
        flags: SS_DISABLE,
    };

    /// Whether `sp` lies on this stack (Linux's `on_sig_stack`). With
    /// SS_AUTODISARM the answer is always no: the stack was disarmed when
    /// the handler started on it.
    pub fn contains(&self, sp: usize) -> bool {
        self.flags & (SS_DISABLE | SS_AUTODISARM) == 0
            && self.size != 0
            && sp > self.sp
            && sp - self.sp <= self.size
    }

    /// Whether a handler with SA_ONSTACK switches to this stack.
    pub fn usable(&self) -> bool {
        self.flags & SS_DISABLE == 0 && self.size != 0
    }

    /// The `stack_t` sigaltstack reports for a thread whose stack pointer
    /// is `sp`: SS_ONSTACK while it runs on the stack.
    pub fn report(&self, sp: usize) -> Self {
        if self.flags & SS_DISABLE != 0 {
            return Self::DISABLED;
        }
        let mut out = *self;
        if self.contains(sp) {
            out.flags |= SS_ONSTACK;
        }
        out
    }

    /// Validates a new `stack_t` (do_sigaltstack): the only modes are 0,
    /// SS_ONSTACK (treated as 0) and SS_DISABLE, optionally with
    /// SS_AUTODISARM; an enabled stack needs MINSIGSTKSZ bytes.
    pub fn validate(new: Self) -> KResult<Self> {
        let mode = new.flags & !SS_AUTODISARM;
        match mode {
            SS_DISABLE => Ok(Self::DISABLED),
            0 | SS_ONSTACK => {
                if new.size < MINSIGSTKSZ {
                    return Err(Errno::ENOMEM);
                }
                Ok(Self {
                    sp: new.sp,
                    size: new.size,
                    flags: new.flags & SS_AUTODISARM,
                })
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Decodes a user `stack_t` (ss_sp, ss_flags, ss_size).
    pub fn from_user(b: &[u8; 24]) -> Self {
        let w = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        Self {
            sp: w(0) as usize,
            flags: i32::from_ne_bytes(b[8..12].try_into().unwrap_or([0; 4])),
            size: w(16) as usize,
        }
    }

    /// Encodes as a user `stack_t`.
    pub fn to_user(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&(self.sp as u64).to_ne_bytes());
        b[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        b[16..24].copy_from_slice(&(self.size as u64).to_ne_bytes());
        b
    }
}
