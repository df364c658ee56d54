//! Every URL the dashboard writes, in one place: links and forms in templates, redirects after
//! actions, task links in JSON, the URLs of rq-dashboard's JSON pagination. Path parts are
//! percent-encoded as single segments, so any queue name or job id survives the round trip.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::rq::model::Registry;
use crate::rq::search::SearchForm;

/// Characters left as they are in a path segment; everything else is percent-encoded, so queue
/// names with `/`, `%`, `?`, spaces or unicode survive the round trip.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// rq-dashboard's default page size.
pub const DEFAULT_PER_PAGE: u64 = 8;

/// Percent-encodes one path segment.
pub fn seg(s: &str) -> String {
    let e = utf8_percent_encode(s, SEGMENT).to_string();
    // "." and ".." would be normalised away by browsers.
    match e.as_str() {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => e,
    }
}

/// `url` with a query string appended (nothing when `query` is empty).
pub fn with_query(url: &str, query: &str) -> String {
    if query.is_empty() {
        url.to_string()
    } else {
        format!("{url}?{query}")
    }
}

/// Builds the dashboard's URLs for one instance, under the URL prefix.
#[derive(Debug, Clone)]
pub struct Urls {
    /// The URL prefix (empty or `/a/b`): a trusted proxy's `X-Forwarded-Prefix`, then
    /// `--url-prefix`.
    pub base: String,
    /// The instance index.
    pub n: usize,
}

impl Urls {
    fn at(&self, rest: &str) -> String {
        format!("{}/{}{rest}", self.base, self.n)
    }

    fn list(
        &self,
        area: &str,
        queue: &str,
        reg: Registry,
        per_page: u64,
        desc: bool,
        page: u64,
    ) -> String {
        self.at(&format!(
            "/{area}/{}/{reg}/{per_page}/{}/{page}",
            seg(queue),
            if desc { "dsc" } else { "asc" },
        ))
    }

    /// The language switcher's link: sets the `lang` cookie to `code`, then goes back to
    /// `next` (a path on this site).
    pub fn language(&self, code: &str, next: &str) -> String {
        format!(
            "{}/lang/{}?next={}",
            self.base,
            seg(code),
            utf8_percent_encode(next, SEGMENT)
        )
    }

