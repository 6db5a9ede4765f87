//! futex(2): WAIT, WAKE, their BITSET forms, REQUEUE, CMP_REQUEUE and
//! WAKE_OP; private and shared keys.

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext, fs::read_timespec},
    task::{block, futex},
};

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// futex(2).
#[inline(never)]
pub fn sys_futex(
    sc: &mut SyscallContext<'_>,
    addr: usize,
    op: u32,
    val: u32,
    timeout: usize,
    addr2: usize,
    val3: u32,
) -> SysResult {
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    // FUTEX_CLOCK_REALTIME means something only to the waiting operations.
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let deadline = if timeout == 0 {
                None
            } else {
                let t = read_timespec(timeout)?;
                Some(if cmd == FUTEX_WAIT {
                    block::now().saturating_add(t)
                } else if op & FUTEX_CLOCK_REALTIME != 0 {
                    // Absolute CLOCK_REALTIME deadline, converted to monotonic.
                    block::now().saturating_add(t.saturating_sub(ax_hal::time::wall_time()))
                } else {
                    t
                })
            };
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            let key = futex::key_of(sc.thread, addr, private)?;
            futex::wait(sc.thread, addr, key, val, bitset, deadline)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            let key = futex::key_of(sc.thread, addr, private)?;
            futex::wake(key, val as usize, bitset)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // The timeout slot carries the requeue count for these.
            let requeue = i32::try_from(timeout as u32).map_err(|_| Errno::EINVAL)?;
            let wake = i32::try_from(val).map_err(|_| Errno::EINVAL)?;
            let from = futex::key_of(sc.thread, addr, private)?;
            let to = futex::key_of(sc.thread, addr2, private)?;
            let expected = (cmd == FUTEX_CMP_REQUEUE).then_some(val3);
            futex::requeue(addr, from, to, wake as usize, requeue as usize, expected)
        }
        FUTEX_WAKE_OP => {
            let key1 = futex::key_of(sc.thread, addr, private)?;
            let key2 = futex::key_of(sc.thread, addr2, private)?;
            futex::wake_op(
                key1,
                addr2,
                key2,
                val as usize,
                timeout as u32 as usize,
                val3,
            )
        }
        _ => {
            warn!("futex: operation {cmd} is not implemented yet");
            Err(Errno::ENOSYS)
        }
    }
}
