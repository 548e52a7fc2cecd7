//! Reproducible demo data: two users and a set of invoices for each of them.
//!
//! The same `rng_seed` always produces the same invoices, so a demo or a test can rely
//! on what is in the database. Password hashes are the exception, because the caller
//! hashes the passwords and a real hasher salts them at random.

use std::collections::HashSet;
use std::fmt;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::{PgPool, SqlitePool};
use time::macros::date;
use time::{Date, Duration};

/// A demo account whose credentials the demo and the docs use to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoUser {
    pub email: &'static str,
    pub display_name: &'static str,
    /// Plain-text password, published on purpose: these accounts exist only for demos.
    pub password: &'static str,
}

/// The demo accounts that [`seed`] creates, in insertion order.
pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        email: "alice@example.com",
        display_name: "Alice Archer",
        password: "alice-demo-password",
    },
    DemoUser {
        email: "bob@example.com",
        display_name: "Bob Brennan",
        password: "bob-demo-password",
    },
];

/// Row counts inserted by one call of [`seed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSummary {
    pub users_created: usize,
    pub invoices_created: usize,
}

impl SeedSummary {
    /// Returns true when [`seed`] found existing users and inserted nothing.
    pub fn skipped(&self) -> bool {
        self.users_created == 0 && self.invoices_created == 0
    }
}

impl fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped() {
            write!(f, "users already exist, so no demo data was inserted")
        } else {
            write!(
                f,
                "inserted {} demo users and {} invoices",
                self.users_created, self.invoices_created
            )
        }
    }
}

/// Inserts the demo users and `invoices_per_user` invoices for each of them, unless the
/// `users` table already has rows, in which case it inserts nothing.
///
/// Everything runs in one `BEGIN IMMEDIATE` transaction, so a failure leaves the
/// database as it was, and two concurrent calls cannot both see an empty `users` table.
/// `hash_password` turns each demo password into the stored `password_hash`.
///
/// The invoices of all users are inserted in one shuffled order, so the ids of
/// different owners are interleaved as they would be in a real shared table.
pub async fn seed(
    pool: &SqlitePool,
    hash_password: impl Fn(&str) -> String,
    invoices_per_user: usize,
    rng_seed: u64,
) -> Result<SeedSummary, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;

    let existing_users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    if existing_users > 0 {
        tx.rollback().await?;
        return Ok(SeedSummary {
            users_created: 0,
            invoices_created: 0,
        });
    }

    let mut owner_ids = Vec::with_capacity(DEMO_USERS.len());
    for user in DEMO_USERS {
        let result =
            sqlx::query("INSERT INTO users (email, display_name, password_hash) VALUES (?, ?, ?)")
                .bind(user.email)
                .bind(user.display_name)
                .bind(hash_password(user.password))
                .execute(&mut *tx)
                .await?;
        owner_ids.push(result.last_insert_rowid());
    }

    let invoices = plan_invoices(&owner_ids, invoices_per_user, rng_seed);
    for (owner_id, invoice) in &invoices {
        sqlx::query(
            "INSERT INTO invoices (owner_id, customer_name, customer_address, line_items, \
             total_cents, note, due_date, is_paid, payment_reference) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(owner_id)
        .bind(&invoice.customer_name)
        .bind(&invoice.customer_address)
        .bind(&invoice.line_items)
        .bind(invoice.total_cents)
        .bind(&invoice.note)
        .bind(&invoice.due_date)
        .bind(invoice.is_paid)
        .bind(&invoice.payment_reference)
        .execute(&mut *tx)
        .await?;
    }

    tx.commit().await?;

    Ok(SeedSummary {
        users_created: owner_ids.len(),
        invoices_created: invoices.len(),
    })
}

