//! Dutch and English texts of the pages, and how a request picks its language.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nl,
    En,
}

/// Name of the cookie that keeps a chosen language.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language (for the switch in the header).
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// From a `lang` cookie, else the first of nl/en in `Accept-Language`, else Dutch.
    pub fn of_headers(headers: &axum::http::HeaderMap) -> Lang {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == LANG_COOKIE)
            .and_then(|(_, v)| Lang::parse(v));
        if let Some(lang) = cookie {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        accept
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Lang::parse(tag.trim().split('-').next().unwrap_or("")))
            .next()
            .unwrap_or(Lang::Nl)
    }

    /// Short weekday names, Monday first.
    pub fn weekdays(self) -> &'static [&'static str; 7] {
        match self {
            Lang::Nl => &["ma", "di", "wo", "do", "vr", "za", "zo"],
            Lang::En => &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of_headers(&parts.headers))
    }
}

/// Every text of the pages, in one language.
#[derive(Debug)]
pub struct Texts {
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub wrong_login: &'static str,
    pub setup_title: &'static str,
    pub setup_intro: &'static str,
    pub setup_done_already: &'static str,
    pub create_admin: &'static str,
    pub workspaces: &'static str,
    pub no_workspaces: &'static str,
    pub role: &'static str,
    pub overview: &'static str,
    pub period: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub show: &'static str,
    pub today: &'static str,
    pub last_7_days: &'static str,
    pub this_month: &'static str,
    pub last_month: &'static str,
    pub previous_period: &'static str,
    pub conversations: &'static str,
    pub first_response: &'static str,
    pub within_target: &'static str,
    pub resolution_time: &'static str,
    pub resolution_rate: &'static str,
    pub reopen_rate: &'static str,
    pub one_touch: &'static str,
    pub replies_per_conversation: &'static str,
    pub csat: &'static str,
    pub nps: &'static str,
    pub ces: &'static str,
    pub responses: &'static str,
    pub median_business: &'static str,
    pub target: &'static str,
    pub no_data: &'static str,
    pub language_name: &'static str,
    pub agency_overview: &'static str,
    pub channel: &'static str,
    pub volume_per_day: &'static str,
    pub first_response_trend: &'static str,
    pub csat_trend: &'static str,
    pub arrivals_heatmap: &'static str,
    pub first_response_distribution: &'static str,
    pub agents: &'static str,
    pub team: &'static str,
    pub agent: &'static str,
    pub topics: &'static str,
    pub topic: &'static str,
    pub turns_per_conversation: &'static str,
    pub faq_candidate: &'static str,
    pub flags: &'static str,
    pub csat_below_team: &'static str,
    pub below_team_rate: &'static str,
    pub slow_first_response: &'static str,
    pub against_team: &'static str,
    pub over_answers: &'static str,
    pub answers: &'static str,
    pub conversations_list: &'static str,
    pub page: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub start: &'static str,
    pub resolution: &'static str,
    pub reopens: &'static str,
    pub none: &'static str,
    pub unassigned: &'static str,
    pub timeline: &'static str,
    pub closed_hours_note: &'static str,
    pub outside_hours: &'static str,
    pub customer: &'static str,
    pub calendar_time: &'static str,
    pub business_time: &'static str,
    pub unanswered: &'static str,
    pub not_resolved: &'static str,
    pub surveys: &'static str,
    pub my_figures: &'static str,
    pub of: &'static str,
    pub settings: &'static str,
    pub saved: &'static str,
    pub recomputing: &'static str,
    pub jobs_title: &'static str,
    pub jobs_help: &'static str,
    pub job_kind: &'static str,
    pub job_state: &'static str,
    pub job_attempts: &'static str,
    pub job_created: &'static str,
    pub job_error: &'static str,
    pub job_retry: &'static str,
    pub no_jobs: &'static str,
    pub job_queued: &'static str,
    pub job_running: &'static str,
    pub job_done: &'static str,
    pub job_dead: &'static str,
    pub job_recompute: &'static str,
    pub job_retention: &'static str,
    pub opening_hours: &'static str,
    pub opening_hours_help: &'static str,
    pub holidays_title: &'static str,
    pub timezone: &'static str,
    pub nl_holidays: &'static str,
    pub extra_holidays: &'static str,
    pub targets_title: &'static str,
    pub first_response_targets: &'static str,
    pub median_targets: &'static str,
    pub csat_target: &'static str,
    pub resolution_target: &'static str,
    pub agents_title: &'static str,
    pub aliases_help: &'static str,
    pub bots_help: &'static str,
    pub exclude_help: &'static str,
    pub agents_seen: &'static str,
    pub members_title: &'static str,
    pub agent_name: &'static str,
    pub new_user_password: &'static str,
    pub add_or_change: &'static str,
    pub remove: &'static str,
    pub tokens_title: &'static str,
    pub token_name: &'static str,
    pub create_token: &'static str,
    pub token_once: &'static str,
    pub revoke: &'static str,
    pub revoked: &'static str,
    pub webhook_title: &'static str,
    pub webhook_help: &'static str,
    pub make_secret: &'static str,
    pub toml_title: &'static str,
    pub save: &'static str,
}