    /// The overview page.
    pub fn overview(&self) -> String {
        self.at("/view/queues")
    }
    /// The polled part of the overview.
    pub fn overview_fragment(&self) -> String {
        self.at("/fragments/overview")
    }
    /// The workers page.
    pub fn workers(&self) -> String {
        self.at("/view/workers")
    }
    /// The polled part of the workers page.
    pub fn workers_fragment(&self) -> String {
        self.at("/fragments/workers")
    }
    /// A job list page.
    pub fn jobs(&self, queue: &str, reg: Registry, per_page: u64, desc: bool, page: u64) -> String {
        self.list("view/jobs", queue, reg, per_page, desc, page)
    }
    /// The polled fragment of a job list page.
    pub fn jobs_fragment(
        &self,
        queue: &str,
        reg: Registry,
        per_page: u64,
        desc: bool,
        page: u64,
    ) -> String {
        self.list("fragments/jobs", queue, reg, per_page, desc, page)
    }
    /// A job list page with rq-dashboard's defaults (8 per page, ascending, page 1).
    pub fn jobs_default(&self, queue: &str, reg: Registry) -> String {
        self.jobs(queue, reg, DEFAULT_PER_PAGE, false, 1)
    }
    /// The job page.
    pub fn job(&self, id: &str) -> String {
        self.at(&format!("/view/job/{}", seg(id)))
    }
    /// The cron page.
    pub fn cron(&self) -> String {
        self.at("/view/cron")
    }
    /// The polled part of the cron page.
    pub fn cron_fragment(&self) -> String {
        self.at("/fragments/cron")
    }
    /// The groups page.
    pub fn groups(&self) -> String {
        self.at("/view/groups")
    }
    /// A group's page.
    pub fn group(&self, name: &str) -> String {
        self.at(&format!("/view/groups/{}", seg(name)))
    }
    /// The rate limits page.
    pub fn rate_limits(&self) -> String {
        self.at("/view/rate-limits")
    }
    /// The jobs waiting for one rate limit.
    pub fn rate_limit(&self, key: &str) -> String {
        self.at(&format!("/view/rate-limits/{}", seg(key)))
    }
    /// The audit page with filter `query` (a query string, may be empty).
    pub fn audit(&self, query: &str) -> String {
        with_query(&self.at("/view/audit"), query)
    }
    /// The live first page of the audit trail with filter `query`.
    pub fn audit_fragment(&self, query: &str) -> String {
        with_query(&self.at("/fragments/audit"), query)
    }
    /// The audit trail as JSON (`ext` `json`) or CSV (`csv`) with filter `query`.
    pub fn audit_data(&self, ext: &str, query: &str) -> String {
        with_query(&self.at(&format!("/data/audit.{ext}")), query)
    }
    /// The health page.
    pub fn health(&self) -> String {
        self.at("/view/health")
    }
    /// The history charts of a queue (`None`: all queues) over `range`.
    pub fn charts_fragment(&self, queue: Option<&str>, range: &str) -> String {
        let q = serde_urlencoded::to_string([("range", Some(range)), ("queue", queue)])
            .unwrap_or_default();
        self.at(&format!("/fragments/charts?{q}"))
    }
    /// The functions table of a queue (`None`: all queues) over `window`, sorted by `sort`.
    pub fn functions_fragment(
        &self,
        queue: Option<&str>,
        window: &str,
        sort: &str,
        desc: bool,
    ) -> String {
        let q = serde_urlencoded::to_string([
            ("window", Some(window)),
            ("sort", Some(sort)),
            ("dir", Some(if desc { "desc" } else { "asc" })),
            ("queue", queue),
        ])
        .unwrap_or_default();
        self.at(&format!("/fragments/functions?{q}"))
    }
    /// The overview's polled problems panel.
    pub fn problems_fragment(&self) -> String {
        self.at("/fragments/problems")
    }
    /// The jump-to-job form's target.
    pub fn jump(&self) -> String {
        self.at("/jump")
    }
    /// The failures of a queue, grouped by exception.
    pub fn failures(&self, queue: &str) -> String {
        self.at(&format!("/view/failures/{}", seg(queue)))
    }
    /// A bulk task's progress page.
    pub fn task(&self, id: u64) -> String {
        self.at(&format!("/tasks/{id}"))
    }
    /// The polled progress of a bulk task.
    pub fn task_fragment(&self, id: u64) -> String {
        self.at(&format!("/fragments/tasks/{id}"))
    }
    /// Resumes an interrupted bulk task.
    pub fn task_resume(&self, id: u64) -> String {
        self.at(&format!("/tasks/{id}/resume"))
    }
    /// Stops a bulk task.
    pub fn task_cancel(&self, id: u64) -> String {
        self.at(&format!("/tasks/{id}/cancel"))
    }
    /// An action endpoint of this instance, e.g. `act(&["job", id, "requeue"])`; every part is
    /// encoded as one path segment.
    pub fn act(&self, parts: &[&str]) -> String {
        let mut u = self.at("");
        for p in parts {
            u.push('/');
            u.push_str(&seg(p));
        }
        u
    }
    /// The search page for `form` (the form's fields as the query string, so a search can be
    /// shared); `page` 1 is left out.
    pub fn search(&self, form: &SearchForm, page: u64) -> String {
        self.at(&format!("/view/search?{}", search_qs(form, page)))
    }
    /// The search page for `form`, scanning again even if a finished scan is kept.
    pub fn search_fresh(&self, form: &SearchForm) -> String {
        format!("{}&fresh=1", self.search(form, 1))
    }
    /// The search page with an empty form.
    pub fn search_empty(&self) -> String {
        self.at("/view/search")
    }
    /// The polled results of a search.
    pub fn search_fragment(&self, form: &SearchForm, page: u64) -> String {
        self.at(&format!("/fragments/search?{}", search_qs(form, page)))
    }
    /// A search's JSON (what scripts poll until `complete`).
    pub fn search_json(&self, form: &SearchForm, page: u64) -> String {
        self.at(&format!("/data/search.json?{}", search_qs(form, page)))
    }
    /// An action on every match of a search (`requeue`, `delete`, `cancel`, or `stop` the scan).
    pub fn search_act(&self, verb: &str, form: &SearchForm) -> String {
        self.at(&format!("/search/{}?{}", seg(verb), search_qs(form, 1)))
    }
    /// The page with every instance's queues.
    pub fn all(&self) -> String {
        format!("{}/all", self.base)
    }
    /// A static asset (`app.css`, `favicon.svg`, ...).
    pub fn asset(&self, file: &str) -> String {
        format!("{}/static/{file}", self.base)
    }
}

/// The query string of a search: its non-empty fields, then the page when past the first.
fn search_qs(form: &SearchForm, page: u64) -> String {
    let mut pairs: Vec<(&str, &str)> = [
        ("queue", &form.queue),
        ("registry", &form.registry),
        ("func", &form.func),
        ("exc", &form.exc),
        ("q", &form.q),
        ("worker", &form.worker),
        ("since", &form.since),
        ("until", &form.until),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k, v.as_str()))
    .collect();
    let page = page.to_string();
    if page != "1" {
        pairs.push(("page", &page));
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_encode_everything_that_could_break_a_path() {
        assert_eq!(seg("a/b:c ünï"), "a%2Fb%3Ac%20%C3%BCn%C3%AF");
        assert_eq!(seg("100%"), "100%25");
        assert_eq!(seg(".."), "%2E%2E");
        assert_eq!(seg("job-1_a.b"), "job-1_a.b");
    }

    #[test]
    fn urls_sit_under_the_prefix_and_the_instance() {
        let u = Urls {
            base: "/p".into(),
            n: 2,
        };
        assert_eq!(
            u.jobs("a/b", Registry::Failed, 8, true, 3),
            "/p/2/view/jobs/a%2Fb/failed/8/dsc/3"
        );
        assert_eq!(u.act(&["job", "x y", "requeue"]), "/p/2/job/x%20y/requeue");
        assert_eq!(u.task(7), "/p/2/tasks/7");
        assert_eq!(u.asset("app.css"), "/p/static/app.css");
    }
}
