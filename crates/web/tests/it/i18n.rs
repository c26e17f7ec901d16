//! Every page speaks the reader's language: each word a page shows (outside code samples and
//! the configuration's text) is a
//! word of that language's translation table, or of the data (names, tags, customers' texts),
//! or a unit. A word hard-coded in a template or handler fails the test, with its page.

use std::collections::BTreeSet;

use crate::common::*;
use servicemeter_core::access::Role;
use servicemeter_store::Accounts;
use servicemeter_web::i18n::Lang;

/// Lowercase words (runs of letters) of a text.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The words of every string in a JSON value.
fn json_words(value: &serde_json::Value, into: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) => into.extend(words(s)),
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_words(v, into)),
        serde_json::Value::Object(o) => o.values().for_each(|v| json_words(v, into)),
        _ => {}
    }
}

/// Takes the record keywords (type, channel, author, event, kind, times) out of a record.
fn strip_keywords(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(o) => {
            for key in [
                "type",
                "channel",
                "author",
                "event",
                "kind",
                "at",
                "created_at",
            ] {
                o.remove(key);
            }
            o.values_mut().for_each(strip_keywords);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_keywords),
        _ => {}
    }
}

/// What a language's pages may say: its tables, the other language's name (the switch), the
/// data of the test set, units and the product's name.
fn vocabulary(lang: Lang) -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    json_words(&serde_json::to_value(lang.texts()).unwrap(), &mut known);
    known.extend(lang.weekdays().iter().flat_map(|d| words(d)));
    known.extend(words(lang.other().texts().language_name));
    // The data's own words (names, tags, texts), not its keywords: channel names, authors and
    // events are the pages' to translate.
    for record in SHOP_A_RECORDS.iter().chain(SHOP_B_RECORDS) {
        let mut record: serde_json::Value = serde_json::from_str(record).unwrap();
        strip_keywords(&mut record);
        json_words(&record, &mut known);
    }
    // The workspace's time zone is a name of the data.
    known.extend(words("Europe/Amsterdam"));
    // Units of durations and changes, the product, the test's users and workspaces.
    known.extend(words(
        "h m s d pt n w servicemeter owner shop nl a b jjjj mm dd yyyy",
    ));
    known
}

/// The words of a page's text outside `<style>`, `<script>`, `<code>`, `<pre>` and
/// `<textarea>` (the configuration's TOML).
fn page_words(html: &str) -> BTreeSet<String> {
    let mut text = html.to_string();
    for tag in ["style", "script", "code", "pre", "textarea"] {
        while let Some(start) = text.find(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let end = text[start..]
                .find(&close)
                .map_or(text.len(), |e| start + e + close.len());
            text.replace_range(start..end, " ");
        }
    }
    words(&unescape(&visible_text(&text))).collect()
}

#[tokio::test]
async fn every_page_holds_only_words_of_its_language() {
    let app = spawn_app().await;
    let owner = app
        .add_user("owner@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    app.add_user("owner@shop.nl", &app.shop_b, Role::Viewer, None)
        .await;
    app.store.set_installation_admin(owner, true).await.unwrap();
    let week = "from=2024-03-04&to=2024-03-10";
    app.use_config(&format!(
        "{SHOP_A_CONFIG}[[reports]]\nname = \"week\"\nevery = \"week\"\nrecipients = [\"owner@shop.nl\", {{ email = \"owner@shop-a.nl\", language = \"en\" }}]\n"
    ))
    .await;
    let pages = [
        "/".to_string(),
        format!("/w/shop-a?{week}"),
        format!("/w/shop-a?{week}&compare=year"),
        "/w/shop-a?preset=today".to_string(),
        format!("/w/shop-a/feedback?{week}"),
        format!("/w/shop-a/conversations?{week}"),
        "/w/shop-a/conversations/a2".to_string(),
        format!("/w/shop-a/agents/Anna?{week}"),
        format!("/w/shop-a/teams/Retouren?{week}"),
        "/w/shop-a/settings".to_string(),
        "/w/shop-a/reports".to_string(),
        "/w/shop-a/reports/week/preview".to_string(),
        "/w/shop-a/conversations/no-such".to_string(),
        "/w/shop-a?from=2024-13-45".to_string(),
    ];
    let mut leaks = Vec::new();
    for lang in [Lang::Nl, Lang::En] {
        let known = vocabulary(lang);
        let c = app.signed_in("owner@shop.nl").await;
        let switched = c
            .post(app.url("/lang"))
            .form(&[("lang", lang.code())])
            .send()
            .await
            .unwrap();
        assert_eq!(switched.status(), 303);
        for path in &pages {
            let response = c.get(app.url(path)).send().await.unwrap();
            let status = response.status().as_u16();
            let html = response.text().await.unwrap();
            assert!([200, 400, 404].contains(&status), "{path}: {status}");
            assert!(
                html.contains(&format!("<html lang=\"{}\">", lang.code())),
                "{path}: {html}"
            );
            let shown = page_words(&html);
            assert!(shown.len() > 10, "{path}: {shown:?}");
            let unknown: Vec<String> = shown.into_iter().filter(|w| !known.contains(w)).collect();
            if !unknown.is_empty() {
                leaks.push(format!("{} {path}: {unknown:?}", lang.code()));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "words outside the translation tables:\n{}",
        leaks.join("\n")
    );
}

/// The check itself: a page with an English word in Dutch is caught.
#[test]
fn a_word_outside_the_tables_is_found() {
    let known = vocabulary(Lang::Nl);
    let page = "<main><h1>Gesprekken</h1><p>previous period</p><code>curl</code></main>";
    let unknown: Vec<String> = page_words(page)
        .into_iter()
        .filter(|w| !known.contains(w))
        .collect();
    assert_eq!(unknown, ["period", "previous"]);
}