/// [`seed`] for PostgreSQL: the same users and invoices, in one
/// transaction that locks the users table so that two concurrent calls
/// cannot both find it empty.
pub async fn seed_postgres(
    pool: &PgPool,
    hash_password: impl Fn(&str) -> String,
    invoices_per_user: usize,
    rng_seed: u64,
) -> Result<SeedSummary, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE users IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;

    let existing_users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    if existing_users > 0 {
        tx.rollback().await?;
        return Ok(SeedSummary {
            users_created: 0,
            invoices_created: 0,
        });
    }

    let mut owner_ids = Vec::with_capacity(DEMO_USERS.len());
    for user in DEMO_USERS {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(user.email)
        .bind(user.display_name)
        .bind(hash_password(user.password))
        .fetch_one(&mut *tx)
        .await?;
        owner_ids.push(id);
    }

    let invoices = plan_invoices(&owner_ids, invoices_per_user, rng_seed);
    for (owner_id, invoice) in &invoices {
        sqlx::query(
            "INSERT INTO invoices (owner_id, customer_name, customer_address, line_items, \
             total_cents, note, due_date, is_paid, payment_reference) \
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::date, $8, $9)",
        )
        .bind(owner_id)
        .bind(&invoice.customer_name)
        .bind(&invoice.customer_address)
        .bind(&invoice.line_items)
        .bind(invoice.total_cents)
        .bind(&invoice.note)
        .bind(&invoice.due_date)
        .bind(invoice.is_paid)
        .bind(&invoice.payment_reference)
        .execute(&mut *tx)
        .await?;
    }

    tx.commit().await?;

    Ok(SeedSummary {
        users_created: owner_ids.len(),
        invoices_created: invoices.len(),
    })
}

/// Generates `invoices_per_user` invoices for each owner, in one shuffled
/// order so that the ids of different owners interleave as they would in a
/// real shared table. The same `rng_seed` always gives the same invoices.
fn plan_invoices(
    owner_ids: &[i64],
    invoices_per_user: usize,
    rng_seed: u64,
) -> Vec<(i64, GeneratedInvoice)> {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let mut invoice_owners: Vec<i64> = owner_ids
        .iter()
        .flat_map(|&owner_id| std::iter::repeat_n(owner_id, invoices_per_user))
        .collect();
    invoice_owners.shuffle(&mut rng);

    let mut used_references = HashSet::with_capacity(invoice_owners.len());
    invoice_owners
        .into_iter()
        .map(|owner_id| (owner_id, generate_invoice(&mut rng, &mut used_references)))
        .collect()
}

/// Column values of one generated invoice, except its owner.
struct GeneratedInvoice {
    customer_name: String,
    customer_address: String,
    /// JSON array of `{"description", "quantity", "unit_price_cents"}` objects.
    line_items: String,
    total_cents: i64,
    note: String,
    /// ISO date, `YYYY-MM-DD`.
    due_date: String,
    is_paid: bool,
    payment_reference: String,
}

