//! The console terminal: a line discipline over the runtime's serial console.
//!
//! One [`Tty`] exists, bound to the first serial port; /dev/console,
//! /dev/tty and /dev/ttyS0 all refer to it. Input bytes arrive from a kernel
//! thread that drains the runtime's console input and feeds
//! [`Tty::receive`]; the discipline follows Linux's n_tty for the parts a
//! shell uses: ICRNL/INLCR/IGNCR/ISTRIP input mapping, ISIG (INTR, QUIT, SUSP
//! raise signals on the foreground process group through [`JobControl`]),
//! canonical editing (ERASE, KILL, WERASE, EOF, line terminators), ECHO with
//! ECHOE/ECHOK/ECHOCTL/ECHONL, and OPOST/ONLCR on output. VMIN/VTIME are
//! honoured only as "MIN=0 TIME=0 returns immediately"; otherwise a
//! non-canonical read returns whatever is available once at least one byte is.
//!
//! Locking: `state` is a spin lock held only to move bytes; echo output and
//! signal delivery happen after it is released.

use alloc::{collections::VecDeque, string::String, sync::Arc, vec::Vec};
use core::{
    any::Any,
    sync::atomic::{AtomicI32, Ordering},
};

use ax_runtime::console::TaskConsoleOutput;
use ax_sync::SpinLock;
use axpoll::{IoEvents, PollSource, SharedRegistrationSink};
use axpoll_set::PollSet;

use super::{FileLike, Kstat, UserAccess, mode, pty::PtyLink};
use crate::{Errno, KResult};

/// Kernel `struct termios` (asm-generic and x86: 36 bytes).
#[derive(Clone, Copy, Debug)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
}

// termios bits (include/uapi/asm-generic/termbits.h).
const IGNCR: u32 = 0o200;
const ICRNL: u32 = 0o400;
const INLCR: u32 = 0o100;
const ISTRIP: u32 = 0o40;
const IXON: u32 = 0o2000;
const OPOST: u32 = 0o1;
const ONLCR: u32 = 0o4;
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const ECHONL: u32 = 0o100;
const NOFLSH: u32 = 0o200;
const ECHOCTL: u32 = 0o1000;
const ECHOKE: u32 = 0o4000;
const IEXTEN: u32 = 0o100000;
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VTIME: usize = 5;
const VMIN: usize = 6;
const VSUSP: usize = 10;
const VEOL: usize = 11;
const VWERASE: usize = 14;
const VEOL2: usize = 16;

impl Termios {
    /// Linux's `tty_std_termios` for a serial console.
    pub const fn standard() -> Self {
        let mut cc = [0u8; 19];
        cc[VINTR] = 3;
        cc[VQUIT] = 28;
        cc[VERASE] = 127;
        cc[VKILL] = 21;
        cc[VEOF] = 4;
        cc[VTIME] = 0;
        cc[VMIN] = 1;
        cc[8] = 17; // VSTART
        cc[9] = 19; // VSTOP
        cc[VSUSP] = 26;
        cc[12] = 18; // VREPRINT
        cc[13] = 15; // VDISCARD
        cc[VWERASE] = 23;
        cc[15] = 22; // VLNEXT
        Self {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: 0o10000 | 0o17 | 0o60 | 0o200 | 0o2000, // B38400|CS8|CREAD|HUPCL
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
        }
    }

    fn to_bytes(self) -> [u8; 36] {
        let mut b = [0u8; 36];
        b[0..4].copy_from_slice(&self.iflag.to_ne_bytes());
        b[4..8].copy_from_slice(&self.oflag.to_ne_bytes());
        b[8..12].copy_from_slice(&self.cflag.to_ne_bytes());
        b[12..16].copy_from_slice(&self.lflag.to_ne_bytes());
        b[16] = self.line;
        b[17..36].copy_from_slice(&self.cc);
        b
    }

    fn from_bytes(b: &[u8; 36]) -> Self {
        let word = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut cc = [0u8; 19];
        cc.copy_from_slice(&b[17..36]);
        Self {
            iflag: word(0),
            oflag: word(4),
            cflag: word(8),
            lflag: word(12),
            line: b[16],
            cc,
        }
    }
}

