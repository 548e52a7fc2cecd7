//! `#[derive(Resource)]` input: darling receivers for the raw attributes,
//! and the checks that turn them into a [`ResourceModel`].

use darling::util::{Flag, PathList, SpannedValue};
use darling::{FromDeriveInput, FromField};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Type, Visibility};

use crate::diagnostics::{suggestion, Errors};

#[derive(FromDeriveInput)]
#[darling(attributes(resource), supports(struct_named), forward_attrs(serde))]
pub(crate) struct RawResource {
    ident: Ident,
    attrs: Vec<Attribute>,
    vis: Visibility,
    generics: syn::Generics,
    data: darling::ast::Data<(), RawField>,
    table: Option<SpannedValue<String>>,
    owner: Option<SpannedValue<String>>,
    tenant: Option<SpannedValue<String>>,
    version: Option<SpannedValue<String>>,
    require_if_match: Flag,
    #[darling(default)]
    creatable: PathList,
    #[darling(default)]
    writable: PathList,
}

#[derive(FromField)]
#[darling(attributes(resource), forward_attrs(garde, serde))]
pub(crate) struct RawField {
    ident: Option<Ident>,
    ty: Type,
    attrs: Vec<Attribute>,
    id: Flag,
    secret: Flag,
}

/// One field of a checked resource.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) garde: Vec<Attribute>,
    pub(crate) secret: bool,
}

impl Field {
    pub(crate) fn name(&self) -> String {
        self.ident.to_string()
    }
}

/// A resource whose attributes passed every check.
pub(crate) struct ResourceModel {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) table: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) id: usize,
    pub(crate) owner: usize,
    /// Whether `owner` names a tenant column rather than a user column.
    pub(crate) tenant: bool,
    pub(crate) creatable: Vec<usize>,
    pub(crate) writable: Vec<usize>,
    /// The version column of a resource that opted into optimistic
    /// concurrency (`version = "..."`).
    pub(crate) version: Option<usize>,
    /// Whether writes must carry `If-Match` (`require_if_match`).
    pub(crate) require_if_match: bool,
}

impl ResourceModel {
    pub(crate) fn id_field(&self) -> &Field {
        &self.fields[self.id]
    }

    pub(crate) fn owner_field(&self) -> &Field {
        &self.fields[self.owner]
    }

    pub(crate) fn version_field(&self) -> Option<&Field> {
        self.version.map(|index| &self.fields[index])
    }
}

