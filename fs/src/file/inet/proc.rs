//! /proc/net/tcp, tcp6, udp and udp6: one line per bound socket, in the
//! layout of net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c
//! get_tcp6_sock and net/ipv4/udp.c udp4_format_sock (busybox netstat and
//! ss read these). Timers, retransmits and congestion columns read as
//! zero: loopback here has none. The kernel address column is zero, as
//! Linux shows it to readers without CAP_SYSLOG.

use alloc::{string::String, sync::Weak, vec::Vec};
use core::fmt::Write;

use super::{InetSocket, SOCKETS};
use crate::{
    file::unix::SockType,
    inet::addr::{AF_INET, AF_INET6, Ip, SockAddr},
};

/// TCP_ESTABLISHED, TCP_CLOSE and TCP_LISTEN.
const ESTABLISHED: u8 = 0x01;
const CLOSE: u8 = 0x07;
const LISTEN: u8 = 0x0a;

/// Which table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Tcp,
    Tcp6,
    Udp,
    Udp6,
}

/// An IPv4 address as the tables print it: the network-order word read
/// as a native integer (%08X of __be32).
fn v4_word(ip: Ip) -> u32 {
    match ip {
        Ip::V4(a) => u32::from_ne_bytes(a),
        Ip::V6(_) => 0,
    }
}

/// An IPv6 address as four native words.
fn v6_words(ip: Ip) -> [u32; 4] {
    let b = ip.v6_bytes();
    core::array::from_fn(|i| {
        u32::from_ne_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
    })
}

/// The text of one table.
pub fn proc_net_inet(table: Table) -> String {
    let (ty, family) = match table {
        Table::Tcp => (SockType::Stream, AF_INET),
        Table::Tcp6 => (SockType::Stream, AF_INET6),
        Table::Udp => (SockType::Dgram, AF_INET),
        Table::Udp6 => (SockType::Dgram, AF_INET6),
    };
    // Upgraded under the lock, used and dropped after it.
    let socks: Vec<_> = SOCKETS.lock().values().filter_map(Weak::upgrade).collect();
    let mut out = String::new();
    match table {
        Table::Tcp => pad(
            &mut out,
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            149,
        ),
        Table::Udp => pad(
            &mut out,
            "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
            127,
        ),
        Table::Tcp6 => out.push_str(
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
        ),
        Table::Udp6 => out.push_str(
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n",
        ),
    }
    let mut sl = 0;
    for s in socks.iter().filter(|s| s.ty == ty && s.family == family) {
        let Some((local, peer)) = s.names() else {
            continue;
        };
        let peer = peer.unwrap_or(SockAddr {
            ip: s.any(),
            port: 0,
        });
        let listening = s.inner.is_listening();
        let st = if listening {
            LISTEN
        } else if s.is_connected() {
            ESTABLISHED
        } else {
            CLOSE
        };
        let rx = s.inner.inq();
        let ino = s.inner.ino();
        let mut line = String::new();
        let _ = match table {
            Table::Tcp | Table::Udp => write!(
                line,
                "{:>w$}: {:08X}:{:04X} {:08X}:{:04X} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:5} {:8} {}",
                sl,
                v4_word(local.ip),
                local.port,
                v4_word(peer.ip),
                peer.port,
                st,
                0,
                rx,
                s.uid,
                0,
                ino,
                w = if table == Table::Tcp { 4 } else { 5 },
            ),
            _ => {
                let (l, p) = (v6_words(local.ip), v6_words(peer.ip));
                write!(
                    line,
                    "{:>w$}: {:08X}{:08X}{:08X}{:08X}:{:04X} {:08X}{:08X}{:08X}{:08X}:{:04X} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:5} {:8} {}",
                    sl,
                    l[0],
                    l[1],
                    l[2],
                    l[3],
                    local.port,
                    p[0],
                    p[1],
                    p[2],
                    p[3],
                    peer.port,
                    st,
                    0,
                    rx,
                    s.uid,
                    0,
                    ino,
                    w = if table == Table::Tcp6 { 4 } else { 5 },
                )
            }
        };
        let _ = match ty {
            SockType::Stream => write!(line, " 1 0000000000000000 0 0 0 10 0"),
            _ => write!(line, " 2 0000000000000000 0"),
        };
        match table {
            Table::Tcp => pad(&mut out, &line, 149),
            Table::Udp => pad(&mut out, &line, 127),
            _ => {
                out.push_str(&line);
                out.push('\n');
            }
        }
        sl += 1;
    }
    drop(socks);
    out
}

/// `text` padded with spaces to `width` columns and a newline (seq_pad).
fn pad(out: &mut String, text: &str, width: usize) {
    let _ = writeln!(out, "{text:<width$}");
}

impl InetSocket {
    /// The bound address and the peer, for a bound socket.
    fn names(&self) -> Option<(SockAddr, Option<SockAddr>)> {
        let st = self.state.lock();
        Some((st.local?, st.peer))
    }
}
