CREATE TABLE IF NOT EXISTS "customers" (
  "customer_id" INTEGER PRIMARY KEY,
  "username" TEXT NOT NULL DEFAULT '',
  "token_hash" TEXT NOT NULL DEFAULT '',
  "original_username" TEXT NOT NULL DEFAULT '',
  "password" TEXT NOT NULL DEFAULT '',
  "cryptpass" TEXT NOT NULL DEFAULT '',
  "session" TEXT NOT NULL DEFAULT '',
  "firstname" TEXT NOT NULL DEFAULT '',
  "lastname" TEXT NOT NULL DEFAULT '',
  "address1" TEXT NOT NULL DEFAULT '',
  "address2" TEXT NOT NULL DEFAULT '',
  "city" TEXT NOT NULL DEFAULT '',
  "state" TEXT NOT NULL DEFAULT '',
  "zip" TEXT NOT NULL DEFAULT '',
  "country" TEXT NOT NULL DEFAULT '',
  "shipping_firstname" TEXT NOT NULL DEFAULT '',
  "shipping_lastname" TEXT NOT NULL DEFAULT '',
  "shipping_address1" TEXT NOT NULL DEFAULT '',
  "shipping_address2" TEXT NOT NULL DEFAULT '',
  "shipping_zip" TEXT NOT NULL DEFAULT '',
  "shipping_city" TEXT NOT NULL DEFAULT '',
  "shipping_state" TEXT NOT NULL DEFAULT '',
  "shipping_country" TEXT NOT NULL DEFAULT '',
  "phone" TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS "customers_username" ON "customers" ("username");
CREATE TABLE IF NOT EXISTS "subscriptions" (
  "subscription_id" INTEGER PRIMARY KEY,
  "customer_id" INTEGER NOT NULL,
  "status" TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS "subscriptions_customer_id" ON "subscriptions" ("customer_id");
CREATE TABLE IF NOT EXISTS "transactions" (
  "orderid" INTEGER PRIMARY KEY,
  "customer_id" INTEGER NOT NULL,
  "amount_cents" INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS "transactions_customer_id" ON "transactions" ("customer_id");
CREATE TABLE IF NOT EXISTS "member_auth" (
  "auth_id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer_id" INTEGER NOT NULL,
  "kind" TEXT NOT NULL DEFAULT '',
  "secret" TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS "member_auth_customer_id" ON "member_auth" ("customer_id");
CREATE TABLE IF NOT EXISTS "member_note" (
  "note_id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer_id" INTEGER NOT NULL,
  "note" TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS "member_note_customer_id" ON "member_note" ("customer_id");
CREATE TABLE IF NOT EXISTS "forget_audit" (
  "audit_id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer_id" TEXT NOT NULL,
  "at" TEXT NOT NULL,
  "principal" TEXT NOT NULL,
  "request_id" TEXT NOT NULL,
  "fields_erased" TEXT NOT NULL,
  "fields_kept" TEXT NOT NULL,
  "tables_kept" TEXT NOT NULL,
  "rows_deleted" TEXT NOT NULL,
  "rows_scrubbed" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "forget_audit_customer_id" ON "forget_audit" ("customer_id");
CREATE INDEX IF NOT EXISTS "forget_audit_at" ON "forget_audit" ("at");
