-- The version behind each invoice's ETag: every write through the API
-- increments it, so a write based on a stale read is refused with 412.
ALTER TABLE invoices ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
