//! Roles: `--policy FILE`, TOML, re-read when it changes ([`super::watched::Watched`]).
//!
//! ```toml
//! default_roles = []            # roles of a signed-in user with no binding; [] = refused
//!
//! [[role]]
//! name = "eu-operator"
//! actions = ["view", "requeue", "cancel", "delete"]   # or "*"
//! queues = ["eu-*", "billing"]                         # glob patterns; "*" (the default) = every queue
//! users = ["bob"]
//! groups = ["ops-eu"]
//! ```
//!
//! A user's roles are those that name the user or one of the user's groups, else
//! `default_roles`. An action on a queue is allowed when one of the roles grants the action and
//! one of its patterns matches the queue. An action that concerns no single queue (suspending
//! workers, reading the audit trail, a bulk action over every queue) needs a role that grants it
//! on every queue (`queues = ["*"]`). A queue a user may not `view` is hidden from them
//! ([`crate::http::viewer::Viewer::sees`]).

use serde::Deserialize;
use std::collections::BTreeSet;

/// Every action a role may grant, in the order the README lists them.
pub const ACTIONS: [&str; 12] = [
    "view",
    "requeue",
    "cancel",
    "stop",
    "delete",
    "empty",
    "suspend",
    "bulk",
    "enqueue",
    "unredacted",
    "audit",
    "admin",
];

/// `"*"` or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn list(self) -> Vec<String> {
        match self {
            Names::One(s) => vec![s],
            Names::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: String,
    actions: Names,
    queues: Option<Names>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    default_roles: Vec<String>,
    #[serde(default)]
    role: Vec<RawRole>,
}

/// One role: which actions, on which queues, for whom.
#[derive(Debug, Clone)]
pub struct Role {
    /// Its name.
    pub name: String,
    /// The actions it grants (indexes into [`ACTIONS`]).
    actions: BTreeSet<usize>,
    /// The queue patterns (`None`: every queue).
    queues: Option<Vec<glob::Pattern>>,
    users: Vec<String>,
    groups: Vec<String>,
}

/// A parsed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    roles: Vec<Role>,
    default_roles: Vec<String>,
}

/// What one user may do: their roles' grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Grants {
    /// The roles' names.
    pub roles: Vec<String>,
    /// Per role: its actions, and its queue patterns as written (`None`: every queue).
    rules: Vec<(BTreeSet<usize>, Option<Vec<String>>)>,
}

fn action_index(a: &str) -> Option<usize> {
    ACTIONS.iter().position(|x| *x == a)
}