pub static NL: Texts = Texts {
    sign_in: "Inloggen",
    sign_out: "Uitloggen",
    email: "E-mailadres",
    password: "Wachtwoord",
    wrong_login: "E-mailadres of wachtwoord klopt niet.",
    setup_title: "servicemeter instellen",
    setup_intro: "Maak het eerste beheerdersaccount aan. Deze pagina werkt alleen zolang er nog geen gebruiker is.",
    setup_done_already: "Er is al een gebruiker; log in.",
    create_admin: "Beheerder aanmaken",
    workspaces: "Werkruimtes",
    no_workspaces: "Je hebt nog geen toegang tot een werkruimte.",
    role: "Rol",
    overview: "Overzicht",
    period: "Periode",
    from: "Van",
    to: "Tot en met",
    show: "Toon",
    today: "Vandaag",
    last_7_days: "Laatste 7 dagen",
    this_month: "Deze maand",
    last_month: "Vorige maand",
    previous_period: "vorige periode",
    conversations: "Gesprekken",
    first_response: "Eerste reactie",
    within_target: "binnen norm",
    resolution_time: "Oplostijd",
    resolution_rate: "Opgelost",
    reopen_rate: "Heropend",
    one_touch: "In één keer opgelost",
    replies_per_conversation: "Antwoorden per gesprek",
    csat: "Klanttevredenheid (CSAT)",
    nps: "NPS",
    ces: "Klantinspanning (CES)",
    responses: "reacties",
    median_business: "mediaan, binnen openingstijden",
    target: "norm",
    no_data: "Geen gesprekken in deze periode.",
    language_name: "Nederlands",
    agency_overview: "Alle werkruimtes in deze periode",
    channel: "Kanaal",
    volume_per_day: "Gesprekken per dag",
    first_response_trend: "Eerste reactie per dag (mediaan, openingstijden)",
    csat_trend: "CSAT per dag",
    arrivals_heatmap: "Binnenkomst per uur en weekdag (omlijnd: open)",
    first_response_distribution: "Verdeling eerste reactie",
    agents: "Medewerkers",
    team: "Team",
    agent: "Medewerker",
    topics: "Onderwerpen",
    topic: "Onderwerp",
    turns_per_conversation: "Beurten per gesprek",
    faq_candidate: "kandidaat voor FAQ / kennisbank",
    flags: "Aandachtspunten",
    csat_below_team: "CSAT duidelijk onder het team: zelfs de bovengrens van het 95%-interval",
    below_team_rate: "ligt onder het teamcijfer",
    slow_first_response: "Eerste reactie traag: mediaan",
    against_team: "tegen team",
    over_answers: "over",
    answers: "antwoorden",
    conversations_list: "Gesprekken",
    page: "Pagina",
    previous: "Vorige",
    next: "Volgende",
    start: "Start",
    resolution: "Oplossing",
    reopens: "Heropend",
    none: "geen",
    unassigned: "(niet toegewezen)",
    timeline: "Tijdlijn",
    closed_hours_note: "Grijs: gesloten; groen: open. Balken: eerste-reactieklok (blauw) en oplosklok (groen).",
    outside_hours: "buiten openingstijden",
    customer: "klant",
    calendar_time: "kalendertijd",
    business_time: "binnen openingstijden",
    unanswered: "onbeantwoord",
    not_resolved: "niet opgelost",
    surveys: "Enquêtes",
    my_figures: "Mijn cijfers",
    of: "van",
    settings: "Instellingen",
    saved: "Opgeslagen.",
    recomputing: "De cijfers worden op de achtergrond opnieuw berekend met de nieuwe instellingen; tot dat klaar is, tonen de pagina's de cijfers van de vorige instellingen.",
    jobs_title: "Achtergrondtaken",
    jobs_help: "Wat de server op de achtergrond doet, zoals het herberekenen van de cijfers na een wijziging. Een taak die mislukt, wordt later opnieuw geprobeerd; na de laatste poging blijft ze hier staan met de foutmelding.",
    job_kind: "Taak",
    job_state: "Status",
    job_attempts: "Pogingen",
    job_created: "Aangemaakt",
    job_error: "Laatste fout",
    job_retry: "Opnieuw proberen",
    no_jobs: "Nog geen taken.",
    job_queued: "wacht",
    job_running: "bezig",
    job_done: "klaar",
    job_dead: "mislukt",
    job_recompute: "cijfers herberekenen",
    job_retention: "oude teksten verwijderen (bewaartermijn)",
    opening_hours: "Openingstijden",
    opening_hours_help: "Per dag bijvoorbeeld 09:00-17:00 of 09:00-12:30, 13:00-17:00; leeg = gesloten; 00:00-24:00 = de hele dag. De week 'default' geldt voor kanalen zonder eigen week; vul onderaan een kanaalnaam in voor een eigen week.",
    holidays_title: "Feestdagen en tijdzone",
    timezone: "Tijdzone",
    nl_holidays: "Nederlandse feestdagen (ook Pasen, Pinksteren, Hemelvaart, Koningsdag)",
    extra_holidays: "Extra gesloten dagen (één datum per regel, JJJJ-MM-DD)",
    targets_title: "Normen",
    first_response_targets: "Eerste reactie per kanaal (kanaal = duur, bv. chat = 2m; default = 4h)",
    median_targets: "Mediaan eerste reactie per kanaal (optioneel)",
    csat_target: "CSAT tevreden ten minste (%)",
    resolution_target: "Opgelost ten minste (%)",
    agents_title: "Medewerkers en accounts",
    aliases_help: "Samenvoegen en weergavenamen (naam in de gegevens = getoonde naam)",
    bots_help: "Bot-accounts: hun berichten tellen als bot, niet als antwoord (één naam per regel)",
    exclude_help: "Test-accounts: hun gesprekken tellen nergens mee (één naam per regel)",
    agents_seen: "Namen in de gegevens",
    members_title: "Gebruikers en rollen",
    agent_name: "Naam in de gesprekken (voor medewerkers)",
    new_user_password: "Wachtwoord (alleen voor een nieuwe gebruiker)",
    add_or_change: "Toevoegen of wijzigen",
    remove: "Verwijderen",
    tokens_title: "API-tokens",
    token_name: "Waarvoor",
    create_token: "Token maken",
    token_once: "Kopieer dit token nu; het wordt niet nog eens getoond:",
    revoke: "Intrekken",
    revoked: "ingetrokken",
    webhook_title: "Webhooks",
    webhook_help: "Ondertekende records: POST /hooks/WERKRUIMTE/records met X-Servicemeter-Signature. Chatwoot: gebruik het adres hieronder als account-webhook.",
    make_secret: "Nieuw geheim maken (het oude werkt dan niet meer)",
    toml_title: "Configuratie als TOML",
    save: "Opslaan",
};

