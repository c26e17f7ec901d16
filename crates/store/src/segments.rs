//! Fact segments: conversation ordinals plus a columnar [`FactTable`], and the newest-wins merge
//! of several segments. Shared by every backend.

use servicemeter_core::FactTable;

use crate::StoreError;

/// Rows per segment written by compaction.
pub const SEGMENT_ROWS: usize = 65_536;

/// Ordinals with their facts, row by row.
#[derive(Debug, Clone, Default)]
pub struct Segment {
    pub ordinals: Vec<u32>,
    pub table: FactTable,
}

impl Segment {
    /// Bytes: row count, ordinals, then the table's encoding.
    pub fn encode(&self) -> Vec<u8> {
        let table = self.table.encode();
        let mut out = Vec::with_capacity(4 + self.ordinals.len() * 4 + table.len());
        out.extend_from_slice(&(self.ordinals.len() as u32).to_le_bytes());
        for o in &self.ordinals {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out.extend_from_slice(&table);
        out
    }

    /// Reads bytes made by [`Segment::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Segment, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            conversation: "(fact segment)".into(),
            reason,
        };
        let count = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
            .ok_or_else(|| corrupt("truncated".into()))?;
        let end = 4 + count * 4;
        let ordinals = bytes
            .get(4..end)
            .ok_or_else(|| corrupt("truncated".into()))?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect::<Vec<_>>();
        let table = FactTable::decode(&bytes[end..]).map_err(|e| corrupt(e.to_string()))?;
        if table.len() != count {
            return Err(corrupt("row counts differ".into()));
        }
        Ok(Segment { ordinals, table })
    }
}

/// Merges segments handed over newest first, one at a time: for each ordinal only its newest
/// row is kept, and only rows whose start lies in `start_between` (when given).
#[derive(Debug, Default)]
pub struct NewestMerge {
    start_between: Option<(i64, i64)>,
    seen: Vec<bool>,
    out: Segment,
}

impl NewestMerge {
    /// A merge keeping rows whose start lies in `[from, to)`, or all rows.
    pub fn new(start_between: Option<(i64, i64)>) -> NewestMerge {
        NewestMerge {
            start_between,
            ..NewestMerge::default()
        }
    }

    /// Leaves out every row of an ordinal (a deleted conversation).
    pub fn skip(&mut self, ordinal: u32) {
        let o = ordinal as usize;
        if o >= self.seen.len() {
            self.seen.resize(o + 1, false);
        }
        self.seen[o] = true;
    }

    /// Adds the next (older) segment.
    pub fn add(&mut self, segment: Segment) {
        let mut rows = Vec::with_capacity(segment.ordinals.len());
        for (i, &ordinal) in segment.ordinals.iter().enumerate() {
            let o = ordinal as usize;
            if o >= self.seen.len() {
                self.seen.resize(o + 1, false);
            }
            if self.seen[o] {
                continue;
            }
            self.seen[o] = true;
            if let Some((from, to)) = self.start_between {
                let start = segment.table.start(i);
                if start < from || start >= to {
                    continue;
                }
            }
            rows.push(i);
        }
        if rows.len() == segment.table.len() && segment.table.len() > self.out.table.len() {
            // Keeping all of a larger segment: take it whole and add what was merged so far
            // after it (row order does not matter), instead of copying the large one.
            let earlier = std::mem::replace(&mut self.out, segment);
            self.out.ordinals.extend_from_slice(&earlier.ordinals);
            self.out
                .table
                .extend_from(&earlier.table, 0..earlier.table.len());
        } else {
            self.out
                .ordinals
                .extend(rows.iter().map(|&i| segment.ordinals[i]));
            self.out.table.extend_from(&segment.table, rows);
        }
    }

    /// Rows merged so far and not yet taken.
    pub fn len(&self) -> usize {
        self.out.ordinals.len()
    }

    /// No rows merged since the last take.
    pub fn is_empty(&self) -> bool {
        self.out.ordinals.is_empty()
    }

    /// Takes the rows merged so far; later segments still skip the ordinals already seen.
    pub fn take(&mut self) -> Segment {
        std::mem::take(&mut self.out)
    }

    /// The merged rows.
    pub fn finish(self) -> Segment {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use servicemeter_core::ConversationFacts;
    use servicemeter_core::facts::FactNumbers;

    fn facts(id: &str, start: i64, reopens: u32) -> ConversationFacts {
        ConversationFacts {
            conversation: id.into(),
            channel: "email".into(),
            agent: None,
            team: None,
            tags: vec![],
            created_at: start,
            start,
            numbers: FactNumbers {
                anonymous: false,
                inbound: true,
                first_response_millis: None,
                first_response_business_millis: None,
                resolved: false,
                resolution_millis: None,
                resolution_business_millis: None,
                first_resolution_millis: None,
                reopens,
                customer_messages: 1,
                agent_messages: 0,
                agent_turns: 0,
                one_touch: false,
                csat: None,
                nps: None,
                waiting_since: None,
                ces: None,
            },
        }
    }

    fn segment(rows: &[(u32, &str, i64, u32)]) -> Segment {
        let mut s = Segment::default();
        for &(ordinal, id, start, reopens) in rows {
            s.ordinals.push(ordinal);
            s.table.push(&facts(id, start, reopens));
        }
        s
    }

    #[test]
    fn newest_row_per_ordinal_wins_and_survives_encoding() {
        let older = segment(&[(0, "a", 10, 0), (1, "b", 20, 0), (2, "c", 30, 0)]);
        let newer = segment(&[(1, "b", 20, 5), (3, "d", 40, 0)]);
        let mut merge = NewestMerge::new(None);
        merge.add(Segment::decode(&newer.encode()).unwrap());
        merge.add(Segment::decode(&older.encode()).unwrap());
        let out = merge.finish();
        let mut rows: Vec<(u32, String, u32)> = out
            .ordinals
            .iter()
            .zip(out.table.to_facts())
            .map(|(o, f)| (*o, f.conversation.clone(), f.reopens))
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            vec![
                (0, "a".into(), 0),
                (1, "b".into(), 5),
                (2, "c".into(), 0),
                (3, "d".into(), 0)
            ]
        );
    }

    #[test]
    fn a_larger_segment_kept_whole_keeps_ordinals_with_their_rows() {
        let newer = segment(&[(9, "z", 5, 1)]);
        let older = segment(&[(0, "a", 10, 0), (1, "b", 20, 0), (2, "c", 30, 0)]);
        let mut merge = NewestMerge::new(None);
        merge.add(newer);
        merge.add(older);
        let out = merge.finish();
        let pairs: Vec<(u32, String)> = out
            .ordinals
            .iter()
            .zip(out.table.to_facts())
            .map(|(o, f)| (*o, f.conversation.clone()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (0, "a".into()),
                (1, "b".into()),
                (2, "c".into()),
                (9, "z".into())
            ]
        );
    }

    #[test]
    fn start_filter_and_take() {
        let newer = segment(&[(1, "b", 20, 5)]);
        let older = segment(&[(0, "a", 10, 0), (1, "b", 99, 0), (2, "c", 30, 0)]);
        let mut merge = NewestMerge::new(Some((15, 35)));
        merge.add(newer);
        let first = merge.take();
        assert_eq!(first.ordinals, vec![1]);
        merge.add(older);
        // b's older row is skipped although its start (99) is outside the filter anyway;
        // a is outside [15, 35); c is inside.
        assert_eq!(merge.finish().ordinals, vec![2]);
    }
}
