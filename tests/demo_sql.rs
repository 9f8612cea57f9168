//! The docker-compose demo's SQL, run against the local servers so it is known to work: each
//! database's schema and first rows (`docker/<db>/init.sql`, as the image entrypoints run it),
//! then rounds of its load generator (`docker/<db>/load.sql`), which must keep inserting,
//! updating and, past 50 orders, deleting. MySQL's files run on the harness's MariaDB.
//! (MongoDB's scripts need mongosh and a replica set, which this machine cannot run.)

mod common;
mod mysql;
mod pg;

use mysql_async::prelude::Queryable;

fn demo_file(path: &str) -> String {
    let full = format!("{}/docker/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[tokio::test]
async fn the_postgres_demo_schema_and_load_run() {
    let db = pg::TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(&demo_file("postgres/init.sql"))
        .await
        .unwrap();
    let load = demo_file("postgres/load.sql");
    for _ in 0..60 {
        client.batch_execute(&load).await.unwrap();
    }
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    // Each round adds an order; past 50, each also deletes the oldest.
    let orders = count("SELECT count(*) FROM orders").await;
    assert!((50..=52).contains(&orders), "{orders} orders");
    assert!(count("SELECT count(*) FROM orders WHERE status = 'paid'").await > 0);
    assert!(
        count("SELECT min(id) FROM orders").await > 1,
        "the oldest were deleted"
    );
    assert!(count("SELECT count(*) FROM customers").await > 3);
    drop(client);
    db.drop().await;
}

#[tokio::test]
async fn the_mysql_demo_schema_and_load_run() {
    let db = mysql::TestDb::create().await;
    let mut conn = db.client().await;
    conn.query_drop(demo_file("mysql/init.sql")).await.unwrap();
    let load = demo_file("mysql/load.sql");
    for _ in 0..60 {
        conn.query_drop(&load).await.unwrap();
    }
    let mut one =
        async |sql: &str| -> i64 { conn.query_first::<i64, _>(sql).await.unwrap().unwrap() };
    let orders = one("SELECT COUNT(*) FROM orders").await;
    assert!((50..=52).contains(&orders), "{orders} orders");
    assert!(one("SELECT COUNT(*) FROM orders WHERE status = 'paid'").await > 0);
    assert!(
        one("SELECT MIN(id) FROM orders").await > 1,
        "the oldest were deleted"
    );
    assert!(one("SELECT COUNT(*) FROM customers").await > 3);
    drop(conn);
    db.drop().await;
}
