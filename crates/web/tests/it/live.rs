//! Live updates and metrics: an open dashboard hears about new data within moments, and
//! /metrics counts requests by route and intake records.

use std::time::{Duration, Instant};

use crate::common::*;
use servicemeter_core::access::Role;
use servicemeter_web::ServerConfig;

#[tokio::test]
async fn open_dashboards_hear_about_new_data() {
    let app = spawn_app_with(ServerConfig {
        live_interval: Duration::from_millis(100),
        ..ServerConfig::default()
    })
    .await;
    app.add_user("lead@shop.nl", &app.shop_b, Role::Lead, None)
        .await;
    let c = app.signed_in("lead@shop.nl").await;
    let overview = c.get(app.url("/w/shop-b")).text_body().await;
    assert!(overview.contains("data-live=\"/w/shop-b/live\""));
    assert!(overview.contains("<script src=\"/static/live.js\" defer></script>"));
    let mut events = c.get(app.url("/w/shop-b/live")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    // Nothing changes for a while: no update.
    let quiet = tokio::time::timeout(Duration::from_millis(400), events.chunk()).await;
    assert!(quiet.is_err(), "no event without new data: {quiet:?}");

    let token = app.token(&app.shop_b).await;
    let started = Instant::now();
    let r = client()
        .post(app.url("/api/v1/records"))
        .bearer_auth(&token)
        .body(r#"{"type":"conversation","id":"new","channel":"chat","created_at":"2024-03-06T10:00:00+01:00"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("an update within 5 s")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.contains("event: update"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Another workspace's stream is not open to this user.
    assert_eq!(
        c.get(app.url("/w/shop-a/live"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let script = client()
        .get(app.url("/static/live.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_intake_records() {
    let app = spawn_app().await;
    let token = app.token(&app.shop_a).await;
    let c = client();
    for _ in 0..2 {
        c.get(app.url("/api/v1/workspaces/shop-a/report"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
    }
    c.get(app.url("/api/v1/workspaces/shop-b/report"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    c.post(app.url("/api/v1/records"))
        .bearer_auth(&token)
        .body("{\"type\":\"conversation\",\"id\":\"m1\",\"channel\":\"chat\",\"created_at\":\"2024-03-06T10:00:00Z\"}\n{\"type\":\"nope\"}\n")
        .send()
        .await
        .unwrap();
    let text = c.get(app.url("/metrics")).text_body().await;
    for line in [
        "servicemeter_http_requests_total{method=\"GET\",route=\"/api/v1/workspaces/{workspace}/report\",status=\"200\"} 2",
        "servicemeter_http_requests_total{method=\"GET\",route=\"/api/v1/workspaces/{workspace}/report\",status=\"404\"} 1",
        "servicemeter_http_requests_total{method=\"POST\",route=\"/api/v1/records\",status=\"200\"} 1",
        "servicemeter_intake_records_total{result=\"stored\"} 1",
        "servicemeter_intake_records_total{result=\"rejected\"} 1",
        "servicemeter_http_server_errors_total 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    // Workspace names never appear: routes are patterns.
    assert!(!text.contains("shop-a"));
}
