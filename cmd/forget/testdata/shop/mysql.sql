-- The shop of issue 19 on MariaDB 10.11: native UUID keys, a JSON
-- profile, INET6 addresses, a plain view. One statement per ";" at a
-- line's end. Rows are seeded by shop_test.go.
CREATE TABLE users (
  id UUID PRIMARY KEY,
  username VARCHAR(64) NOT NULL UNIQUE,
  password_hash VARCHAR(128) NOT NULL,
  first_name VARCHAR(100) NOT NULL,
  last_name VARCHAR(100) NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE,
  phone VARCHAR(40),
  profile JSON NOT NULL,
  home_address_id UUID,
  created_at DATETIME NOT NULL,
  KEY users_home_address_id (home_address_id)
) ENGINE=InnoDB;
CREATE TABLE addresses (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL,
  line1 VARCHAR(255) NOT NULL,
  city VARCHAR(100) NOT NULL,
  zip VARCHAR(20) NOT NULL,
  KEY addresses_user_id (user_id),
  CONSTRAINT addresses_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;
ALTER TABLE users ADD CONSTRAINT users_home_address FOREIGN KEY (home_address_id) REFERENCES addresses (id);
CREATE TABLE orders (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL,
  ship_name VARCHAR(200) NOT NULL,
  ship_address VARCHAR(255) NOT NULL,
  ship_phone VARCHAR(40),
  amount_cents INT NOT NULL,
  created_at DATETIME NOT NULL,
  KEY orders_user_id (user_id),
  CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;
CREATE TABLE order_items (
  id UUID PRIMARY KEY,
  order_id UUID NOT NULL,
  product VARCHAR(100) NOT NULL,
  qty INT NOT NULL,
  gift_message TEXT NOT NULL,
  KEY order_items_order_id (order_id),
  CONSTRAINT order_items_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE NO ACTION
) ENGINE=InnoDB;
CREATE TABLE newsletter (
  id UUID PRIMARY KEY,
  email VARCHAR(255) NOT NULL UNIQUE,
  subscribed_at DATETIME NOT NULL
) ENGINE=InnoDB;
CREATE TABLE login_events (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL,
  ip INET6 NOT NULL,
  user_agent VARCHAR(255) NOT NULL,
  logged_at DATETIME NOT NULL,
  KEY login_events_user_id (user_id),
  CONSTRAINT login_events_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;
CREATE TABLE tickets (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL,
  subject VARCHAR(255) NOT NULL,
  body TEXT NOT NULL,
  status VARCHAR(20) NOT NULL,
  KEY tickets_user_id (user_id),
  CONSTRAINT tickets_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;
CREATE TABLE phones (
  id UUID PRIMARY KEY,
  number VARCHAR(40) NOT NULL,
  label VARCHAR(20) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE customer_phones (
  user_id UUID NOT NULL,
  phone_id UUID NOT NULL,
  PRIMARY KEY (user_id, phone_id),
  KEY customer_phones_phone_id (phone_id),
  CONSTRAINT customer_phones_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT customer_phones_phone FOREIGN KEY (phone_id) REFERENCES phones (id)
) ENGINE=InnoDB;
CREATE VIEW customer_directory AS
  SELECT id AS user_id, first_name, last_name, phone FROM users;
