//! The Grafana dashboard in `grafana/rqdash.json`: every metric its queries use is a family that a
//! live `/metrics` serves, on real RQ data, and every selector follows the dashboard's variables.

use crate::support::{Rq, TestApp, TestRedis};
use serde_json::Value;
use std::collections::BTreeSet;

fn dashboard() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/grafana/rqdash.json");
    let text = std::fs::read_to_string(path).expect("grafana/rqdash.json is readable");
    serde_json::from_str(&text).expect("grafana/rqdash.json is JSON")
}

/// Every panel, rows' nested panels included.
fn panels(dash: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            if let Some(inner) = p.get("panels") {
                walk(inner, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dash["panels"], &mut out);
    out
}

/// `(where, expression)` for every panel target and every query variable.
fn expressions(dash: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(dash) {
        let title = p["title"].as_str().unwrap_or("?");
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap_or_default();
            assert!(
                !expr.trim().is_empty(),
                "panel {title:?} has a target without a PromQL expr: {t}"
            );
            assert_eq!(
                t["datasource"]["uid"], "${datasource}",
                "panel {title:?} queries the datasource variable"
            );
            out.push((format!("panel {title:?}"), expr.to_string()));
        }
    }
    for v in dash["templating"]["list"].as_array().unwrap() {
        if v["type"] == "query" {
            let q = match &v["query"] {
                Value::String(s) => s.clone(),
                other => other["query"].as_str().unwrap_or_default().to_string(),
            };
            // `label_values(selector, label)`: the selector is PromQL, the label is not a metric.
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|s| s.strip_suffix(')'))
                .and_then(|s| s.rsplit_once(','))
                .map(|(sel, _label)| sel.to_string())
                .unwrap_or_else(|| panic!("variable {} is not label_values(...): {q}", v["name"]));
            out.push((format!("variable {}", v["name"]), inner));
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num,
    Var,
    Punct(char),
}

fn tokenize(expr: &str) -> Vec<Tok> {
    let c: Vec<char> = expr.chars().collect();
    let ident_start = |ch: char| ch.is_ascii_alphabetic() || ch == '_' || ch == ':';
    let ident_char = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':';
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '#' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '"' || ch == '\'' || ch == '`' {
            let mut s = String::new();
            i += 1;
            while i < c.len() && c[i] != ch {
                if c[i] == '\\' && ch != '`' && i + 1 < c.len() {
                    i += 1;
                }
                s.push(c[i]);
                i += 1;
            }
            assert!(i < c.len(), "unterminated string in {expr:?}");
            i += 1;
            out.push(Tok::Str(s));
        } else if ch == '$' {
            // Grafana variables: $name, ${name}, ${name:format}.
            i += 1;
            if i < c.len() && c[i] == '{' {
                while i < c.len() && c[i] != '}' {
                    i += 1;
                }
                i += 1;
            } else {
                while i < c.len() && ident_char(c[i]) {
                    i += 1;
                }
            }
            out.push(Tok::Var);
        } else if ch.is_ascii_digit()
            || (ch == '.' && c.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // Numbers and durations (60, 1e-9, 0x1f, 5m, 1h30m); an exponent's sign is kept.
            i += 1;
            while i < c.len()
                && (c[i].is_ascii_alphanumeric()
                    || c[i] == '.'
                    || c[i] == '_'
                    || ((c[i] == '-' || c[i] == '+') && matches!(c[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            out.push(Tok::Num);
        } else if ident_start(ch) {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

/// PromQL functions and aggregations: always followed by `(`.
const FUNCTIONS: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg",
    "avg_over_time",
    "bottomk",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count",
    "count_over_time",
    "count_values",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "exp",
    "floor",
    "group",
    "histogram_quantile",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "max",
    "max_over_time",
    "min",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev",
    "stddev_over_time",
    "stdvar",
    "stdvar_over_time",
    "sum",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "topk",
    "vector",
    "year",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Other keywords and literals that are not metric names.
const KEYWORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
];

/// One vector selector: its metric name and its `label op value` matchers.
#[derive(Debug, Clone, PartialEq)]
struct Selector {
    metric: String,
    matchers: Vec<(String, String, String)>,
}

/// The vector selectors of a PromQL expression. Label names in `{...}` and in `by (...)` lists,
/// durations in `[...]`, string and number literals, Grafana `$variables`, functions and
/// keywords are skipped; an identifier followed by `(` that is no known function panics, so a
/// misspelt function fails instead of hiding a metric.
fn selectors(expr: &str) -> Vec<Selector> {
    let toks = tokenize(expr);
    let mut out: Vec<Selector> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Punct('[') => {
                // Range, subquery or Grafana's [[var]]: durations and variables only.
                let mut depth = 0;
                while i < toks.len() {
                    match toks[i] {
                        Tok::Punct('[') => depth += 1,
                        Tok::Punct(']') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            Tok::Punct('{') => {
                // A selector without a name before it: `{__name__="x", ...}`.
                let (matchers, next) = matchers(&toks, i, expr);
                let name = matchers.iter().find(|(l, _, _)| l == "__name__");
                let (_, op, metric) =
                    name.unwrap_or_else(|| panic!("selector without a metric name in {expr:?}"));
                assert_eq!(op, "=", "a regex on __name__ cannot be checked: {expr:?}");
                out.push(Selector {
                    metric: metric.clone(),
                    matchers: matchers.clone(),
                });
                i = next;
            }
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                let next = toks.get(i + 1);
                if LABEL_LIST_KEYWORDS.contains(&lower.as_str()) {
                    i += 1;
                    if next == Some(&Tok::Punct('(')) {
                        while i < toks.len() && toks[i] != Tok::Punct(')') {
                            assert!(
                                matches!(toks[i], Tok::Ident(_) | Tok::Punct('(' | ',')),
                                "unexpected {:?} in the label list of {word} in {expr:?}",
                                toks[i]
                            );
                            i += 1;
                        }
                        i += 1;
                    }
                } else if KEYWORDS.contains(&lower.as_str()) {
                    i += 1;
                } else if next == Some(&Tok::Punct('('))
                    || matches!(next, Some(Tok::Ident(k)) if ["by", "without"].contains(&k.to_ascii_lowercase().as_str()))
                {
                    // A call, or an aggregation with its clause first: `sum by (x) (...)`.
                    assert!(
                        FUNCTIONS.contains(&lower.as_str()),
                        "{word}( is no PromQL function, in {expr:?}"
                    );
                    i += 1;
                } else if next == Some(&Tok::Punct('{')) {
                    let (matchers, next) = matchers(&toks, i + 1, expr);
                    out.push(Selector {
                        metric: word.clone(),
                        matchers,
                    });
                    i = next;
                } else {
                    // Bare, or followed by `[`, an operator, `)` or the end.
                    out.push(Selector {
                        metric: word.clone(),
                        matchers: Vec::new(),
                    });
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The matchers of the `{...}` opening at `toks[open]`, and the index after its `}`.
fn matchers(toks: &[Tok], open: usize, expr: &str) -> (Vec<(String, String, String)>, usize) {
    let mut out = Vec::new();
    let mut i = open + 1;
    loop {
        match toks.get(i) {
            Some(Tok::Punct('}')) => return (out, i + 1),
            Some(Tok::Punct(',')) => i += 1,
            Some(Tok::Ident(label)) => {
                let mut op = String::new();
                i += 1;
                while let Some(Tok::Punct(p @ ('=' | '!' | '~'))) = toks.get(i) {
                    op.push(*p);
                    i += 1;
                }
                let Some(Tok::Str(value)) = toks.get(i) else {
                    panic!("matcher {label}{op} without a string value in {expr:?}");
                };
                assert!(
                    ["=", "!=", "=~", "!~"].contains(&op.as_str()),
                    "bad matcher operator {op:?} in {expr:?}"
                );
                out.push((label.clone(), op, value.clone()));
                i += 1;
            }
            other => panic!("unexpected {other:?} in a label matcher of {expr:?}"),
        }
    }
}

fn names(expr: &str) -> BTreeSet<String> {
    selectors(expr).into_iter().map(|s| s.metric).collect()
}

#[test]
fn the_extractor_finds_metric_names_and_only_them() {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        names(
            r#"sum by (queue, status) (rate(rq_jobs{queue=~"$queue", status="a{b}[c]"}[$__rate_interval]))
               / on (queue) group_left (name) clamp_min(other:recorded[5m:1m] offset 1h, 1e-9)
               + ignoring(x) bare_metric * 60 or vector(0) # a comment: not_a_metric
               unless {__name__="by_name", job="x"} and count without (state) (w{a='q"\'x'})"#
        ),
        set(&["bare_metric", "by_name", "other:recorded", "rq_jobs", "w"])
    );
    assert_eq!(
        names("topk(10, 60 * SUM BY (name) (irate(x_total[${__interval}])))"),
        set(&["x_total"])
    );
    assert!(names("vector(1) + time()").is_empty());
    let s = selectors(r#"rq_jobs{instance="$instance", queue=~"(a|b)"}"#);
    assert_eq!(
        s[0].matchers,
        vec![
            ("instance".into(), "=".into(), "$instance".into()),
            ("queue".into(), "=~".into(), "(a|b)".into())
        ]
    );
    let misspelt = std::panic::catch_unwind(|| names("rte(rq_jobs[5m])"));
    assert!(misspelt.is_err(), "an unknown function fails");
}

fn served_families(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn has_sample(body: &str, family: &str) -> bool {
    body.lines().any(|l| {
        l.strip_prefix(family)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
    })
}

/// The dashboard's variables and the matchers every selector carries.
#[test]
fn every_query_follows_the_dashboard_variables() {
    let dash = dashboard();
    let vars: Vec<&str> = dash["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "instance", "rq_instance", "queue"]);
    assert_eq!(dash["templating"]["list"][0]["query"], "prometheus");
    let mut ids = BTreeSet::new();
    for p in panels(&dash) {
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "panel ids are unique"
        );
        assert!(p["gridPos"]["w"].as_u64().unwrap() > 0);
    }
    let exprs = expressions(&dash);
    assert!(exprs.len() >= 15, "{} expressions", exprs.len());
    for (place, expr) in exprs.iter().filter(|(p, _)| p.starts_with("panel")) {
        for s in selectors(expr) {
            let has = |label: &str, op: &str, value: &str| {
                s.matchers
                    .iter()
                    .any(|(l, o, v)| l == label && o == op && v == value)
            };
            assert!(
                has("instance", "=", "$instance") && has("rq_instance", "=~", "$rq_instance"),
                "{place}: {} follows $instance and $rq_instance in {expr}",
                s.metric
            );
            if ["rq_jobs", "rq_queue_latency_seconds"].contains(&s.metric.as_str()) {
                assert!(has("queue", "=~", "$queue"), "{place}: {expr}");
            }
            if s.metric.starts_with("rq_workers") && s.metric != "rq_workers_suspended" {
                assert!(
                    s.matchers
                        .iter()
                        .any(|(l, o, v)| l == "queues" && o == "=~" && v.contains("$queue")),
                    "{place}: {expr}"
                );
            }
        }
    }
}

fn every_queried_metric_is_served(version: &'static str) {
    let dash = dashboard();
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for (place, expr) in expressions(&dash) {
        let found = names(&expr);
        assert!(!found.is_empty(), "{place} queries no metric: {expr}");
        wanted.extend(found);
    }

    let redis = TestRedis::start();
    let rq = Rq::new(version);
    rq.seed(&redis.url());
    let _idle = rq.idle_worker(&redis.url(), "idle-q", "idle-worker");
    redis.wait_field("rq:worker:idle-worker", "state", "idle");
    let app = TestApp::for_redis(&redis.url());
    // The timing summaries come once the history has read the registries (its first round).
    let body = crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "the timing statistics on /metrics",
        || {
            let r = app.get("/metrics");
            assert_eq!(r.status, 200);
            let body = r.text();
            body.contains("rq_job_runtime_seconds{").then_some(body)
        },
    );
    let served = served_families(&body);
    for name in &wanted {
        assert!(
            served.contains(name),
            "the dashboard queries {name}, which /metrics does not serve (families: {served:?})"
        );
        assert!(
            has_sample(&body, name),
            "{name} has no sample on real RQ data:\n{body}"
        );
    }
    // Every family the dashboard is meant to chart is charted.
    for family in [
        "rq_jobs",
        "rq_workers",
        "rq_workers_success_total",
        "rq_workers_failed_total",
        "rq_queue_latency_seconds",
        "rq_workers_suspended",
        "rqdash_redis_up",
        "rqdash_jobs_finished_total",
        "rqdash_jobs_failed_total",
        "rq_job_runtime_seconds",
        "rq_job_wait_seconds",
    ] {
        assert!(wanted.contains(family), "the dashboard charts {family}");
    }
}

per_rq_version!(
    every_queried_metric_is_served_by_metrics,
    super::every_queried_metric_is_served
);
