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

/// The bicycle shop's configuration: a small team, shop hours, no chat.
pub const BIKE_SHOP_CONFIG: &str = r#"# Demo workspace: a Dutch bicycle shop with a webshop.
timezone = "Europe/Amsterdam"
holiday_calendar = "NL"

[opening_hours]
mon = "closed"
tue = "08:30-18:00"
wed = "08:30-18:00"
thu = "08:30-18:00"
fri = "08:30-21:00"
sat = "09:00-17:00"
sun = "closed"

[targets]
csat_pct = 85
resolution_pct = 90

[targets.first_response]
phone = "2m"
whatsapp = "1h"
email = "8h"
default = "8h"
"#;

/// The florist's configuration: open seven days, chat and WhatsApp first.
pub const FLORIST_CONFIG: &str = r#"# Demo workspace: a Dutch flower-delivery webshop.
timezone = "Europe/Amsterdam"
holiday_calendar = "NL"

[opening_hours]
mon = "08:00-20:00"
tue = "08:00-20:00"
wed = "08:00-20:00"
thu = "08:00-20:00"
fri = "08:00-20:00"
sat = "08:00-18:00"
sun = "10:00-16:00"

[targets]
csat_pct = 90
resolution_pct = 95

[targets.first_response]
chat = "1m"
whatsapp = "15m"
email = "2h"
default = "2h"
"#;

/// A team of a demo shop: its name, the channels it serves and its agents.
#[derive(Debug)]
pub struct Team {
    pub name: &'static str,
    pub channels: &'static [&'static str],
    pub agents: &'static [&'static str],
}

/// A subject customers write about: its tag, how they ask, how agents answer and how
/// customers write again when something is left.
#[derive(Debug)]
pub struct Topic {
    pub tag: &'static str,
    pub questions: &'static [&'static str],
    pub answers: &'static [&'static str],
    pub follow_ups: &'static [&'static str],
    /// Added to the customer's mood (a complaint starts lower).
    pub mood: f64,
}

/// Something the shop writes to customers first (an outbound conversation).
#[derive(Debug)]
pub struct Outreach {
    pub tag: &'static str,
    pub subject: &'static str,
    pub opening: &'static str,
    pub customer_reply: &'static str,
    pub closing: &'static str,
}

/// One demo webshop: workspace name, configuration, teams, channel mix and topics.
#[derive(Debug)]
pub struct Shop {
    /// The workspace it is imported into.
    pub workspace: &'static str,
    /// What it is, for messages ("a Dutch fashion webshop").
    pub description: &'static str,
    pub config: &'static str,
    pub teams: &'static [Team],
    /// Channels with their share in percent (summing to 100).
    pub channels: &'static [(&'static str, u64)],
    pub topics: &'static [Topic],
    pub outreach: Outreach,
    /// The one agent who is slower and less liked (coaching has something to show).
    pub slow_agent: Option<&'static str>,
    /// Reply delays are multiplied by this (a busy shop answers later).
    pub pace: f64,
    /// Conversations `servicemeter demo` makes of it, per 4 000 of the main shop.
    pub per_4000: u64,
}

impl Shop {
    /// Every agent of the shop, team by team.
    pub fn agents(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.teams.iter().flat_map(|t| t.agents.iter().copied())
    }
}

const FASHION_TEAMS: [Team; 3] = [
    Team {
        name: "Live",
        channels: &["chat", "phone"],
        agents: &[
            "Anouk de Vries",
            "Bram Jansen",
            "Charlotte Bakker",
            "Daan Visser",
            "Emma Smit",
        ],
    },
    Team {
        name: "E-mail",
        channels: &["email"],
        agents: &["Finn Meijer", "Gijs de Boer", "Hanna Mulder", "Jesse Bos"],
    },
    Team {
        name: "Webcare",
        channels: &["whatsapp", "social"],
        agents: &["Isa de Groot", "Lotte Vos", "Milan Peters"],
    },
];