/// What the terminal needs from the process layer.
pub trait JobControl: Send + Sync {
    /// Sends `sig` to every process in process group `pgrp`.
    fn signal_group(&self, pgrp: i32, sig: i32);
    /// The calling process's (pid, process group, session).
    fn caller(&self) -> (i32, i32, i32);
    /// Whether `pgrp` is a process group in session `sid`.
    fn group_in_session(&self, pgrp: i32, sid: i32) -> bool;
    /// Whether any process belongs to process group `pgrp`.
    fn group_exists(&self, pgrp: i32) -> bool;
    /// Whether the calling thread ignores or blocks `sig`.
    fn caller_ignores(&self, sig: i32) -> bool;
    /// Whether process group `pgrp` is orphaned: no member has a parent in
    /// another group of the same session (job control cannot resume it).
    fn group_orphaned(&self, pgrp: i32) -> bool;
}

struct State {
    termios: Termios,
    /// Bytes of the line being edited (canonical mode).
    line: Vec<u8>,
    /// Completed input ready for read(). In canonical mode, `line_ends`
    /// records how many bytes each completed line has.
    ready: VecDeque<u8>,
    line_ends: VecDeque<usize>,
    winsize: [u16; 4],
}

/// Where a terminal's output goes.
enum Output {
    /// The serial console.
    Console(TaskConsoleOutput),
    /// A pseudo-terminal's master.
    Pty(Arc<PtyLink>),
}

/// A terminal: the console, or the slave side of a pseudo-terminal.
pub struct Tty {
    state: SpinLock<State>,
    output: Output,
    /// The pty master went away: reads see end of file, writes EIO.
    hung_up: core::sync::atomic::AtomicBool,
    readable: PollSet,
    /// O_ASYNC descriptions of the terminal: POLL_IN when input becomes
    /// readable or the terminal hangs up (n_tty's kill_fasync).
    fasync: super::fasync::FasyncList,
    fg_pgrp: AtomicI32,
    session: AtomicI32,
    jobs: SpinLock<Option<Arc<dyn JobControl>>>,
}

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGCONT: i32 = 18;
const SIGQUIT: i32 = 3;
const SIGTTIN: i32 = 21;
const SIGTTOU: i32 = 22;
const TOSTOP: u32 = 0o400;
const SIGTSTP: i32 = 20;

// ioctl numbers (asm-generic/ioctls.h; x86_64 and riscv64 share them).
const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540a;
const TCFLSH: u32 = 0x540b;
const TIOCSCTTY: u32 = 0x540e;
const TIOCGPGRP: u32 = 0x540f;
const TIOCSPGRP: u32 = 0x5410;
const TIOCOUTQ: u32 = 0x5411;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541b;
const TIOCNOTTY: u32 = 0x5422;
const TIOCGSID: u32 = 0x5429;
const FIONBIO: u32 = 0x5421;

impl Tty {
    /// Creates the console terminal writing to `output`.
    pub fn new(output: TaskConsoleOutput) -> Arc<Self> {
        Self::with_output(Output::Console(output))
    }

    /// Creates a pseudo-terminal's slave side, writing to its master.
    pub fn new_pty(link: Arc<PtyLink>) -> Arc<Self> {
        Self::with_output(Output::Pty(link))
    }

    fn with_output(output: Output) -> Arc<Self> {
        Arc::new(Self {
            state: SpinLock::new(State {
                termios: Termios::standard(),
                line: Vec::new(),
                ready: VecDeque::new(),
                line_ends: VecDeque::new(),
                winsize: [24, 80, 0, 0],
            }),
            output,
            hung_up: core::sync::atomic::AtomicBool::new(false),
            readable: PollSet::new(),
            fasync: super::fasync::FasyncList::new(),
            fg_pgrp: AtomicI32::new(0),
            session: AtomicI32::new(0),
            jobs: SpinLock::new(None),
        })
    }

    /// Installs the process-layer hooks.
    pub fn set_job_control(&self, jobs: Arc<dyn JobControl>) {
        *self.jobs.lock() = Some(jobs);
    }

    /// Makes `sid` the session and `pgrp` the foreground group (boot: init
    /// gets the console as its controlling terminal).
    pub fn attach_session(&self, sid: i32, pgrp: i32) {
        self.session.store(sid, Ordering::Release);
        self.fg_pgrp.store(pgrp, Ordering::Release);
    }

