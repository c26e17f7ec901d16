//! A deterministic generator of realistic customer-service conversations (a Dutch webshop),
//! used by `servicemeter demo` and by the benchmarks. Same seed, same output, byte for byte.

use std::io::{self, Write};

use jiff::civil::Date;
use serde::Serialize;
use servicemeter_core::WorkspaceConfig;
use servicemeter_core::config::Calendars;
use servicemeter_core::time::format_utc;

/// The demo workspace's configuration.
pub const DEMO_CONFIG: &str = r#"# Demo workspace: a Dutch webshop.
timezone = "Europe/Amsterdam"
holiday_calendar = "NL"

[opening_hours]                 # e-mail, social and WhatsApp
mon = "09:00-17:30"
tue = "09:00-17:30"
wed = "09:00-17:30"
thu = "09:00-17:30"
fri = "09:00-17:00"
sat = "10:00-12:00, 13:00-16:00"
sun = "closed"

[opening_hours.chat]
mon = "08:00-22:00"
tue = "08:00-22:00"
wed = "08:00-22:00"
thu = "08:00-22:00"
fri = "08:00-20:00"
sat = "10:00-16:00"

[opening_hours.phone]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"

[targets]
csat_pct = 85
resolution_pct = 90

[targets.first_response]
chat = "2m"
phone = "2m"
whatsapp = "1h"
social = "1h"
email = "4h"
default = "4h"

[targets.median_first_response]
chat = "120s"

[topics]
segments = ["vip"]              # a kind of customer, not a subject
"#;

/// The twelve demo agents; the last one is deliberately slower and less liked.
pub const AGENTS: [&str; 12] = [
    "Anouk de Vries",
    "Bram Jansen",
    "Charlotte Bakker",
    "Daan Visser",
    "Emma Smit",
    "Finn Meijer",
    "Gijs de Boer",
    "Hanna Mulder",
    "Isa de Groot",
    "Lotte Vos",
    "Milan Peters",
    "Jesse Bos",
];

const TAGS: [&str; 7] = [
    "levering",
    "retour",
    "betaling",
    "product",
    "bestelling-wijzigen",
    "klacht",
    "account",
];

const QUESTIONS: [&str; 7] = [
    "Waar blijft mijn bestelling? Het pakket zou gisteren komen.",
    "Ik wil mijn jas retourneren, hoe werkt dat?",
    "Mijn betaling met iDEAL is mislukt maar het geld is wel afgeschreven.",
    "Is deze schoen ook in maat 43 leverbaar?",
    "Kan ik mijn bestelling nog wijzigen naar een ander adres?",
    "Het product is beschadigd aangekomen, erg jammer.",
    "Ik kan niet inloggen op mijn account.",
];

const ANSWERS: [&str; 4] = [
    "Dank voor je bericht! Ik heb het voor je nagekeken.",
    "Goed dat je het meldt, ik regel het direct voor je.",
    "Je pakket is onderweg en wordt morgen bezorgd.",
    "Ik heb een retourlabel naar je gemaild.",
];

/// SplitMix64: tiny, fast and stable across versions (the output must never change).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability p.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Log-uniform seconds between `lo` and `hi` (most values short, a long tail).
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> i64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp() as i64
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorOptions {
    pub conversations: u64,
    pub seed: u64,
    /// First local date of arrivals.
    pub from: Date,
    /// Number of days arrivals are spread over.
    pub days: i64,
}

impl Default for GeneratorOptions {
    fn default() -> GeneratorOptions {
        GeneratorOptions {
            conversations: 4000,
            seed: 7,
            from: Date::new(2024, 2, 1).expect("valid"),
            days: 90,
        }
    }
}

#[derive(Serialize)]
struct MessageOut<'a> {
    at: String,
    author: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
    text: &'a str,
}

#[derive(Serialize)]
struct EventOut<'a> {
    at: String,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
}

#[derive(Serialize)]
struct SurveyOut<'a> {
    at: String,
    kind: &'a str,
    score: u32,
}

#[derive(Serialize)]
struct ConversationOut<'a> {
    #[serde(rename = "type")]
    record_type: &'a str,
    id: String,
    channel: &'a str,
    created_at: String,
    customer: String,
    tags: Vec<&'a str>,
    subject: &'a str,
    messages: Vec<MessageOut<'a>>,
    events: Vec<EventOut<'a>>,
    surveys: Vec<SurveyOut<'a>>,
}

/// Counts of what was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    pub conversations: u64,
    pub messages: u64,
}

