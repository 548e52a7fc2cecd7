//! Path parameter and list query parsing on arbitrary text.
//!
//! An accepted id must be positive and written exactly as it prints, so
//! that `7`, `07`, ` 7` and `+7` can never name the same row twice. The
//! input is also split on `/` into the captures of one-, two- and
//! three-id routes, and parsed as a list query, whose page size and
//! cursor must stay within their bounds.

#![no_main]

use gauntlet::{Id, PageRequest, PathParams, MAX_PAGE_SIZE};
use libfuzzer_sys::fuzz_target;

type AnyId = Id<()>;

fn check_id(id: AnyId, text: &str) {
    assert!(id.get() > 0, "accepted the non-positive id {text:?}");
    assert_eq!(
        id.to_string(),
        text,
        "accepted the non-canonical id {text:?}"
    );
}

fn captures(text: &str) -> Vec<(String, String)> {
    text.split('/')
        .enumerate()
        .map(|(index, segment)| (format!("id{index}"), segment.to_string()))
        .collect()
}

fn check_rejection<T>(result: Result<T, gauntlet::FieldError>, segments: &[(String, String)]) {
    if let Err(error) = result {
        assert!(
            segments.iter().any(|(name, _)| name == error.field()) || error.field() == "path",
            "the error names {:?}, which is no capture",
            error.field()
        );
        assert_eq!(error.reason(), "must be a positive integer id");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Some(id) = AnyId::parse(text) {
        check_id(id, text);
    }

    let segments = captures(text);
    let borrowed: Vec<(&str, &str)> = segments
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    match <AnyId as PathParams>::from_segments(&borrowed) {
        Ok(id) => check_id(id, &segments[0].1),
        result => check_rejection(result, &segments),
    }
    match <(AnyId, AnyId) as PathParams>::from_segments(&borrowed) {
        Ok((first, second)) => {
            check_id(first, &segments[0].1);
            check_id(second, &segments[1].1);
        }
        result => check_rejection(result, &segments),
    }
    match <(AnyId, AnyId, AnyId) as PathParams>::from_segments(&borrowed) {
        Ok((first, second, third)) => {
            check_id(first, &segments[0].1);
            check_id(second, &segments[1].1);
            check_id(third, &segments[2].1);
        }
        result => check_rejection(result, &segments),
    }

    match PageRequest::from_query(text) {
        Ok(page) => {
            assert!(
                (1..=MAX_PAGE_SIZE).contains(&page.limit()),
                "the query {text:?} gave the page size {}",
                page.limit()
            );
            assert!(
                page.after().is_none_or(|after| after > 0),
                "the query {text:?} gave the cursor {:?}",
                page.after()
            );
        }
        Err(error) => {
            assert_eq!(error.status(), 400, "the query {text:?} was not a 400");
            for field in error.fields() {
                assert!(
                    ["", "limit", "after"].contains(&field.field()),
                    "the error for {text:?} names {:?}",
                    field.field()
                );
            }
        }
    }
});
