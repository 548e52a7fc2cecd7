//! Reading a token's header before any key is chosen.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer};

/// Header parameters that point at a key or certificate to verify the token
/// with. Trusting one would let the token choose its own key, so a token
/// that carries any of them is rejected and the reference is never fetched.
const KEY_REFERENCE_PARAMETERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// The header parameters that select and check the key.
#[derive(Debug)]
pub(super) struct TokenHeader {
    pub(super) alg: String,
    pub(super) kid: Option<String>,
}

/// The header as parsed. `alg` and `kid` must be strings when present, so
/// any other type, `null` included, fails the parse. The others only
/// record their presence.
#[derive(Deserialize)]
struct RawHeader {
    #[serde(default, deserialize_with = "non_null_string")]
    alg: Option<String>,
    #[serde(default, deserialize_with = "non_null_string")]
    kid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    jku: bool,
    #[serde(default, deserialize_with = "present")]
    x5u: bool,
    #[serde(default, deserialize_with = "present")]
    jwk: bool,
    #[serde(default, deserialize_with = "present")]
    x5c: bool,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// A parameter that is there must be a string; `Option<String>` alone
/// would read `null` as absent.
fn non_null_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// True whenever the parameter is there, even as `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Decodes the header of a compact JWS (three base64url segments) and
/// rejects what no configured key may accept. The error is the reason for
/// the log.
pub(super) fn read_header(token: &str) -> Result<TokenHeader, String> {
    let mut segments = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(format!(
            "the token has {} segments; a signed JWT has 3",
            token.split('.').count()
        ));
    };

    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|error| format!("the header is not base64url: {error}"))?;
    // A struct, not a `Map`: the parameters that are only checked for
    // presence are skipped without being built, which matters because
    // this runs on every request. A JSON array would also fill a struct,
    // so the header must open as an object.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err("the header is not a JSON object".to_string());
    }
    let header: RawHeader = serde_json::from_slice(&bytes).map_err(|error| {
        format!("the header is not a JSON object with string `alg` and `kid`: {error}")
    })?;

    let references = [header.jku, header.x5u, header.jwk, header.x5c];
    if let Some((name, _)) = KEY_REFERENCE_PARAMETERS
        .iter()
        .zip(references)
        .find(|(_, present)| *present)
    {
        return Err(format!(
            "the header carries `{name}`, which is never trusted"
        ));
    }
    // RFC 7515 requires rejecting a token whose `crit` lists an extension
    // the verifier does not implement, and Gauntlet implements none.
    if header.crit {
        return Err("the header lists critical extensions (`crit`)".to_string());
    }

    let alg = header
        .alg
        .ok_or_else(|| "the header has no `alg` string".to_string())?;
    Ok(TokenHeader {
        alg,
        kid: header.kid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn token_with_header(header: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        format!("{header}.e30.c2ln")
    }

    #[test]
    fn header_alg_and_kid_are_read() {
        let token = token_with_header(&serde_json::json!({ "alg": "ES256", "kid": "k1" }));

        let header = read_header(&token).expect("a plain header is accepted");

        assert_eq!(header.alg, "ES256");
        assert_eq!(header.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn header_key_references_are_rejected() {
        for name in KEY_REFERENCE_PARAMETERS {
            let mut header = serde_json::json!({ "alg": "RS256", "kid": "k1" });
            header[name] = Value::from("https://attacker.example/keys");

            let error = read_header(&token_with_header(&header))
                .expect_err("a key reference in the header is rejected");

            assert!(error.contains(name), "{name}: {error}");
        }
    }

    #[test]
    fn header_key_reference_set_to_null_is_rejected() {
        let header = serde_json::json!({ "alg": "HS256", "jku": null });

        let error = read_header(&token_with_header(&header))
            .expect_err("a key reference is rejected whatever its value");

        assert!(error.contains("jku"), "{error}");
    }

    #[test]
    fn header_that_is_an_array_is_rejected() {
        let header = serde_json::json!(["HS256", "k1"]);

        assert!(read_header(&token_with_header(&header)).is_err());
    }

    #[test]
    fn header_crit_is_rejected() {
        let header = serde_json::json!({ "alg": "HS256", "crit": ["b64"], "b64": false });

        assert!(read_header(&token_with_header(&header)).is_err());
    }

    #[test]
    fn header_non_string_kid_is_rejected() {
        for kid in [Value::from(7), Value::Null, serde_json::json!(["k1"])] {
            let header = serde_json::json!({ "alg": "HS256", "kid": kid });

            assert!(read_header(&token_with_header(&header)).is_err(), "{kid}");
        }
    }

    #[test]
    fn header_null_alg_is_rejected() {
        let header = serde_json::json!({ "alg": null });

        assert!(read_header(&token_with_header(&header)).is_err());
    }

    #[test]
    fn token_segment_count_is_checked() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);

        assert!(read_header(&format!("{header}.e30")).is_err());
        assert!(read_header(&format!("{header}.e30.c2ln.c2ln")).is_err());
    }
}
