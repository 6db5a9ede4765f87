//! The registry invariant check (cargo feature `mm-debug`).
//!
//! After every memory-management syscall the kernel asks the address space
//! to verify, for itself and for every object whose records the syscall
//! changed, that the registry invariant holds: each shared VMA of an object
//! holds a record linked into that object's registry, naming this address
//! space, with the VMA's exact range, offset, protection and
//! may-protection; and the object's records of this address space are
//! exactly those VMAs' records. The check walks every VMA, which is why it
//! is a debug feature; the operations themselves never do.

use alloc::{format, string::String, sync::Arc, vec::Vec};

use super::{AddrSpace, MemObject};
use crate::registry::with_registry;

impl AddrSpace {
    /// Verifies the registry invariant for this address space and for the
    /// objects touched since the last check, then forgets those.
    pub fn check_registry(&mut self) -> Result<(), String> {
        let mut objects: Vec<Arc<dyn MemObject>> = core::mem::take(&mut self.touched);
        for vma in self.vmas.iter() {
            if let Some(object) = &vma.object
                && !objects
                    .iter()
                    .any(|o| core::ptr::addr_eq(Arc::as_ptr(o), Arc::as_ptr(object)))
            {
                objects.push(object.clone());
            }
            let Some(record) = vma.record() else {
                if vma.is_registered_kind() {
                    return Err(format!("shared VMA {vma:?} has no record"));
                }
                continue;
            };
            if !vma.is_registered_kind() {
                return Err(format!("VMA {vma:?} has a record but maps nothing shared"));
            }
            if !record.is_linked() {
                return Err(format!("the record of {vma:?} is not linked"));
            }
            if !alloc::sync::Weak::ptr_eq(record.owner(), &self.owner) {
                return Err(format!("the record of {vma:?} names another address space"));
            }
            if record.span() != vma.span() {
                return Err(format!("the record of {vma:?} says {:?}", record.span()));
            }
        }
        for object in &objects {
            let (check, mine) = with_registry(&**object, |registry| {
                (registry.check(), registry.records_of(&self.owner))
            });
            check.map_err(|e| format!("registry: {e}"))?;
            let mapped = self
                .vmas
                .iter()
                .filter(|v| v.record().is_some() && v.maps(&**object))
                .count();
            if mine.len() != mapped {
                return Err(format!(
                    "an object has {} records of this address space for {mapped} VMAs",
                    mine.len()
                ));
            }
            for r in &mine {
                let held = self
                    .vmas
                    .find(r.span.start)
                    .is_some_and(|v| v.holds(&r.record));
                if !held {
                    return Err(format!("a record at {:#x} has no VMA", r.span.start));
                }
            }
        }
        Ok(())
    }
}
