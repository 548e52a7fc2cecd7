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

async fn send(
    client: &reqwest::Client,
    base: &str,
    probe: &Probe,
    request_id: &str,
) -> anyhow::Result<Answer> {
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
    let bytes = response.bytes().await?;
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        })
    };
    Ok(Answer { status, body })
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
        let mut hand = send(&client, &bases["h"], probe, &request_id).await?;
        let mut generated = send(&client, &bases["g"], probe, &request_id).await?;
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
            let mut plain = send(&client, &bases["p"], probe, &request_id).await?;
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
