// `Caller` cannot be built by hand: only a verified token produces one.
use gauntlet::prelude::*;

#[derive(Resource)]
#[resource(owner = "owner_id")]
pub struct Invoice {
    #[resource(id)]
    pub id: i64,
    pub owner_id: UserId,
    pub note: String,
}

#[get("/api/users/{id}/invoices")]
async fn invoices_of(_caller: Caller, db: Db, id: Path<Id<Invoice>>) -> ApiResult<NoContent> {
    let caller = Caller {
        subject: UserId::new(id.get()),
        roles: Vec::new(),
    };
    Invoice::owned_by(&caller)
        .list(&db, PageRequest::from_query("")?)
        .await?;
    Ok(NoContent)
}

fn main() {}
