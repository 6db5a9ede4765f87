//! The network interface ioctls every socket takes, for the one interface
//! Starling has: the loopback `lo` (index 1, 127.0.0.1/8, MTU 65536).
//!
//! Linux answers them above the protocol: net/socket.c sock_ioctl handles
//! SIOCGIFCONF itself (dev_ifconf with inet_gifconf's entries), and what a
//! family's own ioctl does not know goes to net/core/dev_ioctl.c dev_ioctl
//! (flags, index, name, MTU, hardware address, metric, queue length, map).
//! An AF_INET socket alone also takes the address requests
//! (net/ipv4/devinet.c devinet_ioctl); on other sockets they are ENOTTY.
//! Every request copies the whole `struct ifreq` in (EFAULT) and, on
//! success, back out; a name the kernel does not know is ENODEV.

use crate::{Errno, KResult};

/// The caller's memory as these requests reach it (the kernel passes its
/// user-copy helpers; EFAULT for an address they cannot reach).
pub trait UserMem {
    fn read(&self, addr: usize, buf: &mut [u8]) -> KResult<()>;
    fn write(&self, addr: usize, buf: &[u8]) -> KResult<()>;
}

pub const SIOCGIFNAME: u32 = 0x8910;
pub const SIOCGIFCONF: u32 = 0x8912;
pub const SIOCGIFFLAGS: u32 = 0x8913;
pub const SIOCGIFADDR: u32 = 0x8915;
pub const SIOCGIFDSTADDR: u32 = 0x8917;
pub const SIOCGIFBRDADDR: u32 = 0x8919;
pub const SIOCGIFNETMASK: u32 = 0x891b;
pub const SIOCGIFMETRIC: u32 = 0x891d;
pub const SIOCGIFMTU: u32 = 0x8921;
pub const SIOCGIFHWADDR: u32 = 0x8927;
pub const SIOCGIFINDEX: u32 = 0x8933;
pub const SIOCGIFTXQLEN: u32 = 0x8942;
pub const SIOCGIFMAP: u32 = 0x8970;

/// sizeof(struct ifreq) on 64-bit: a 16-byte name and a 24-byte union.
pub const IFREQ_SIZE: usize = 40;
const IFNAMSIZ: usize = 16;
/// sizeof(struct ifconf): int ifc_len, padding, the buffer pointer.
const IFCONF_SIZE: usize = 16;

/// The loopback interface as `ip link` shows it.
const LO_NAME: &[u8] = b"lo";
const LO_INDEX: i32 = 1;
/// IFF_UP | IFF_LOOPBACK | IFF_RUNNING (IFF_LOWER_UP does not fit the
/// 16-bit ifr_flags).
const LO_FLAGS: i16 = 0x1 | 0x8 | 0x40;
const LO_MTU: i32 = 65536;
/// ARPHRD_LOOPBACK, the hardware type of lo's all-zero address.
const ARPHRD_LOOPBACK: u16 = 772;
/// The transmit queue length (`qlen 1000`).
const LO_TXQLEN: i32 = 1000;
const AF_INET: u16 = 2;
const LO_ADDR: [u8; 4] = [127, 0, 0, 1];
const LO_NETMASK: [u8; 4] = [255, 0, 0, 0];

/// Whether `cmd` is one of this module's requests.
pub fn handles(cmd: u32) -> bool {
    matches!(
        cmd,
        SIOCGIFNAME
            | SIOCGIFCONF
            | SIOCGIFFLAGS
            | SIOCGIFADDR
            | SIOCGIFDSTADDR
            | SIOCGIFBRDADDR
            | SIOCGIFNETMASK
            | SIOCGIFMETRIC
            | SIOCGIFMTU
            | SIOCGIFHWADDR
            | SIOCGIFINDEX
            | SIOCGIFTXQLEN
            | SIOCGIFMAP
    )
}

/// Serves `cmd` (one [`handles`] accepts; ENOTTY otherwise) for a socket;
/// `inet4` says whether it is an AF_INET socket.
pub fn ioctl(cmd: u32, arg: usize, user: &dyn UserMem, inet4: bool) -> KResult<usize> {
    if !handles(cmd) {
        return Err(Errno::ENOTTY);
    }
    if cmd == SIOCGIFCONF {
        return ifconf(arg, user);
    }
    let mut ifr = [0u8; IFREQ_SIZE];
    user.read(arg, &mut ifr)?;
    match cmd {
        SIOCGIFNAME => ifname(&mut ifr)?,
        SIOCGIFADDR | SIOCGIFDSTADDR | SIOCGIFBRDADDR | SIOCGIFNETMASK => {
            if !inet4 {
                return Err(Errno::ENOTTY);
            }
            inet_addr(cmd, &mut ifr)?;
        }
        _ => dev_request(cmd, &mut ifr)?,
    }
    user.write(arg, &ifr)?;
    Ok(0)
}