fn is_sql_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Invoice` becomes `invoices`, `LineItem` becomes `line_items`.
fn default_table(ident: &Ident) -> String {
    let mut table = String::new();
    for (i, c) in ident.to_string().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            table.push('_');
        }
        table.push(c.to_ascii_lowercase());
    }
    table.push('s');
    table
}

impl RawResource {
    pub(crate) fn ident(&self) -> &Ident {
        &self.ident
    }

    pub(crate) fn vis(&self) -> &Visibility {
        &self.vis
    }

    pub(crate) fn has_creatable(&self) -> bool {
        !self.creatable.is_empty()
    }

    pub(crate) fn has_writable(&self) -> bool {
        !self.writable.is_empty()
    }

    /// Checks every rule and reports all violations together.
    pub(crate) fn check(self) -> Result<ResourceModel, syn::Error> {
        let mut errors = Errors::default();

        if !self.generics.params.is_empty() || self.generics.where_clause.is_some() {
            errors.push(
                self.generics.span(),
                "a resource cannot be generic: its table and columns are fixed at compile time",
            );
        }

        // The view and the schemas are generated from the fields as written,
        // so a serde option would not take effect: `#[serde(skip)]`
        // would not hide a field from responses.
        let serde_message = "serde options do not change a resource's JSON view or its schemas; mark a field that must never be sent with `#[resource(secret)]`, and leave it out of `creatable`/`writable` to keep it out of request bodies";
        for attr in &self.attrs {
            errors.push(attr.path().span(), serde_message);
        }

        let raw_fields = match self.data {
            darling::ast::Data::Struct(fields) => fields.fields,
            darling::ast::Data::Enum(_) => Vec::new(),
        };

        let mut fields = Vec::new();
        let mut id = None;
        let mut id_by_name = None;
        for raw in raw_fields {
            let Some(ident) = raw.ident else { continue };
            if raw.id.is_present() {
                if id.is_some() {
                    errors.push(raw.id.span(), "only one field can be `#[resource(id)]`");
                }
                id = Some(fields.len());
            }
            if ident == "id" {
                id_by_name = Some(fields.len());
            }
            if raw.id.is_present() && raw.secret.is_present() {
                errors.push(
                    raw.secret.span(),
                    "the id cannot be `secret`: it is in every URL",
                );
            }
            let (serde, garde): (Vec<Attribute>, Vec<Attribute>) = raw
                .attrs
                .into_iter()
                .partition(|attr| attr.path().is_ident("serde"));
            for attr in &serde {
                errors.push(attr.path().span(), serde_message);
            }
            fields.push(Field {
                ident,
                ty: raw.ty,
                garde,
                secret: raw.secret.is_present(),
            });
        }

        let names: Vec<String> = fields.iter().map(Field::name).collect();
        let find = |name: &str| names.iter().position(|candidate| candidate == name);

        let id = match id.or(id_by_name) {
            Some(id) => Some(id),
            None => {
                errors.push(
                    self.ident.span(),
                    "a resource needs an id field: mark one with `#[resource(id)]`",
                );
                None
            }
        };

        // Rows belong either to a user (`owner`) or to a tenant (`tenant`).
        let (scope_option, scope_name) = match (&self.owner, &self.tenant) {
            (Some(owner), None) => (Some(owner), "owner"),
            (None, Some(tenant)) => (Some(tenant), "tenant"),
            (Some(_), Some(tenant)) => {
                errors.push(
                    tenant.span(),
                    "a resource is scoped either to its `owner` or to its `tenant`, not both; keep one",
                );
                (None, "owner")
            }
            (None, None) => {
                errors.push(
                    self.ident.span(),
                    "a resource needs `owner = \"column\"` (rows belong to a user) or `tenant = \"column\"` (rows belong to an organisation)",
                );
                (None, "owner")
            }
        };
        let is_tenant = scope_name == "tenant";
        let owner = match scope_option {
            None => None,
            Some(scope) => match find(scope.as_str()) {
                Some(owner) => {
                    if fields[owner].secret {
                        errors.push(
                            scope.span(),
                            format!("the {scope_name} column cannot be `secret`"),
                        );
                    }
                    if is_tenant && Some(owner) == id {
                        errors.push(scope.span(), "the tenant column cannot be the id");
                    }
                    Some(owner)
                }
                None => {
                    errors.push(
                        scope.span(),
                        format!(
                            "`{scope_name} = \"{}\"` names no field of `{}`{}",
                            scope.as_str(),
                            self.ident,
                            suggestion(scope.as_str(), names.iter().map(String::as_str))
                        ),
                    );
                    None
                }
            },
        };

        // The server increments the version column on every write, so it
        // must be a plain column of its own: not the id, not the scope
        // column, and visible (it is the source of the ETag).
        let version = match &self.version {
            None => None,
            Some(version) => match find(version.as_str()) {
                Some(index) if Some(index) == id || Some(index) == owner => {
                    errors.push(
                        version.span(),
                        format!("the version column cannot be the id or the {scope_name} column; add a column of its own, such as `version: i64`"),
                    );
                    None
                }
                Some(index) if fields[index].secret => {
                    errors.push(
                        version.span(),
                        "the version column cannot be `secret`: clients see it through the ETag",
                    );
                    None
                }
                Some(index) => Some(index),
                None => {
                    errors.push(
                        version.span(),
                        format!(
                            "`version = \"{}\"` names no field of `{}`{}",
                            version.as_str(),
                            self.ident,
                            suggestion(version.as_str(), names.iter().map(String::as_str))
                        ),
                    );
                    None
                }
            },
        };
        if self.require_if_match.is_present() && self.version.is_none() {
            errors.push(
                self.require_if_match.span(),
                "`require_if_match` needs a version column to compare `If-Match` with; add `version = \"column\"`",
            );
        }

        let table = match &self.table {
            Some(table) if is_sql_identifier(table) => table.to_string(),
            Some(table) => {
                errors.push(
                    table.span(),
                    "`table` must be a plain SQL identifier: letters, digits and `_`, not starting with a digit",
                );
                String::new()
            }
            None => default_table(&self.ident),
        };

        let mut check_list = |list: &PathList, option: &str| -> Vec<usize> {
            let mut chosen: Vec<usize> = Vec::new();
            for path in list.iter() {
                let span = path.span();
                let Some(name) = path.get_ident().map(Ident::to_string) else {
                    errors.push(span, format!("`{option}(...)` takes field names"));
                    continue;
                };
                let Some(index) = find(&name) else {
                    errors.push(
                        span,
                        format!(
                            "`{option}` names `{name}`, which is not a field of `{}`{}",
                            self.ident,
                            suggestion(&name, names.iter().map(String::as_str))
                        ),
                    );
                    continue;
                };
                if Some(index) == id {
                    errors.push(
                        span,
                        format!("`{name}` is the id, which the database assigns; remove it from `{option}`"),
                    );
                } else if Some(index) == owner {
                    errors.push(
                        span,
                        format!("`{name}` is the {scope_name} column, which is set from the verified caller; remove it from `{option}`"),
                    );
                } else if Some(index) == version {
                    errors.push(
                        span,
                        format!("`{name}` is the version column, which the server increments on every write; remove it from `{option}`"),
                    );
                } else if fields[index].secret {
                    errors.push(
                        span,
                        format!("`{name}` is `secret`; a secret field is never read from a request body, so remove it from `{option}`"),
                    );
                } else if chosen.contains(&index) {
                    errors.push(span, format!("`{name}` is listed twice in `{option}`"));
                } else if let Some(ident) = crate::diagnostics::free_form_json(&fields[index].ty) {
                    errors.push(ident.span(), crate::diagnostics::FREE_FORM_MESSAGE);
                } else if fields[index].garde.is_empty() {
                    errors.push(
                        fields[index].ident.span(),
                        format!(
                            "`{name}` is in `{option}` but has no validation rule; add `#[garde(...)]` to the field, or `#[garde(skip)]` to accept any value of its type"
                        ),
                    );
                } else {
                    chosen.push(index);
                }
            }
            chosen
        };

        let creatable = check_list(&self.creatable, "creatable");
        let writable = check_list(&self.writable, "writable");

        if let (Some(scope), true) = (
            scope_option,
            id.is_some() && id == owner && !self.creatable.is_empty(),
        ) {
            errors.push(
                scope.span(),
                "a resource owned by itself (`owner = \"id\"`) cannot be created by a caller; remove `creatable(...)`",
            );
        }

        errors.finish()?;
        let (Some(id), Some(owner)) = (id, owner) else {
            return Err(syn::Error::new(Span::call_site(), "resource checks failed"));
        };

        Ok(ResourceModel {
            ident: self.ident,
            vis: self.vis,
            table,
            fields,
            id,
            owner,
            tenant: is_tenant,
            creatable,
            writable,
            version,
            require_if_match: self.require_if_match.is_present(),
        })
    }
}