const FASHION_TOPICS: [Topic; 7] = [
    Topic {
        tag: "levering",
        questions: &[
            "Waar blijft mijn bestelling? Het pakket zou gisteren komen.",
            "Mijn track & trace staat al drie dagen stil, klopt dat?",
        ],
        answers: &[
            "Ik heb het nagekeken: je pakket ligt bij het sorteercentrum en wordt morgen bezorgd.",
            "Het pakket had vertraging bij PostNL; het komt morgen tussen 10:00 en 14:00.",
        ],
        follow_ups: &["En als ik morgen niet thuis ben?"],
        mood: 0.0,
    },
    Topic {
        tag: "retour",
        questions: &[
            "Ik wil mijn jas retourneren, hoe werkt dat?",
            "De broek is te klein, kan ik hem ruilen voor een maat groter?",
        ],
        answers: &[
            "Ik heb een retourlabel naar je gemaild; je kunt het pakket bij elk PostNL-punt afgeven.",
            "Ruilen kan: stuur de broek terug met het label in de doos, dan sturen we maat 34 meteen op.",
        ],
        follow_ups: &["Wanneer krijg ik mijn geld terug?"],
        mood: 0.1,
    },
    Topic {
        tag: "betaling",
        questions: &[
            "Mijn betaling met iDEAL is mislukt maar het geld is wel afgeschreven.",
            "Kan ik ook achteraf betalen met Klarna?",
        ],
        answers: &[
            "De betaling staat nu op 'ontvangen' en je bestelling wordt vandaag verzonden.",
            "Achteraf betalen kan; kies bij het afrekenen voor Klarna.",
        ],
        follow_ups: &["Het bedrag staat nog steeds dubbel op mijn rekening."],
        mood: -0.1,
    },
    Topic {
        tag: "product",
        questions: &[
            "Is deze schoen ook in maat 43 leverbaar?",
            "Valt deze jurk klein of normaal?",
        ],
        answers: &[
            "Maat 43 komt volgende week binnen; ik heb je op de wachtlijst gezet.",
            "De jurk valt normaal; bij twijfel raden we je gewone maat aan.",
        ],
        follow_ups: &["Krijg ik een bericht als hij binnen is?"],
        mood: 0.3,
    },
    Topic {
        tag: "bestelling-wijzigen",
        questions: &["Kan ik mijn bestelling nog wijzigen naar een ander adres?"],
        answers: &["Gelukt: je bestelling gaat naar het nieuwe adres."],
        follow_ups: &["Kan ik er ook nog een riem bij bestellen?"],
        mood: 0.1,
    },
    Topic {
        tag: "klacht",
        questions: &[
            "Het product is beschadigd aangekomen, erg jammer.",
            "Er zit een gat in de trui die ik net heb ontvangen.",
        ],
        answers: &[
            "Wat vervelend! Ik stuur vandaag kosteloos een nieuwe; de beschadigde mag je houden.",
            "Sorry daarvoor. Ik heb het bedrag teruggestort; het staat binnen twee dagen op je rekening.",
        ],
        follow_ups: &["Ik heb nog steeds niets ontvangen."],
        mood: -0.6,
    },
    Topic {
        tag: "account",
        questions: &["Ik kan niet inloggen op mijn account."],
        answers: &["Ik heb een link gestuurd om een nieuw wachtwoord te kiezen."],
        follow_ups: &["De link werkt niet, hij is verlopen."],
        mood: 0.1,
    },
];

const BIKE_TEAMS: [Team; 1] = [Team {
    name: "Winkel",
    channels: &["email", "phone", "whatsapp"],
    agents: &[
        "Kees Hoekstra",
        "Sanne Dekker",
        "Ruben Koster",
        "Noor Willems",
    ],
}];

