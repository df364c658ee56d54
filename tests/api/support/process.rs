//! What a test creates outside its own process, with guards that remove it on drop, also when
//! the test fails: temporary directories and helper processes (redis-server, nginx, chromedriver
//! and Chromium, RQ workers, the rqdash binary).
//!
//! Everything carries a tag that starts with [`PREFIX`], so it can be found again:
//! - a temporary directory is named by its tag, under the temp folder (`TMPDIR`);
//! - a helper process gets `RQDASH_TEST_PROC=<tag>` in its environment, which everything it
//!   starts inherits. Programs that overwrite their environment with a process title (redis-server,
//!   Chromium's children) are given the tag on their command line instead (a directory path).
//!
//! `scripts/test.sh` runs the suite with `TMPDIR` set to a fresh `rqdash-test-run.*` folder, so
//! every path and environment above also carries that run's name. After the run,
//! `scripts/leftovers.py` fails the run if any process still carries it or the folder is not empty.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How every tag, and so every temp dir name, starts.
pub const PREFIX: &str = "rqdash-test-";

/// The environment variable that carries a helper process's tag.
pub const TAG_VAR: &str = "RQDASH_TEST_PROC";

/// A fresh tag `rqdash-test-<what>-<pid>-<n>`. `n` has a fixed width, so no tag is a prefix of
/// another and a substring search for one never finds a different one.
pub fn tag(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{PREFIX}{what}-{}-{:06}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Panics, unless the thread is already panicking (a second panic would abort the whole run and
/// hide the first message); then it only prints.
fn fail(msg: String) {
    if std::thread::panicking() {
        eprintln!("{msg}");
    } else {
        panic!("{msg}");
    }
}

/// A directory `rqdash-test-<what>-<pid>-<n>` in the temp folder, removed with its contents on
/// drop.
pub struct TempDir {
    path: PathBuf,
    tag: String,
}

impl TempDir {
    /// Creates it.
    pub fn new(what: &str) -> TempDir {
        let tag = tag(what);
        let path = std::env::temp_dir().join(&tag);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path, tag }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its name, which is also the tag of the processes that work in it.
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                fail(format!("cannot remove {}: {e}", self.path.display()))
            }
            _ => {}
        }
    }
}

/// A live process other than this one: its pid and command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its command line, arguments joined by spaces.
    pub cmdline: String,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Every live process (zombies aside, and not this one) whose command line or environment
/// contains `marker`.
pub fn carrying(marker: &str) -> Vec<Proc> {
    let me = std::process::id();
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        panic!("/proc is not readable: the tests need Linux");
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Some((state, ppid)) = stat(pid) else {
            continue;
        };
        if state == 'Z' || state == 'X' {
            continue;
        }
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if contains(&cmdline, marker.as_bytes()) || contains(&environ, marker.as_bytes()) {
            out.push(Proc {
                pid,
                ppid,
                cmdline: String::from_utf8_lossy(&cmdline)
                    .replace('\0', " ")
                    .trim_end()
                    .to_string(),
            });
        }
    }
    out
}

/// State and parent of `pid`, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    let mut rest = s.get(s.rfind(')')? + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Sends `signal` (e.g. `KILL`) to `pids`, ignoring those already gone.
pub fn signal(signal: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-s", signal, "--"])
        .args(pids.iter().map(u32::to_string))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A helper process started by a test. On drop it is asked to stop (SIGTERM) and given `grace`
/// to do so; then it, and every process that carries its tag (children, grandchildren that
/// changed their session, a work horse), get SIGKILL until none is left.
pub struct Spawned {
    child: Child,
    tag: String,
    what: String,
    grace: Duration,
    ended: bool,
}

impl Spawned {
    /// Starts `cmd` with `RQDASH_TEST_PROC=<tag>` in its environment. Processes that overwrite
    /// their environment must also get `tag` on their command line (see the module doc).
    pub fn start(
        cmd: &mut Command,
        tag: &str,
        what: &str,
        grace: Duration,
    ) -> std::io::Result<Spawned> {
        let child = cmd.env(TAG_VAR, tag).spawn()?;
        Ok(Spawned {
            child,
            tag: tag.to_string(),
            what: what.to_string(),
            grace,
            ended: false,
        })
    }

    /// The pid of the process started.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The process started (to read its output or wait for it).
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Its tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Every live process carrying its tag.
    pub fn processes(&self) -> Vec<Proc> {
        carrying(&self.tag)
    }

    /// Stops it as on drop; `grace` zero sends SIGKILL at once (a crash).
    pub fn end_with(&mut self, grace: Duration) {
        if self.ended {
            return;
        }
        self.ended = true;
        if !grace.is_zero() && matches!(self.child.try_wait(), Ok(None)) {
            signal("TERM", &[self.child.id()]);
            let deadline = Instant::now() + grace;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut pids: Vec<u32> = carrying(&self.tag).iter().map(|p| p.pid).collect();
            if matches!(self.child.try_wait(), Ok(None)) && !pids.contains(&self.child.id()) {
                pids.push(self.child.id());
            }
            if pids.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                fail(format!(
                    "{} ({}) left processes that SIGKILL did not end in 10 s: {:?}",
                    self.what,
                    self.tag,
                    carrying(&self.tag)
                ));
                break;
            }
            signal("KILL", &pids);
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
    }

    /// Stops it with its own grace period, as drop does.
    pub fn end(&mut self) {
        self.end_with(self.grace);
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.end();
    }
}
