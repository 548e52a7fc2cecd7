//! Before anything is timed: H and G must answer the same requests with the
//! same status and body, so that neither is fast by skipping a check.

use std::collections::BTreeMap;

use anyhow::Context;
use jsonwebtoken::Algorithm;
use reqwest::Method;

use crate::setup::{Keys, OTHER_USER};

/// One request of the comparison.
struct Probe {
    name: &'static str,
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<String>,
    expected: u16,
}

/// A response reduced to what is compared.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    body: serde_json::Value,
}

/// The header fields that H and G must both send: the entity tag and the
/// `RateLimit` fields. P sends neither.
#[derive(Debug, PartialEq)]
struct Fields {
    entity_tag: Option<String>,
    rate_limit_policy: Option<String>,
    rate_limit: Option<String>,
}

impl Fields {
    /// Checks that the entity tag names the body's own id and version.
    fn check_entity_tag(
        &self,
        body: &serde_json::Value,
        variant: &str,
        probe: &str,
    ) -> anyhow::Result<()> {
        let id = body.get("id").and_then(serde_json::Value::as_i64);
        let version = body.get("version").and_then(serde_json::Value::as_i64);
        let expected = id
            .zip(version)
            .map(|(id, version)| format!("\"{id:x}-{version:x}\""));
        if self.entity_tag != expected {
            anyhow::bail!(
                "{variant} sends ETag {:?} on `{probe}`, expected {:?} from its body",
                self.entity_tag,
                expected
            );
        }
        Ok(())
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    probe: &Probe,
    request_id: &str,
) -> anyhow::Result<(Answer, Fields)> {
    let mut request = client
        .request(probe.method.clone(), format!("{base}{}", probe.path))
        .header("x-request-id", request_id);
    if let Some(token) = &probe.token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = &probe.body {
        request = request
            .header("content-type", "application/json")
            .body(body.clone());
    }
    let response = request.send().await.context("sending a check request")?;
    let status = response.status().as_u16();
    let field = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let fields = Fields {
        entity_tag: field("etag"),
        rate_limit_policy: field("ratelimit-policy"),
        rate_limit: field("ratelimit"),
    };
    let bytes = response.bytes().await?;
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        })
    };
    Ok((Answer { status, body }, fields))
}

