-- One round of the MySQL demo's load: an insert, an update and (once the table is big
-- enough) a delete.
INSERT IGNORE INTO customers (email)
  VALUES (CONCAT('user', FLOOR(RAND() * 1000000000), '@example.com'));
INSERT INTO orders (customer_id, total, details)
  SELECT id, ROUND(RAND() * 500, 2), JSON_OBJECT('items', 1 + FLOOR(RAND() * 5))
  FROM customers ORDER BY RAND() LIMIT 1;
UPDATE orders SET total = total + 1.25, status = 'paid' ORDER BY RAND() LIMIT 1;
DELETE FROM orders
  WHERE (SELECT n FROM (SELECT COUNT(*) AS n FROM orders) AS c) > 50
  ORDER BY id LIMIT 1;
