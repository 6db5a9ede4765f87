//! AF_INET and AF_INET6 logic that needs no kernel: socket addresses, the
//! port table of the loopback interface and its interface ioctls.
//!
//! The socket objects behind descriptors ([`crate::file::inet`]) build on
//! these; keeping them here lets `cargo test` on the host check the byte
//! layouts (struct sockaddr_in, sockaddr_in6) and the bind rules
//! (net/ipv4/inet_connection_sock.c inet_csk_bind_conflict,
//! net/ipv4/udp.c udp_lib_lport_inuse).

pub mod addr;
pub mod netdev;
pub mod ports;