    /// The session that owns the terminal (0 if none).
    pub fn session(&self) -> i32 {
        self.session.load(Ordering::Acquire)
    }

    /// The foreground process group (0 if none), as /proc/PID/stat's tpgid.
    pub fn foreground(&self) -> i32 {
        self.fg_pgrp.load(Ordering::Acquire)
    }

    /// Replaces the output flags (`make exec` runs without ONLCR so the
    /// command's output reaches the host byte for byte).
    pub fn set_output_flags(&self, oflag: u32) {
        self.state.lock().termios.oflag = oflag;
    }

    fn jobs(&self) -> Option<Arc<dyn JobControl>> {
        self.jobs.lock().clone()
    }

    /// Linux's tty_check_change: a process of the terminal's session that
    /// is not in the foreground group gets `sig` (SIGTTIN for reads,
    /// SIGTTOU for writes under TOSTOP and for settings changes) sent to
    /// its group and the call restarts once the group is resumed. If the
    /// caller ignores or blocks the signal, reads fail with EIO and the
    /// rest proceeds; an orphaned group gets EIO.
    fn check_background(&self, sig: i32) -> KResult<()> {
        let Some(jobs) = self.jobs() else {
            return Ok(());
        };
        let (_, pgrp, sid) = jobs.caller();
        let fg = self.fg_pgrp.load(Ordering::Acquire);
        if sid == 0 || sid != self.session() || fg == 0 || pgrp == fg {
            return Ok(());
        }
        if jobs.caller_ignores(sig) {
            return if sig == SIGTTIN {
                Err(Errno::EIO)
            } else {
                Ok(())
            };
        }
        if jobs.group_orphaned(pgrp) {
            return Err(Errno::EIO);
        }
        jobs.signal_group(pgrp, sig);
        Err(Errno::ERESTARTSYS)
    }

    fn emit(&self, bytes: &[u8]) {
        match &self.output {
            Output::Console(out) => {
                let _ = out.write_all(bytes);
            }
            Output::Pty(link) => link.push_echo(bytes),
        }
    }

    /// The pty link, for a pseudo-terminal's slave.
    fn pty(&self) -> Option<&Arc<PtyLink>> {
        match &self.output {
            Output::Pty(link) => Some(link),
            Output::Console(_) => None,
        }
    }

    /// The master of this pseudo-terminal closed (tty_vhangup): readers
    /// see end of file, writers EIO, and the foreground group (and the
    /// session's leader) get SIGHUP.
    pub fn hang_up(&self) {
        self.hung_up.store(true, Ordering::Release);
        // SAFETY: task context, no lock held.
        unsafe { self.readable.wake_all(IoEvents::IN | IoEvents::HUP) };
        self.fasync.kill(super::fasync::POLL_IN);
        if let Some(jobs) = self.jobs() {
            let fg = self.foreground();
            if fg > 0 {
                jobs.signal_group(fg, SIGHUP);
                jobs.signal_group(fg, SIGCONT);
            }
            let sid = self.session();
            if sid > 0 && sid != fg {
                jobs.signal_group(sid, SIGHUP);
            }
        }
        self.session.store(0, Ordering::Release);
        self.fg_pgrp.store(0, Ordering::Release);
    }

    fn is_hung_up(&self) -> bool {
        self.hung_up.load(Ordering::Acquire)
    }

