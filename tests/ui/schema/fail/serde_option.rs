// A schema field takes no `#[serde(...)]` option, because its JSON key must be its field name.
use gauntlet::Schema;

#[derive(Schema)]
pub struct LoginRequest {
    #[serde(rename = "e")]
    #[garde(length(chars, min = 3, max = 254))]
    pub email: String,
}

fn main() {}
