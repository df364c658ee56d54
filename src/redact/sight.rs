//! [`Sight`]: what one viewer may see of job data, by their grants of `unredacted`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::Redactor;
use crate::config::policy::Grants;
use crate::rq::model::{JobDetail, JobSummary};

/// What one viewer may see: the rules, and the queues on which their roles grant `unredacted`.
/// Every read of job data takes one.
#[derive(Debug, Clone)]
pub struct Sight {
    redactor: Arc<Redactor>,
    /// Their grants, when they hold `unredacted` somewhere (`None`: nowhere).
    exempt: Option<Arc<Grants>>,
}

impl Sight {
    /// The rules, whoever the viewer is (for what is logged or recorded for everyone).
    pub fn rules(&self) -> &Redactor {
        &self.redactor
    }

    /// Sees nothing the rules hide: for what is computed once for everyone (health problems,
    /// alerts, statistics, records).
    pub fn blind(redactor: Arc<Redactor>) -> Sight {
        Sight {
            redactor,
            exempt: None,
        }
    }

    /// The sight of a viewer with `grants` (`None`: no `--policy`, so nobody is exempt).
    pub fn of(redactor: Arc<Redactor>, grants: Option<Arc<Grants>>) -> Sight {
        Sight {
            redactor,
            exempt: grants.filter(|g| g.may_somewhere("unredacted")),
        }
    }

    /// The rules to apply to a job of `queue` (`None`: a job of no known queue, hidden unless
    /// `unredacted` is granted on every queue); `None` when its values are shown.
    pub fn hides(&self, queue: Option<&str>) -> Option<&Redactor> {
        let shown = self
            .exempt
            .as_ref()
            .is_some_and(|g| g.may("unredacted", queue));
        (self.redactor.is_active() && !shown).then_some(&*self.redactor)
    }

    /// Identifies what this sight shows, for caches of rendered answers and of searches: equal
    /// keys see the same values everywhere.
    pub fn key(&self) -> String {
        match &self.exempt {
            _ if !self.redactor.is_active() => String::new(),
            None => "redacted".into(),
            Some(g) if g.may("unredacted", None) => "unredacted".into(),
            Some(g) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                g.hash(&mut h);
                format!("unredacted-in-some:{:016x}", h.finish())
            }
        }
    }

    /// Redacts list rows as this sight sees them (each by its queue).
    pub fn summaries(&self, rows: &mut [JobSummary]) {
        for j in rows {
            if let Some(r) = self.hides(j.origin.as_deref()) {
                r.summary(j);
            }
        }
    }

    /// Redacts a job's details as this sight sees them.
    pub fn detail(&self, j: &mut JobDetail) {
        if let Some(r) = self.hides(j.origin.as_deref()) {
            r.detail(j);
        }
    }

    /// Redacts the tracebacks of failures of `queue` (id, score, traceback).
    pub fn failures(&self, queue: &str, failures: &mut [(String, f64, Option<String>)]) {
        if let Some(r) = self.hides(Some(queue)) {
            for tb in failures.iter_mut().filter_map(|f| f.2.as_mut()) {
                r.text_in(tb);
            }
        }
    }

    /// The workers' current jobs as this sight sees them, given the rows redacted for everyone
    /// and the clear ones: `None` when that is the redacted rows.
    pub fn current_jobs(
        &self,
        redacted: &HashMap<String, JobSummary>,
        clear: Option<&HashMap<String, JobSummary>>,
    ) -> Option<HashMap<String, JobSummary>> {
        let clear = clear?;
        let shown = |j: &JobSummary| self.hides(j.origin.as_deref()).is_none();
        if !clear.values().any(shown) {
            return None;
        }
        Some(
            redacted
                .iter()
                .map(|(id, j)| match clear.get(id) {
                    Some(c) if shown(c) => (id.clone(), c.clone()),
                    _ => (id.clone(), j.clone()),
                })
                .collect(),
        )
    }
}
