//! The PostgreSQL schema after migrations is ready to distribute: every table is a listed
//! reference table or keyed by `workspace_id` first, and distributed tables point only at
//! reference tables.

use servicemeter_store::citus::{DISTRIBUTED_TABLES, REFERENCE_TABLES};
use servicemeter_store::test_support::fresh_postgres_url;
use sqlx::Connection;

#[tokio::test]
async fn every_postgres_table_is_a_reference_table_or_keyed_by_workspace_first() {
    let url = fresh_postgres_url().await;
    servicemeter_store::Storage::open_postgres(&url, 2)
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() >= 11, "{tables:?}");
    for table in &tables {
        if table == "_sqlx_migrations" {
            continue; // the migration bookkeeping: a local table of the coordinator
        }
        let reference = REFERENCE_TABLES.contains(&table.as_str());
        let distributed = DISTRIBUTED_TABLES.contains(&table.as_str());
        assert!(
            reference ^ distributed,
            "table {table} must be listed in exactly one of citus::REFERENCE_TABLES and citus::DISTRIBUTED_TABLES"
        );
        if distributed {
            let first: String = sqlx::query_scalar(
                "SELECT a.attname::text FROM pg_index i \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                 WHERE i.indrelid = $1::regclass AND i.indisprimary",
            )
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{table} has no primary key: {e}"));
            assert_eq!(first, "workspace_id", "primary key of {table}");
            // Unique indexes of a distributed table must contain the distribution column.
            let unique_without: Vec<String> = sqlx::query_scalar(
                "SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                 WHERE i.indrelid = $1::regclass AND i.indisunique AND NOT EXISTS ( \
                   SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid \
                   AND a.attnum = ANY(i.indkey) AND a.attname = 'workspace_id')",
            )
            .bind(table)
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert!(unique_without.is_empty(), "{table}: {unique_without:?}");
        }
    }
    for listed in REFERENCE_TABLES.iter().chain(DISTRIBUTED_TABLES) {
        assert!(
            tables.iter().any(|t| t == listed),
            "{listed} is listed but not in the schema"
        );
    }
    let foreign_keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = (SELECT oid FROM pg_namespace \
         WHERE nspname = current_schema())",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(!foreign_keys.is_empty());
    for (from, to) in &foreign_keys {
        if DISTRIBUTED_TABLES.contains(&from.as_str()) {
            assert!(
                REFERENCE_TABLES.contains(&to.as_str()),
                "foreign key from distributed {from} to {to}, which is not a reference table"
            );
        }
    }
}
