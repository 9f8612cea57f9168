// One round of the MongoDB demo's load: an insert, an update and (once the collection is big
// enough) a delete.
const inventory = db.getSiblingDB("inventory");
const ids = inventory.customers.find({}, { _id: 1 }).toArray().map((c) => c._id);
inventory.orders.insertOne({
  customer: ids[Math.floor(Math.random() * ids.length)],
  total: NumberDecimal((Math.random() * 500).toFixed(2)),
  placed: new Date(),
  items: [{ sku: "B-" + Math.floor(Math.random() * 100), qty: 1 + Math.floor(Math.random() * 4) }],
});
inventory.orders.updateOne({}, { $set: { status: "paid" }, $inc: { revision: 1 } });
if (inventory.orders.countDocuments() > 50) {
  const oldest = inventory.orders.find().sort({ _id: 1 }).limit(1).next();
  inventory.orders.deleteOne({ _id: oldest._id });
}