/// SIOCGIFCONF (dev_ifconf, inet_gifconf): one `struct ifreq` per IPv4
/// address, lo's 127.0.0.1, while a whole one fits in `ifc_len`; a NULL
/// buffer asks for the length needed. `ifc_len` becomes the bytes used.
fn ifconf(arg: usize, user: &dyn UserMem) -> KResult<usize> {
    let mut ifc = [0u8; IFCONF_SIZE];
    user.read(arg, &mut ifc)?;
    let len = i32::from_ne_bytes([ifc[0], ifc[1], ifc[2], ifc[3]]);
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&ifc[8..16]);
    let buf = usize::from_ne_bytes(buf);
    let entry = IFREQ_SIZE as i32;
    let total = if buf == 0 {
        entry
    } else if len >= entry {
        let mut ifr = [0u8; IFREQ_SIZE];
        ifr[..LO_NAME.len()].copy_from_slice(LO_NAME);
        put_sockaddr_in(&mut ifr, LO_ADDR);
        user.write(buf, &ifr)?;
        entry
    } else {
        0
    };
    user.write(arg, &total.to_ne_bytes())?;
    Ok(0)
}

/// SIOCGIFNAME (dev_ifname): the name of interface `ifr_ifindex`.
fn ifname(ifr: &mut [u8; IFREQ_SIZE]) -> KResult<()> {
    if i32_at(ifr, IFNAMSIZ) != LO_INDEX {
        return Err(Errno::ENODEV);
    }
    ifr[..LO_NAME.len()].copy_from_slice(LO_NAME);
    ifr[LO_NAME.len()] = 0;
    Ok(())
}

/// The interface `ifr_name` names, up to a ':' alias suffix (dev_ioctl
/// and devinet_ioctl cut it off to find the device): ENODEV unless lo.
/// Returns whether the full label (alias included) is lo's own.
fn check_name(ifr: &mut [u8; IFREQ_SIZE]) -> KResult<bool> {
    ifr[IFNAMSIZ - 1] = 0;
    let name = &ifr[..IFNAMSIZ];
    let label = &name[..name.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ)];
    let device = &label[..label.iter().position(|&b| b == b':').unwrap_or(label.len())];
    if device != LO_NAME {
        return Err(Errno::ENODEV);
    }
    Ok(label == LO_NAME)
}

/// The dev_ioctl requests (dev_ifsioc_locked, netif_get_mac_address):
/// each fills its field of the union and leaves the rest as given.
fn dev_request(cmd: u32, ifr: &mut [u8; IFREQ_SIZE]) -> KResult<()> {
    check_name(ifr)?;
    let data = &mut ifr[IFNAMSIZ..];
    match cmd {
        SIOCGIFFLAGS => data[..2].copy_from_slice(&LO_FLAGS.to_ne_bytes()),
        SIOCGIFMETRIC => data[..4].copy_from_slice(&0i32.to_ne_bytes()),
        SIOCGIFMTU => data[..4].copy_from_slice(&LO_MTU.to_ne_bytes()),
        SIOCGIFINDEX => data[..4].copy_from_slice(&LO_INDEX.to_ne_bytes()),
        SIOCGIFTXQLEN => data[..4].copy_from_slice(&LO_TXQLEN.to_ne_bytes()),
        SIOCGIFHWADDR => {
            // sa_family is the hardware type; sa_data starts with the
            // address, lo's six zero bytes (addr_len ETH_ALEN).
            data[..2].copy_from_slice(&ARPHRD_LOOPBACK.to_ne_bytes());
            data[2..8].fill(0);
        }
        // struct ifmap: mem_start, mem_end, base_addr, irq, dma, port.
        SIOCGIFMAP => data[..21].fill(0),
        _ => return Err(Errno::ENOTTY),
    }
    Ok(())
}

/// The address requests of an AF_INET socket (devinet_ioctl): ENODEV for
/// an unknown device, EADDRNOTAVAIL for a label (alias) without an
/// address; the answer is a sockaddr_in.
fn inet_addr(cmd: u32, ifr: &mut [u8; IFREQ_SIZE]) -> KResult<()> {
    if !check_name(ifr)? {
        return Err(Errno::EADDRNOTAVAIL);
    }
    let addr = match cmd {
        SIOCGIFADDR | SIOCGIFDSTADDR => LO_ADDR,
        SIOCGIFNETMASK => LO_NETMASK,
        // lo has no broadcast address: ifa_broadcast is 0.
        _ => [0; 4],
    };
    put_sockaddr_in(ifr, addr);
    Ok(())
}

