// Every field of a `#[derive(Schema)]` body needs a `#[garde(...)]` rule.
use gauntlet::Schema;

#[derive(Schema)]
pub struct LoginRequest {
    #[garde(length(chars, min = 3, max = 254))]
    pub email: String,
    pub password: String,
}

fn main() {}
