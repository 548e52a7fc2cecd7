//! Optimistic concurrency: entity tags and the conditional request headers
//! `If-Match` and `If-None-Match` (RFC 9110, section 13).
//!
//! A resource declared with `version = "column"` has an `ETag` derived from
//! its id and version. The scoped writes add the version condition to the
//! same statement that binds the owner, so a write made from a stale tag
//! matches no row and changes nothing.

use std::fmt;
use std::marker::PhantomData;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::__private::{Ctx, ResourceSql};
use crate::args::HandlerArg;
use crate::audit::Stage;
use crate::error::{ApiError, ErrorKind};
use crate::openapi::OperationDoc;
use crate::pipeline::{AuthRequired, Reply};
use crate::resource::Owned;

/// Returns the strong entity tag of row `id` at `version`, quotes included.
///
/// Clients must treat it as opaque: they only send it back. It names the id
/// as well as the version, so a tag taken from one row never matches another.
pub(crate) fn entity_tag(id: i64, version: i64) -> String {
    EntityTagText::new(id, version).as_str().to_string()
}

/// An entity tag written on the stack: `"<id>-<version>"`, both in lower-case
/// hexadecimal (a negative number as its 64-bit two's complement), quotes
/// included. Tagging a response is then one copy, without the formatting
/// machinery, on every read and write of a versioned resource.
struct EntityTagText {
    bytes: [u8; 35],
    len: usize,
}

impl EntityTagText {
    fn new(id: i64, version: i64) -> Self {
        let mut text = EntityTagText {
            bytes: [0; 35],
            len: 0,
        };
        text.push(b'"');
        text.push_hex(id as u64);
        text.push(b'-');
        text.push_hex(version as u64);
        text.push(b'"');
        text
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn push_hex(&mut self, value: u64) {
        let digits = (64 - value.leading_zeros()).div_ceil(4).max(1);
        for index in (0..digits).rev() {
            let nibble = ((value >> (index * 4)) & 0xf) as u8;
            self.push(b"0123456789abcdef"[usize::from(nibble)]);
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII quotes, hexadecimal digits and `-` are written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("\"\"")
    }
}

/// Reads the version back from a tag made by [`entity_tag`] for row `id`.
/// Returns `None` for a weak tag, a tag of another row, or a tag this
/// server did not make.
fn version_of(tag: &EntityTag, id: i64) -> Option<i64> {
    if tag.weak {
        return None;
    }
    let (tag_id, version) = tag.opaque.split_once('-')?;
    let tag_id = i64::from_str_radix(tag_id, 16).ok()?;
    let version = i64::from_str_radix(version, 16).ok()?;
    // Only the canonical spelling counts, so one version has exactly one tag.
    let canonical = entity_tag(id, version);
    (tag_id == id && canonical.trim_matches('"') == tag.opaque).then_some(version)
}

/// Returns the tag of a row, or `None` when its resource has no version column.
fn tag_of<T: ResourceSql>(row: &T) -> Option<EntityTagText> {
    row.version()
        .map(|version| EntityTagText::new(row.id(), version))
}

/// One entity tag of a conditional header, without its quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntityTag {
    weak: bool,
    opaque: String,
}

/// The value of `If-Match` or `If-None-Match`: `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TagList {
    Any,
    Tags(Vec<EntityTag>),
}

/// The maximum number of entity tags one conditional header may list. A client has one
/// or two tags of a row to offer, and every tag of `If-Match` becomes a
/// bound parameter of the write, so a longer list is rejected before it
/// reaches the database (SQLite accepts at most 32766 parameters in one
/// statement, PostgreSQL 65535).
const MAX_ENTITY_TAGS: usize = 64;

/// Parses every instance of header `name`; `Ok(None)` when it is absent.
/// A list of more than [`MAX_ENTITY_TAGS`] tags is malformed.
fn parse_header(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<TagList>, ()> {
    let mut tags = Vec::new();
    let mut any = false;
    let mut present = false;
    for value in headers.get_all(&name) {
        present = true;
        let value = value.to_str().map_err(|_| ())?;
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if item == "*" {
                any = true;
                continue;
            }
            let (weak, quoted) = match item.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let opaque = quoted
                .strip_prefix('"')
                .and_then(|rest| rest.strip_suffix('"'))
                .ok_or(())?;
            // RFC 9110 etagc: visible ASCII except the double quote.
            if !opaque
                .bytes()
                .all(|byte| byte == 0x21 || (0x23..=0x7e).contains(&byte))
            {
                return Err(());
            }
            if tags.len() == MAX_ENTITY_TAGS {
                return Err(());
            }
            tags.push(EntityTag {
                weak,
                opaque: opaque.to_string(),
            });
        }
    }
    if !present {
        return Ok(None);
    }
    // `*` together with tags is malformed. Reading it as `*` would let a
    // stale tag in the list write unconditionally, so it is rejected.
    match (any, tags.is_empty()) {
        (true, true) => Ok(Some(TagList::Any)),
        (false, false) => Ok(Some(TagList::Tags(tags))),
        _ => Err(()),
    }
}