/// Generates one invoice. `used_references` contains the payment references generated
/// so far, and the new reference is added to it.
fn generate_invoice(rng: &mut StdRng, used_references: &mut HashSet<String>) -> GeneratedInvoice {
    let locale = pick(rng, LOCALES);
    let (line_items, total_cents) = generate_line_items(rng);

    GeneratedInvoice {
        customer_name: generate_company_name(rng, locale),
        customer_address: generate_address(rng, locale),
        line_items,
        total_cents,
        note: generate_note(rng),
        due_date: generate_due_date(rng),
        is_paid: rng.gen_bool(1.0 / 3.0),
        payment_reference: generate_payment_reference(rng, used_references),
    }
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

fn generate_company_name(rng: &mut StdRng, locale: &Locale) -> String {
    let industry = pick(rng, INDUSTRIES);
    let suffix = pick(rng, locale.company_suffixes);
    if rng.gen_bool(0.3) {
        let first = pick(rng, SURNAMES);
        let mut second = pick(rng, SURNAMES);
        while second == first {
            second = pick(rng, SURNAMES);
        }
        format!("{first} & {second} {industry} {suffix}")
    } else {
        let brand = pick(rng, BRAND_WORDS);
        format!("{brand} {industry} {suffix}")
    }
}

fn generate_address(rng: &mut StdRng, locale: &Locale) -> String {
    let street = pick(rng, locale.streets);
    let number = rng.gen_range(1..=250);
    let street_line = if locale.number_before_street {
        format!("{number} {street}")
    } else {
        format!("{street} {number}")
    };

    let city = pick(rng, locale.cities);
    let postcode = city.postcode.generate(rng);
    let city_line = match (locale.postcode_after_city, city.region) {
        (true, Some(region)) => format!("{}, {region} {postcode}", city.name),
        (true, None) => format!("{} {postcode}", city.name),
        (false, _) => format!("{postcode} {}", city.name),
    };

    format!("{street_line}, {city_line}, {}", locale.country)
}

/// Generates 1 to 5 line items and returns them as a JSON array string, together with
/// their total in cents.
fn generate_line_items(rng: &mut StdRng) -> (String, i64) {
    let count = rng.gen_range(1..=5);
    let mut items = Vec::with_capacity(count);
    let mut total_cents = 0_i64;

    for product in CATALOGUE.choose_multiple(rng, count) {
        let quantity = rng.gen_range(product.quantity.0..=product.quantity.1);
        let unit_price_cents =
            rng.gen_range(product.unit_price_cents.0..=product.unit_price_cents.1);
        total_cents += quantity * unit_price_cents;
        items.push(json!({
            "description": product.description,
            "quantity": quantity,
            "unit_price_cents": unit_price_cents,
        }));
    }

    (serde_json::Value::Array(items).to_string(), total_cents)
}

/// Generates an invoice note, which is empty for about a quarter of the invoices.
fn generate_note(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.25) {
        String::new()
    } else if rng.gen_bool(0.2) {
        format!("Purchase order PO-{}", rng.gen_range(1000..=99_999))
    } else {
        pick(rng, NOTES).to_owned()
    }
}

/// Generates a due date within 120 days either side of [`DUE_DATE_CENTER`], as
/// `YYYY-MM-DD`.
fn generate_due_date(rng: &mut StdRng) -> String {
    let offset = rng.gen_range(-DUE_DATE_SPREAD_DAYS..=DUE_DATE_SPREAD_DAYS);
    (DUE_DATE_CENTER + Duration::days(offset)).to_string()
}

/// Returns `pay_` followed by 24 lowercase hex digits, different from every reference in
/// `used_references`, and adds it there.
///
/// NOTE: anyone with the seed can recompute these references. That is acceptable
/// for demo data only. Production references need a cryptographically secure RNG.
fn generate_payment_reference(rng: &mut StdRng, used_references: &mut HashSet<String>) -> String {
    loop {
        let bytes: [u8; 12] = rng.gen();
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let reference = format!("pay_{hex}");
        if used_references.insert(reference.clone()) {
            return reference;
        }
    }
}

const DUE_DATE_CENTER: Date = date!(2026 - 12 - 01);
const DUE_DATE_SPREAD_DAYS: i64 = 120;

/// Something an invoice can bill for, with inclusive ranges for its quantity and unit
/// price.
struct Product {
    description: &'static str,
    quantity: (i64, i64),
    unit_price_cents: (i64, i64),
}