/// How often customers answer a survey and how their mood maps onto its scale.
struct SurveyPlan {
    kind: &'static str,
    chance: f64,
    mood_factor: f64,
    spread: f64,
    shift: f64,
    min: f64,
    max: f64,
    hours_after: i64,
}

const SURVEY_PLANS: [SurveyPlan; 3] = [
    SurveyPlan {
        kind: "csat",
        chance: 0.35,
        mood_factor: 1.0,
        spread: 1.2,
        shift: 0.5,
        min: 1.0,
        max: 5.0,
        hours_after: 1,
    },
    SurveyPlan {
        kind: "nps",
        chance: 0.1,
        mood_factor: 2.0,
        spread: 3.0,
        shift: 1.0,
        min: 0.0,
        max: 10.0,
        hours_after: 2,
    },
    SurveyPlan {
        kind: "ces",
        chance: 0.1,
        mood_factor: 1.3,
        spread: 2.0,
        shift: 0.5,
        min: 1.0,
        max: 7.0,
        hours_after: 2,
    },
];

/// Typical reply delay within opening hours, per channel (seconds, log-uniform range).
fn reply_delay(channel: &str) -> (f64, f64) {
    match channel {
        "chat" => (8.0, 400.0),
        "phone" => (10.0, 300.0),
        "whatsapp" => (60.0, 7200.0),
        "social" => (300.0, 10_800.0),
        _ => (600.0, 28_800.0),
    }
}

