-- Users own invoices; a user's own account is a resource owned by itself.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL
);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    customer_name TEXT NOT NULL,
    customer_address TEXT NOT NULL DEFAULT '',
    line_items TEXT NOT NULL DEFAULT '[]',
    total_cents INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    due_date TEXT NOT NULL,
    is_paid INTEGER NOT NULL DEFAULT 0,
    payment_reference TEXT NOT NULL DEFAULT ('pay_' || lower(hex(randomblob(12))))
);

-- Every scoped statement filters on the owner and the id together.
CREATE INDEX invoices_owner_id_id ON invoices (owner_id, id);
