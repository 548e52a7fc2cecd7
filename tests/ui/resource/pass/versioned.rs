// A resource with a version column, which requires If-Match on writes, compiles and
// mounts; hand-written handlers take `IfMatch<T>` and `IfNoneMatch<T>`.
use gauntlet::prelude::*;
use gauntlet::{App, AppBuilder};

#[derive(Debug, Resource)]
#[resource(
    owner = "owner_id",
    version = "version",
    require_if_match,
    creatable(title),
    writable(title)
)]
pub struct Document {
    pub id: i64,
    pub owner_id: UserId,
    #[garde(length(chars, min = 1, max = 200))]
    pub title: String,
    pub version: i64,
}

#[get("/documents/{id}")]
async fn read(
    caller: Caller,
    db: Db,
    id: Path<Id<Document>>,
    if_none_match: IfNoneMatch<Document>,
) -> ApiResult<Conditional<Owned<Document>>> {
    Document::owned_by(&caller)
        .get_if(&db, *id, &if_none_match)
        .await
}

#[patch("/documents/{id}/title")]
async fn rename(
    caller: Caller,
    db: Db,
    id: Path<Id<Document>>,
    if_match: IfMatch<Document>,
    body: Valid<DocumentPatch>,
) -> ApiResult<Owned<Document>> {
    Document::owned_by(&caller)
        .update_if(&db, *id, &if_match, body)
        .await
}

fn app() -> AppBuilder {
    App::builder()
        .route(gauntlet::crud::<Document>("/documents"))
        .route(read)
        .route(rename)
}

fn main() {
    let _ = app;
}