/// Writes `options.conversations` conversations as nested JSON Lines records.
pub fn generate(out: &mut dyn Write, options: &GeneratorOptions) -> io::Result<Generated> {
    let config = WorkspaceConfig::from_toml(DEMO_CONFIG).expect("demo config is valid");
    let tz = config.timezone.clone();
    let calendars = Calendars::new(config);
    let mut rng = Rng::new(options.seed);
    let start = options
        .from
        .to_zoned_datetime(tz.clone())
        .expect("date in range")
        .timestamp()
        .as_millisecond();
    let span = options.days.max(1) * 86_400_000;
    let mut generated = Generated::default();
    let mut line = Vec::with_capacity(2048);
    for n in 0..options.conversations {
        let channel = match rng.below(100) {
            0..40 => "email",
            40..65 => "chat",
            65..80 => "phone",
            80..92 => "whatsapp",
            _ => "social",
        };
        let calendar = calendars.for_channel(channel);
        // Arrivals: two thirds while the channel is open, the rest any time.
        let mut arrival = start + (rng.unit() * span as f64) as i64;
        if rng.chance(0.66)
            && let Some(open) = calendar.next_open_at(arrival, 10)
        {
            arrival = open + rng.below(3 * 3600 * 1000) as i64;
        }
        arrival -= arrival % 1000;
        let agent_index = rng.below(AGENTS.len() as u64) as usize;
        let agent = AGENTS[agent_index];
        let slow = agent_index == AGENTS.len() - 1;
        let topic = rng.below(TAGS.len() as u64) as usize;
        let mut tags = vec![TAGS[topic]];
        if rng.chance(0.1) {
            tags.push("vip");
        }
        let mut messages = Vec::new();
        let mut events = Vec::new();
        let mut surveys = Vec::new();
        let outbound = rng.chance(0.03);
        let unanswered = !outbound && rng.chance(0.02);
        let mut t = arrival;
        let reply_at = |rng: &mut Rng, after: i64| {
            let (lo, hi) = reply_delay(channel);
            let factor = if slow { 2.5 } else { 1.0 };
            let open = calendar.next_open_at(after, 14).unwrap_or(after).max(after);
            let delay = (rng.log_uniform(lo, hi) as f64 * factor) as i64 * 1000;
            open + delay
        };
        if outbound {
            messages.push(MessageOut {
                at: format_utc(t),
                author: "agent",
                agent: Some(agent),
                text: "Hallo! We zagen dat je bestelling vertraagd is.",
            });
        } else {
            messages.push(MessageOut {
                at: format_utc(t),
                author: "customer",
                agent: None,
                text: QUESTIONS[topic],
            });
            if channel == "chat" {
                messages.push(MessageOut {
                    at: format_utc(t + 1000),
                    author: "bot",
                    agent: None,
                    text: "Een medewerker helpt je zo.",
                });
            }
        }
        let mut first_reply = None;
        if !unanswered {
            events.push(EventOut {
                at: format_utc(t),
                event: "assigned",
                agent: Some(if rng.chance(0.05) {
                    AGENTS[(agent_index + 3) % AGENTS.len()]
                } else {
                    agent
                }),
            });
            if events[0].agent != Some(agent) {
                events.push(EventOut {
                    at: format_utc(t + 60_000),
                    event: "transferred",
                    agent: Some(agent),
                });
            }
            let rounds = 1 + rng.below(4) + u64::from(rng.chance(0.3));
            for round in 0..rounds {
                if round > 0 || outbound {
                    t += rng.log_uniform(60.0, 86_400.0) * 1000;
                    t -= t % 1000;
                    messages.push(MessageOut {
                        at: format_utc(t),
                        author: "customer",
                        agent: None,
                        text: "Dank je, maar ik heb nog een vraag.",
                    });
                }
                if rng.chance(0.15) {
                    messages.push(MessageOut {
                        at: format_utc(t + 30_000),
                        author: "note",
                        agent: Some(agent),
                        text: "Even checken bij het magazijn.",
                    });
                }
                t = reply_at(&mut rng, t);
                t -= t % 1000;
                first_reply.get_or_insert(t);
                messages.push(MessageOut {
                    at: format_utc(t),
                    author: "agent",
                    agent: Some(agent),
                    text: ANSWERS[rng.below(ANSWERS.len() as u64) as usize],
                });
                if rng.chance(0.2) {
                    t += rng.log_uniform(5.0, 120.0) * 1000;
                    messages.push(MessageOut {
                        at: format_utc(t),
                        author: "agent",
                        agent: Some(agent),
                        text: "Laat het weten als er nog iets is.",
                    });
                }
            }
        }
        let resolved = !unanswered && rng.chance(if slow { 0.8 } else { 0.92 });
        if resolved {
            t += rng.log_uniform(30.0, 7200.0) * 1000;
            events.push(EventOut {
                at: format_utc(t),
                event: "resolved",
                agent: Some(agent),
            });
            if rng.chance(0.06) {
                t += rng.log_uniform(3600.0, 3.0 * 86_400.0) * 1000;
                t -= t % 1000;
                if rng.chance(0.5) {
                    messages.push(MessageOut {
                        at: format_utc(t),
                        author: "customer",
                        agent: None,
                        text: "Het is toch nog niet opgelost.",
                    });
                } else {
                    events.push(EventOut {
                        at: format_utc(t),
                        event: "reopened",
                        agent: Some(agent),
                    });
                }
                t = reply_at(&mut rng, t);
                messages.push(MessageOut {
                    at: format_utc(t),
                    author: "agent",
                    agent: Some(agent),
                    text: "Sorry! Ik los het nu definitief op.",
                });
                t += 600_000;
                events.push(EventOut {
                    at: format_utc(t),
                    event: "resolved",
                    agent: Some(agent),
                });
            }
            // Survey answers depend on how fast the first reply came and on the agent.
            let wait_hours = first_reply.map_or(24.0, |r| (r - arrival) as f64 / 3.6e6);
            let mut mood = 4.6 - (wait_hours / 8.0).min(1.5) - if slow { 0.9 } else { 0.0 };
            if topic == 5 {
                mood -= 0.6;
            }
            for plan in &SURVEY_PLANS {
                if rng.chance(plan.chance) {
                    let score = (mood * plan.mood_factor + rng.unit() * plan.spread - plan.shift)
                        .round()
                        .clamp(plan.min, plan.max) as u32;
                    surveys.push(SurveyOut {
                        at: format_utc(t + plan.hours_after * 3_600_000),
                        kind: plan.kind,
                        score,
                    });
                }
            }
        }
        generated.conversations += 1;
        generated.messages += messages.len() as u64;
        let record = ConversationOut {
            record_type: "conversation",
            id: format!("WS-{:07}", n + 1),
            channel,
            created_at: format_utc(arrival),
            customer: format!("klant{}", rng.below(options.conversations.max(10) / 2)),
            tags,
            subject: QUESTIONS[topic],
            messages,
            events,
            surveys,
        };
        line.clear();
        serde_json::to_writer(&mut line, &record)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(generated)
}

/// [`generate`] into memory, one string per line (for tests and small tools).
pub fn generate_lines(options: &GeneratorOptions) -> Vec<String> {
    let mut out = Vec::new();
    generate(&mut out, options).expect("writing to memory does not fail");
    String::from_utf8(out)
        .expect("generated records are UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let options = GeneratorOptions {
            conversations: 50,
            ..GeneratorOptions::default()
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let counts = generate(&mut a, &options).unwrap();
        generate(&mut b, &options).unwrap();
        assert_eq!(a, b);
        assert_eq!(counts.conversations, 50);
        assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), 50);
        let other = GeneratorOptions { seed: 8, ..options };
        let mut c = Vec::new();
        generate(&mut c, &other).unwrap();
        assert_ne!(a, c);
    }
}
