CREATE TABLE IF NOT EXISTS `customers` (
  `customer_id` BIGINT PRIMARY KEY,
  `username` VARCHAR(32) NOT NULL DEFAULT '',
  `token_hash` VARCHAR(255) NOT NULL DEFAULT '',
  `original_username` VARCHAR(32) NOT NULL DEFAULT '',
  `password` VARCHAR(255) NOT NULL DEFAULT '',
  `cryptpass` VARCHAR(255) NOT NULL DEFAULT '',
  `session` VARCHAR(255) NOT NULL DEFAULT '',
  `firstname` VARCHAR(255) NOT NULL DEFAULT '',
  `lastname` VARCHAR(255) NOT NULL DEFAULT '',
  `address1` VARCHAR(255) NOT NULL DEFAULT '',
  `address2` VARCHAR(255) NOT NULL DEFAULT '',
  `city` VARCHAR(255) NOT NULL DEFAULT '',
  `state` VARCHAR(255) NOT NULL DEFAULT '',
  `zip` VARCHAR(255) NOT NULL DEFAULT '',
  `country` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_firstname` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_lastname` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_address1` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_address2` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_zip` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_city` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_state` VARCHAR(255) NOT NULL DEFAULT '',
  `shipping_country` VARCHAR(255) NOT NULL DEFAULT '',
  `phone` VARCHAR(255) NOT NULL DEFAULT '',
  UNIQUE INDEX `customers_username` (`username`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `subscriptions` (
  `subscription_id` BIGINT PRIMARY KEY,
  `customer_id` BIGINT NOT NULL,
  `status` VARCHAR(255) NOT NULL DEFAULT '',
  INDEX `subscriptions_customer_id` (`customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `transactions` (
  `orderid` BIGINT PRIMARY KEY,
  `customer_id` BIGINT NOT NULL,
  `amount_cents` BIGINT NOT NULL DEFAULT 0,
  INDEX `transactions_customer_id` (`customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `member_auth` (
  `auth_id` BIGINT AUTO_INCREMENT PRIMARY KEY,
  `customer_id` BIGINT NOT NULL,
  `kind` VARCHAR(255) NOT NULL DEFAULT '',
  `secret` VARCHAR(255) NOT NULL DEFAULT '',
  INDEX `member_auth_customer_id` (`customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `member_note` (
  `note_id` BIGINT AUTO_INCREMENT PRIMARY KEY,
  `customer_id` BIGINT NOT NULL,
  `note` VARCHAR(255) NOT NULL DEFAULT '',
  INDEX `member_note_customer_id` (`customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `forget_audit` (
  `audit_id` BIGINT AUTO_INCREMENT PRIMARY KEY,
  `event_id` VARCHAR(255),
  `customer_id` VARCHAR(255) NOT NULL,
  `at` VARCHAR(255) NOT NULL,
  `principal` VARCHAR(255) NOT NULL,
  `request_id` VARCHAR(255) NOT NULL,
  `fields_erased` TEXT NOT NULL,
  `fields_kept` TEXT NOT NULL,
  `tables_kept` TEXT NOT NULL,
  `rows_deleted` TEXT NOT NULL,
  `rows_scrubbed` TEXT NOT NULL,
  `holds_ignored` TEXT NOT NULL,
  `held` VARCHAR(255) NOT NULL,
  `published_at` VARCHAR(255),
  UNIQUE INDEX `forget_audit_event_id` (`event_id`),
  INDEX `forget_audit_customer_id` (`customer_id`),
  INDEX `forget_audit_at` (`at`),
  INDEX `forget_audit_unpublished` (`published_at`, `audit_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
