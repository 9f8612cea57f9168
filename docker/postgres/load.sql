-- One round of the Postgres demo's load: an insert, an update and (once the table is big
-- enough) a delete, so create, update and delete events keep flowing.
INSERT INTO customers (email)
  VALUES ('user' || floor(random() * 1000000000)::bigint || '@example.com')
  ON CONFLICT (email) DO NOTHING;
INSERT INTO orders (customer_id, total, details)
  SELECT id, round((random() * 500)::numeric, 2), jsonb_build_object('items', 1 + floor(random() * 5)::int)
  FROM customers ORDER BY random() LIMIT 1;
UPDATE orders SET total = total + 1.25, status = 'paid'
  WHERE id = (SELECT id FROM orders ORDER BY random() LIMIT 1);
DELETE FROM orders
  WHERE id = (SELECT min(id) FROM orders) AND (SELECT count(*) FROM orders) > 50;
