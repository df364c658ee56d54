//! A file that is re-read when it changes (`--users-file`, `--policy`): its modification time
//! and length are looked at once a second at most, as requests come; a file that turns
//! unreadable or invalid keeps what was read before, and says why in the log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// How often the file's modification time is looked at.
pub const RECHECK: Duration = Duration::from_secs(1);

type Stamp = Option<(SystemTime, u64)>;

struct State<T> {
    stamp: Stamp,
    checked: Instant,
    value: Arc<T>,
}

/// A file's parsed contents, kept fresh.
pub struct Watched<T> {
    path: PathBuf,
    what: &'static str,
    parse: fn(&str) -> Result<T, String>,
    state: RwLock<State<T>>,
}

impl<T> std::fmt::Debug for Watched<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Watched({}: {})", self.what, self.path.display())
    }
}

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn read<T>(path: &Path, what: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("the {what} {}: {e}", path.display()))
}

impl<T> Watched<T> {
    /// Reads and parses the file; `what` names it in messages ("users file", "policy").
    ///
    /// # Errors
    /// A sentence when the file cannot be read or parsed.
    pub fn open(
        path: &Path,
        what: &'static str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Watched<T>, String> {
        let stamp = stamp(path);
        let value = read(path, what, parse)?;
        Ok(Watched {
            path: path.to_path_buf(),
            what,
            parse,
            state: RwLock::new(State {
                stamp,
                checked: Instant::now(),
                value: Arc::new(value),
            }),
        })
    }

    /// The contents as last read, re-read first when the file changed.
    pub fn get(&self) -> Arc<T> {
        let (due, current) = match self.state.read() {
            Ok(s) => (s.checked.elapsed() >= RECHECK, s.value.clone()),
            Err(e) => return e.into_inner().value.clone(),
        };
        if !due {
            return current;
        }
        let now = stamp(&self.path);
        let Ok(mut s) = self.state.write() else {
            return current;
        };
        s.checked = Instant::now();
        if now.is_none() || now == s.stamp {
            return s.value.clone();
        }
        s.stamp = now;
        match read(&self.path, self.what, self.parse) {
            Ok(v) => {
                tracing::info!(file = %self.path.display(), "{} re-read", self.what);
                s.value = Arc::new(v);
            }
            Err(e) => tracing::warn!("{e}; what was read before stays"),
        }
        s.value.clone()
    }
}