const CATALOGUE: &[Product] = &[
    Product {
        description: "Consulting (hours)",
        quantity: (1, 40),
        unit_price_cents: (9_000, 18_000),
    },
    Product {
        description: "Website maintenance, monthly",
        quantity: (1, 3),
        unit_price_cents: (25_000, 60_000),
    },
    Product {
        description: "Logo design",
        quantity: (1, 1),
        unit_price_cents: (80_000, 250_000),
    },
    Product {
        description: "Cloud hosting, monthly",
        quantity: (1, 12),
        unit_price_cents: (4_900, 29_900),
    },
    Product {
        description: "Office chair",
        quantity: (1, 20),
        unit_price_cents: (12_000, 45_000),
    },
    Product {
        description: "Printer toner cartridge",
        quantity: (1, 10),
        unit_price_cents: (3_500, 9_900),
    },
    Product {
        description: "Delivery and installation",
        quantity: (1, 1),
        unit_price_cents: (5_000, 20_000),
    },
    Product {
        description: "Software licence, annual seat",
        quantity: (1, 50),
        unit_price_cents: (9_900, 49_900),
    },
    Product {
        description: "On-site training (days)",
        quantity: (1, 5),
        unit_price_cents: (60_000, 120_000),
    },
    Product {
        description: "Catering for team event",
        quantity: (1, 1),
        unit_price_cents: (30_000, 150_000),
    },
    Product {
        description: "Translation (per 1,000 words)",
        quantity: (1, 30),
        unit_price_cents: (8_000, 14_000),
    },
    Product {
        description: "Security audit",
        quantity: (1, 1),
        unit_price_cents: (300_000, 900_000),
    },
    Product {
        description: "Laptop stand",
        quantity: (1, 25),
        unit_price_cents: (2_500, 7_900),
    },
    Product {
        description: "Freight, per pallet",
        quantity: (1, 8),
        unit_price_cents: (9_000, 26_000),
    },
];

const NOTES: &[&str] = &[
    "Payment due within 30 days.",
    "Thank you for your business.",
    "Please quote the invoice number with your payment.",
    "Partial delivery, the remaining items ship next month.",
    "Prices include a 10% loyalty discount.",
    "Late payments incur 1.5% interest per month.",
    "Contact accounts@example.com with any questions.",
];

const BRAND_WORDS: &[&str] = &[
    "Northwind",
    "Harborline",
    "Granite",
    "Silverline",
    "Redwood",
    "Lakeside",
    "Summit",
    "Ironbridge",
    "Meadowbrook",
    "Copperleaf",
    "Bluewater",
    "Oakridge",
];

const SURNAMES: &[&str] = &[
    "Baker",
    "Fischer",
    "Martin",
    "de Vries",
    "Lindqvist",
    "Carter",
    "Moreau",
    "Novak",
    "Okafor",
    "Tanaka",
    "Hughes",
    "Keller",
];

const INDUSTRIES: &[&str] = &[
    "Logistics",
    "Bakery",
    "Software",
    "Consulting",
    "Print Works",
    "Dental Care",
    "Architects",
    "Electrical",
    "Coffee Roasters",
    "Analytics",
    "Media",
    "Freight",
];

/// Address and company conventions of one country.
struct Locale {
    country: &'static str,
    company_suffixes: &'static [&'static str],
    streets: &'static [&'static str],
    cities: &'static [City],
    /// True for "12 High Street", false for "Hauptstraße 12".
    number_before_street: bool,
    /// True for "Leeds LS1 4AB", false for "10115 Berlin".
    postcode_after_city: bool,
}

#[derive(Clone, Copy)]
struct City {
    name: &'static str,
    /// State or province written before the postcode, as in "Austin, TX 78701".
    region: Option<&'static str>,
    postcode: Postcode,
}

