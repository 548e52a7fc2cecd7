-- Users own invoices; a user's own account is a resource owned by itself.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL
);

CREATE TABLE invoices (
    id BIGSERIAL PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    customer_name TEXT NOT NULL,
    customer_address TEXT NOT NULL DEFAULT '',
    line_items JSONB NOT NULL DEFAULT '[]'::jsonb,
    total_cents BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    due_date DATE NOT NULL,
    is_paid BOOLEAN NOT NULL DEFAULT FALSE,
    payment_reference TEXT NOT NULL DEFAULT ('pay_' || substr(md5(random()::text || clock_timestamp()::text), 1, 24))
);

-- Every scoped statement filters on the owner and the id together.
CREATE INDEX invoices_owner_id_id ON invoices (owner_id, id);
