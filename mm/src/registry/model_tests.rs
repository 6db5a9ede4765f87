//! Randomized test of the registry kept by VMAs in [`VmaSet`]s.
//!
//! Several address spaces (each a `VmaSet` of VMAs that hold
//! [`Registration`]s the way the kernel's VMAs do: split on split, absorb on
//! merge, release on drop) map, unmap, re-protect, fork, exit and revoke
//! write access to a few shared objects. After every operation each
//! object's records must be exactly the VMAs mapping it in the live
//! address spaces, with the same spans, and the may-write answer must match
//! the VMAs.

use alloc::{
    sync::{Arc, Weak},
    vec::Vec,
};

use super::{
    REC_READ, REC_WRITE, Registration, Span,
    tests::{Object, Owner},
};
use crate::{
    test_rng::Rng,
    vma_set::{Vma, VmaSet},
};

const PG: usize = 4096;
const PAGES: usize = 64;
const OBJECTS: usize = 3;
const SEEDS: u64 = 12;
const OPS_PER_SEED: usize = 3_000;

/// A page range of the model, mostly short.
trait Ranges {
    fn range(&mut self) -> (usize, usize);
}

impl Ranges for Rng {
    fn range(&mut self) -> (usize, usize) {
        let s = self.below(PAGES);
        let e = (s + 1 + self.below(8)).min(PAGES);
        (s * PG, e * PG)
    }
}

/// A shared VMA as the kernel's: it holds its object and its registration.
struct RVma {
    start: usize,
    end: usize,
    offset: u64,
    prot: u8,
    may: u8,
    shared: bool,
    object: Arc<Object>,
    reg: Option<Registration<Owner>>,
}

impl RVma {
    fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
            offset: self.offset,
            prot: self.prot,
            may: self.may,
            shared: self.shared,
        }
    }

    fn sync(&self) {
        if let Some(reg) = &self.reg {
            reg.update(&*self.object, self.span());
        }
    }
}

impl Drop for RVma {
    fn drop(&mut self) {
        if let Some(reg) = self.reg.take() {
            reg.release(&*self.object);
        }
    }
}

impl Vma for RVma {
    fn start(&self) -> usize {
        self.start
    }

    fn end(&self) -> usize {
        self.end
    }

    fn split_off(&mut self, addr: usize) -> Self {
        let mut upper = RVma {
            start: addr,
            end: self.end,
            offset: self.offset + (addr - self.start) as u64,
            prot: self.prot,
            may: self.may,
            shared: self.shared,
            object: self.object.clone(),
            reg: None,
        };
        self.end = addr;
        if let Some(reg) = &self.reg {
            upper.reg = Some(reg.split(&*self.object, self.span(), upper.span()));
        }
        upper
    }

    fn can_merge(&self, next: &Self) -> bool {
        self.end == next.start
            && Arc::ptr_eq(&self.object, &next.object)
            && self.offset + (self.end - self.start) as u64 == next.offset
            && self.prot == next.prot
            && self.may == next.may
            && self.shared == next.shared
    }

    fn merge(&mut self, mut next: Self) {
        self.end = next.end;
        if let (Some(reg), Some(gone)) = (&self.reg, next.reg.take()) {
            reg.absorb(&*self.object, gone, self.span());
        }
    }
}

struct Space {
    owner: Arc<Owner>,
    vmas: VmaSet<RVma>,
}

fn check(objects: &[Arc<Object>], spaces: &[Space], context: &dyn Fn() -> alloc::string::String) {
    for (i, obj) in objects.iter().enumerate() {
        obj.check();
        let registry = obj.0.lock().unwrap();
        let mut records: Vec<(usize, Span)> = registry
            .records()
            .into_iter()
            .map(|r| (Weak::as_ptr(&r.owner) as usize, r.span))
            .collect();
        let mut expected: Vec<(usize, Span)> = spaces
            .iter()
            .flat_map(|s| {
                s.vmas
                    .iter()
                    .filter(|v| Arc::ptr_eq(&v.object, obj))
                    .map(|v| (Arc::as_ptr(&s.owner) as usize, v.span()))
            })
            .collect();
        records.sort_by_key(|(o, s)| (*o, s.start));
        expected.sort_by_key(|(o, s)| (*o, s.start));
        assert_eq!(
            records,
            expected,
            "object {i}: records differ; {}",
            context()
        );
        let writes = expected
            .iter()
            .any(|(_, s)| s.shared && s.may & REC_WRITE != 0);
        assert_eq!(
            registry.may_write(),
            writes,
            "object {i}: may_write; {}",
            context()
        );
        for r in registry.records() {
            let Some(owner) = r.owner.upgrade() else {
                panic!("a record of a dead owner survived; {}", context());
            };
            let space = spaces
                .iter()
                .find(|s| Arc::ptr_eq(&s.owner, &owner))
                .unwrap();
            let vma = space.vmas.find(r.span.start).unwrap();
            assert!(vma.reg.as_ref().unwrap().is(&r.record), "{}", context());
        }
    }
}