/// Parses a policy file's text.
///
/// # Errors
/// A sentence naming what is wrong: TOML syntax, an unknown key or action, a bad pattern, a
/// default role that does not exist, two roles of one name.
pub fn parse(text: &str) -> Result<Policy, String> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut roles = Vec::new();
    for r in raw.role {
        if r.name.trim().is_empty() {
            return Err("a [[role]] has no name".into());
        }
        if roles.iter().any(|x: &Role| x.name == r.name) {
            return Err(format!("two roles are named “{}”", r.name));
        }
        let mut actions = BTreeSet::new();
        for a in r.actions.list() {
            if a == "*" {
                actions.extend(0..ACTIONS.len());
            } else {
                actions.insert(action_index(&a).ok_or_else(|| {
                    format!(
                        "role “{}”: unknown action “{a}” (the actions: {}, or \"*\")",
                        r.name,
                        ACTIONS.join(", ")
                    )
                })?);
            }
        }
        let queues = match r.queues.map(Names::list) {
            None => None,
            Some(q) if q.iter().any(|p| p == "*") => None,
            Some(q) => Some(
                q.iter()
                    .map(|p| {
                        glob::Pattern::new(p)
                            .map_err(|e| format!("role “{}”: queue pattern “{p}”: {e}", r.name))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        roles.push(Role {
            name: r.name,
            actions,
            queues,
            users: r.users,
            groups: r.groups,
        });
    }
    for d in &raw.default_roles {
        if !roles.iter().any(|r| &r.name == d) {
            return Err(format!(
                "default_roles names “{d}”, which no [[role]] defines"
            ));
        }
    }
    Ok(Policy {
        roles,
        default_roles: raw.default_roles,
    })
}

impl Policy {
    /// The grants of `user` (with `groups`).
    pub fn grants(&self, user: &str, groups: &[String]) -> Grants {
        let bound: Vec<&Role> = self
            .roles
            .iter()
            .filter(|r| {
                r.users.iter().any(|u| u == user) || r.groups.iter().any(|g| groups.contains(g))
            })
            .collect();
        let roles: Vec<&Role> = if bound.is_empty() {
            self.roles
                .iter()
                .filter(|r| self.default_roles.contains(&r.name))
                .collect()
        } else {
            bound
        };
        Grants {
            roles: roles.iter().map(|r| r.name.clone()).collect(),
            rules: roles
                .iter()
                .map(|r| {
                    (
                        r.actions.clone(),
                        r.queues
                            .as_ref()
                            .map(|q| q.iter().map(|p| p.as_str().to_string()).collect()),
                    )
                })
                .collect(),
        }
    }

    /// Whether some role limits `view` to some queues (the README says what that does today).
    pub fn limits_view(&self) -> bool {
        let view = action_index("view").unwrap_or(0);
        self.roles
            .iter()
            .any(|r| r.actions.contains(&view) && r.queues.is_some())
    }
}

impl Grants {
    /// Whether `action` is granted on `queue` (`None`: on every queue).
    pub fn may(&self, action: &str, queue: Option<&str>) -> bool {
        let Some(i) = action_index(action) else {
            return false;
        };
        self.rules.iter().any(|(acts, queues)| {
            acts.contains(&i)
                && match (queues, queue) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(ps), Some(q)) => ps
                        .iter()
                        .any(|p| glob::Pattern::new(p).is_ok_and(|p| p.matches(q))),
                }
        })
    }

    /// Whether `action` is granted on at least one queue.
    pub fn may_somewhere(&self, action: &str) -> bool {
        let Some(i) = action_index(action) else {
            return false;
        };
        self.rules.iter().any(|(acts, _)| acts.contains(&i))
    }

    /// The same grants without any action but `view` (the read-only credential).
    pub fn view_only(&self) -> Grants {
        let view = action_index("view").unwrap_or(0);
        Grants {
            roles: self.roles.clone(),
            rules: self
                .rules
                .iter()
                .map(|(a, q)| {
                    (
                        a.iter().copied().filter(|i| *i == view).collect(),
                        q.clone(),
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
default_roles = ["viewer"]

[[role]]
name = "viewer"
actions = ["view"]

[[role]]
name = "eu-operator"
actions = ["view", "requeue", "cancel", "delete"]
queues = ["eu-*", "billing"]
users = ["bob"]
groups = ["ops-eu"]

[[role]]
name = "admin"
actions = "*"
queues = "*"
users = ["ada"]
"#;

    #[test]
    fn roles_bind_by_user_or_group_else_the_defaults() {
        let p = parse(EXAMPLE).unwrap();
        let bob = p.grants("bob", &[]);
        assert_eq!(bob.roles, vec!["eu-operator"]);
        assert!(bob.may("requeue", Some("eu-1")));
        assert!(bob.may("delete", Some("billing")));
        assert!(!bob.may("requeue", Some("us-1")));
        assert!(!bob.may("empty", Some("eu-1")));
        assert!(
            !bob.may("requeue", None),
            "every queue needs a role on every queue"
        );
        assert!(bob.may_somewhere("requeue"));
        let carl = p.grants("carl", &["ops-eu".to_string()]);
        assert_eq!(carl.roles, vec!["eu-operator"]);
        let vic = p.grants("vic", &[]);
        assert_eq!(vic.roles, vec!["viewer"]);
        assert!(vic.may("view", Some("us-1")) && vic.may("view", None));
        assert!(!vic.may_somewhere("requeue"));
        let ada = p.grants("ada", &[]);
        assert!(ada.may("admin", None) && ada.may("empty", Some("x")));
        let ro = ada.view_only();
        assert!(ro.may("view", None) && !ro.may("requeue", Some("x")));
        assert!(p.limits_view());
        let none =
            parse("[[role]]\nname = \"a\"\nactions = [\"view\"]\nusers = [\"x\"]\n").unwrap();
        assert!(none.grants("y", &[]).roles.is_empty());
        assert!(!none.limits_view());
    }

    #[test]
    fn mistakes_are_named() {
        for (text, says) in [
            ("[[role]]\nname = \"a\"\nactions = [\"fly\"]\n", "unknown action “fly”"),
            ("[[role]]\nname = \"a\"\nactions = [\"view\"]\ncolour = 1\n", "colour"),
            ("default_roles = [\"b\"]\n", "no [[role]] defines"),
            ("[[role]]\nname = \"a\"\nactions = [\"view\"]\nqueues = [\"[\"]\n", "queue pattern"),
            ("[[role]]\nname = \"a\"\nactions = \"*\"\n[[role]]\nname = \"a\"\nactions = \"*\"\n", "two roles"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
