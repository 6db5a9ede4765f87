//! System V shared memory (ipc/shm.c): segments and their table.
//!
//! [`segment`] is the memory object an attachment maps and its
//! `shmid_ds`; [`table`] holds the identifiers, keys and limits and does
//! shmget and the shmctl commands. Attaching and detaching are address
//! space operations, in `syscall::ipc::shm`. docs/mm.md ("System V shared
//! memory") describes the design.

pub mod segment;
pub mod table;

pub use self::{segment::Segment, table::proc_text};