fn map(rng: &mut Rng, objects: &[Arc<Object>], space: &mut Space) {
    let (start, end) = rng.range();
    let object = objects[rng.below(objects.len())].clone();
    let prot = if rng.below(2) == 0 {
        REC_READ
    } else {
        REC_READ | REC_WRITE
    };
    let may = if prot & REC_WRITE != 0 || rng.below(2) == 0 {
        REC_READ | REC_WRITE
    } else {
        REC_READ
    };
    // Offsets at multiples of the start keep merges possible.
    let offset = start as u64;
    drop(space.vmas.remove_range(start, end));
    let mut vma = RVma {
        start,
        end,
        offset,
        prot,
        may,
        // A private mapping of an object has a record too; it never
        // counts as a writer.
        shared: rng.below(4) != 0,
        object,
        reg: None,
    };
    vma.reg = Some(Registration::new(
        &*vma.object,
        Arc::downgrade(&space.owner),
        vma.span(),
    ));
    assert!(space.vmas.insert(vma).is_ok());
    space.vmas.merge_around(start, end);
}

fn protect(rng: &mut Rng, space: &mut Space) {
    let (start, end) = rng.range();
    let write = rng.below(2) == 0;
    space.vmas.update_range(start, end, |v| {
        if write && v.may & REC_WRITE == 0 {
            return;
        }
        v.prot = if write {
            REC_READ | REC_WRITE
        } else {
            REC_READ
        };
        v.sync();
    });
    space.vmas.merge_around(start, end);
}

fn fork(space: &Space) -> Space {
    let owner = Arc::new(Owner);
    let mut vmas = VmaSet::new();
    for v in space.vmas.iter() {
        let reg = v
            .reg
            .as_ref()
            .map(|r| r.duplicate(&*v.object, Arc::downgrade(&owner)));
        let copy = RVma {
            start: v.start,
            end: v.end,
            offset: v.offset,
            prot: v.prot,
            may: v.may,
            shared: v.shared,
            object: v.object.clone(),
            reg,
        };
        assert!(vmas.insert(copy).is_ok());
    }
    Space { owner, vmas }
}

/// Live revocation as the kernel does it: the writers from the registry,
/// then each owner's own records.
fn revoke(object: &Arc<Object>, spaces: &mut [Space]) {
    let writers = object.0.lock().unwrap().writers();
    for owner in writers {
        let space = spaces
            .iter_mut()
            .find(|s| Arc::ptr_eq(&s.owner, &owner))
            .unwrap();
        let mine = object.0.lock().unwrap().records_of(&Arc::downgrade(&owner));
        for r in mine {
            if !r.span.may_write() {
                continue;
            }
            let vma = space.vmas.find_mut(r.span.start).unwrap();
            vma.prot &= !REC_WRITE;
            vma.may &= !REC_WRITE;
            vma.sync();
        }
    }
    assert!(!object.0.lock().unwrap().may_write());
}

#[test]
fn registry_follows_random_vma_operations() {
    for seed in 0..SEEDS {
        let mut rng = Rng(seed);
        let objects: Vec<Arc<Object>> = (0..OBJECTS).map(|_| Arc::new(Object::default())).collect();
        let mut spaces = alloc::vec![Space {
            owner: Arc::new(Owner),
            vmas: VmaSet::new(),
        }];
        for op in 0..OPS_PER_SEED {
            let which = rng.below(spaces.len());
            let kind = rng.below(100);
            match kind {
                0..40 => map(&mut rng, &objects, &mut spaces[which]),
                40..65 => {
                    let (s, e) = rng.range();
                    drop(spaces[which].vmas.remove_range(s, e));
                }
                65..85 => protect(&mut rng, &mut spaces[which]),
                85..90 if spaces.len() < 6 => {
                    let child = fork(&spaces[which]);
                    spaces.push(child);
                }
                90..95 if spaces.len() > 1 => {
                    // Exit: the owner dies first, then its VMAs go.
                    let gone = spaces.swap_remove(which);
                    let Space { owner, vmas } = gone;
                    drop(owner);
                    drop(vmas);
                }
                95..100 => {
                    let object = objects[rng.below(objects.len())].clone();
                    revoke(&object, &mut spaces);
                }
                _ => {}
            }
            check(&objects, &spaces, &|| {
                alloc::format!("seed {seed} op {op} kind {kind}")
            });
        }
        spaces.clear();
        for obj in &objects {
            assert!(obj.0.lock().unwrap().is_empty());
        }
    }
}
