//! System V IPC. One IPC namespace, shared by every process.

pub mod shm;