/// Sends every probe to H and G (and the successful ones to P, whose body
/// must match too) and fails on the first difference. `invoices` is how
/// many invoices the caller owns; the next id belongs to another user.
pub async fn check(
    bases: &BTreeMap<&str, String>,
    keys: &Keys,
    invoices: i64,
) -> anyhow::Result<usize> {
    let client = reqwest::Client::new();
    let hs256 = keys.token(Algorithm::HS256, 1)?;
    let eddsa = keys.token(Algorithm::EdDSA, 1)?;
    let mut forged = hs256.clone();
    forged.pop();
    forged.push(if hs256.ends_with('A') { 'B' } else { 'A' });
    let others = keys.token(Algorithm::HS256, OTHER_USER)?;
    let long_note = format!("{{\"note\":\"{}\"}}", "x".repeat(2001));
    let get = |name, path: String, token: Option<&String>, expected| Probe {
        name,
        method: Method::GET,
        path,
        token: token.cloned(),
        body: None,
        expected,
    };

    let probes = vec![
        get("read", "/invoices/1".into(), Some(&hs256), 200),
        get("read with EdDSA", "/invoices/2".into(), Some(&eddsa), 200),
        get("read without token", "/invoices/1".into(), None, 401),
        get(
            "read with forged token",
            "/invoices/1".into(),
            Some(&forged),
            401,
        ),
        get(
            "read another owner's invoice",
            format!("/invoices/{}", invoices + 1),
            Some(&hs256),
            404,
        ),
        get(
            "the other owner reads the caller's invoice",
            "/invoices/1".into(),
            Some(&others),
            404,
        ),
        get("read id 0", "/invoices/0".into(), Some(&hs256), 400),
        get("read id 01", "/invoices/01".into(), Some(&hs256), 400),
        Probe {
            name: "patch with a note over 2000 characters",
            method: Method::PATCH,
            path: "/invoices/1".into(),
            token: Some(hs256.clone()),
            body: Some(long_note),
            expected: 400,
        },
        Probe {
            name: "patch with a body nested 33 deep",
            method: Method::PATCH,
            path: "/invoices/1".into(),
            token: Some(hs256.clone()),
            body: Some(format!("{{\"note\":{}{}}}", "[".repeat(32), "]".repeat(32))),
            expected: 400,
        },
        Probe {
            name: "patch with an array of the fields",
            method: Method::PATCH,
            path: "/invoices/1".into(),
            token: Some(hs256.clone()),
            body: Some("[\"checked\", null]".into()),
            expected: 400,
        },
        Probe {
            name: "patch without token",
            method: Method::PATCH,
            path: "/invoices/1".into(),
            token: None,
            body: Some("{\"note\":\"checked\"}".into()),
            expected: 401,
        },
        Probe {
            name: "patch another owner's invoice",
            method: Method::PATCH,
            path: format!("/invoices/{}", invoices + 1),
            token: Some(hs256.clone()),
            body: Some("{\"note\":\"checked\"}".into()),
            expected: 404,
        },
        Probe {
            name: "patch",
            method: Method::PATCH,
            path: "/invoices/1".into(),
            token: Some(hs256.clone()),
            body: Some("{\"note\":\"checked\",\"due_date\":\"2026-04-01\"}".into()),
            expected: 200,
        },
        get("read after patch", "/invoices/1".into(), Some(&hs256), 200),
        get(
            "list page 1",
            "/invoices?limit=10".into(),
            Some(&hs256),
            200,
        ),
        get(
            "list page 5",
            "/invoices?limit=10&after=40".into(),
            Some(&hs256),
            200,
        ),
        get(
            "list with limit 0",
            "/invoices?limit=0".into(),
            Some(&hs256),
            400,
        ),
        get("ping", "/ping/1".into(), Some(&hs256), 204),
        get("ping with EdDSA", "/ping/1".into(), Some(&eddsa), 204),
        get("ping without token", "/ping/1".into(), None, 401),
        get(
            "limited read",
            "/limited/invoices/1".into(),
            Some(&hs256),
            200,
        ),
        get(
            "limited read past the budget",
            "/limited/invoices/1".into(),
            Some(&hs256),
            429,
        ),
    ];

    for (index, probe) in probes.iter().enumerate() {
        let request_id = format!("parity-{index}");
        let (mut hand, hand_fields) = send(&client, &bases["h"], probe, &request_id).await?;
        let (mut generated, generated_fields) =
            send(&client, &bases["g"], probe, &request_id).await?;
        // The tag carries the version, which differs after writes, so each
        // is checked against its own body; the rate limit fields must match.
        if hand.status == 200 || hand.status == 201 {
            hand_fields.check_entity_tag(&hand.body, "H", probe.name)?;
            generated_fields.check_entity_tag(&generated.body, "G", probe.name)?;
        }
        let rate_limits =
            |fields: &Fields| (fields.rate_limit_policy.clone(), fields.rate_limit.clone());
        if rate_limits(&hand_fields) != rate_limits(&generated_fields) {
            anyhow::bail!(
                "H and G send other RateLimit fields on `{}`:\n  H: {:?}\n  G: {:?}",
                probe.name,
                rate_limits(&hand_fields),
                rate_limits(&generated_fields)
            );
        }
        // The variants write the same row in turn, so each successful write
        // must leave the version one above the previous variant's. The rest
        // of the body must be equal.
        let writes = probe.method == Method::PATCH && probe.expected == 200;
        let versions = writes.then(|| (take_version(&mut hand), take_version(&mut generated)));
        if let Some((Some(hand_version), Some(generated_version))) = versions {
            if generated_version != hand_version + 1 {
                anyhow::bail!(
                    "`{}` left version {hand_version} after H and {generated_version} after G",
                    probe.name
                );
            }
        }
        if hand != generated {
            anyhow::bail!(
                "H and G differ on `{}`:\n  H: {} {}\n  G: {} {}",
                probe.name,
                hand.status,
                hand.body,
                generated.status,
                generated.body
            );
        }
        if hand.status != probe.expected {
            anyhow::bail!(
                "`{}` answered {} {} from both H and G, expected {}",
                probe.name,
                hand.status,
                hand.body,
                probe.expected
            );
        }
        let plain_serves_it = probe.expected == 200 && !probe.path.starts_with("/limited");
        if plain_serves_it && probe.token.as_ref() == Some(&hs256) {
            let (mut plain, _) = send(&client, &bases["p"], probe, &request_id).await?;
            if writes {
                take_version(&mut plain);
            }
            if plain != hand {
                anyhow::bail!(
                    "P sends another body than H on `{}`:\n  P: {} {}\n  H: {}",
                    probe.name,
                    plain.status,
                    plain.body,
                    hand.body
                );
            }
        }
    }
    Ok(probes.len())
}

/// Removes and returns the `version` field of an invoice body.
fn take_version(answer: &mut Answer) -> Option<i64> {
    answer.body.as_object_mut()?.remove("version")?.as_i64()
}
