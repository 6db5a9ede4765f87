//! The rules of epoll(7) that need no kernel: argument checks, what an
//! interest entry does after it was reported, nesting limits and the
//! user-visible encodings.
//!
//! Everything here follows Linux's fs/eventpoll.c and is host-tested; the
//! epoll object itself (`file::epoll`) applies these rules to live files.
//!
//! - [`check_exclusive`] is the EPOLLEXCLUSIVE part of `do_epoll_ctl`;
//! - [`stored_events`] and [`after_report`] are what `ep_insert`,
//!   `ep_modify` and `ep_send_events` do with an entry's event mask;
//! - [`nesting_allowed`] is `ep_loop_check`: no cycle, and no chain of more
//!   than [`EP_MAX_NESTS`] + 1 epoll instances;
//! - [`encode_event`] writes a `struct epoll_event` (packed, 12 bytes, on
//!   x86_64; 16 bytes elsewhere), [`fdinfo_line`] one line of
//!   /proc/PID/fdinfo.

use alloc::{collections::BTreeMap, format, string::String, vec::Vec};

use crate::{Errno, KResult};

pub const EPOLLIN: u32 = 0x001;
pub const EPOLLPRI: u32 = 0x002;
pub const EPOLLOUT: u32 = 0x004;
pub const EPOLLERR: u32 = 0x008;
pub const EPOLLHUP: u32 = 0x010;
pub const EPOLLRDNORM: u32 = 0x040;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

/// epoll_create1's only flag (O_CLOEXEC).
pub const EPOLL_CLOEXEC: u32 = 0o2000000;

pub const EPOLL_CTL_ADD: i32 = 1;
pub const EPOLL_CTL_DEL: i32 = 2;
pub const EPOLL_CTL_MOD: i32 = 3;

/// Bits of an entry's mask that are modes, not events (EP_PRIVATE_BITS).
pub const EP_PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

/// What EPOLLEXCLUSIVE may be combined with (EPOLLEXCLUSIVE_OK_BITS).
pub const EPOLLEXCLUSIVE_OK_BITS: u32 =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

/// Most epoll instances nested below one another, minus one (EP_MAX_NESTS).
pub const EP_MAX_NESTS: usize = 4;

/// An epoll_ctl operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtlOp {
    Add,
    Del,
    Mod,
}

impl CtlOp {
    /// The operation `op` names, if any.
    pub fn from_raw(op: i32) -> Option<Self> {
        match op {
            EPOLL_CTL_ADD => Some(Self::Add),
            EPOLL_CTL_DEL => Some(Self::Del),
            EPOLL_CTL_MOD => Some(Self::Mod),
            _ => None,
        }
    }
}

/// Whether epoll_ctl reads a `struct epoll_event` for `op`: every value
/// but EPOLL_CTL_DEL, unknown ones included (ep_op_has_event), so a bad
/// pointer with a bad operation is EFAULT.
pub fn op_has_event(op: i32) -> bool {
    op != EPOLL_CTL_DEL
}

/// The EPOLLEXCLUSIVE rules of `do_epoll_ctl`, checked after the
/// descriptors: it is refused with MOD, on a nested epoll target and with
/// any event bit outside [`EPOLLEXCLUSIVE_OK_BITS`] (EINVAL).
pub fn check_exclusive(op: i32, events: u32, target_is_epoll: bool) -> KResult<()> {
    if !op_has_event(op) || events & EPOLLEXCLUSIVE == 0 {
        return Ok(());
    }
    if op == EPOLL_CTL_MOD
        || (op == EPOLL_CTL_ADD && (target_is_epoll || events & !EPOLLEXCLUSIVE_OK_BITS != 0))
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The mask an entry keeps for `events` given to ADD or MOD: EPOLLERR and
/// EPOLLHUP are always reported, so Linux adds them to the mask (and
/// /proc/PID/fdinfo shows them).
pub fn stored_events(events: u32) -> u32 {
    events | EPOLLERR | EPOLLHUP
}

/// Whether an entry with mask `events` can report anything: a disarmed
/// EPOLLONESHOT entry keeps only its mode bits.
pub fn armed(events: u32) -> bool {
    events & !EP_PRIVATE_BITS != 0
}

/// The events an entry with mask `events` reports when its file polls
/// `ready`.
pub fn revents(ready: u32, events: u32) -> u32 {
    ready & events & !EP_PRIVATE_BITS
}

/// What becomes of an entry that was just reported (ep_send_events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterReport {
    /// EPOLLONESHOT: the mask keeps only its mode bits until EPOLL_CTL_MOD.
    Disarm(u32),
    /// Level-triggered: back on the ready list, polled again next time.
    Requeue,
    /// EPOLLET: off the ready list until the file wakes it again.
    Drop,
}

/// What [`AfterReport`] applies to an entry with mask `events`.
pub fn after_report(events: u32) -> AfterReport {
    if events & EPOLLONESHOT != 0 {
        AfterReport::Disarm(events & EP_PRIVATE_BITS)
    } else if events & EPOLLET == 0 {
        AfterReport::Requeue
    } else {
        AfterReport::Drop
    }
}

