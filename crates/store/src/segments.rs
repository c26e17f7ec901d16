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

/// Merges segments given newest first: for each ordinal only its newest row is kept, and only
/// rows whose start lies in `start_between` (when given). The result is in no particular order.
pub fn merge_newest(segments: Vec<Segment>, start_between: Option<(i64, i64)>) -> Segment {
    let max_ordinal = segments
        .iter()
        .flat_map(|s| s.ordinals.iter())
        .max()
        .map_or(0, |&m| m as usize + 1);
    let mut seen = vec![false; max_ordinal];
    let mut out = Segment::default();
    for segment in segments {
        let mut rows = Vec::with_capacity(segment.ordinals.len());
        for (i, &ordinal) in segment.ordinals.iter().enumerate() {
            let o = ordinal as usize;
            if seen[o] {
                continue;
            }
            seen[o] = true;
            if let Some((from, to)) = start_between {
                let start = segment.table.start(i);
                if start < from || start >= to {
                    continue;
                }
            }
            rows.push(i);
            out.ordinals.push(ordinal);
        }
        if out.table.is_empty() && rows.len() == segment.table.len() {
            out.table = segment.table;
        } else {
            out.table.extend_from(&segment.table, rows);
        }
    }
    out
}
