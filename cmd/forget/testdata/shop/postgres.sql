-- The shop of issue 19 on PostgreSQL: uuid keys, a jsonb profile, inet
-- addresses, a materialized view. One statement per ";" at a line's end.
-- Rows are seeded by shop_test.go.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text NOT NULL UNIQUE,
  phone text,
  profile jsonb NOT NULL DEFAULT '{}',
  home_address_id uuid,
  created_at timestamptz NOT NULL
);
CREATE TABLE addresses (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  line1 text NOT NULL,
  city text NOT NULL,
  zip text NOT NULL
);
CREATE INDEX addresses_user_id ON addresses (user_id);
ALTER TABLE users ADD CONSTRAINT users_home_address FOREIGN KEY (home_address_id) REFERENCES addresses (id);
CREATE INDEX users_home_address_id ON users (home_address_id);
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  ship_name text NOT NULL,
  ship_address text NOT NULL,
  ship_phone text,
  amount_cents integer NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX orders_user_id ON orders (user_id);
CREATE TABLE order_items (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE NO ACTION,
  product text NOT NULL,
  qty integer NOT NULL,
  gift_message text NOT NULL DEFAULT ''
);
CREATE INDEX order_items_order_id ON order_items (order_id);
CREATE TABLE newsletter (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  subscribed_at timestamptz NOT NULL
);
CREATE INDEX newsletter_email_norm ON newsletter (lower(trim(email)));
CREATE TABLE login_events (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  ip inet NOT NULL,
  user_agent text NOT NULL,
  logged_at timestamptz NOT NULL
);
CREATE INDEX login_events_user_id ON login_events (user_id);
CREATE TABLE tickets (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  subject text NOT NULL,
  body text NOT NULL,
  status text NOT NULL
);
CREATE INDEX tickets_user_id ON tickets (user_id);
CREATE TABLE phones (
  id uuid PRIMARY KEY,
  number text NOT NULL,
  label text NOT NULL
);
CREATE TABLE customer_phones (
  user_id uuid NOT NULL REFERENCES users (id),
  phone_id uuid NOT NULL REFERENCES phones (id),
  PRIMARY KEY (user_id, phone_id)
);
CREATE INDEX customer_phones_phone_id ON customer_phones (phone_id);
CREATE MATERIALIZED VIEW customer_directory AS
  SELECT id AS user_id, first_name, last_name, phone FROM users;
