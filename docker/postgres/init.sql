-- The Postgres demo's schema and first rows (run once by the image's entrypoint, in the
-- `inventory` database). Siphon creates its publication and slot itself.
CREATE TABLE customers (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  total numeric(12, 2) NOT NULL,
  status text NOT NULL DEFAULT 'new',
  details jsonb
);
INSERT INTO customers (email) VALUES
  ('ada@example.com'), ('grace@example.com'), ('linus@example.com');
INSERT INTO orders (customer_id, total, details) VALUES
  (1, 19.99, '{"items": 1}'), (2, 250.00, '{"items": 3}');
