// The MongoDB demo's replica set (initiated on first start) and first documents. Run by the
// `mongodb-init` service with mongosh against `mongodb:27017`.
try {
  rs.status();
} catch (e) {
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongodb:27017" }] });
}
while (!db.hello().isWritablePrimary) {
  sleep(500);
}
const inventory = db.getSiblingDB("inventory");
if (inventory.customers.countDocuments() === 0) {
  inventory.customers.insertMany([
    { _id: 1, email: "ada@example.com", tags: ["vip"] },
    { _id: 2, email: "grace@example.com", tags: [] },
  ]);
  inventory.orders.insertMany([
    { customer: 1, total: NumberDecimal("19.99"), placed: new Date(), items: [{ sku: "A-1", qty: 1 }] },
  ]);
}
print("replica set rs0 ready");
