//! Unit tests of the search criteria: parsing, matching and what a redacted field may match.

use super::*;

#[test]
fn the_query_is_shown_as_typed_and_matched_whatever_the_case() {
    let a = form(&[("exc", " TimeoutError: Partner API "), ("worker", "W-1")])
        .parse()
        .unwrap();
    let b = form(&[("exc", "timeouterror: partner api"), ("worker", "w-1")])
        .parse()
        .unwrap();
    assert_eq!(a.key(), b.key());
    assert_eq!(a, b);
    assert!(
        a.describe()
            .contains("exception “TimeoutError: Partner API”")
            && a.describe().contains("worker “W-1”"),
        "{}",
        a.describe()
    );
    assert_eq!(a.to_form().exc, "TimeoutError: Partner API");
    assert_eq!(a.exc.as_deref(), Some("timeouterror: partner api"));
}

fn form(pairs: &[(&str, &str)]) -> SearchForm {
    let s = serde_urlencoded::to_string(pairs).unwrap();
    serde_urlencoded::from_str(&s).unwrap()
}

#[test]
fn queries_normalise_so_equal_searches_share_a_key() {
    let a = form(&[("exc", "  TimeoutError "), ("registry", "failed")])
        .parse()
        .unwrap();
    let b = form(&[("exc", "timeouterror"), ("queue", "*")])
        .parse()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.key(), b.key());
    let c = form(&[("exc", "timeouterror"), ("queue", "default")])
        .parse()
        .unwrap();
    assert_ne!(a.key(), c.key());
}

#[test]
fn bad_input_is_a_clear_400() {
    for bad in [
        vec![("registry", "nope")],
        vec![("registry", "ready")],
        vec![("since", "yesterday")],
        vec![("since", "NaN")],
        vec![("since", "2026-12-02"), ("until", "2026-12-01")],
        vec![("q", "a\u{0}b")],
    ] {
        let e = form(&bad).parse().unwrap_err();
        assert_eq!(e.status().as_u16(), 400, "{bad:?}");
    }
    let long = "x".repeat(MAX_CRITERION + 1);
    assert_eq!(form(&[("func", &long)]).parse().unwrap_err().status(), 400);
}

#[test]
fn times_accept_iso_dates_and_epoch_seconds() {
    let e = 1_764_547_200_000_000i64; // 2025-12-01T00:00:00Z
    for v in [
        "1764547200",
        "2025-12-01",
        "2025-12-01T00:00:00Z",
        "2025-12-01T02:00:00+02:00",
        "2025-12-01T00:00",
    ] {
        assert_eq!(parse_time("since", v).unwrap(), Some(e), "{v}");
    }
}

#[test]
fn text_is_plain_and_case_insensitive() {
    let q = form(&[("q", "A.*B"), ("worker", "W1")]).parse().unwrap();
    let c = Candidate {
        id: "x".into(),
        exists: true,
        description: Some("call a.*b(1)".into()),
        worker: Some("host-w1".into()),
        ..Candidate::default()
    };
    assert!(q.matches(&c, false, None));
    let regexy = Candidate {
        description: Some("call aXXb(1)".into()),
        ..c.clone()
    };
    assert!(
        !q.matches(&regexy, false, None),
        "regex characters are plain text"
    );
    let gone = Candidate { exists: false, ..c };
    assert!(!q.matches(&gone, false, None));
}

#[test]
fn exceptions_match_the_last_traceback_line() {
    let q = form(&[("exc", "valueerror: bad")]).parse().unwrap();
    let c = Candidate {
        exists: true,
        traceback: Some("Traceback:\n  File x\nValueError: bad input\n".into()),
        ..Candidate::default()
    };
    assert!(q.matches(&c, false, None));
    let earlier = Candidate {
        traceback: Some("ValueError: bad input\nDuring handling:\nKeyError: 'k'\n".into()),
        ..c.clone()
    };
    assert!(
        !q.matches(&earlier, false, None),
        "only the last line counts"
    );
    let none = Candidate {
        traceback: None,
        ..c
    };
    assert!(!q.matches(&none, false, None));
}

#[test]
fn a_search_never_finds_a_hidden_value_but_finds_what_shows() {
    let r = Redactor::new(&["token".into()], &[r"sk-[0-9a-f]{8}".into()]).unwrap();
    let c = Candidate {
        id: "j".into(),
        exists: true,
        description: Some("app.send('sk-0123abcd', token='t0k-plain')".into()),
        traceback: Some("Traceback\nValueError: bad key sk-0123abcd".into()),
        data: Some(br#"["app.send", null, ["sk-0123abcd"], {"token": "t0k-plain"}]"#.to_vec()),
        ..Candidate::default()
    };
    let query = |field: &str, text: &str| {
        let mut f = SearchForm::default();
        match field {
            "q" => f.q = text.into(),
            "exc" => f.exc = text.into(),
            _ => f.func = text.into(),
        }
        f.parse().unwrap()
    };
    for (field, text) in [
        ("q", "sk-0123abcd"),
        ("q", "0123ab"),
        ("q", "t0k-plain"),
        ("q", "plain"),
        ("exc", "sk-0123"),
    ] {
        let q = query(field, text);
        assert!(q.matches(&c, true, None), "{field}={text} without rules");
        assert!(!q.matches(&c, true, Some(&r)), "{field}={text} is hidden");
    }
    for (field, text) in [
        ("q", "token=[redacted]"),
        ("exc", "bad key"),
        ("func", "send"),
    ] {
        assert!(
            query(field, text).matches(&c, true, Some(&r)),
            "{field}={text}"
        );
    }
    // Text that is itself hidden is refused before any scan.
    assert_eq!(
        query("q", "x sk-0123abcd").hidden_text(&r).as_deref(),
        Some("x [redacted]")
    );
    assert_eq!(query("q", "0123ab").hidden_text(&r), None);
}

#[test]
fn records_hide_the_searched_texts_whole() {
    let r = Redactor::new(&[], &["secret-[0-9]+".into()]).unwrap();
    let q = SearchForm {
        q: "Anything".into(),
        func: "f".into(),
        ..SearchForm::default()
    };
    let d = q.parse().unwrap().recorded_description(&r);
    assert!(
        d.contains("text “[redacted]”") && !d.contains("Anything"),
        "{d}"
    );
    // Without rules, records keep what was typed.
    let none = Redactor::default();
    assert!(q
        .parse()
        .unwrap()
        .recorded_description(&none)
        .contains("Anything"));
}