/// Postcode format of a city, with the inclusive range of its numeric part.
#[derive(Clone, Copy)]
enum Postcode {
    /// Five digits, as in Germany, France and the United States.
    FiveDigits(u32, u32),
    /// Three digits, a space and two digits, as in Sweden.
    Swedish(u32, u32),
    /// Four digits, a space and two letters, as in the Netherlands.
    Dutch(u32, u32),
    /// The area letters, a district number, a space, a digit and two letters, as in
    /// the United Kingdom.
    British(&'static str),
}

impl Postcode {
    fn generate(self, rng: &mut StdRng) -> String {
        match self {
            Postcode::FiveDigits(low, high) => format!("{:05}", rng.gen_range(low..=high)),
            Postcode::Swedish(low, high) => {
                let number = rng.gen_range(low..=high);
                format!("{} {:02}", number / 100, number % 100)
            }
            Postcode::Dutch(low, high) => {
                let number = rng.gen_range(low..=high);
                format!(
                    "{number} {}{}",
                    pick_letter(rng, DUTCH_POSTCODE_LETTERS),
                    pick_letter(rng, DUTCH_POSTCODE_LETTERS)
                )
            }
            Postcode::British(area) => format!(
                "{area}{} {}{}{}",
                rng.gen_range(1..=20),
                rng.gen_range(0..=9),
                pick_letter(rng, BRITISH_INWARD_LETTERS),
                pick_letter(rng, BRITISH_INWARD_LETTERS)
            ),
        }
    }
}

fn pick_letter(rng: &mut StdRng, letters: &str) -> char {
    let bytes = letters.as_bytes();
    char::from(bytes[rng.gen_range(0..bytes.len())])
}

/// Letters allowed at the end of a British postcode, which never uses C, I, K, M, O or V
/// there.
const BRITISH_INWARD_LETTERS: &str = "ABDEFGHJLNPQRSTUWXYZ";

/// Letters for the end of a Dutch postcode. S is left out, so that the pairs SA, SD and
/// SS, which are not issued, cannot appear.
const DUTCH_POSTCODE_LETTERS: &str = "ABCDEGHJKLMNPRTVWXZ";

const LOCALES: &[&Locale] = &[
    &Locale {
        country: "United Kingdom",
        company_suffixes: &["Ltd", "LLP", "plc"],
        streets: &[
            "High Street",
            "Station Road",
            "Victoria Road",
            "Church Lane",
            "Mill Lane",
            "Queen Street",
        ],
        cities: &[
            City {
                name: "Manchester",
                region: None,
                postcode: Postcode::British("M"),
            },
            City {
                name: "Leeds",
                region: None,
                postcode: Postcode::British("LS"),
            },
            City {
                name: "Bristol",
                region: None,
                postcode: Postcode::British("BS"),
            },
            City {
                name: "Edinburgh",
                region: None,
                postcode: Postcode::British("EH"),
            },
        ],
        number_before_street: true,
        postcode_after_city: true,
    },
    &Locale {
        country: "Germany",
        company_suffixes: &["GmbH", "AG", "GmbH & Co. KG"],
        streets: &[
            "Hauptstraße",
            "Bahnhofstraße",
            "Lindenallee",
            "Gartenweg",
            "Schillerstraße",
            "Am Markt",
        ],
        cities: &[
            City {
                name: "Berlin",
                region: None,
                postcode: Postcode::FiveDigits(10_115, 14_199),
            },
            City {
                name: "Hamburg",
                region: None,
                postcode: Postcode::FiveDigits(20_095, 22_769),
            },
            City {
                name: "München",
                region: None,
                postcode: Postcode::FiveDigits(80_331, 81_929),
            },
            City {
                name: "Köln",
                region: None,
                postcode: Postcode::FiveDigits(50_667, 51_149),
            },
        ],
        number_before_street: false,
        postcode_after_city: false,
    },
    &Locale {
        country: "France",
        company_suffixes: &["SARL", "SAS", "SA"],
        streets: &[
            "rue de la République",
            "avenue Jean Jaurès",
            "rue Victor Hugo",
            "boulevard Pasteur",
            "place du Marché",
        ],
        cities: &[
            City {
                name: "Paris",
                region: None,
                postcode: Postcode::FiveDigits(75_001, 75_020),
            },
            City {
                name: "Lyon",
                region: None,
                postcode: Postcode::FiveDigits(69_001, 69_009),
            },
            City {
                name: "Nantes",
                region: None,
                postcode: Postcode::FiveDigits(44_000, 44_300),
            },
            City {
                name: "Lille",
                region: None,
                postcode: Postcode::FiveDigits(59_000, 59_800),
            },
        ],
        number_before_street: true,
        postcode_after_city: false,
    },
    &Locale {
        country: "Netherlands",
        company_suffixes: &["B.V.", "N.V."],
        streets: &[
            "Keizersgracht",
            "Stationsplein",
            "Kerkstraat",
            "Dorpsstraat",
            "Molenweg",
        ],
        cities: &[
            City {
                name: "Amsterdam",
                region: None,
                postcode: Postcode::Dutch(1011, 1109),
            },
            City {
                name: "Rotterdam",
                region: None,
                postcode: Postcode::Dutch(3011, 3089),
            },
            City {
                name: "Utrecht",
                region: None,
                postcode: Postcode::Dutch(3511, 3585),
            },
        ],
        number_before_street: false,
        postcode_after_city: false,
    },
    &Locale {
        country: "Sweden",
        company_suffixes: &["AB"],
        streets: &[
            "Storgatan",
            "Drottninggatan",
            "Kungsgatan",
            "Södra vägen",
            "Skolgatan",
        ],
        cities: &[
            City {
                name: "Stockholm",
                region: None,
                postcode: Postcode::Swedish(11_120, 11_869),
            },
            City {
                name: "Göteborg",
                region: None,
                postcode: Postcode::Swedish(41_101, 41_878),
            },
            City {
                name: "Malmö",
                region: None,
                postcode: Postcode::Swedish(21_111, 21_845),
            },
        ],
        number_before_street: false,
        postcode_after_city: false,
    },
    &Locale {
        country: "United States",
        company_suffixes: &["Inc.", "LLC", "Corp."],
        streets: &[
            "Main Street",
            "Oak Avenue",
            "Market Street",
            "Maple Drive",
            "Washington Boulevard",
            "Elm Street",
        ],
        cities: &[
            City {
                name: "Portland",
                region: Some("OR"),
                postcode: Postcode::FiveDigits(97_201, 97_239),
            },
            City {
                name: "Austin",
                region: Some("TX"),
                postcode: Postcode::FiveDigits(78_701, 78_759),
            },
            City {
                name: "Denver",
                region: Some("CO"),
                postcode: Postcode::FiveDigits(80_202, 80_239),
            },
            City {
                name: "Boston",
                region: Some("MA"),
                postcode: Postcode::FiveDigits(2_108, 2_137),
            },
        ],
        number_before_street: true,
        postcode_after_city: true,
    },
];

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use serde_json::Value;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sqlx::{Row, SqlitePool};
    use tempfile::TempDir;
    use time::macros::format_description;
    use time::Date;

