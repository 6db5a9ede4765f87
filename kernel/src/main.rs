#![no_std]
#![no_main]

extern crate alloc;
extern crate ax_runtime;
#[macro_use]
extern crate log;

#[unsafe(no_mangle)]
extern "C" fn main() {
    info!("starling: hello");
    ax_log::ax_println!("starling: hello from main");
    for r in ax_runtime::serial::runtimes() {
        ax_log::ax_println!("serial {:?}", r.info());
    }
    ax_task::sync::WaitQueue::new().wait_timeout(core::time::Duration::from_millis(100));
}
