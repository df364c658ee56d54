//! Local users: `--users-file FILE`, in htpasswd format with bcrypt entries (`user:$2y$…`, as
//! `htpasswd -B` writes them, or `rqdash hash-password`), re-read when it changes ([`Watched`]).
//!
//! bcrypt is slow on purpose, so a password that verified is remembered (as a SHA-256 digest of
//! user, password and entry, never the password itself) and later requests cost a hash, not a
//! bcrypt. Changing a user's entry forgets it.

use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::watched::Watched;

/// How many verified (user, password) pairs are remembered before the memory starts over.
const REMEMBERED: usize = 4096;

/// The users of a `--users-file`, kept fresh.
pub struct UsersFile {
    file: Watched<HashMap<String, String>>,
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl std::fmt::Debug for UsersFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.file.fmt(f)
    }
}

/// Whether `hash` is a bcrypt hash the verifier takes (`$2a$`, `$2b$`, `$2x$`, `$2y$`).
fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
        && hash.len() == 60
}

/// The entries of a users file, and a sentence for each line that was skipped.
pub fn parse(text: &str) -> (HashMap<String, String>, Vec<String>) {
    let mut entries = HashMap::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((user, hash)) = line.split_once(':') else {
            problems.push(format!("line {}: not `user:hash`, skipped", i + 1));
            continue;
        };
        let (user, hash) = (user.trim(), hash.trim());
        if user.is_empty() {
            problems.push(format!("line {}: no user name, skipped", i + 1));
        } else if !is_bcrypt(hash) {
            problems.push(format!(
                "line {} (user {user}): not a bcrypt entry (make one with `htpasswd -nB {user}` or `rqdash hash-password {user}`), skipped",
                i + 1
            ));
        } else if entries.insert(user.to_string(), hash.to_string()).is_some() {
            problems.push(format!(
                "line {} (user {user}): the user is listed again; the last entry counts",
                i + 1
            ));
        }
    }
    (entries, problems)
}

/// The entries of a users file, its skipped lines logged.
fn load(text: &str) -> Result<HashMap<String, String>, String> {
    let (entries, problems) = parse(text);
    for p in &problems {
        tracing::warn!("users file: {p}");
    }
    Ok(entries)
}

impl UsersFile {
    /// Reads the file.
    ///
    /// # Errors
    /// A sentence when the file cannot be read.
    pub fn open(path: &Path) -> Result<Arc<UsersFile>, String> {
        Ok(Arc::new(UsersFile {
            file: Watched::open(path, "users file", load)?,
            verified: Mutex::new(HashSet::new()),
        }))
    }

    /// How many users the file holds now.
    pub fn len(&self) -> usize {
        self.file.get().len()
    }

    /// Whether the file holds no user.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `password` is `user`'s and verified before (fast: no bcrypt).
    pub fn remembered(&self, user: &str, password: &str) -> bool {
        let entries = self.file.get();
        entries.get(user).is_some_and(|hash| {
            let d = digest(user, password, hash);
            self.verified.lock().is_ok_and(|v| v.contains(&d))
        })
    }

    /// Whether `password` is `user`'s. Slow (bcrypt) the first time a pair is seen: call it
    /// off the async threads.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        let entries = self.file.get();
        let (entry, other) = (entries.get(user).cloned(), entries.values().next().cloned());
        let Some(hash) = entry else {
            // Spend the time a real check would, so timing does not tell which names exist.
            if let Some(h) = other {
                let _ = bcrypt::verify(password, &h);
            }
            return false;
        };
        let digest = digest(user, password, &hash);
        if self.verified.lock().is_ok_and(|v| v.contains(&digest)) {
            return true;
        }
        let ok = bcrypt::verify(password, &hash).unwrap_or(false);
        if ok {
            if let Ok(mut v) = self.verified.lock() {
                if v.len() >= REMEMBERED {
                    v.clear();
                }
                v.insert(digest);
            }
        }
        ok
    }
}

/// What remembers a verified (user, password, entry): a digest, never the password.
fn digest(user: &str, password: &str, hash: &str) -> [u8; 32] {
    let mut d = Sha256::new();
    for part in [user, password, hash] {
        d.update((part.len() as u64).to_le_bytes());
        d.update(part.as_bytes());
    }
    d.finalize().into()
}

/// A users-file line for `user` with `password` (bcrypt, `$2y$` as `htpasswd -B` writes it).
///
/// # Errors
/// A sentence when the name cannot go in the file or the cost is out of bcrypt's range.
pub fn entry(user: &str, password: &str, cost: u32) -> Result<String, String> {
    if user.is_empty() || user.contains(':') || user.contains(char::is_whitespace) {
        return Err("a user name must be non-empty, without `:` or spaces".into());
    }
    if !(4..=31).contains(&cost) {
        return Err(format!("the bcrypt cost must be 4 to 31, not {cost}"));
    }
    let h = bcrypt::hash_with_result(password, cost).map_err(|e| e.to_string())?;
    Ok(format!(
        "{user}:{}",
        h.format_for_version(bcrypt::Version::TwoY)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_verify_whatever_the_bcrypt_prefix_and_bad_lines_are_named() {
        let line = entry("ann", "pw one", 4).unwrap();
        let (user, hash) = line.split_once(':').unwrap();
        assert_eq!(user, "ann");
        assert!(hash.starts_with("$2y$04$"), "{hash}");
        let b = hash.replacen("$2y$", "$2b$", 1);
        let a = hash.replacen("$2y$", "$2a$", 1);
        let text = format!("# comment\n\n{line}\nbob:{b}\ncid:{a}\ndan:$apr1$xyz$abc\nnocolon\n");
        let (entries, problems) = parse(&text);
        assert_eq!(entries.len(), 3);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("dan") && problems[0].contains("bcrypt"));
        for u in ["ann", "bob", "cid"] {
            assert!(bcrypt::verify("pw one", &entries[u]).unwrap(), "{u}");
            assert!(!bcrypt::verify("pw two", &entries[u]).unwrap(), "{u}");
        }
        assert!(entry("a:b", "x", 4).is_err());
        assert!(entry("a", "x", 3).is_err());
    }

    #[test]
    fn the_file_is_re_read_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("rqdash-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users");
        std::fs::write(&path, entry("ann", "first", 4).unwrap()).unwrap();
        let f = UsersFile::open(&path).unwrap();
        assert!(f.verify("ann", "first"));
        assert!(f.verify("ann", "first"), "remembered");
        assert!(!f.verify("ann", "second"));
        assert!(!f.verify("bob", "first"));
        let text = format!(
            "{}\n{}\n",
            entry("ann", "second", 4).unwrap(),
            entry("bob", "bobs", 4).unwrap()
        );
        std::fs::write(&path, text).unwrap();
        // The file is looked at once a second at most.
        std::thread::sleep(super::super::watched::RECHECK + std::time::Duration::from_millis(100));
        assert!(f.verify("ann", "second"));
        assert!(
            !f.verify("ann", "first"),
            "the old password no longer works"
        );
        assert!(f.verify("bob", "bobs"));
        assert_eq!(f.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
