//! /proc/net/unix: one line per socket (af_unix.c unix_seq_show).

use alloc::{string::String, sync::Weak, vec::Vec};
use core::fmt::Write;

use super::{ALL, Conn};
use crate::unix::addr::UnixAddr;

/// `__SO_ACCEPTCON`: the flag of a listening socket.
const SO_ACCEPTCON: u32 = 1 << 16;
/// socket_state: SS_UNCONNECTED and SS_CONNECTED.
const SS_UNCONNECTED: u32 = 1;
const SS_CONNECTED: u32 = 3;

/// The text of /proc/net/unix. The kernel address column reads as zeros,
/// as Linux shows it to readers without CAP_SYSLOG (kptr_restrict).
pub fn proc_net_unix() -> String {
    // Upgraded under the lock, formatted and dropped after it: a socket
    // dropped here would take the lock again in its Drop.
    let sockets: Vec<_> = ALL.lock().values().filter_map(Weak::upgrade).collect();
    let mut out = String::from("Num       RefCount Protocol Flags    Type St Inode Path\n");
    for s in &sockets {
        let (listening, connected, addr) = {
            let st = s.state.lock();
            (
                matches!(st.conn, Conn::Listening { .. }),
                matches!(st.conn, Conn::Connected(_)),
                st.addr.clone(),
            )
        };
        let state = if connected {
            SS_CONNECTED
        } else {
            SS_UNCONNECTED
        };
        let flags = if listening { SO_ACCEPTCON } else { 0 };
        let _ = write!(
            out,
            "{:016x}: {:08X} {:08X} {:08X} {:04X} {:02X} {:5}",
            0,
            alloc::sync::Arc::strong_count(s) - 1,
            0,
            flags,
            s.ty as u32,
            state,
            s.ino
        );
        match addr {
            UnixAddr::Unnamed | UnixAddr::Foreign(_) => {}
            UnixAddr::Path(p) => {
                out.push(' ');
                out.push_str(&String::from_utf8_lossy(&p));
            }
            UnixAddr::Abstract(name) => {
                out.push_str(" @");
                let shown: Vec<u8> = name
                    .iter()
                    .map(|&b| if b == 0 { b'@' } else { b })
                    .collect();
                out.push_str(&String::from_utf8_lossy(&shown));
            }
        }
        out.push('\n');
    }
    drop(sockets);
    out
}
