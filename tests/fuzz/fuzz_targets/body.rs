//! JSON body parsing into the invoices example's generated schemas.
//!
//! The first byte picks the schema (`InvoiceCreate`, `InvoicePatch` or
//! `LoginRequest`) and the rest is the body, parsed by the same entry the
//! validation stage calls. A rejection must be a 400 whose field errors
//! name only the schema's resource fields and repeat nothing the client
//! wrote: no unknown key, no value, no parser message.

#![no_main]

use gauntlet::__private::SchemaSealed;
use gauntlet::ApiError;
use invoices::model::{InvoiceCreate, InvoicePatch, LoginRequest};
use libfuzzer_sys::fuzz_target;

/// Every field of `Invoice`, which its schemas may name in an error
/// (`version` when a body tries to set it).
const INVOICE_FIELDS: &[&str] = &[
    "id",
    "owner_id",
    "customer_name",
    "customer_address",
    "line_items",
    "total_cents",
    "note",
    "due_date",
    "is_paid",
    "payment_reference",
    "version",
];

const LOGIN_FIELDS: &[&str] = &["email", "password"];

fn check_rejection(error: &ApiError, known: &[&str], body: &[u8]) {
    assert_eq!(
        error.status(),
        400,
        "a body was rejected with {}",
        error.status()
    );

    for field in error.fields() {
        let path = field.field();
        let first = path.split(['.', '[']).next().unwrap_or_default();
        assert!(
            path.is_empty() || known.contains(&first),
            "the error names {path:?}, which is no field of the schema"
        );
        assert!(
            path.bytes()
                .all(|byte| byte.is_ascii_lowercase() || b"_.[]0123456789".contains(&byte)),
            "the error path {path:?} carries characters a field name cannot have"
        );

        let reason = field.reason();
        for marker in [
            "`",
            "\"",
            "unknown field",
            "invalid type",
            "expected",
            "line ",
        ] {
            assert!(
                !reason.contains(marker),
                "the reason {reason:?} passes on the parser's message ({marker:?})"
            );
        }
        // A reason is written by the server; any longer piece of the body
        // in it is an echo of the client's input.
        if let Ok(text) = std::str::from_utf8(body) {
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                if word.len() >= 12 {
                    assert!(
                        !reason.contains(word),
                        "the reason {reason:?} repeats {word:?} from the body"
                    );
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };

    match selector % 3 {
        0 => {
            if let Err(error) = InvoiceCreate::parse_json(body) {
                check_rejection(&error, INVOICE_FIELDS, body);
            }
        }
        1 => {
            if let Err(error) = InvoicePatch::parse_json(body) {
                check_rejection(&error, INVOICE_FIELDS, body);
            }
        }
        _ => {
            if let Err(error) = LoginRequest::parse_json(body) {
                check_rejection(&error, LOGIN_FIELDS, body);
            }
        }
    }
});