fn malformed(name: &str) -> ApiError {
    ApiError::bad_request()
        .with_cause(format!(
            "the {name} header is not `*` or a list of at most {MAX_ENTITY_TAGS} entity tags"
        ))
        .at_stage(Stage::Validation)
}

/// The `If-Match` header of a write to resource `T`.
///
/// On a resource declared with `require_if_match`, extracting it fails with
/// 428 Precondition Required when the header is absent.
pub struct IfMatch<T> {
    tags: Option<TagList>,
    _resource: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for IfMatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IfMatch").field("tags", &self.tags).finish()
    }
}

/// The condition that an `If-Match` header puts on a write.
pub(crate) enum WriteCondition {
    /// No condition: the header is absent, or `*`, which any existing row meets.
    Unconditional,
    /// Only a row at one of these versions may change.
    Versions(Vec<i64>),
    /// No row can meet the condition: the tags name other rows or versions
    /// this server never made. The write fails with 412 if the row exists.
    Never,
}

impl<T: ResourceSql> IfMatch<T> {
    /// Reads the header; 400 when it is malformed, 428 when it is absent
    /// and `T` requires it.
    fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let tags = parse_header(headers, header::IF_MATCH).map_err(|()| malformed("If-Match"))?;
        if tags.is_none() && T::REQUIRE_IF_MATCH {
            return Err(precondition_required());
        }
        Ok(IfMatch {
            tags,
            _resource: PhantomData,
        })
    }

    /// Returns whether the request carried `If-Match`.
    pub fn is_present(&self) -> bool {
        self.tags.is_some()
    }

    /// Translates the header into a condition on row `id`'s version.
    pub(crate) fn condition(&self, id: i64) -> WriteCondition {
        match &self.tags {
            None | Some(TagList::Any) => WriteCondition::Unconditional,
            Some(TagList::Tags(tags)) => {
                let versions: Vec<i64> = if T::VERSION_COLUMN.is_some() {
                    tags.iter().filter_map(|tag| version_of(tag, id)).collect()
                } else {
                    // A resource without a version column has no tag to match.
                    Vec::new()
                };
                if versions.is_empty() {
                    WriteCondition::Never
                } else {
                    WriteCondition::Versions(versions)
                }
            }
        }
    }

    /// Returns whether `row` meets the condition, for a write that changes
    /// no column and so has no statement to carry it.
    pub(crate) fn matches(&self, row: &T) -> bool {
        match self.condition(row.id()) {
            WriteCondition::Unconditional => true,
            WriteCondition::Versions(versions) => row
                .version()
                .is_some_and(|version| versions.contains(&version)),
            WriteCondition::Never => false,
        }
    }
}

/// Builds the 428 of a write without `If-Match` to a resource that requires it.
pub(crate) fn precondition_required() -> ApiError {
    ApiError::new(ErrorKind::PreconditionRequired)
        .with_cause("the resource requires If-Match on every write")
        .at_stage(Stage::Validation)
}

/// Builds the 412 of a write whose `If-Match` no longer matches the caller's row.
pub(crate) fn precondition_failed() -> ApiError {
    ApiError::new(ErrorKind::PreconditionFailed)
        .with_cause("If-Match does not match the row's current version")
        .at_stage(Stage::Authorization)
}

/// The `If-None-Match` header of a read of resource `T`.
pub struct IfNoneMatch<T> {
    tags: Option<TagList>,
    _resource: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for IfNoneMatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IfNoneMatch")
            .field("tags", &self.tags)
            .finish()
    }
}

impl<T: ResourceSql> IfNoneMatch<T> {
    /// Returns whether the client's copy of `row` is current, by the weak
    /// comparison that RFC 9110 (section 13.1.2) prescribes for this header.
    pub(crate) fn matches(&self, row: &T) -> bool {
        match &self.tags {
            None => false,
            Some(TagList::Any) => true,
            Some(TagList::Tags(tags)) => tag_of(row).is_some_and(|current| {
                let current = current.as_str();
                tags.iter()
                    .any(|tag| current.get(1..current.len() - 1) == Some(tag.opaque.as_str()))
            }),
        }
    }
}

impl<T: ResourceSql, Scope> HandlerArg<AuthRequired, Scope> for IfMatch<T> {
    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        IfMatch::from_headers(&ctx.parts.headers)
    }

    fn describe(doc: &mut OperationDoc) {
        if T::VERSION_COLUMN.is_some() {
            doc.if_match(T::REQUIRE_IF_MATCH);
        }
    }
}

impl<T: ResourceSql, Scope> HandlerArg<AuthRequired, Scope> for IfNoneMatch<T> {
    fn extract(ctx: &mut Ctx<'_>) -> Result<Self, ApiError> {
        let tags = parse_header(&ctx.parts.headers, header::IF_NONE_MATCH)
            .map_err(|()| malformed("If-None-Match"))?;
        Ok(IfNoneMatch {
            tags,
            _resource: PhantomData,
        })
    }