    use super::*;

    const SCHEMA: &str = "
        CREATE TABLE users (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          email TEXT NOT NULL UNIQUE,
          display_name TEXT NOT NULL,
          password_hash TEXT NOT NULL
        );
        CREATE TABLE invoices (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          owner_id INTEGER NOT NULL REFERENCES users(id),
          customer_name TEXT NOT NULL,
          customer_address TEXT NOT NULL DEFAULT '',
          line_items TEXT NOT NULL DEFAULT '[]',
          total_cents INTEGER NOT NULL DEFAULT 0,
          note TEXT NOT NULL DEFAULT '',
          due_date TEXT NOT NULL,
          is_paid INTEGER NOT NULL DEFAULT 0,
          payment_reference TEXT NOT NULL
        );
    ";

    const INVOICES_PER_USER: usize = 30;
    const RNG_SEED: u64 = 7;

    /// Stands in for argon2, so the tests stay fast.
    fn fake_hash(password: &str) -> String {
        format!("hashed:{password}")
    }

    /// Creates an empty database file with the invoices schema. The returned directory
    /// deletes the file when dropped, so the caller must keep it alive.
    async fn empty_database() -> (TempDir, SqlitePool) {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("seed-test.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .expect("open the SQLite database");
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .expect("create the schema");
        (dir, pool)
    }

    async fn seeded_database() -> (TempDir, SqlitePool) {
        let (dir, pool) = empty_database().await;
        seed(&pool, fake_hash, INVOICES_PER_USER, RNG_SEED)
            .await
            .expect("seed the database");
        (dir, pool)
    }

    async fn count(pool: &SqlitePool, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .expect("count rows")
    }

    /// Returns every invoice row as (id, owner_id, other columns as text), ordered by id.
    async fn invoice_rows(pool: &SqlitePool) -> Vec<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id, owner_id, customer_name, customer_address, line_items, total_cents, \
             note, due_date, is_paid, payment_reference FROM invoices ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .expect("select invoices");
        rows.iter()
            .map(|row| {
                vec![
                    row.get::<i64, _>("id").to_string(),
                    row.get::<i64, _>("owner_id").to_string(),
                    row.get("customer_name"),
                    row.get("customer_address"),
                    row.get("line_items"),
                    row.get::<i64, _>("total_cents").to_string(),
                    row.get("note"),
                    row.get("due_date"),
                    row.get::<i64, _>("is_paid").to_string(),
                    row.get("payment_reference"),
                ]
            })
            .collect()
    }