const BIKE_TOPICS: [Topic; 4] = [
    Topic {
        tag: "onderhoud",
        questions: &[
            "Kan ik volgende week mijn fiets laten nakijken?",
            "Mijn versnelling slaat over, wanneer kan ik langskomen?",
        ],
        answers: &["Je kunt dinsdag om 09:00 terecht; reken op een uur."],
        follow_ups: &["Kan het ook donderdag?"],
        mood: 0.2,
    },
    Topic {
        tag: "levering",
        questions: &["Wanneer wordt mijn e-bike bezorgd?"],
        answers: &["Je e-bike wordt vrijdag tussen 13:00 en 17:00 gebracht."],
        follow_ups: &["Wordt hij ook afgesteld bij de bezorging?"],
        mood: -0.1,
    },
    Topic {
        tag: "garantie",
        questions: &["De accu van mijn e-bike houdt het maar 20 km vol, valt dat onder garantie?"],
        answers: &["Dat valt onder garantie; breng de accu langs, dan testen we hem."],
        follow_ups: &["Krijg ik een leenaccu zolang het duurt?"],
        mood: -0.4,
    },
    Topic {
        tag: "onderdelen",
        questions: &["Hebben jullie een achterlicht dat op een Gazelle past?"],
        answers: &["Ja, het Spanninga-achterlicht past; het ligt klaar in de winkel."],
        follow_ups: &["Kunnen jullie het ook opsturen?"],
        mood: 0.3,
    },
];

const FLORIST_TEAMS: [Team; 2] = [
    Team {
        name: "Chat",
        channels: &["chat", "whatsapp"],
        agents: &["Fleur van Dijk", "Yara Bos", "Tim de Wit"],
    },
    Team {
        name: "Bezorging",
        channels: &["email", "phone"],
        agents: &["Mees Kramer", "Lieke Schouten"],
    },
];

const FLORIST_TOPICS: [Topic; 4] = [
    Topic {
        tag: "bezorging",
        questions: &["Kan het boeket morgen voor 12:00 bezorgd worden?"],
        answers: &["Ja, als je vandaag voor 16:00 bestelt, bezorgen we morgen voor 12:00."],
        follow_ups: &["Kan ik er een kaartje bij doen?"],
        mood: 0.1,
    },
    Topic {
        tag: "kwaliteit",
        questions: &["De bloemen waren na twee dagen al verwelkt."],
        answers: &["Wat jammer! We sturen kosteloos een nieuw boeket."],
        follow_ups: &["Het nieuwe boeket is ook niet mooi."],
        mood: -0.5,
    },
    Topic {
        tag: "bestelling-wijzigen",
        questions: &["Kan ik de tekst op het kaartje nog aanpassen?"],
        answers: &["Ik heb de tekst aangepast; het kaartje gaat zo mee."],
        follow_ups: &["Dank je! Kan de bezorging ook een uur later?"],
        mood: 0.3,
    },
    Topic {
        tag: "abonnement",
        questions: &["Hoe zeg ik mijn bloemenabonnement op?"],
        answers: &["Je abonnement is opgezegd; de laatste levering is volgende week."],
        follow_ups: &["Krijg ik nog een bevestiging per mail?"],
        mood: 0.0,
    },
];

