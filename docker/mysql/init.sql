-- The MySQL demo's schema, first rows and the connector's user (run once by the image's
-- entrypoint, in the `inventory` database).
CREATE USER IF NOT EXISTS 'siphon'@'%' IDENTIFIED BY 'siphon';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'siphon'@'%';
CREATE TABLE customers (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(255) NOT NULL UNIQUE,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
CREATE TABLE orders (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  total DECIMAL(12, 2) NOT NULL,
  status ENUM('new', 'paid', 'shipped') NOT NULL DEFAULT 'new',
  details JSON,
  FOREIGN KEY (customer_id) REFERENCES customers (id)
);
INSERT INTO customers (email) VALUES
  ('ada@example.com'), ('grace@example.com'), ('linus@example.com');
INSERT INTO orders (customer_id, total, details) VALUES
  (1, 19.99, '{"items": 1}'), (2, 250.00, '{"items": 3}');