/// Size of `struct epoll_event` in user memory: packed on x86_64.
pub const fn event_size(packed: bool) -> usize {
    if packed { 12 } else { 16 }
}

/// The largest `maxevents` epoll_wait accepts (EP_MAX_EVENTS: INT_MAX
/// divided by the size of the structure).
pub const fn max_events(packed: bool) -> usize {
    i32::MAX as usize / event_size(packed)
}

/// One `struct epoll_event` as user memory holds it; the first
/// [`event_size`] bytes are meaningful (the padding is zero).
pub fn encode_event(events: u32, data: u64, packed: bool) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&events.to_ne_bytes());
    let at = if packed { 4 } else { 8 };
    out[at..at + 8].copy_from_slice(&data.to_ne_bytes());
    out
}

/// Reads a `struct epoll_event` (`raw` holds at least [`event_size`] bytes).
pub fn decode_event(raw: &[u8], packed: bool) -> Option<(u32, u64)> {
    let at = if packed { 4 } else { 8 };
    let events = u32::from_ne_bytes(raw.get(..4)?.try_into().ok()?);
    let data = u64::from_ne_bytes(raw.get(at..at + 8)?.try_into().ok()?);
    Some((events, data))
}

/// One interest entry in /proc/PID/fdinfo of an epoll descriptor
/// (fs/eventpoll.c ep_show_fdinfo), with its newline. `sdev` is the device
/// of the target's file system in the kernel's internal encoding.
pub fn fdinfo_line(fd: i32, events: u32, data: u64, pos: u64, ino: u64, sdev: u32) -> String {
    format!(
        "tfd: {fd:8} events: {events:8x} data: {data:16x}  pos:{pos} ino:{ino:x} sdev:{sdev:x}\n"
    )
}

/// A `st_dev` value (new_encode_dev) in the kernel's internal encoding
/// (MKDEV: major << 20 | minor), as `sdev` shows it.
pub fn kernel_dev(st_dev: u64) -> u32 {
    let major = ((st_dev >> 8) & 0xfff) as u32;
    let minor = ((st_dev & 0xff) | ((st_dev >> 12) & 0xfff00)) as u32;
    (major << 20) | (minor & 0xfffff)
}

/// `ep_loop_check`: whether an epoll instance may be added to `into`
/// when `target` is an epoll instance.
///
/// `children` lists the epoll instances a node watches, `parents` those
/// that watch it; nodes are compared by `id`. Adding is refused (ELOOP)
/// when `into` can be reached from `target` (a cycle), or when the longest
/// chain below `target`, plus the new link, plus the longest chain above
/// `into` exceeds [`EP_MAX_NESTS`].
pub fn nesting_allowed<N: Clone>(
    into: &N,
    target: &N,
    id: impl Fn(&N) -> usize,
    children: impl Fn(&N) -> Vec<N>,
    parents: impl Fn(&N) -> Vec<N>,
) -> bool {
    let mut memo = BTreeMap::new();
    let down = depth(target, 0, &id, &children, Some(id(into)), &mut memo);
    if down > EP_MAX_NESTS {
        return false;
    }
    let mut memo = BTreeMap::new();
    let up = depth(into, 0, &id, &parents, None, &mut memo);
    down + 1 + up <= EP_MAX_NESTS
}