    #[tokio::test]
    async fn seed_creates_users_and_invoices() {
        let (_dir, pool) = empty_database().await;

        let summary = seed(&pool, fake_hash, INVOICES_PER_USER, RNG_SEED)
            .await
            .expect("seed the database");

        assert_eq!(summary.users_created, 2);
        assert_eq!(summary.invoices_created, 2 * INVOICES_PER_USER);
        assert!(!summary.skipped());
        assert_eq!(count(&pool, "users").await, 2);
        assert_eq!(count(&pool, "invoices").await, 2 * INVOICES_PER_USER as i64);

        let users = sqlx::query("SELECT id, email, password_hash FROM users ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("select users");
        for (row, demo_user) in users.iter().zip(DEMO_USERS) {
            let email: String = row.get("email");
            let password_hash: String = row.get("password_hash");
            assert_eq!(email, demo_user.email);
            assert_eq!(password_hash, fake_hash(demo_user.password));

            let owned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invoices WHERE owner_id = ?")
                .bind(row.get::<i64, _>("id"))
                .fetch_one(&pool)
                .await
                .expect("count invoices of one owner");
            assert_eq!(owned, INVOICES_PER_USER as i64, "invoices of {email}");
        }
    }

    #[tokio::test]
    async fn totals_match_line_items() {
        let (_dir, pool) = seeded_database().await;

        let rows = sqlx::query("SELECT id, line_items, total_cents FROM invoices")
            .fetch_all(&pool)
            .await
            .expect("select invoices");
        for row in rows {
            let id: i64 = row.get("id");
            let total_cents: i64 = row.get("total_cents");
            let line_items: String = row.get("line_items");
            let items: Vec<Value> =
                serde_json::from_str(&line_items).expect("line_items is a JSON array");

            assert!(
                (1..=5).contains(&items.len()),
                "invoice {id} has {} line items",
                items.len()
            );
            let mut sum = 0;
            for item in &items {
                let description = item["description"].as_str().expect("description");
                let quantity = item["quantity"].as_i64().expect("quantity");
                let unit_price_cents = item["unit_price_cents"].as_i64().expect("unit price");
                assert!(!description.is_empty(), "invoice {id}: empty description");
                assert!(quantity > 0, "invoice {id}: quantity {quantity}");
                assert!(
                    unit_price_cents > 0,
                    "invoice {id}: price {unit_price_cents}"
                );
                sum += quantity * unit_price_cents;
            }
            assert_eq!(total_cents, sum, "total of invoice {id}");
        }
    }

    #[tokio::test]
    async fn owners_are_interleaved() {
        let (_dir, pool) = seeded_database().await;

        let owners: Vec<i64> = sqlx::query_scalar("SELECT owner_id FROM invoices ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("select owners");
        let owner_changes = owners.windows(2).filter(|pair| pair[0] != pair[1]).count();

        // Invoices inserted owner by owner would change owner exactly once.
        assert!(
            owner_changes > 1,
            "owner changes only {owner_changes} times in {owners:?}"
        );
    }

    #[tokio::test]
    async fn payment_references_are_unique() {
        let (_dir, pool) = seeded_database().await;

        let references: Vec<String> = sqlx::query_scalar("SELECT payment_reference FROM invoices")
            .fetch_all(&pool)
            .await
            .expect("select references");
        let distinct: HashSet<&String> = references.iter().collect();

        assert_eq!(distinct.len(), references.len());
        for reference in &references {
            let hex = reference
                .strip_prefix("pay_")
                .unwrap_or_else(|| panic!("{reference} lacks the pay_ prefix"));
            assert_eq!(hex.len(), 24, "length of {reference}");
            assert!(
                hex.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{reference} is not lowercase hex"
            );
        }
    }

    #[tokio::test]
    async fn fields_are_plausible() {
        let (_dir, pool) = seeded_database().await;
        let iso_date = format_description!("[year]-[month]-[day]");
        let earliest = date!(2026 - 08 - 03);
        let latest = date!(2027 - 03 - 31);

        let rows = invoice_rows(&pool).await;
        let mut paid = 0;
        let mut empty_notes = 0;
        for row in &rows {
            let id = &row[0];
            assert!(!row[2].is_empty(), "invoice {id}: empty customer name");
            assert!(
                row[3].split(", ").count() >= 3,
                "invoice {id}: address {:?} lacks street, city or country",
                row[3]
            );

            let due = Date::parse(&row[7], &iso_date)
                .unwrap_or_else(|error| panic!("invoice {id}: due date {:?}: {error}", row[7]));
            assert!(
                (earliest..=latest).contains(&due),
                "invoice {id}: due date {due} out of range"
            );

            paid += usize::from(row[8] == "1");
            empty_notes += usize::from(row[6].is_empty());
        }

        // With a fixed seed these counts are fixed, so the bounds only catch a
        // generator that stopped varying the field.
        assert!(
            (rows.len() / 6..rows.len() / 2).contains(&paid),
            "{paid} of {} invoices are paid",
            rows.len()
        );
        assert!(empty_notes > 0, "no invoice has an empty note");
        assert!(
            empty_notes < rows.len() / 2,
            "{empty_notes} notes are empty"
        );
    }

    #[tokio::test]
    async fn seed_twice_does_not_duplicate() {
        let (_dir, pool) = seeded_database().await;
        let before = invoice_rows(&pool).await;

        let summary = seed(&pool, fake_hash, INVOICES_PER_USER, RNG_SEED + 1)
            .await
            .expect("seed the database again");

        assert_eq!(
            summary,
            SeedSummary {
                users_created: 0,
                invoices_created: 0
            }
        );
        assert!(summary.skipped());
        assert_eq!(count(&pool, "users").await, 2);
        assert_eq!(invoice_rows(&pool).await, before);
    }

    #[tokio::test]
    async fn same_seed_same_invoices() {
        let (_first_dir, first) = seeded_database().await;
        let (_second_dir, second) = seeded_database().await;
        let (_other_dir, other) = empty_database().await;
        seed(&other, fake_hash, INVOICES_PER_USER, RNG_SEED + 1)
            .await
            .expect("seed with another seed");

        let first_rows = invoice_rows(&first).await;
        assert_eq!(first_rows, invoice_rows(&second).await);
        assert_ne!(first_rows, invoice_rows(&other).await);
    }

    #[tokio::test]
    async fn seed_zero_invoices_creates_users() {
        let (_dir, pool) = empty_database().await;

        let summary = seed(&pool, fake_hash, 0, RNG_SEED)
            .await
            .expect("seed the database");

        assert_eq!(summary.users_created, 2);
        assert_eq!(summary.invoices_created, 0);
        assert_eq!(count(&pool, "invoices").await, 0);
    }

    #[test]
    fn addresses_follow_country_formats() {
        let mut rng = StdRng::seed_from_u64(RNG_SEED);
        let mut seen_countries: HashMap<&str, String> = HashMap::new();
        for _ in 0..200 {
            let locale = pick(&mut rng, LOCALES);
            let address = generate_address(&mut rng, locale);
            assert!(
                address.ends_with(&format!(", {}", locale.country)),
                "{address}"
            );
            seen_countries.insert(locale.country, address);
        }

        assert_eq!(seen_countries.len(), LOCALES.len());
        let american = &seen_countries["United States"];
        let zip = american
            .rsplit(", ")
            .nth(1)
            .and_then(|city_line| city_line.rsplit(' ').next())
            .expect("US address has a ZIP code");
        assert_eq!(zip.len(), 5, "ZIP code in {american}");
    }
}
