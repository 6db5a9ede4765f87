//! brk: the classic heap after the executable's last segment.

use super::{AddrSpace, Prot, UserVma, VmaKind, page_ceil};

impl AddrSpace {
    /// Sets the heap start (end of the loaded image); the heap is empty.
    pub fn init_heap(&mut self, start: usize) {
        self.heap_start = start;
        self.heap_end = start;
    }

    /// Moves the program break to `new_end` and returns the resulting break.
    ///
    /// As Linux's brk(2) syscall: a request that cannot be satisfied (below
    /// the heap start, overlapping another mapping, out of memory) leaves the
    /// break unchanged and returns the current value.
    pub fn brk(&mut self, new_end: usize) -> usize {
        if new_end < self.heap_start || new_end >= self.layout.mmap_base {
            return self.heap_end;
        }
        let (Some(old_top), Some(new_top)) = (page_ceil(self.heap_end), page_ceil(new_end)) else {
            return self.heap_end;
        };
        if new_top > old_top {
            if !self.vmas.is_free(old_top, new_top) {
                return self.heap_end;
            }
            let vma = UserVma::anonymous(old_top, new_top, Prot::READ | Prot::WRITE, VmaKind::Heap);
            if self.vmas.insert(vma).is_err() {
                return self.heap_end;
            }
            self.vmas.merge_around(old_top, new_top);
            self.account_mapped(new_top - old_top);
        } else if new_top < old_top && self.unmap(new_top, old_top - new_top).is_err() {
            return self.heap_end;
        }
        self.heap_end = new_end;
        new_end
    }
}