/// The longest chain from `node` along `next`, or more than
/// [`EP_MAX_NESTS`] when it reaches `forbidden` or goes too deep
/// (ep_loop_check_proc, ep_get_upwards_depth_proc).
fn depth<N: Clone>(
    node: &N,
    level: usize,
    id: &impl Fn(&N) -> usize,
    next: &impl Fn(&N) -> Vec<N>,
    forbidden: Option<usize>,
    memo: &mut BTreeMap<usize, usize>,
) -> usize {
    if let Some(d) = memo.get(&id(node)) {
        return *d;
    }
    let mut result = 0;
    for n in next(node) {
        if Some(id(&n)) == forbidden || level > EP_MAX_NESTS {
            result = EP_MAX_NESTS + 1;
        } else {
            result = result.max(depth(&n, level + 1, id, next, forbidden, memo) + 1);
        }
        if result > EP_MAX_NESTS {
            break;
        }
    }
    memo.insert(id(node), result);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_rules() {
        let ex = EPOLLEXCLUSIVE | EPOLLIN;
        assert_eq!(check_exclusive(EPOLL_CTL_ADD, ex, false), Ok(()));
        assert_eq!(check_exclusive(EPOLL_CTL_ADD, ex | EPOLLET, false), Ok(()));
        assert_eq!(
            check_exclusive(EPOLL_CTL_MOD, ex, false),
            Err(Errno::EINVAL)
        );
        assert_eq!(check_exclusive(EPOLL_CTL_ADD, ex, true), Err(Errno::EINVAL));
        assert_eq!(
            check_exclusive(EPOLL_CTL_ADD, ex | EPOLLONESHOT, false),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check_exclusive(EPOLL_CTL_ADD, ex | EPOLLRDHUP, false),
            Err(Errno::EINVAL)
        );
        // DEL ignores the (unread) event.
        assert_eq!(check_exclusive(EPOLL_CTL_DEL, ex, true), Ok(()));
        assert_eq!(check_exclusive(EPOLL_CTL_MOD, EPOLLIN, true), Ok(()));
    }

    #[test]
    fn ops() {
        assert_eq!(CtlOp::from_raw(1), Some(CtlOp::Add));
        assert_eq!(CtlOp::from_raw(2), Some(CtlOp::Del));
        assert_eq!(CtlOp::from_raw(3), Some(CtlOp::Mod));
        assert_eq!(CtlOp::from_raw(0), None);
        assert_eq!(CtlOp::from_raw(4), None);
        assert!(op_has_event(0) && op_has_event(99) && !op_has_event(EPOLL_CTL_DEL));
    }

    #[test]
    fn masks_and_reports() {
        assert_eq!(stored_events(EPOLLIN), EPOLLIN | EPOLLERR | EPOLLHUP);
        assert_eq!(stored_events(0), EPOLLERR | EPOLLHUP);
        let one = stored_events(EPOLLIN | EPOLLONESHOT | EPOLLET);
        assert_eq!(
            after_report(one),
            AfterReport::Disarm(EPOLLONESHOT | EPOLLET)
        );
        assert!(!armed(EPOLLONESHOT | EPOLLET));
        assert!(armed(one));
        assert_eq!(after_report(stored_events(EPOLLIN)), AfterReport::Requeue);
        assert_eq!(
            after_report(stored_events(EPOLLIN | EPOLLET)),
            AfterReport::Drop
        );
        // Hang-up is reported without being asked for; unasked events are not.
        assert_eq!(
            revents(EPOLLOUT | EPOLLHUP, stored_events(EPOLLIN)),
            EPOLLHUP
        );
        assert_eq!(revents(EPOLLIN, EPOLLONESHOT | EPOLLET), 0);
    }

    #[test]
    fn event_layout() {
        let p = encode_event(0x11, 0x0102_0304_0506_0708, true);
        assert_eq!(&p[..4], &0x11u32.to_ne_bytes());
        assert_eq!(&p[4..12], &0x0102_0304_0506_0708u64.to_ne_bytes());
        assert_eq!(
            decode_event(&p[..12], true),
            Some((0x11, 0x0102_0304_0506_0708))
        );
        let u = encode_event(0x11, 7, false);
        assert_eq!(&u[4..8], &[0; 4]);
        assert_eq!(&u[8..16], &7u64.to_ne_bytes());
        assert_eq!(decode_event(&u, false), Some((0x11, 7)));
        assert_eq!(decode_event(&u[..12], false), None);
        assert_eq!(max_events(true), 178_956_970);
        assert_eq!(max_events(false), 134_217_727);
    }

    #[test]
    fn fdinfo_format() {
        assert_eq!(
            fdinfo_line(5, 0x19, 0x1234, 0, 0x2a, 0xd),
            "tfd:        5 events:       19 data:             1234  pos:0 ino:2a sdev:d\n"
        );
        // makedev(8, 1) → MKDEV(8, 1); minors above 255.
        assert_eq!(kernel_dev(0x801), (8 << 20) | 1);
        assert_eq!(kernel_dev(0x11_2345), (0x123 << 20) | 0x145);
        assert_eq!(kernel_dev(0xd), 0xd);
    }

    /// A graph of epoll instances: node i watches `edges[i]`.
    fn check(edges: &[&[usize]], into: usize, target: usize) -> bool {
        let children = |n: &usize| edges[*n].to_vec();
        let parents = |n: &usize| {
            (0..edges.len())
                .filter(|p| edges[*p].contains(n))
                .collect::<Vec<_>>()
        };
        nesting_allowed(&into, &target, |n| *n, children, parents)
    }

    #[test]
    fn cycles_are_refused() {
        // 0 watches 1; adding 0 to 1 closes a loop.
        assert!(!check(&[&[1], &[]], 1, 0));
        // 0 → 1 → 2; adding 0 to 2.
        assert!(!check(&[&[1], &[2], &[]], 2, 0));
        // Adding 1 to 0 again (a second fd) is no loop.
        assert!(check(&[&[1], &[]], 0, 1));
    }

    #[test]
    fn chains_of_five_at_most() {
        // Chain 0 → 1 → 2 → 3 (0 watches 1 ...): adding 3 below a new top 4
        // makes five instances in a row: allowed.
        let edges: &[&[usize]] = &[&[1], &[2], &[3], &[], &[]];
        assert!(check(edges, 4, 0));
        // Six in a row is not, whether built downwards or upwards.
        let edges: &[&[usize]] = &[&[1], &[2], &[3], &[4], &[], &[]];
        assert!(!check(edges, 5, 0));
        assert!(!check(edges, 4, 5));
        // Joining two chains in the middle counts both sides.
        let edges: &[&[usize]] = &[&[1], &[2], &[], &[4], &[5], &[]];
        assert!(!check(edges, 2, 3));
        let edges: &[&[usize]] = &[&[1], &[2], &[], &[4], &[], &[]];
        assert!(check(edges, 2, 3));
    }
}