/// The three demo webshops; the first is the main one (the `default` workspace).
pub static SHOPS: [Shop; 3] = [
    Shop {
        workspace: "default",
        description: "a Dutch fashion webshop",
        config: DEMO_CONFIG,
        teams: &FASHION_TEAMS,
        channels: &[
            ("email", 40),
            ("chat", 25),
            ("phone", 15),
            ("whatsapp", 12),
            ("social", 8),
        ],
        topics: &FASHION_TOPICS,
        outreach: Outreach {
            tag: "levering",
            subject: "Je bestelling is vertraagd",
            opening: "Hallo! Je bestelling is helaas vertraagd; hij wordt een dag later bezorgd.",
            customer_reply: "Oké, bedankt voor het laten weten.",
            closing: "Graag gedaan, fijne dag!",
        },
        slow_agent: Some("Jesse Bos"),
        pace: 1.0,
        per_4000: 4000,
    },
    Shop {
        workspace: "fietsplaats",
        description: "a Dutch bicycle shop",
        config: BIKE_SHOP_CONFIG,
        teams: &BIKE_TEAMS,
        channels: &[("email", 55), ("phone", 25), ("whatsapp", 20)],
        topics: &BIKE_TOPICS,
        outreach: Outreach {
            tag: "onderhoud",
            subject: "Je fiets is klaar",
            opening: "Goedemiddag! Je fiets is klaar en kan worden opgehaald.",
            customer_reply: "Top, ik kom morgen langs.",
            closing: "Tot morgen!",
        },
        slow_agent: None,
        pace: 2.5,
        per_4000: 900,
    },
    Shop {
        workspace: "bloemenhuis",
        description: "a Dutch flower-delivery webshop",
        config: FLORIST_CONFIG,
        teams: &FLORIST_TEAMS,
        channels: &[("chat", 45), ("whatsapp", 25), ("email", 20), ("phone", 10)],
        topics: &FLORIST_TOPICS,
        outreach: Outreach {
            tag: "bezorging",
            subject: "Je boeket is bezorgd",
            opening: "Je boeket is zojuist bezorgd. Fijne dag!",
            customer_reply: "Wat mooi, dank jullie wel!",
            closing: "Graag gedaan!",
        },
        slow_agent: None,
        pace: 0.6,
        per_4000: 1600,
    },
];

/// Closing words of an agent after the answer (sometimes a second message).
const SIGN_OFFS: [&str; 2] = [
    "Laat het gerust weten als er nog iets is.",
    "Fijne dag verder!",
];

/// What a customer writes back when the answer did it.
const THANKS: [&str; 3] = ["Top, dank je wel!", "Duidelijk, bedankt.", "Super, dank!"];

/// Survey comments by how the customer felt (score on a 1–5 scale, rounded).
const COMMENTS_LOW: [&str; 4] = [
    "Het duurde veel te lang voordat iemand reageerde.",
    "Mijn probleem is nog steeds niet opgelost.",
    "Ik moest alles twee keer uitleggen.",
    "Geen excuses gekregen, erg teleurgesteld.",
];
const COMMENTS_MIDDLE: [&str; 2] = [
    "Opgelost, maar het duurde wel even.",
    "Vriendelijk, maar ik moest lang wachten.",
];
const COMMENTS_HIGH: [&str; 4] = [
    "Snel en vriendelijk geholpen, top!",
    "Super service, dank jullie wel.",
    "Binnen een paar minuten opgelost.",
    "Heel duidelijk antwoord, fijn.",
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
    /// Whose conversations (default: the main shop, [`SHOPS`]`[0]`).
    pub shop: &'static Shop,
}

impl Default for GeneratorOptions {
    fn default() -> GeneratorOptions {
        GeneratorOptions {
            conversations: 4000,
            seed: 7,
            from: Date::new(2024, 2, 1).expect("valid"),
            days: 90,
            shop: &SHOPS[0],
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
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
}

#[derive(Serialize)]
struct ConversationOut<'a> {
    #[serde(rename = "type")]
    record_type: &'a str,
    id: String,
    channel: &'a str,
    created_at: String,
    customer: String,
    customer_email: String,
    team: &'a str,
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
    /// How often an answer of this kind comes with a comment.
    comment_chance: f64,
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
        comment_chance: 0.4,
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
        comment_chance: 0.2,
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
        comment_chance: 0.0,
    },
];

/// Typical working time before a reply, per channel (seconds, log-uniform range).
fn reply_delay(channel: &str) -> (f64, f64) {
    match channel {
        "chat" => (8.0, 400.0),
        "phone" => (10.0, 300.0),
        "whatsapp" => (60.0, 7200.0),
        "social" => (300.0, 10_800.0),
        _ => (600.0, 28_800.0),
    }
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len() as u64) as usize]
}

