//! Unit tests of the registry's operations.

use alloc::sync::{Arc, Weak};
use std::sync::Mutex;

use super::{Host, REC_READ, REC_WRITE, Registration, Registry, Span};

/// An address space stand-in.
pub struct Owner;

/// A memory object stand-in: a registry behind a lock.
#[derive(Default)]
pub struct Object(pub Mutex<Registry<Owner>>);

impl Host<Owner> for Object {
    fn lock_registry(&self, f: &mut dyn FnMut(&mut Registry<Owner>)) {
        f(&mut self.0.lock().unwrap());
    }
}

impl Object {
    pub fn check(&self) {
        self.0.lock().unwrap().check().unwrap();
    }
}

fn span(start: usize, end: usize, may: u8) -> Span {
    Span {
        start,
        end,
        offset: 0,
        prot: REC_READ,
        may,
        shared: true,
    }
}

const RW: u8 = REC_READ | REC_WRITE;

#[test]
fn register_and_release() {
    let obj = Object::default();
    let owner = Arc::new(Owner);
    let a = Registration::new(&obj, Arc::downgrade(&owner), span(0, 4096, RW));
    let b = Registration::new(&obj, Arc::downgrade(&owner), span(8192, 12288, REC_READ));
    obj.check();
    {
        let r = obj.0.lock().unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.may_write_count(), 1);
        assert!(r.may_write());
        assert_eq!(r.records_of(&Arc::downgrade(&owner)).len(), 2);
    }
    a.release(&obj);
    obj.check();
    assert!(!obj.0.lock().unwrap().may_write());
    b.release(&obj);
    obj.check();
    assert!(obj.0.lock().unwrap().is_empty());
}

#[test]
fn update_moves_may_write_count() {
    let obj = Object::default();
    let owner = Arc::new(Owner);
    let a = Registration::new(&obj, Arc::downgrade(&owner), span(0, 4096, REC_READ));
    assert!(!obj.0.lock().unwrap().may_write());
    a.update(&obj, span(0, 4096, RW));
    obj.check();
    assert!(obj.0.lock().unwrap().may_write());
    a.update(&obj, span(0, 4096, REC_READ));
    obj.check();
    assert_eq!(obj.0.lock().unwrap().may_write_count(), 0);
    a.release(&obj);
}

#[test]
fn split_and_absorb() {
    let obj = Object::default();
    let owner = Arc::new(Owner);
    let a = Registration::new(&obj, Arc::downgrade(&owner), span(0, 3 * 4096, RW));
    let mut upper = span(4096, 3 * 4096, RW);
    upper.offset = 4096;
    let b = a.split(&obj, span(0, 4096, RW), upper);
    obj.check();
    assert_eq!(obj.0.lock().unwrap().len(), 2);
    assert_eq!(obj.0.lock().unwrap().may_write_count(), 2);
    assert_eq!(b.record().span(), upper);
    assert!(Weak::ptr_eq(b.record().owner(), &Arc::downgrade(&owner)));
    a.absorb(&obj, b, span(0, 3 * 4096, RW));
    obj.check();
    assert_eq!(obj.0.lock().unwrap().len(), 1);
    assert_eq!(obj.0.lock().unwrap().may_write_count(), 1);
    a.release(&obj);
    assert!(obj.0.lock().unwrap().is_empty());
}

#[test]
fn dead_owner_is_not_a_writer() {
    let obj = Object::default();
    let owner = Arc::new(Owner);
    let a = Registration::new(&obj, Arc::downgrade(&owner), span(0, 4096, RW));
    assert_eq!(obj.0.lock().unwrap().writers().len(), 1);
    drop(owner);
    {
        let r = obj.0.lock().unwrap();
        assert_eq!(r.may_write_count(), 1);
        assert!(!r.may_write());
        assert!(r.writers().is_empty());
    }
    a.release(&obj);
    obj.check();
}

#[test]
fn duplicate_for_another_owner() {
    let obj = Object::default();
    let parent = Arc::new(Owner);
    let child = Arc::new(Owner);
    let a = Registration::new(&obj, Arc::downgrade(&parent), span(0, 4096, RW));
    let b = a.duplicate(&obj, Arc::downgrade(&child));
    assert_eq!(b.record().span(), a.record().span());
    {
        let r = obj.0.lock().unwrap();
        assert_eq!(r.writers().len(), 2);
        assert_eq!(r.records_of(&Arc::downgrade(&child)).len(), 1);
    }
    a.release(&obj);
    b.release(&obj);
    obj.check();
}

#[test]
fn release_into_the_wrong_registry_is_refused() {
    let one = Object::default();
    let two = Object::default();
    let owner = Arc::new(Owner);
    let a = Registration::new(&one, Arc::downgrade(&owner), span(0, 4096, RW));
    let record = one.0.lock().unwrap().records()[0].record.clone();
    assert!(!two.0.lock().unwrap().unlink(&record));
    two.check();
    one.check();
    assert_eq!(one.0.lock().unwrap().len(), 1);
    a.release(&one);
    assert!(one.0.lock().unwrap().is_empty());
}

#[test]
fn denied_write_refuses_writable_mappings_only() {
    let obj = Object::default();
    let owner = Arc::new(Owner);
    obj.0.lock().unwrap().deny_write();
    assert!(Registration::try_new(&obj, Arc::downgrade(&owner), span(0, 4096, RW)).is_none());
    obj.check();
    assert!(obj.0.lock().unwrap().is_empty());
    let a = Registration::try_new(&obj, Arc::downgrade(&owner), span(0, 4096, REC_READ)).unwrap();
    assert_eq!(obj.0.lock().unwrap().len(), 1);
    a.release(&obj);
}

#[test]
fn for_each_span_reports_every_record_with_its_owner() {
    let obj = Object::default();
    let first = Arc::new(Owner);
    let second = Arc::new(Owner);
    let a = Registration::new(&obj, Arc::downgrade(&first), span(0, 8192, RW));
    let b = Registration::new(&obj, Arc::downgrade(&second), span(16384, 20480, REC_READ));
    // A split leaves two records of the same owner.
    let c = a.split(&obj, span(0, 4096, RW), span(4096, 8192, RW));
    let mut seen = Vec::new();
    obj.0
        .lock()
        .unwrap()
        .for_each_span(|s, owner| seen.push((s.start, s.end, s.may_write(), owner)));
    seen.sort();
    let (f, s) = (Arc::as_ptr(&first) as usize, Arc::as_ptr(&second) as usize);
    assert_eq!(
        seen,
        [
            (0, 4096, true, f),
            (4096, 8192, true, f),
            (16384, 20480, false, s)
        ]
    );
    for r in [a, b, c] {
        r.release(&obj);
    }
    let mut count = 0;
    obj.0.lock().unwrap().for_each_span(|_, _| count += 1);
    assert_eq!(count, 0);
}