    /// Feeds one received byte through the line discipline.
    pub fn receive(&self, mut c: u8) {
        let mut echo: Vec<u8> = Vec::new();
        let mut signal = None;
        let mut woke = false;
        {
            let mut st = self.state.lock();
            let t = st.termios;
            if t.iflag & ISTRIP != 0 {
                c &= 0x7f;
            }
            if c == b'\r' {
                if t.iflag & IGNCR != 0 {
                    return;
                }
                if t.iflag & ICRNL != 0 {
                    c = b'\n';
                }
            } else if c == b'\n' && t.iflag & INLCR != 0 {
                c = b'\r';
            }
            let echo_on = t.lflag & ECHO != 0;
            if t.lflag & ISIG != 0 {
                let sig = if c == t.cc[VINTR] && c != 0 {
                    Some(SIGINT)
                } else if c == t.cc[VQUIT] && c != 0 {
                    Some(SIGQUIT)
                } else if c == t.cc[VSUSP] && c != 0 {
                    Some(SIGTSTP)
                } else {
                    None
                };
                if let Some(sig) = sig {
                    if t.lflag & NOFLSH == 0 {
                        st.line.clear();
                        st.ready.clear();
                        st.line_ends.clear();
                    }
                    if echo_on {
                        echo_char(&mut echo, c, t.lflag);
                        echo.push(b'\n');
                    }
                    signal = Some(sig);
                }
            }
            if signal.is_none() {
                if t.lflag & ICANON != 0 {
                    if c == t.cc[VERASE] && c != 0 {
                        if let Some(last) = st.line.pop()
                            && echo_on
                            && t.lflag & ECHOE != 0
                        {
                            let w = if last < 0x20 && t.lflag & ECHOCTL != 0 {
                                2
                            } else {
                                1
                            };
                            for _ in 0..w {
                                echo.extend_from_slice(b"\x08 \x08");
                            }
                        }
                    } else if c == t.cc[VKILL] && c != 0 {
                        let n = st.line.len();
                        st.line.clear();
                        if echo_on && t.lflag & (ECHOK | ECHOKE) != 0 {
                            for _ in 0..n {
                                echo.extend_from_slice(b"\x08 \x08");
                            }
                        }
                    } else if c == t.cc[VWERASE] && c != 0 && t.lflag & IEXTEN != 0 {
                        while st.line.last() == Some(&b' ') {
                            st.line.pop();
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                        while st.line.last().is_some_and(|&b| b != b' ') {
                            st.line.pop();
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                        if !echo_on {
                            echo.clear();
                        }
                    } else if c == t.cc[VEOF] && c != 0 {
                        let line = core::mem::take(&mut st.line);
                        st.line_ends.push_back(line.len());
                        st.ready.extend(line);
                        woke = true;
                    } else if c == b'\n' || (c != 0 && (c == t.cc[VEOL] || c == t.cc[VEOL2])) {
                        st.line.push(c);
                        let line = core::mem::take(&mut st.line);
                        st.line_ends.push_back(line.len());
                        st.ready.extend(line);
                        woke = true;
                        if echo_on || (c == b'\n' && t.lflag & ECHONL != 0) {
                            echo.push(b'\n');
                        }
                    } else {
                        st.line.push(c);
                        if echo_on {
                            echo_char(&mut echo, c, t.lflag);
                        }
                    }
                } else {
                    st.ready.push_back(c);
                    woke = true;
                    if echo_on {
                        echo_char(&mut echo, c, t.lflag);
                    }
                }
            }
            if !echo.is_empty() && t.oflag & OPOST != 0 && t.oflag & ONLCR != 0 {
                echo = onlcr(&echo);
            }
        }
        if !echo.is_empty() {
            self.emit(&echo);
        }
        if woke {
            // SAFETY: task context, no lock held.
            unsafe { self.readable.wake_all(IoEvents::IN) };
            self.fasync.kill(super::fasync::POLL_IN);
        }
        if let Some(sig) = signal {
            let pgrp = self.fg_pgrp.load(Ordering::Acquire);
            if pgrp > 0
                && let Some(jobs) = self.jobs()
            {
                jobs.signal_group(pgrp, sig);
            }
        }
    }

    fn do_read(&self, buf: &mut [u8]) -> KResult<usize> {
        let mut st = self.state.lock();
        let t = st.termios;
        if t.lflag & ICANON != 0 {
            let Some(&len) = st.line_ends.front() else {
                return Err(Errno::EAGAIN);
            };
            let n = len.min(buf.len());
            for (dst, src) in buf.iter_mut().zip(st.ready.drain(..n)) {
                *dst = src;
            }
            if n == len {
                st.line_ends.pop_front();
            } else if let Some(front) = st.line_ends.front_mut() {
                *front -= n;
            }
            Ok(n)
        } else {
            if st.ready.is_empty() {
                return if t.cc[VMIN] == 0 && t.cc[VTIME] == 0 {
                    Ok(0)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let n = buf.len().min(st.ready.len());
            for (dst, src) in buf.iter_mut().zip(st.ready.drain(..n)) {
                *dst = src;
            }
            Ok(n)
        }
    }

    fn set_termios(&self, t: Termios, flush: bool) {
        let mut st = self.state.lock();
        let was_canon = st.termios.lflag & ICANON != 0;
        st.termios = t;
        if flush {
            st.line.clear();
            st.ready.clear();
            st.line_ends.clear();
        } else if was_canon && t.lflag & ICANON == 0 {
            // Leaving canonical mode: the partial line becomes readable.
            let line = core::mem::take(&mut st.line);
            st.ready.extend(line);
            st.line_ends.clear();
        } else if !was_canon && t.lflag & ICANON != 0 && !st.ready.is_empty() {
            let n = st.ready.len();
            st.line_ends.push_back(n);
        }
    }
}

fn echo_char(out: &mut Vec<u8>, c: u8, lflag: u32) {
    if lflag & ECHOCTL != 0 && c < 0x20 && c != b'\n' && c != b'\t' {
        out.push(b'^');
        out.push(c + 0x40);
    } else if lflag & ECHOCTL != 0 && c == 0x7f {
        out.extend_from_slice(b"^?");
    } else {
        out.push(c);
    }
}

fn onlcr(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// A descriptor's view of a terminal.
pub struct TtyFile {
    tty: Arc<Tty>,
    name: String,
}

impl TtyFile {
    /// Opens the terminal under one of its names.
    pub fn open(tty: &Arc<Tty>, name: &'static str) -> Arc<dyn FileLike> {
        Self::open_named(tty, String::from(name))
    }

    /// [`open`](Self::open) with a name made at run time (/dev/pts/N).
    pub fn open_named(tty: &Arc<Tty>, name: String) -> Arc<dyn FileLike> {
        Arc::new(Self {
            tty: tty.clone(),
            name,
        })
    }
}

impl FileLike for TtyFile {
    fn read(&self, buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        self.tty.check_background(SIGTTIN)?;
        if buf.is_empty() {
            return Ok(0);
        }
        match self.tty.do_read(buf) {
            Err(Errno::EAGAIN) if self.tty.is_hung_up() => Ok(0),
            other => other,
        }
    }

    fn write(&self, buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        if self.tty.is_hung_up() {
            return Err(Errno::EIO);
        }
        if self.tty.state.lock().termios.lflag & TOSTOP != 0 {
            self.tty.check_background(SIGTTOU)?;
        }
        let oflag = self.tty.state.lock().termios.oflag;
        if let Some(link) = self.tty.pty() {
            return link.write_output(buf, oflag & OPOST != 0 && oflag & ONLCR != 0);
        }
        if oflag & OPOST != 0 && oflag & ONLCR != 0 && buf.contains(&b'\n') {
            self.tty.emit(&onlcr(buf));
        } else {
            self.tty.emit(buf);
        }
        Ok(buf.len())
    }

    fn stat(&self) -> KResult<Kstat> {
        let (major, minor) = match (self.name.as_str(), self.tty.pty()) {
            (_, Some(link)) => (u64::from(super::pty::PTS_MAJOR), u64::from(link.index())),
            ("/dev/console", _) => (5, 1),
            ("/dev/tty", _) => (5, 0),
            _ => (4, 64),
        };
        Ok(Kstat {
            mode: mode::S_IFCHR | 0o620,
            nlink: 1,
            rdev: (major << 8) | minor,
            blksize: 1024,
            ..Kstat::default()
        })
    }

    fn ioctl(&self, cmd: u32, arg: usize, user: &dyn UserAccess) -> KResult<usize> {
        let tty = &self.tty;
        match cmd {
            TCGETS => {
                let t = tty.state.lock().termios;
                user.write(arg, &t.to_bytes())?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                tty.check_background(SIGTTOU)?;
                let mut b = [0u8; 36];
                user.read(arg, &mut b)?;
                tty.set_termios(Termios::from_bytes(&b), cmd == TCSETSF);
                Ok(0)
            }
            TIOCGWINSZ => {
                let ws = tty.state.lock().winsize;
                let mut b = [0u8; 8];
                for (i, v) in ws.iter().enumerate() {
                    b[i * 2..i * 2 + 2].copy_from_slice(&v.to_ne_bytes());
                }
                user.write(arg, &b)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                tty.check_background(SIGTTOU)?;
                let mut b = [0u8; 8];
                user.read(arg, &mut b)?;
                let mut ws = [0u16; 4];
                for (i, v) in ws.iter_mut().enumerate() {
                    *v = u16::from_ne_bytes([b[i * 2], b[i * 2 + 1]]);
                }
                tty.state.lock().winsize = ws;
                Ok(0)
            }
            TIOCGPGRP => {
                // Only the session the terminal controls may ask (tcgetpgrp(3)).
                if let Some(jobs) = tty.jobs()
                    && jobs.caller().2 != tty.session()
                {
                    return Err(Errno::ENOTTY);
                }
                let pgrp = tty.fg_pgrp.load(Ordering::Acquire);
                user.write(arg, &pgrp.to_ne_bytes())?;
                Ok(0)
            }
            TIOCSPGRP => {
                match tty.check_background(SIGTTOU) {
                    Err(Errno::EIO) => return Err(Errno::ENOTTY),
                    other => other?,
                }
                let mut b = [0u8; 4];
                user.read(arg, &mut b)?;
                let pgrp = i32::from_ne_bytes(b);
                if pgrp < 0 {
                    return Err(Errno::EINVAL);
                }
                if let Some(jobs) = tty.jobs() {
                    let (_, _, sid) = jobs.caller();
                    if sid != tty.session() {
                        return Err(Errno::ENOTTY);
                    }
                    if !jobs.group_exists(pgrp) {
                        return Err(Errno::ESRCH);
                    }
                    if !jobs.group_in_session(pgrp, sid) {
                        return Err(Errno::EPERM);
                    }
                }
                tty.fg_pgrp.store(pgrp, Ordering::Release);
                Ok(0)
            }
            TIOCGSID => {
                let sid = tty.session();
                if sid == 0 {
                    return Err(Errno::ENOTTY);
                }
                user.write(arg, &sid.to_ne_bytes())?;
                Ok(0)
            }
            TIOCSCTTY => {
                if let Some(jobs) = tty.jobs() {
                    let (pid, pgrp, sid) = jobs.caller();
                    if pid != sid {
                        return Err(Errno::EPERM);
                    }
                    tty.attach_session(sid, pgrp);
                }
                Ok(0)
            }
            TIOCNOTTY => Ok(0),
            FIONREAD | TIOCOUTQ => {
                let n = if cmd == FIONREAD {
                    tty.state.lock().ready.len() as i32
                } else {
                    0
                };
                user.write(arg, &n.to_ne_bytes())?;
                Ok(0)
            }
            TCFLSH => {
                tty.check_background(SIGTTOU)?;
                let mut st = tty.state.lock();
                if arg == 0 || arg == 2 {
                    st.line.clear();
                    st.ready.clear();
                    st.line_ends.clear();
                }
                Ok(0)
            }
            TCSBRK | TCXONC => Ok(0),
            FIONBIO => Err(Errno::ENOTTY),
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(&self) -> IoEvents {
        let st = self.tty.state.lock();
        let readable = if st.termios.lflag & ICANON != 0 {
            !st.line_ends.is_empty()
        } else {
            !st.ready.is_empty()
        };
        drop(st);
        let mut ev = IoEvents::empty();
        if self.tty.pty().is_none_or(|link| link.has_room()) {
            ev |= IoEvents::OUT | IoEvents::WRNORM;
        }
        if readable {
            ev |= IoEvents::IN | IoEvents::RDNORM;
        }
        if self.tty.is_hung_up() {
            ev |= IoEvents::IN | IoEvents::HUP;
        }
        ev
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract.
        unsafe {
            sink.register_shared(&self.tty.readable as &dyn PollSource, events);
            if let Some(link) = self.tty.pty() {
                link.register_writable(sink, events);
            }
        }
    }

    fn release(&self) {
        if let Some(link) = self.tty.pty() {
            link.slave_close();
        }
    }

    fn path(&self) -> String {
        self.name.clone()
    }

    fn fasync(&self, file: &Arc<super::OpenFile>, fd: i32, on: bool) -> bool {
        self.tty.fasync.helper(file, fd, on);
        true
    }

    fn tty_foreground(&self) -> Option<i32> {
        Some(self.tty.foreground())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