    fn describe(doc: &mut OperationDoc) {
        if T::VERSION_COLUMN.is_some() {
            doc.if_none_match();
        }
    }
}

/// The reply to a conditional read: the row with its `ETag`, or `304 Not
/// Modified` with the same `ETag` and no body when the client's copy is current.
pub struct Conditional<T> {
    value: T,
    not_modified: bool,
}

impl<T> Conditional<T> {
    pub(crate) fn new(value: T, not_modified: bool) -> Self {
        Conditional {
            value,
            not_modified,
        }
    }

    /// Returns whether the reply is `304 Not Modified`.
    pub fn is_not_modified(&self) -> bool {
        self.not_modified
    }

    /// Unwraps the row.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: crate::Resource> fmt::Debug for Conditional<Owned<T>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conditional")
            .field("value", &self.value)
            .field("not_modified", &self.not_modified)
            .finish()
    }
}

impl<T> crate::__private::Sealed for Conditional<T> {}

/// Sets `ETag` on a response carrying `row`, when its resource is versioned.
pub(crate) fn set_entity_tag<T: ResourceSql>(response: &mut Response, row: &T) {
    if let Some(value) = tag_of(row).and_then(|tag| HeaderValue::from_str(tag.as_str()).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

impl<T: crate::Resource> Reply<AuthRequired> for Conditional<Owned<T>> {
    fn into_reply(self) -> Result<Response, ApiError> {
        if !self.not_modified {
            return self.value.into_reply();
        }
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_entity_tag(&mut response, &*self.value);
        Ok(response)
    }

    fn describe(doc: &mut OperationDoc) {
        <Owned<T> as Reply<AuthRequired>>::describe(doc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            name,
            HeaderValue::from_str(value).expect("a valid header value"),
        );
        headers
    }

    #[test]
    fn entity_tag_spells_id_and_version_in_hex() {
        for (id, version) in [(0, 0), (42, 7), (255, 4096), (i64::MAX, 1), (-1, i64::MIN)] {
            assert_eq!(
                entity_tag(id, version),
                format!("\"{id:x}-{version:x}\""),
                "id {id}, version {version}"
            );
        }
    }

    #[test]
    fn entity_tag_round_trips_for_its_own_row() {
        let tag = EntityTag {
            weak: false,
            opaque: entity_tag(42, 7).trim_matches('"').to_string(),
        };
        assert_eq!(version_of(&tag, 42), Some(7));
        assert_eq!(version_of(&tag, 43), None);
    }

    #[test]
    fn weak_tag_never_matches_a_write() {
        let tag = EntityTag {
            weak: true,
            opaque: entity_tag(42, 7).trim_matches('"').to_string(),
        };
        assert_eq!(version_of(&tag, 42), None);
    }

    #[test]
    fn tag_with_leading_zeros_is_not_ours() {
        let tag = EntityTag {
            weak: false,
            opaque: "2a-07".to_string(),
        };
        assert_eq!(version_of(&tag, 42), None);
    }

    #[test]
    fn header_lists_and_star_parse() {
        let list = parse_header(
            &headers(header::IF_MATCH, "\"1-2\", W/\"1-3\""),
            header::IF_MATCH,
        );
        assert_eq!(
            list,
            Ok(Some(TagList::Tags(vec![
                EntityTag {
                    weak: false,
                    opaque: "1-2".into()
                },
                EntityTag {
                    weak: true,
                    opaque: "1-3".into()
                },
            ])))
        );
        let any = parse_header(&headers(header::IF_MATCH, "*"), header::IF_MATCH);
        assert_eq!(any, Ok(Some(TagList::Any)));
        let absent = parse_header(&HeaderMap::new(), header::IF_MATCH);
        assert_eq!(absent, Ok(None));
    }

    #[test]
    fn star_mixed_with_tags_is_malformed() {
        let mixed = parse_header(&headers(header::IF_MATCH, "*, \"1-2\""), header::IF_MATCH);
        assert_eq!(mixed, Err(()));
    }

    #[test]
    fn tag_list_past_cap_is_malformed() {
        let list = |count: usize| {
            let value = (0..count)
                .map(|version| format!("\"1-{version:x}\""))
                .collect::<Vec<_>>()
                .join(", ");
            parse_header(&headers(header::IF_MATCH, &value), header::IF_MATCH)
        };
        assert!(list(MAX_ENTITY_TAGS).is_ok());
        assert_eq!(list(MAX_ENTITY_TAGS + 1), Err(()));
    }

    #[test]
    fn unquoted_tag_is_malformed() {
        let parsed = parse_header(&headers(header::IF_MATCH, "1-2"), header::IF_MATCH);
        assert_eq!(parsed, Err(()));
    }
}
