//! Small statistics used by the reports: percentiles (as SQL `percentile_cont`), means and
//! percentages that are `None` when undefined.

/// Linear interpolation between closest ranks, like SQL `percentile_cont(p)`; `p` in [0, 1].
/// `sorted` must be sorted ascending. `None` for no values.
pub fn percentile_sorted(sorted: &[i64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    let lo = sorted[low] as f64;
    let hi = sorted[high] as f64;
    Some(lo + (rank - low as f64) * (hi - lo))
}

/// The same as [`percentile_sorted`] on unsorted values, in linear time (reorders them).
pub fn percentile(values: &mut [i64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = p.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    let (_, &mut lo, upper) = values.select_nth_unstable(low);
    let hi = if high == low {
        lo
    } else {
        *upper.iter().min().expect("rank below the last")
    };
    Some(lo as f64 + (rank - low as f64) * (hi - lo) as f64)
}

/// Mean of integer values; `None` for none.
pub fn mean(values: &[i64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64)
    }
}

/// `part / whole × 100`; `None` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    if whole == 0 {
        None
    } else {
        Some(part as f64 * 100.0 / whole as f64)
    }
}

/// Wilson score interval (95 %) for `successes` out of `n`, in percent.
pub fn wilson_interval_pct(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denom;
    let half = z * ((p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt()) / denom;
    Some(((centre - half) * 100.0, (centre + half) * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_percentile_cont() {
        let v = [10, 20, 30, 40];
        assert_eq!(percentile_sorted(&v, 0.5), Some(25.0));
        // rank 0.9 × 3 = 2.7 → 30 + 0.7 × 10
        assert!((percentile_sorted(&v, 0.9).unwrap() - 37.0).abs() < 1e-9);
        assert_eq!(percentile_sorted(&[7], 0.9), Some(7.0));
        assert_eq!(percentile_sorted(&[], 0.5), None);
        assert_eq!(percentile_sorted(&[1, 2, 3], 0.5), Some(2.0));
    }

    #[test]
    fn percentile_without_sorting_agrees() {
        let cases: [&[i64]; 5] = [
            &[40, 10, 30, 20],
            &[7],
            &[5, 5, 5, 1, 9, 2, 8, 8, 3],
            &[3, 1, 2],
            &[100, -5, 0, 42, 42, 17, 99, 3, 64, 1000, 2],
        ];
        for values in cases {
            let mut sorted = values.to_vec();
            sorted.sort_unstable();
            for p in [0.0, 0.1, 0.5, 0.9, 0.95, 1.0] {
                let mut scratch = values.to_vec();
                assert_eq!(
                    percentile(&mut scratch, p),
                    percentile_sorted(&sorted, p),
                    "{values:?} p{p}"
                );
            }
        }
        assert_eq!(percentile(&mut [], 0.5), None);
    }

    #[test]
    fn percent_and_mean() {
        assert_eq!(percent(1, 4), Some(25.0));
        assert_eq!(percent(1, 0), None);
        assert_eq!(mean(&[1, 2]), Some(1.5));
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn wilson_matches_hand_computation() {
        // 8 of 10: centre = (0.8 + 0.19207)/1.38415 = 0.71683; half = 0.22001 → 49.0 % – 94.3 %
        let (lo, hi) = wilson_interval_pct(8, 10).unwrap();
        assert!((lo - 49.02).abs() < 0.05, "{lo}");
        assert!((hi - 94.33).abs() < 0.05, "{hi}");
    }
}