pub static EN: Texts = Texts {
    sign_in: "Sign in",
    sign_out: "Sign out",
    email: "E-mail address",
    password: "Password",
    wrong_login: "E-mail address or password is wrong.",
    setup_title: "Set up servicemeter",
    setup_intro: "Create the first administrator. This page works only while there is no user yet.",
    setup_done_already: "There is a user already; sign in.",
    create_admin: "Create administrator",
    workspaces: "Workspaces",
    no_workspaces: "You have no access to a workspace yet.",
    role: "Role",
    overview: "Overview",
    period: "Period",
    from: "From",
    to: "To",
    show: "Show",
    today: "Today",
    last_7_days: "Last 7 days",
    this_month: "This month",
    last_month: "Last month",
    previous_period: "previous period",
    conversations: "Conversations",
    first_response: "First response",
    within_target: "within target",
    resolution_time: "Resolution time",
    resolution_rate: "Resolved",
    reopen_rate: "Reopened",
    one_touch: "One-touch",
    replies_per_conversation: "Replies per conversation",
    csat: "Customer satisfaction (CSAT)",
    nps: "NPS",
    ces: "Customer effort (CES)",
    responses: "responses",
    median_business: "median, within opening hours",
    target: "target",
    no_data: "No conversations in this period.",
    language_name: "English",
    agency_overview: "All workspaces in this period",
    channel: "Channel",
    volume_per_day: "Conversations per day",
    first_response_trend: "First response per day (median, opening hours)",
    csat_trend: "CSAT per day",
    arrivals_heatmap: "Arrivals per hour and weekday (outlined: open)",
    first_response_distribution: "First response distribution",
    agents: "Agents",
    team: "Team",
    agent: "Agent",
    topics: "Topics",
    topic: "Topic",
    turns_per_conversation: "Turns per conversation",
    faq_candidate: "candidate for FAQ / knowledge base",
    flags: "Attention",
    csat_below_team: "CSAT clearly below the team: even the upper bound of the 95% interval",
    below_team_rate: "is below the team's rate",
    slow_first_response: "Slow first response: median",
    against_team: "against team",
    over_answers: "over",
    answers: "answers",
    conversations_list: "Conversations",
    page: "Page",
    previous: "Previous",
    next: "Next",
    start: "Start",
    resolution: "Resolution",
    reopens: "Reopens",
    none: "none",
    unassigned: "(unassigned)",
    timeline: "Timeline",
    closed_hours_note: "Grey: closed; green: open. Bars: first-response clock (blue) and resolution clock (green).",
    outside_hours: "outside opening hours",
    customer: "customer",
    calendar_time: "calendar time",
    business_time: "within opening hours",
    unanswered: "unanswered",
    not_resolved: "not resolved",
    surveys: "Surveys",
    my_figures: "My figures",
    of: "of",
    settings: "Settings",
    saved: "Saved.",
    recomputing: "The figures are being recomputed in the background with the new settings; until that is done, the pages show the figures of the previous settings.",
    jobs_title: "Background jobs",
    jobs_help: "What the server does in the background, such as recomputing the figures after a change. A job that fails is tried again later; after its last attempt it stays here with the error.",
    job_kind: "Job",
    job_state: "State",
    job_attempts: "Attempts",
    job_created: "Created",
    job_error: "Last error",
    job_retry: "Try again",
    no_jobs: "No jobs yet.",
    job_queued: "waiting",
    job_running: "running",
    job_done: "done",
    job_dead: "failed",
    job_recompute: "recompute the figures",
    job_retention: "remove old texts (retention)",
    opening_hours: "Opening hours",
    opening_hours_help: "Per day e.g. 09:00-17:00 or 09:00-12:30, 13:00-17:00; empty = closed; 00:00-24:00 = all day. The 'default' week applies to channels without their own; fill in a channel name at the bottom for its own week.",
    holidays_title: "Holidays and time zone",
    timezone: "Time zone",
    nl_holidays: "Dutch public holidays (Easter, Whitsun, Ascension, King's Day too)",
    extra_holidays: "Extra closed days (one date per line, YYYY-MM-DD)",
    targets_title: "Targets",
    first_response_targets: "First response per channel (channel = duration, e.g. chat = 2m; default = 4h)",
    median_targets: "Median first response per channel (optional)",
    csat_target: "CSAT satisfied at least (%)",
    resolution_target: "Resolved at least (%)",
    agents_title: "Agents and accounts",
    aliases_help: "Merge and display names (name in the records = name shown)",
    bots_help: "Bot accounts: their messages count as a bot's, not as answers (one name per line)",
    exclude_help: "Test accounts: their conversations are left out of every figure (one name per line)",
    agents_seen: "Names in the records",
    members_title: "Users and roles",
    agent_name: "Name in the conversations (for agents)",
    new_user_password: "Password (only for a new user)",
    add_or_change: "Add or change",
    remove: "Remove",
    tokens_title: "API tokens",
    token_name: "What for",
    create_token: "Create token",
    token_once: "Copy this token now; it is not shown again:",
    revoke: "Revoke",
    revoked: "revoked",
    webhook_title: "Webhooks",
    webhook_help: "Signed records: POST /hooks/WORKSPACE/records with X-Servicemeter-Signature. Chatwoot: use the address below as account webhook.",
    make_secret: "Make a new secret (the old one stops working)",
    toml_title: "Configuration as TOML",
    save: "Save",
};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn language_comes_from_cookie_then_accept_language_then_dutch() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_headers(&h), Lang::Nl);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE, en-GB;q=0.8, nl;q=0.5"),
        );
        assert_eq!(Lang::of_headers(&h), Lang::En);
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; lang=nl"));
        assert_eq!(Lang::of_headers(&h), Lang::Nl);
    }
}
