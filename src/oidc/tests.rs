//! Single sign-on's unit tests: the sealed session, the groups claim, single-use states.
use super::*;

fn oidc() -> Oidc {
    Oidc::new(
        Config {
            issuer: "http://127.0.0.1:1".into(),
            client_id: "rqdash".into(),
            client_secret: None,
            groups_claim: "groups".into(),
            scopes: vec![],
            session: Duration::from_secs(3600),
            public_url: "https://rq.example.com/dash".into(),
            cookie_path: "/dash".into(),
        },
        "0123456789abcdef0123",
    )
}

#[test]
fn a_session_opens_only_under_its_key_and_until_it_expires() {
    let o = oidc();
    let s = Session {
        user: "ann".into(),
        groups: vec!["ops".into()],
        expires: now_secs() + 60,
        hint: None,
    };
    let c = o.session_cookie(&s);
    assert!(c.secure().unwrap_or(false), "https public URL: Secure");
    assert_eq!(c.path(), Some("/dash/"));
    assert!(!c.value().contains("ann"), "sealed, not readable");
    assert_eq!(o.session(c.value()), Some(s.clone()));
    let other = Oidc::new(o.config().clone(), "another secret, 16+ chars");
    assert_eq!(other.session(c.value()), None, "another key opens nothing");
    let mut tampered = c.value().to_string();
    tampered.replace_range(10..11, if &tampered[10..11] == "A" { "B" } else { "A" });
    assert_eq!(o.session(&tampered), None);
    let old = Session {
        expires: now_secs() - 1,
        ..s
    };
    assert_eq!(o.session(o.session_cookie(&old).value()), None, "expired");
    // A login cookie is not a session, even under the same key.
    let login = o.seal(
        LOGIN_COOKIE,
        serde_json::to_string(&old).unwrap(),
        LOGIN_TTL,
        "/auth/",
    );
    assert_eq!(o.session(login.value()), None);
}

#[test]
fn groups_come_as_a_list_or_a_string() {
    let v = serde_json::json!({"groups": ["a", "b"], "roles": "x, y z", "n": 1});
    assert_eq!(claim_list(&v, "groups"), Some(vec!["a".into(), "b".into()]));
    assert_eq!(
        claim_list(&v, "roles"),
        Some(vec!["x".into(), "y".into(), "z".into()])
    );
    assert_eq!(claim_list(&v, "missing"), None);
}

#[test]
fn a_state_is_accepted_once() {
    let o = oidc();
    assert!(o.use_state("s1").is_ok());
    assert!(matches!(o.use_state("s1"), Err(Failure::Replayed)));
    assert!(o.use_state("s2").is_ok());
}
