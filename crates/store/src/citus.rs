//! Ready to distribute: which tables are Citus reference tables (small, installation-wide,
//! copied to every node) and which are distributed by `workspace_id` (co-located, so one
//! workspace's rows of every table live on one node). docs/scaling.md shows the statements
//! [`distribution_statements`] makes; tests check the schema and the SQL against these lists.

/// Installation-wide tables, small and rarely written.
pub const REFERENCE_TABLES: &[&str] = &["workspaces", "users", "memberships", "sessions"];

/// Tables keyed by `workspace_id` first, distributed by it and co-located with
/// `workspace_state`.
pub const DISTRIBUTED_TABLES: &[&str] = &[
    "workspace_state",
    "conversations",
    "fact_segments",
    "imports",
    "sync_cursors",
    "api_tokens",
    "jobs",
    "erased_customers",
    "audit_log",
    "sync_accounts",
    "webhook_deliveries",
    "saved_views",
    "survey_invitations",
    "survey_suppressions",
    "survey_state",
    "follow_ups",
    "workspace_smtp",
    "report_cursors",
    "report_deliveries",
    "report_files",
    "report_unsubscribes",
    "share_links",
    "alert_states",
    "alert_events",
];

/// The statements that turn a migrated PostgreSQL database into a distributed one (run on the
/// Citus coordinator, once, after `servicemeter` has created the schema there).
pub fn distribution_statements() -> String {
    let mut out = String::new();
    for table in REFERENCE_TABLES {
        out.push_str(&format!("SELECT create_reference_table('{table}');\n"));
    }
    let (first, rest) = DISTRIBUTED_TABLES.split_first().expect("tables");
    out.push_str(&format!(
        "SELECT create_distributed_table('{first}', 'workspace_id');\n"
    ));
    for table in rest {
        out.push_str(&format!(
            "SELECT create_distributed_table('{table}', 'workspace_id', colocate_with => '{first}');\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL statements written in a source file: string literals that start with a
    /// statement keyword, with Rust's line continuations joined.
    fn statements(source: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let mut end = 0;
            let bytes = after.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let literal = &after[..end.min(after.len())];
            let joined: String = literal
                .split("\\\n")
                .map(str::trim_start)
                .collect::<Vec<_>>()
                .join("");
            let upper = joined.trim_start().to_ascii_uppercase();
            if ["SELECT ", "INSERT ", "UPDATE ", "DELETE "]
                .iter()
                .any(|k| upper.starts_with(k))
            {
                out.push(joined);
            }
            rest = &after[(end + 1).min(after.len())..];
        }
        out
    }

    fn touches(statement: &str, table: &str) -> bool {
        let lower = statement.to_ascii_lowercase();
        ["from ", "join ", "update ", "into "].iter().any(|k| {
            lower
                .match_indices(k)
                .any(|(i, _)| lower[i + k.len()..].split([' ', '(', ',']).next() == Some(table))
        })
    }

    /// Every statement of the store that reads or writes a distributed table names one
    /// workspace: `workspace_id = $N` (reads, updates, deletes) or a `workspace_id` column
    /// (inserts). Citus then routes it to one node.
    #[test]
    fn every_statement_on_a_distributed_table_names_its_workspace() {
        let sources = [
            ("sql.rs", include_str!("sql.rs")),
            ("storage.rs", include_str!("storage.rs")),
            ("sql_accounts.rs", include_str!("sql_accounts.rs")),
            ("jobs.rs", include_str!("jobs.rs")),
            ("surveys.rs", include_str!("surveys.rs")),
        ];
        let mut checked = 0;
        for (file, source) in sources {
            for statement in statements(source) {
                for table in DISTRIBUTED_TABLES {
                    if !touches(&statement, table) {
                        continue;
                    }
                    checked += 1;
                    let lower = statement.to_ascii_lowercase();
                    let names_workspace = if lower.starts_with("insert") {
                        lower.contains("(workspace_id")
                    } else {
                        // `… workspace_id = ` ending a literal: a query builder binds it next.
                        lower.contains("workspace_id = $")
                            || lower.trim_end().ends_with("workspace_id =")
                    };
                    assert!(
                        names_workspace,
                        "{file}: statement on distributed table {table} without one workspace: {statement}"
                    );
                }
            }
        }
        assert!(checked > 20, "the scan found the statements ({checked})");
    }

    #[test]
    fn the_scan_sees_a_statement_without_its_workspace() {
        let source = "let q = \"SELECT data FROM fact_segments \\\n  ORDER BY segment_id\";";
        let found = statements(source);
        assert_eq!(
            found,
            vec!["SELECT data FROM fact_segments ORDER BY segment_id"]
        );
        assert!(touches(&found[0], "fact_segments"));
        assert!(!found[0].contains("workspace_id = $"));
    }

    #[test]
    fn statements_name_every_table_once() {
        let text = distribution_statements();
        for table in REFERENCE_TABLES.iter().chain(DISTRIBUTED_TABLES) {
            assert_eq!(text.matches(&format!("('{table}'")).count(), 1, "{table}");
        }
        assert!(text.starts_with("SELECT create_reference_table('workspaces');\n"));
        assert!(text.contains(
            "SELECT create_distributed_table('conversations', 'workspace_id', colocate_with => 'workspace_state');"
        ));
    }

    /// docs/scaling.md shows exactly these statements.
    #[test]
    fn the_scaling_document_shows_the_statements() {
        let doc = include_str!("../../../docs/scaling.md");
        assert!(
            doc.contains(&distribution_statements()),
            "docs/scaling.md must contain:\n{}",
            distribution_statements()
        );
    }
}
