//! The nested form and the flat form, in any order and split over files, give identical facts.

use proptest::prelude::*;
use serde_json::Value;
use servicemeter_core::FactsRow;
use servicemeter_core::facts::compute_all_facts;
use servicemeter_core::{Calendars, WorkspaceConfig};
use servicemeter_demo::{DEMO_CONFIG, GeneratorOptions, generate_lines};
use servicemeter_import::parallel::CHUNK_BYTES;
use servicemeter_import::{facts_from_files_in, read_conversations};

fn nested_lines() -> Vec<String> {
    generate_lines(&GeneratorOptions {
        conversations: 60,
        seed: 11,
        ..GeneratorOptions::default()
    })
}

fn flatten(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        let mut c: Value = serde_json::from_str(line).unwrap();
        let id = c["id"].clone();
        for (key, kind) in [
            ("messages", "message"),
            ("events", "event"),
            ("surveys", "survey"),
        ] {
            if let Some(Value::Array(items)) = c.as_object_mut().unwrap().remove(key) {
                for mut item in items {
                    item["type"] = Value::from(kind);
                    item["conversation"] = id.clone();
                    out.push(item.to_string());
                }
            }
        }
        out.push(c.to_string());
    }
    out
}

/// Facts of files by both paths: grouping every record in memory, and the bounded-memory path
/// of `report --input`. Files are written plain, or gzip-compressed when `gzip[i]`.
fn facts_of(files: &[Vec<String>], gzip: &[bool]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, lines) in files.iter().enumerate() {
        let text = lines.join("\n") + "\n";
        let path = if gzip.get(i).copied().unwrap_or(false) {
            let path = dir.path().join(format!("part{i}.jsonl.gz"));
            let mut encoder = flate2::write::GzEncoder::new(
                std::fs::File::create(&path).unwrap(),
                flate2::Compression::fast(),
            );
            std::io::Write::write_all(&mut encoder, text.as_bytes()).unwrap();
            encoder.finish().unwrap();
            path
        } else {
            let path = dir.path().join(format!("part{i}.jsonl"));
            std::fs::write(&path, text).unwrap();
            path
        };
        paths.push(path.display().to_string());
    }
    let calendars = Calendars::new(WorkspaceConfig::from_toml(DEMO_CONFIG).unwrap());
    let (conversations, _) = read_conversations(&paths, |_| {}).unwrap();
    let grouped: Vec<_> = compute_all_facts(&conversations, &calendars)
        .into_iter()
        .flatten()
        .collect();
    for chunk_bytes in [CHUNK_BYTES, 997, 61] {
        let (table, _) = facts_from_files_in(&paths, &calendars, 2, chunk_bytes).unwrap();
        let mut streamed: Vec<_> = table.to_facts();
        streamed.sort_by(|a, b| a.conversation.cmp(&b.conversation));
        assert_eq!(
            streamed, grouped,
            "both file paths agree (chunks of {chunk_bytes} bytes)"
        );
    }
    serde_json::to_string(&grouped.iter().map(FactsRow::new).collect::<Vec<_>>()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn flat_shuffled_and_split_equals_nested(seed in any::<u64>(), split in 0usize..400, duplicate in any::<bool>(), gzip in any::<(bool, bool)>()) {
        let nested = nested_lines();
        let expected = facts_of(std::slice::from_ref(&nested), &[false]);
        let mut flat = flatten(&nested);
        if duplicate {
            // Re-sending records (a retried upload) changes nothing.
            let again: Vec<String> = flat.iter().step_by(3).cloned().collect();
            flat.extend(again);
        }
        // Fisher–Yates with a small deterministic generator from the seed.
        let mut state = seed | 1;
        for i in (1..flat.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = (state % (i as u64 + 1)) as usize;
            flat.swap(i, j);
        }
        let cut = split.min(flat.len());
        let (a, b) = flat.split_at(cut);
        prop_assert_eq!(facts_of(&[a.to_vec(), b.to_vec()], &[gzip.0, gzip.1]), expected);
    }
}

#[test]
fn errors_carry_the_line_number_whatever_the_chunk_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let good = r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T10:00:00Z"}"#;
    let bad = r#"{"type":"conversation","id":"c2","channel":"email","created_at":"yesterday"}"#;
    std::fs::write(
        &path,
        format!("{good}\n\n{good}\n  \n{good}\n{bad}\n{good}\n"),
    )
    .unwrap();
    let calendars = Calendars::new(WorkspaceConfig::from_toml(DEMO_CONFIG).unwrap());
    let paths = vec![path.display().to_string()];
    for chunk_bytes in [CHUNK_BYTES, 200, 100, 37, 5, 1] {
        let e = facts_from_files_in(&paths, &calendars, 2, chunk_bytes).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_str()),
            (6, "created_at"),
            "chunks of {chunk_bytes}"
        );
    }
}

/// Every record of files through the streaming reader (as `import` reads them), or the error.
fn stream_all(paths: &[String]) -> Result<usize, servicemeter_import::InputError> {
    let mut count = 0;
    servicemeter_import::parse_parallel(
        paths,
        servicemeter_import::FileAccess::Stream,
        2,
        |lines| lines.map(|l| l.parse().map(|_| ())).collect::<Vec<_>>(),
        |_| {},
        |chunk: Vec<Result<(), servicemeter_import::FieldError>>, _| {
            for r in chunk {
                r.map_err(|e| servicemeter_import::InputError {
                    file: String::new(),
                    line: 0,
                    field: e.field,
                    reason: e.reason,
                })?;
                count += 1;
            }
            Ok::<(), servicemeter_import::InputError>(())
        },
    )?;
    Ok(count)
}

#[test]
fn a_byte_order_mark_at_the_start_is_not_part_of_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let lines = nested_lines();
    let path = dir.path().join("bom.jsonl");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(lines[..3].join("\n").as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let name = path.display().to_string();
    assert_eq!(stream_all(std::slice::from_ref(&name)).unwrap(), 3);
    let (conversations, _) = read_conversations(std::slice::from_ref(&name), |_| {}).unwrap();
    assert_eq!(conversations.len(), 3);
}

#[test]
fn a_line_over_the_limit_stops_with_its_line_number_in_bounded_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let lines = nested_lines();
    writeln!(gz, "{}", lines[0]).unwrap();
    // One line of 65 MiB without an end (compresses to almost nothing).
    let block = vec![b'x'; 1 << 20];
    for _ in 0..65 {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap();
    let name = path.display().to_string();
    let error = stream_all(std::slice::from_ref(&name)).unwrap_err();
    assert_eq!(error.line, 2, "{error}");
    assert!(error.reason.contains("longer than 64 MiB"), "{error}");
    let error = read_conversations(std::slice::from_ref(&name), |_| {}).unwrap_err();
    assert_eq!(error.line, 2, "{error}");
    assert!(error.reason.contains("longer than 64 MiB"), "{error}");
}
