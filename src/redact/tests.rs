//! The redaction rules' unit tests.
use super::*;
use std::collections::HashMap;
use std::sync::Arc;

fn rules(keys: &[&str], patterns: &[&str]) -> Redactor {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    Redactor::new(&s(keys), &s(patterns)).unwrap()
}

fn s(v: &str) -> PyValue {
    PyValue::Str(v.into())
}

#[test]
fn a_key_hides_the_whole_value_at_any_depth_whatever_its_case() {
    let r = rules(&["Password", "api_key"], &[]);
    let mut v = PyValue::List(vec![PyValue::Dict(vec![
        (s("user"), s("ann")),
        (
            s("nested"),
            PyValue::Tuple(vec![PyValue::Dict(vec![
                (
                    s("PASSWORD"),
                    PyValue::Dict(vec![(s("x"), PyValue::Int(1))]),
                ),
                (PyValue::Bytes(b"api_key".to_vec()), PyValue::Int(7)),
            ])]),
        ),
    ])]);
    r.py(&mut v);
    assert_eq!(
        v.repr(1000),
        "[{'user': 'ann', 'nested': ({'PASSWORD': [redacted], b'api_key': [redacted]},)}]"
    );
    assert_eq!(
        v.to_json(),
        serde_json::json!([{"user": "ann", "nested": [{"PASSWORD": "[redacted]", "b'api_key'": "[redacted]"}]}])
    );
    // An object's state and JSON documents too.
    let mut o = PyValue::Object {
        class: "app.Creds".into(),
        args: vec![],
        state: Some(Box::new(PyValue::Dict(vec![(s("password"), s("pw"))]))),
    };
    r.py(&mut o);
    assert_eq!(o.repr(100), "app.Creds(password=[redacted])");
    let mut j: Value = serde_json::json!({"a": [{"Api_Key": {"deep": 1}}], "b": 2});
    r.json(&mut j);
    assert_eq!(
        j,
        serde_json::json!({"a": [{"Api_Key": "[redacted]"}], "b": 2})
    );
}

#[test]
fn a_keyword_argument_named_by_a_key_is_hidden_and_so_is_its_text() {
    let r = rules(&["token"], &[]);
    let mut c = Call {
        func_name: "app.send".into(),
        instance: None,
        args: vec![Decoded::Pickle(s("hello"))],
        kwargs: vec![
            ("token".into(), Decoded::Pickle(s("t0k"))),
            ("to".into(), Decoded::Pickle(s("ann"))),
        ],
    };
    r.call(&mut c);
    assert_eq!(
        c.call_string(200),
        "app.send('hello', token=[redacted], to='ann')"
    );
    // RQ's description of the same call, a traceback line and a repr of a dict.
    for (text, want) in [
        (
            "app.send('hello', token='t0k, \\'x', to='ann')",
            "app.send('hello', token=[redacted], to='ann')",
        ),
        (
            "  File \"a.py\", line 3, in send\n    call(token = make(1, 2))\nKeyError: x",
            "  File \"a.py\", line 3, in send\n    call(token = [redacted])\nKeyError: x",
        ),
        (
            "{'Token': {'a': [1, 2]}, \"token\":\"v\", 'n': 1}",
            "{'Token': [redacted], \"token\":[redacted], 'n': 1}",
        ),
        (
            "if token == other: mytoken=3",
            "if token == other: mytoken=3",
        ),
        ("token=[redacted]", "token=[redacted]"),
        ("send(TOKEN='x')", "send(TOKEN=[redacted])"),
    ] {
        assert_eq!(r.text(text), want, "{text}");
    }
}

#[test]
fn a_word_cut_short_is_hidden_since_a_pattern_may_no_longer_see_it() {
    let r = rules(&[], &[r"sk-[0-9a-f]{8}"]);
    for (text, want) in [
        // RQ cuts each argument's repr at 75 characters and adds `...`.
        (
            "f('sk-0123a..., 'b..., x='ok')",
            "f('[redacted]..., '[redacted]..., x='ok')",
        ),
        ("f(\"sk-0123a...\")", "f(\"[redacted]...\")"),
        ("f(1, token='sk-01...)", "f(1, token='[redacted]...)"),
        // The dashboard's own cuts, at the end and (tracebacks) at the start.
        ("key sk-012…", "key [redacted]…"),
        ("…3abcd failed", "…[redacted] failed"),
        // Not a cut: nothing hidden.
        ("loading... done", "loading... done"),
        ("done.", "done."),
    ] {
        assert_eq!(r.text(text), want, "{text}");
    }
    // Without patterns a cut hides nothing (keys find their values whole).
    assert_eq!(rules(&["k"], &[]).text("k='abc…"), "k=[redacted]");
    assert_eq!(rules(&["k"], &[]).text("x='abc…"), "x='abc…");
}

