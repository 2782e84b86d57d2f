-- The shop of issue 19 on SQLite: bigint keys, the profile as JSON text,
-- addresses as text, a plain view. One statement per ";" at a line's end.
-- Rows are seeded by shop_test.go.
CREATE TABLE users (
  id BIGINT PRIMARY KEY NOT NULL,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT,
  profile TEXT NOT NULL DEFAULT '{}',
  home_address_id BIGINT REFERENCES addresses (id),
  created_at TEXT NOT NULL
);
CREATE INDEX users_home_address_id ON users (home_address_id);
CREATE TABLE addresses (
  id BIGINT PRIMARY KEY NOT NULL,
  user_id BIGINT NOT NULL REFERENCES users (id),
  line1 TEXT NOT NULL,
  city TEXT NOT NULL,
  zip TEXT NOT NULL
);
CREATE INDEX addresses_user_id ON addresses (user_id);
CREATE TABLE orders (
  id BIGINT PRIMARY KEY NOT NULL,
  user_id BIGINT NOT NULL REFERENCES users (id),
  ship_name TEXT NOT NULL,
  ship_address TEXT NOT NULL,
  ship_phone TEXT,
  amount_cents INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX orders_user_id ON orders (user_id);
CREATE TABLE order_items (
  id BIGINT PRIMARY KEY NOT NULL,
  order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE NO ACTION,
  product TEXT NOT NULL,
  qty INTEGER NOT NULL,
  gift_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_items_order_id ON order_items (order_id);
CREATE TABLE newsletter (
  id BIGINT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL UNIQUE,
  subscribed_at TEXT NOT NULL
);
CREATE INDEX newsletter_email_norm ON newsletter (lower(trim(email)));
CREATE TABLE login_events (
  id BIGINT PRIMARY KEY NOT NULL,
  user_id BIGINT NOT NULL REFERENCES users (id),
  ip TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  logged_at TEXT NOT NULL
);
CREATE INDEX login_events_user_id ON login_events (user_id);
CREATE TABLE tickets (
  id BIGINT PRIMARY KEY NOT NULL,
  user_id BIGINT NOT NULL REFERENCES users (id),
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX tickets_user_id ON tickets (user_id);
CREATE TABLE phones (
  id BIGINT PRIMARY KEY NOT NULL,
  number TEXT NOT NULL,
  label TEXT NOT NULL
);
CREATE TABLE customer_phones (
  user_id BIGINT NOT NULL REFERENCES users (id),
  phone_id BIGINT NOT NULL REFERENCES phones (id),
  PRIMARY KEY (user_id, phone_id)
);
CREATE INDEX customer_phones_phone_id ON customer_phones (phone_id);
CREATE VIEW customer_directory AS
  SELECT id AS user_id, first_name, last_name, phone FROM users;