/// Writes a sockaddr_in with `addr` (port 0) into the union.
fn put_sockaddr_in(ifr: &mut [u8; IFREQ_SIZE], addr: [u8; 4]) {
    let sin = &mut ifr[IFNAMSIZ..IFNAMSIZ + 16];
    sin.fill(0);
    sin[..2].copy_from_slice(&AF_INET.to_ne_bytes());
    sin[4..8].copy_from_slice(&addr);
}

fn i32_at(b: &[u8], off: usize) -> i32 {
    i32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use core::cell::RefCell;

    use super::*;

    /// User memory: one buffer at address 0x1000; everything else faults.
    struct Mem(RefCell<Vec<u8>>);

    const BASE: usize = 0x1000;

    impl UserMem for Mem {
        fn read(&self, addr: usize, buf: &mut [u8]) -> KResult<()> {
            let mem = self.0.borrow();
            let off = addr.checked_sub(BASE).ok_or(Errno::EFAULT)?;
            let src = mem.get(off..off + buf.len()).ok_or(Errno::EFAULT)?;
            buf.copy_from_slice(src);
            Ok(())
        }

        fn write(&self, addr: usize, buf: &[u8]) -> KResult<()> {
            let mut mem = self.0.borrow_mut();
            let off = addr.checked_sub(BASE).ok_or(Errno::EFAULT)?;
            let dst = mem.get_mut(off..off + buf.len()).ok_or(Errno::EFAULT)?;
            dst.copy_from_slice(buf);
            Ok(())
        }
    }

    fn ifreq(name: &[u8]) -> Mem {
        let mut b = alloc::vec![0u8; IFREQ_SIZE];
        b[..name.len()].copy_from_slice(name);
        Mem(RefCell::new(b))
    }

    #[test]
    fn device_requests() {
        let m = ifreq(b"lo");
        ioctl(SIOCGIFMTU, BASE, &m, false).unwrap();
        assert_eq!(i32_at(&m.0.borrow(), 16), 65536);
        ioctl(SIOCGIFFLAGS, BASE, &m, false).unwrap();
        assert_eq!(m.0.borrow()[16], 0x49);
        let m = ifreq(b"lo:1");
        ioctl(SIOCGIFINDEX, BASE, &m, true).unwrap();
        assert_eq!(i32_at(&m.0.borrow(), 16), 1);
        assert_eq!(
            ioctl(SIOCGIFADDR, BASE, &m, true),
            Err(Errno::EADDRNOTAVAIL)
        );
        let m = ifreq(b"eth0");
        assert_eq!(ioctl(SIOCGIFFLAGS, BASE, &m, true), Err(Errno::ENODEV));
        assert_eq!(ioctl(SIOCGIFFLAGS, 8, &m, true), Err(Errno::EFAULT));
        assert_eq!(ioctl(0x8914, BASE, &m, true), Err(Errno::ENOTTY));
    }

    #[test]
    fn address_requests_need_inet4() {
        let m = ifreq(b"lo");
        assert_eq!(ioctl(SIOCGIFADDR, BASE, &m, false), Err(Errno::ENOTTY));
        ioctl(SIOCGIFNETMASK, BASE, &m, true).unwrap();
        assert_eq!(&m.0.borrow()[16..24], &[2, 0, 0, 0, 255, 0, 0, 0]);
    }

    #[test]
    fn ifconf_lengths() {
        // struct ifconf at BASE, the buffer right after it.
        let mut b = alloc::vec![0u8; IFCONF_SIZE + 2 * IFREQ_SIZE];
        b[8..16].copy_from_slice(&(BASE + IFCONF_SIZE).to_ne_bytes());
        b[0..4].copy_from_slice(&(IFREQ_SIZE as i32 - 1).to_ne_bytes());
        let m = Mem(RefCell::new(b));
        ioctl(SIOCGIFCONF, BASE, &m, false).unwrap();
        assert_eq!(i32_at(&m.0.borrow(), 0), 0);
        m.0.borrow_mut()[0..4].copy_from_slice(&(2 * IFREQ_SIZE as i32).to_ne_bytes());
        ioctl(SIOCGIFCONF, BASE, &m, false).unwrap();
        let mem = m.0.borrow();
        assert_eq!(i32_at(&mem, 0), IFREQ_SIZE as i32);
        assert_eq!(&mem[IFCONF_SIZE..IFCONF_SIZE + 3], b"lo\0");
        assert_eq!(&mem[IFCONF_SIZE + 20..IFCONF_SIZE + 24], &[127, 0, 0, 1]);
    }
}
