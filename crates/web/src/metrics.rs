//! Prometheus metrics at `/metrics`: requests by route and status, request time, intake records
//! stored and rejected, and server errors. Counts only; nothing about customers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route, status) → requests; every part from a bounded set (known methods or
    /// "other", route patterns, status codes).
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    request_micros: AtomicU64,
    requests_total: AtomicU64,
    intake_stored: AtomicU64,
    intake_rejected: AtomicU64,
    server_errors: AtomicU64,
}

impl Metrics {
    /// Counts records of an intake (API or webhook).
    pub fn intake(&self, stored: usize, rejected: usize) {
        self.intake_stored
            .fetch_add(stored as u64, Ordering::Relaxed);
        self.intake_rejected
            .fetch_add(rejected as u64, Ordering::Relaxed);
    }

    fn request(&self, method: &'static str, route: &str, status: u16, micros: u64) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method, route.to_string(), status))
            .or_default() += 1;
        self.request_micros.fetch_add(micros, Ordering::Relaxed);
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP servicemeter_http_requests_total HTTP requests by route and status.\n",
        );
        out.push_str("# TYPE servicemeter_http_requests_total counter\n");
        for ((method, route, status), n) in self.requests.lock().expect("metrics lock").iter() {
            out.push_str(&format!(
                "servicemeter_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}\n",
                route.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        let scalar = |out: &mut String, name: &str, kind: &str, help: &str, value: String| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        };
        scalar(
            &mut out,
            "servicemeter_http_request_duration_seconds_sum",
            "counter",
            "Time spent answering requests.",
            format!(
                "{}",
                self.request_micros.load(Ordering::Relaxed) as f64 / 1e6
            ),
        );
        scalar(
            &mut out,
            "servicemeter_http_request_duration_seconds_count",
            "counter",
            "Requests timed.",
            self.requests_total.load(Ordering::Relaxed).to_string(),
        );
        out.push_str(
            "# HELP servicemeter_intake_records_total Records received by intake and webhooks.\n",
        );
        out.push_str("# TYPE servicemeter_intake_records_total counter\n");
        out.push_str(&format!(
            "servicemeter_intake_records_total{{result=\"stored\"}} {}\n",
            self.intake_stored.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "servicemeter_intake_records_total{{result=\"rejected\"}} {}\n",
            self.intake_rejected.load(Ordering::Relaxed)
        ));
        scalar(
            &mut out,
            "servicemeter_http_server_errors_total",
            "counter",
            "Responses with status 500 or above.",
            self.server_errors.load(Ordering::Relaxed).to_string(),
        );
        out
    }
}

/// Middleware: counts every request by its route pattern (not its path, which holds names).
pub async fn count_requests(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // Label values come from a fixed set: an unknown method (any token is a valid one) or
    // path would otherwise add a new series with every request and grow without end.
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::HEAD => "HEAD",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    metrics.request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_micros() as u64,
    );
    response
}

/// `GET /metrics`.
pub async fn exposition(State(metrics): State<std::sync::Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}