#[test]
fn patterns_hide_every_match_in_every_string_and_number() {
    let r = rules(&[], &[r"sk-[0-9a-f]{8}", r"\d{16}"]);
    assert_eq!(
        r.text("ValueError: bad key sk-0123abcd and sk-99999999!"),
        "ValueError: bad key [redacted] and [redacted]!"
    );
    assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    let mut v = PyValue::Dict(vec![
        (s("card"), PyValue::Int(4_111_111_111_111_111)),
        (s("sk-0123abcd"), PyValue::Bytes(b"x sk-0123abcd".to_vec())),
        (s("n"), PyValue::Int(3)),
    ]);
    r.py(&mut v);
    assert_eq!(
        v.repr(200),
        "{'card': [redacted], '[redacted]': b'x [redacted]', 'n': 3}"
    );
    let mut j = serde_json::json!({"sk-0123abcd": 4111111111111111u64, "m": "sk-0123abcd"});
    r.json(&mut j);
    assert_eq!(
        j,
        serde_json::json!({"[redacted]": "[redacted]", "m": "[redacted]"})
    );
}

#[test]
fn a_job_is_redacted_everywhere_its_data_shows() {
    let r = rules(&["secret"], &["hunter2"]);
    let mut h = crate::rq::model::RawHash::new();
    h.insert("description".into(), b"f(secret='x', y='hunter2')".to_vec());
    h.insert("meta".into(), b"{\"secret\": 1}".to_vec());
    h.insert("data".into(), b"[\"f\", null, [\"hunter2\"], {}]".to_vec());
    h.insert("worker_name".into(), b"w-hunter2".to_vec());
    let mut j = JobDetail::from_hash("id", &h, true);
    r.detail(&mut j);
    assert_eq!(
        j.description.as_deref(),
        Some("f(secret=[redacted], y='[redacted]')")
    );
    assert_eq!(
        j.meta.as_ref().unwrap().repr(100),
        r#"{"secret":"[redacted]"}"#
    );
    assert_eq!(
        j.call.as_ref().unwrap().call_string(100),
        r#"f("[redacted]")"#
    );
    let raw: HashMap<_, _> = j.raw_fields.iter().cloned().collect();
    assert_eq!(raw["meta"], REDACTED);
    assert_eq!(raw["data"], REDACTED);
    assert_eq!(raw["worker_name"], "w-[redacted]");
}

#[test]
fn records_hide_search_texts_whole() {
    let r = rules(&[], &["secret-[0-9]+"]);
    assert_eq!(
        r.recorded("registry=failed&q=anything&exc=Timeout&func=a.secret-12"),
        "registry=failed&q=[redacted]&exc=[redacted]&func=a.[redacted]"
    );
    assert_eq!(
        r.recorded("no finished search: GET /0/data/search.json?queue=*&q=x"),
        "no finished search: GET /0/data/search.json?queue=*&q=[redacted]"
    );
    // Without rules, records keep what was typed.
    assert_eq!(Redactor::default().recorded("q=x"), "q=x");
}

#[test]
fn bad_patterns_are_refused_at_start_up_in_one_line() {
    let e = Redactor::new(&[], &["(unclosed".into()]).unwrap_err();
    assert!(
        e.starts_with("invalid --redact-pattern \"(unclosed\""),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let e = Redactor::new(&[], &["x*".into()]).unwrap_err();
    assert!(e.contains("matches the empty text"), "{e}");
    assert!(!Redactor::new(&["  ".into()], &[]).unwrap().is_active());
}

#[test]
fn only_viewers_granted_unredacted_on_the_queue_see_the_values() {
    let r = Arc::new(rules(&["k"], &[]));
    let policy = crate::config::policy::parse(
        r#"role = [
            { name = "eu", actions = ["view", "unredacted"], queues = ["eu-*"], users = ["ann"] },
            { name = "all", actions = "*", users = ["ada"] },
            { name = "viewer", actions = ["view"], users = ["vic"] },
        ]"#,
    )
    .unwrap();
    let sight = |u: &str| Sight::of(r.clone(), Some(Arc::new(policy.grants(u, &[]))));
    let ann = sight("ann");
    assert!(ann.hides(Some("eu-1")).is_none());
    assert!(ann.hides(Some("us-1")).is_some());
    assert!(ann.hides(None).is_some());
    assert!(sight("ada").hides(None).is_none());
    assert!(sight("vic").hides(Some("eu-1")).is_some());
    // No policy: nobody is exempt.
    assert!(Sight::of(r.clone(), None).hides(Some("eu-1")).is_some());
    // The cache keys tell them apart, and no rules means nothing to tell.
    let keys = [ann.key(), sight("ada").key(), sight("vic").key()];
    assert_eq!(keys[1], "unredacted");
    assert_eq!(keys[2], "redacted");
    assert!(keys[0].starts_with("unredacted-in-some:"));
    assert_eq!(Sight::blind(Arc::new(Redactor::default())).key(), "");
}