/// A channel by the shop's mix.
fn pick_channel(rng: &mut Rng, shop: &Shop) -> &'static str {
    let mut roll = rng.below(100);
    for &(channel, share) in shop.channels {
        if roll < share {
            return channel;
        }
        roll -= share;
    }
    shop.channels[0].0
}

/// A comment that fits a score (on its kind's scale `min..=max`).
fn comment_for(rng: &mut Rng, score: u32, min: f64, max: f64) -> &'static str {
    let share = (f64::from(score) - min) / (max - min);
    if share < 0.45 {
        pick(rng, &COMMENTS_LOW)
    } else if share < 0.7 {
        pick(rng, &COMMENTS_MIDDLE)
    } else {
        pick(rng, &COMMENTS_HIGH)
    }
}

/// Writes `options.conversations` conversations of `options.shop` as nested JSON Lines
/// records. Agents write only while their channel is open (replies are delays in working
/// time); customers write at any hour.
pub fn generate(out: &mut dyn Write, options: &GeneratorOptions) -> io::Result<Generated> {
    let shop = options.shop;
    let config = WorkspaceConfig::from_toml(shop.config).expect("demo config is valid");
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
    let end = start + span;
    let mut generated = Generated::default();
    let mut line = Vec::with_capacity(2048);
    for n in 0..options.conversations {
        let channel = pick_channel(&mut rng, shop);
        let calendar = calendars.for_channel(channel);
        let team = shop
            .teams
            .iter()
            .find(|t| t.channels.contains(&channel))
            .unwrap_or(&shop.teams[0]);
        let agent = pick(&mut rng, team.agents);
        let slow = shop.slow_agent == Some(agent);
        let topic = &shop.topics[rng.below(shop.topics.len() as u64) as usize];
        let outbound = rng.chance(0.03);
        // Arrivals: two thirds while the channel is open, the rest any time; the shop's own
        // messages only while it is open.
        let mut arrival = start + (rng.unit() * span as f64) as i64;
        if (outbound || rng.chance(0.66))
            && let Some(open) = calendar.next_open_at(arrival, 10)
        {
            arrival = calendar
                .after_open_millis(open, rng.below(3 * 3600 * 1000) as i64, 14)
                .unwrap_or(open);
        }
        arrival -= arrival % 1000;
        let age_days = (end - arrival) / 86_400_000;
        let mut tags = vec![if outbound {
            shop.outreach.tag
        } else {
            topic.tag
        }];
        if rng.chance(0.1) {
            tags.push("vip");
        }
        let mut messages = Vec::new();
        let mut events = Vec::new();
        let mut surveys = Vec::new();
        // Only recent conversations wait for a first answer or a resolution.
        let unanswered = !outbound && rng.chance(if age_days < 2 { 0.12 } else { 0.003 });
        let mut t = arrival;
        // An agent's message after `after`: a delay in working time of the channel.
        let reply_at = |rng: &mut Rng, after: i64| {
            let (lo, hi) = reply_delay(channel);
            let factor = shop.pace * if slow { 2.5 } else { 1.0 };
            let delay = (rng.log_uniform(lo, hi) as f64 * factor) as i64 * 1000;
            let at = calendar
                .after_open_millis(after, delay, 14)
                .unwrap_or(after);
            at - at % 1000
        };
        let mut first_reply = None;
        if outbound {
            messages.push(MessageOut {
                at: format_utc(t),
                author: "agent",
                agent: Some(agent),
                text: shop.outreach.opening,
            });
            events.push(EventOut {
                at: format_utc(t),
                event: "assigned",
                agent: Some(agent),
            });
            if rng.chance(0.6) {
                t += rng.log_uniform(300.0, 86_400.0) * 1000;
                t -= t % 1000;
                messages.push(MessageOut {
                    at: format_utc(t),
                    author: "customer",
                    agent: None,
                    text: shop.outreach.customer_reply,
                });
                t = reply_at(&mut rng, t);
                messages.push(MessageOut {
                    at: format_utc(t),
                    author: "agent",
                    agent: Some(agent),
                    text: shop.outreach.closing,
                });
            }
        } else {
            messages.push(MessageOut {
                at: format_utc(t),
                author: "customer",
                agent: None,
                text: pick(&mut rng, topic.questions),
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
        if !unanswered && !outbound {
            let first_agent = if rng.chance(0.05) {
                let other = pick(&mut rng, team.agents);
                if other == agent { agent } else { other }
            } else {
                agent
            };
            events.push(EventOut {
                at: format_utc(t),
                event: "assigned",
                agent: Some(first_agent),
            });
            if first_agent != agent {
                events.push(EventOut {
                    at: format_utc(t + 60_000),
                    event: "transferred",
                    agent: Some(agent),
                });
            }
            let rounds = 1 + rng.below(3) + u64::from(rng.chance(0.2));
            for round in 0..rounds {
                if round > 0 {
                    t += rng.log_uniform(60.0, 86_400.0) * 1000;
                    t -= t % 1000;
                    messages.push(MessageOut {
                        at: format_utc(t),
                        author: "customer",
                        agent: None,
                        text: pick(&mut rng, topic.follow_ups),
                    });
                }
                if rng.chance(0.15) {
                    let at = calendar.after_open_millis(t, 30_000, 14).unwrap_or(t);
                    messages.push(MessageOut {
                        at: format_utc(at - at % 1000),
                        author: "note",
                        agent: Some(agent),
                        text: "Even nagevraagd bij het magazijn.",
                    });
                }
                t = reply_at(&mut rng, t);
                first_reply.get_or_insert(t);
                messages.push(MessageOut {
                    at: format_utc(t),
                    author: "agent",
                    agent: Some(agent),
                    text: if round == 0 {
                        pick(&mut rng, topic.answers)
                    } else {
                        "Ik heb het voor je uitgezocht en het is geregeld."
                    },
                });
                if rng.chance(0.2) {
                    t = calendar
                        .after_open_millis(t, rng.log_uniform(5.0, 120.0) * 1000, 14)
                        .unwrap_or(t);
                    t -= t % 1000;
                    messages.push(MessageOut {
                        at: format_utc(t),
                        author: "agent",
                        agent: Some(agent),
                        text: pick(&mut rng, &SIGN_OFFS),
                    });
                }
            }
            if rng.chance(0.3) {
                t += rng.log_uniform(60.0, 3.0 * 3600.0) * 1000;
                t -= t % 1000;
                messages.push(MessageOut {
                    at: format_utc(t),
                    author: "customer",
                    agent: None,
                    text: pick(&mut rng, &THANKS),
                });
            }
        }
        // Yesterday's conversations are often still open, last week's rarely.
        let resolve_chance = match (age_days, slow) {
            (0, _) => 0.55,
            (1..3, _) => 0.85,
            (_, true) => 0.85,
            _ => 0.97,
        };
        let resolved = !unanswered && rng.chance(resolve_chance);
        if resolved {
            let after = rng.log_uniform(30.0, 7200.0) * 1000;
            t = calendar.after_open_millis(t, after, 14).unwrap_or(t);
            t -= t % 1000;
            events.push(EventOut {
                at: format_utc(t),
                event: "resolved",
                agent: Some(agent),
            });
            if !outbound && rng.chance(0.06) {
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
                    t = calendar.after_open_millis(t, 0, 14).unwrap_or(t);
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
                t = calendar.after_open_millis(t, 600_000, 14).unwrap_or(t);
                events.push(EventOut {
                    at: format_utc(t),
                    event: "resolved",
                    agent: Some(agent),
                });
            }
            // Survey answers depend on how fast the first reply came, on the topic and on
            // the agent.
            let wait_hours = first_reply.map_or(2.0, |r| (r - arrival) as f64 / 3.6e6);
            let mood = 4.6 - (wait_hours / 8.0).min(1.5) - if slow { 0.9 } else { 0.0 }
                + if outbound { 0.2 } else { topic.mood };
            for plan in &SURVEY_PLANS {
                if rng.chance(plan.chance) {
                    let score = (mood * plan.mood_factor + rng.unit() * plan.spread - plan.shift)
                        .round()
                        .clamp(plan.min, plan.max) as u32;
                    let comment = rng
                        .chance(plan.comment_chance)
                        .then(|| comment_for(&mut rng, score, plan.min, plan.max));
                    surveys.push(SurveyOut {
                        at: format_utc(t + plan.hours_after * 3_600_000),
                        kind: plan.kind,
                        score,
                        comment,
                    });
                }
            }
        }
        generated.conversations += 1;
        generated.messages += messages.len() as u64;
        let subject = if outbound {
            shop.outreach.subject
        } else {
            messages[0].text
        };
        let customer = rng.below(options.conversations.max(10) / 2);
        let record = ConversationOut {
            record_type: "conversation",
            id: format!("WS-{:07}", n + 1),
            channel,
            created_at: format_utc(arrival),
            customer: format!("klant{customer}"),
            customer_email: format!("klant{customer}@example.nl"),
            team: team.name,
            tags,
            subject,
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

    /// Every agent message of every shop is written while its channel is open (or at the
    /// very moment it closes), every conversation has its shop's team for its channel, and
    /// outbound conversations start with the shop's own message and subject.
    #[test]
    fn agents_write_in_opening_hours_and_records_fit_their_shop() {
        for shop in &SHOPS {
            let options = GeneratorOptions {
                conversations: 400,
                shop,
                ..GeneratorOptions::default()
            };
            let calendars = Calendars::new(WorkspaceConfig::from_toml(shop.config).unwrap());
            let (mut agent_messages, mut outbound, mut comments) = (0, 0, 0);
            for line in generate_lines(&options) {
                let record: serde_json::Value = serde_json::from_str(&line).unwrap();
                let channel = record["channel"].as_str().unwrap();
                let team = shop
                    .teams
                    .iter()
                    .find(|t| t.name == record["team"].as_str().unwrap())
                    .unwrap();
                assert!(team.channels.contains(&channel), "{line}");
                let calendar = calendars.for_channel(channel);
                let messages = record["messages"].as_array().unwrap();
                for message in messages {
                    if message["author"] != "agent" && message["author"] != "note" {
                        continue;
                    }
                    let at =
                        servicemeter_core::time::parse_timestamp(message["at"].as_str().unwrap())
                            .unwrap();
                    assert!(
                        calendar.is_open_at(at) || calendar.is_open_at(at - 1000),
                        "{}: an agent writes while {channel} is closed: {line}",
                        shop.workspace
                    );
                    assert!(team.agents.contains(&message["agent"].as_str().unwrap()));
                    agent_messages += 1;
                }
                if messages[0]["author"] == "agent" {
                    outbound += 1;
                    assert_eq!(record["subject"], shop.outreach.subject);
                    assert_eq!(record["tags"][0], shop.outreach.tag);
                }
                for survey in record["surveys"].as_array().unwrap() {
                    if let Some(comment) = survey["comment"].as_str() {
                        comments += 1;
                        let low = COMMENTS_LOW.contains(&comment);
                        let high = COMMENTS_HIGH.contains(&comment);
                        assert!(low || high || COMMENTS_MIDDLE.contains(&comment));
                        if survey["kind"] == "csat" {
                            let score = survey["score"].as_u64().unwrap();
                            assert!(!low || score <= 2, "{line}");
                            assert!(!high || score >= 4, "{line}");
                        }
                    }
                }
            }
            assert!(agent_messages > 400, "{}", shop.workspace);
            assert!(outbound > 0 && comments > 10, "{}", shop.workspace);
        }
    }

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
