//! Core's report kernel on several threads: the caller (the CLI, the server) decides how many;
//! core itself never starts one.

use servicemeter_core::filter::Filter;
use servicemeter_core::periods::Compared;
use servicemeter_core::report::GroupBy;
use servicemeter_core::{FactTable, Report, ReportPlan, WorkspaceConfig};

/// Rows below which one thread is faster than several.
const ROWS_PER_THREAD_AT_LEAST: usize = 20_000;

/// [`servicemeter_core::build_report`] on up to `threads` scoped threads, each aggregating a
/// range of rows; the partials are merged in row order. Gives the same report as the
/// sequential kernel.
pub fn build_report_on(
    threads: usize,
    table: &FactTable,
    config: &WorkspaceConfig,
    compared: Option<Compared>,
    filter: &Filter,
    by: &[GroupBy],
) -> Report {
    let plan = ReportPlan::new(table, config, compared, by).with_filter(filter);
    let threads = threads.min(table.len() / ROWS_PER_THREAD_AT_LEAST).max(1);
    if threads == 1 {
        return plan.finish(plan.aggregate(0..table.len()));
    }
    let chunk = table.len().div_ceil(threads);
    let plan_ref = &plan;
    let partials: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..table.len())
            .step_by(chunk)
            .map(|from| {
                let rows = from..(from + chunk).min(table.len());
                scope.spawn(move || plan_ref.aggregate(rows))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("report worker panicked"))
            .collect()
    });
    let mut partials = partials.into_iter();
    let mut merged = partials.next().expect("at least one range");
    for p in partials {
        merged.merge(p);
    }
    plan.finish(merged)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use servicemeter_core::ConversationFacts;
    use servicemeter_core::facts::FactNumbers;
    use servicemeter_core::report::Period;

    pub(crate) fn table(rows: usize) -> FactTable {
        let facts: Vec<ConversationFacts> = (0..rows)
            .map(|i| ConversationFacts {
                conversation: format!("c{i}"),
                channel: ["email", "chat", "phone"][i % 3].into(),
                agent: (i % 5 != 0).then(|| format!("agent {}", i % 7)),
                team: None,
                tags: if i % 4 == 0 {
                    vec!["retour".into()]
                } else {
                    vec![]
                },
                created_at: 1_706_745_600_000 + i as i64 * 97_000,
                start: 1_706_745_600_000 + i as i64 * 97_000,
                numbers: FactNumbers {
                    anonymous: false,
                    inbound: true,
                    first_response_millis: (i % 6 != 0).then_some((i as i64 % 900) * 1000),
                    first_response_business_millis: (i % 6 != 0).then_some((i as i64 % 700) * 1000),
                    resolved: i % 3 != 1,
                    resolution_millis: (i % 3 != 1).then_some(i as i64 * 3000),
                    resolution_business_millis: (i % 3 != 1).then_some(i as i64 * 2000),
                    first_resolution_millis: None,
                    reopens: (i % 11 == 0) as u32,
                    customer_messages: 1 + (i % 3) as u32,
                    agent_messages: (i % 4) as u32,
                    agent_turns: (i % 4) as u32,
                    one_touch: i % 4 == 1,
                    csat: None,
                    nps: None,
                    waiting_since: None,
                    ces: None,
                },
            })
            .collect();
        FactTable::from_facts(&facts)
    }

    #[test]
    fn any_number_of_threads_gives_the_sequential_report() {
        let table = table(90_001);
        let config = WorkspaceConfig::default();
        let by = [GroupBy::Tag, GroupBy::Week];
        let period = Some(Period::new(
            "2024-02-05".parse().unwrap(),
            "2024-02-25".parse().unwrap(),
        ));
        let sequential = serde_json::to_string(&servicemeter_core::build_report(
            &table, &config, period, &by,
        ))
        .unwrap();
        assert!(sequential.contains("retour"));
        for threads in [1, 2, 3, 4, 16] {
            let parallel = serde_json::to_string(&build_report_on(
                threads,
                &table,
                &config,
                period.map(Compared::with_previous),
                &Filter::default(),
                &by,
            ))
            .unwrap();
            assert_eq!(parallel, sequential, "{threads} threads");
        }
    }
}
