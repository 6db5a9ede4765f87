//! Address-space layout randomisation for execve (Linux's
//! arch_pick_mmap_layout, randomize_stack_top, arch_mmap_rnd,
//! arch_randomize_brk), controlled like Linux's by
//! `kernel.randomize_va_space` (0: off; 1: stack, mmap base, PIE base and
//! the program interpreter; 2, the default: also the heap) and by the
//! ADDR_NO_RANDOMIZE personality (`setarch -R`), which the caller folds
//! into `randomize`.

use core::sync::atomic::{AtomicI32, Ordering};

use starling_mm::aspace::{Layout, PAGE_SIZE};

use crate::arch;

/// kernel.randomize_va_space.
pub static RANDOMIZE_VA_SPACE: AtomicI32 = AtomicI32::new(2);

/// personality(2)'s ADDR_NO_RANDOMIZE.
pub const ADDR_NO_RANDOMIZE: u32 = 0x0040000;

/// Whether a new image of a process with `personality` is randomised.
pub fn enabled(personality: u32) -> bool {
    RANDOMIZE_VA_SPACE.load(Ordering::Relaxed) != 0 && personality & ADDR_NO_RANDOMIZE == 0
}

/// A random number of pages below `1 << bits`, as a byte offset.
fn random_pages(bits: u32) -> usize {
    let mut bytes = [0u8; 8];
    starling_fs::file::device::fill_random(&mut bytes);
    (u64::from_ne_bytes(bytes) as usize & ((1usize << bits) - 1)) * PAGE_SIZE
}

/// The random offsets of one new image (all 0 without randomisation).
pub struct Offsets {
    /// Below the top of the stack.
    pub stack: usize,
    /// Below the highest mmap_base.
    pub mmap: usize,
    /// Added to ELF_ET_DYN_BASE for a position-independent executable.
    pub pie: usize,
    /// Added to the end of the image for the start of the heap.
    pub brk: usize,
}

impl Offsets {
    /// Draws the offsets for a new image (`randomize`: see [`enabled`]).
    pub fn new(randomize: bool) -> Self {
        if !randomize {
            return Self {
                stack: 0,
                mmap: 0,
                pie: 0,
                brk: 0,
            };
        }
        let full = RANDOMIZE_VA_SPACE.load(Ordering::Relaxed) >= 2;
        Self {
            stack: random_pages(arch::STACK_RND_BITS),
            mmap: random_pages(arch::MMAP_RND_BITS),
            pie: random_pages(arch::MMAP_RND_BITS),
            brk: if full {
                random_pages(arch::BRK_RND_BITS)
            } else {
                0
            },
        }
    }

    /// The address-space layout with these offsets: the stack top moves
    /// down by `stack`; mmap_base sits below the largest stack the
    /// randomisation allows (mmap_base's gap) and moves down by `mmap`.
    pub fn layout(&self) -> Layout {
        let mut layout = arch::user_layout();
        let fixed_base = layout.mmap_base;
        layout.stack_top -= self.stack;
        if self.stack != 0 || self.mmap != 0 {
            let stack_room = (1usize << arch::STACK_RND_BITS) * PAGE_SIZE;
            layout.mmap_base = fixed_base - stack_room - self.mmap;
        }
        layout
    }
}
