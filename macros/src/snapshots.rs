//! Expansion snapshots: what the macros generate for representative input,
//! pretty-printed and compared with the files in `macros/snapshots/`, so a
//! change to the generated SQL or handler shape shows up in review.
//!
//! Regenerate with `SNAPSHOTS=overwrite cargo test -p gauntlet-macros`.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

fn check_snapshot(name: &str, expansion: TokenStream) {
    let file: syn::File = match syn::parse2(expansion.clone()) {
        Ok(file) => file,
        Err(error) => panic!("the expansion of {name} is not valid Rust: {error}\n{expansion}"),
    };
    let rendered = prettyplease::unparse(&file);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{name}.rs"));

    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::write(&path, &rendered).expect("writing the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == rendered,
        "the expansion of {name} differs from {}; review it and run with SNAPSHOTS=overwrite to accept:\n{rendered}",
        path.display()
    );
}

#[test]
fn resource_invoice() {
    let input = quote! {
        #[resource(table = "invoices", owner = "owner_id", creatable(customer_name, due_date), writable(note, due_date))]
        pub struct Invoice {
            #[resource(id)]
            pub id: i64,
            pub owner_id: UserId,
            #[garde(length(chars, min = 1, max = 200))]
            pub customer_name: String,
            #[garde(length(chars, max = 2000))]
            pub note: String,
            #[garde(skip)]
            pub due_date: Date,
            pub is_paid: bool,
            #[resource(secret)]
            pub payment_reference: String,
        }
    };
    check_snapshot("resource_invoice", crate::resource::derive(input));
}

#[test]
fn resource_owned_by_itself() {
    let input = quote! {
        #[resource(table = "users", owner = "id")]
        pub struct User {
            #[resource(id)]
            pub id: UserId,
            pub email: String,
            #[resource(secret)]
            pub password_hash: String,
        }
    };
    check_snapshot("resource_owned_by_itself", crate::resource::derive(input));
}

#[test]
fn resource_versioned() {
    let input = quote! {
        #[resource(owner = "owner_id", version = "version", require_if_match, writable(title))]
        pub struct Document {
            pub id: i64,
            pub owner_id: UserId,
            #[garde(length(chars, min = 1, max = 200))]
            pub title: String,
            pub version: i64,
        }
    };
    check_snapshot("resource_versioned", crate::resource::derive(input));
}

#[test]
fn schema_login() {
    let input = quote! {
        pub struct LoginRequest {
            #[garde(length(chars, min = 3, max = 254))]
            pub email: String,
            #[garde(length(chars, min = 1, max = 1024))]
            pub password: String,
        }
    };
    check_snapshot("schema_login", crate::schema::derive(input));
}

#[test]
fn route_protected_patch() {
    let args = quote!("/api/invoices/{id}", rate_limit = "writes");
    let item = quote! {
        /// Updates one of the caller's invoices.
        async fn update_invoice(
            caller: Caller,
            db: Db,
            id: Path<Id<Invoice>>,
            body: Valid<InvoicePatch>,
        ) -> ApiResult<Owned<Invoice>> {
            Invoice::owned_by(&caller).update(&db, *id, body).await
        }
    };
    check_snapshot(
        "route_protected_patch",
        crate::route::expand(crate::route::Method::Patch, args, item),
    );
}

#[test]
fn route_public_unscoped_login() {
    let args = quote!(
        "/api/login",
        public,
        rate_limit = "login",
        unscoped(reason = "login finds an account by email before anyone is authenticated")
    );
    let item = quote! {
        async fn login(db: UnscopedDb, tokens: Tokens, body: Valid<LoginRequest>) -> ApiResult<Public<AccessToken>> {
            todo!()
        }
    };
    check_snapshot(
        "route_public_unscoped_login",
        crate::route::expand(crate::route::Method::Post, args, item),
    );
}

#[test]
fn scoped_query_self_join() {
    let input = quote!(
        Invoice,
        "SELECT i.* FROM invoices AS i JOIN invoices AS j ON j.customer_name = i.customer_name \
         WHERE i.owner_id = :caller AND j.owner_id = :caller AND j.note = ? ORDER BY i.id",
        note
    );
    // The expansion is an expression, so it is rendered as a function body.
    let expansion = crate::query::expand(input);
    check_snapshot(
        "scoped_query_self_join",
        quote!(fn expansion() { #expansion }),
    );
}
