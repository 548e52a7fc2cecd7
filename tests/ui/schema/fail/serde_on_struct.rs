// A schema struct takes no `#[serde(...)]` option, because a missing key must be rejected.
use gauntlet::Schema;

#[derive(Default, Schema)]
#[serde(default)]
pub struct LoginRequest {
    #[garde(length(chars, min = 3, max = 254))]
    pub email: String,
}

fn main() {}
