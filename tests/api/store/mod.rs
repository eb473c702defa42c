//! The shared PostgreSQL store, black-box: release binaries as replicas on one real
//! PostgreSQL server, real signed callbacks, and a stand-in Twilio that keeps each
//! Reservation's state, so that what reached it (and what did not) is counted exactly.
//!
//! The store exists so that any number of replicas behave as one: a Reservation is updated
//! once whichever replicas hear of it, an update survives the replica that decided it, and
//! the store failing never stops routing. Every test here starts its own server (see
//! `support::postgres`) and skips, loudly, where PostgreSQL is not installed.

mod claims;
mod harness;
mod outage;
mod records;
mod schema;
mod sql;
mod takeover;

use std::collections::HashMap;
use std::ops::Range;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::app::{
    ACCOUNT_SID, PUBLIC_URL, TOKEN, WORKER_SID, WORKSPACE_SID, callback, default_callback, encode,
    reservation_sid, set_reservation, sign,
};
use crate::support::metrics::Scrape;
use crate::support::postgres::Postgres;
use crate::support::process::{Running, command};
use crate::support::twilio::twilio_error;

/// A chat Task is answered inline; anything else goes by REST, through the store.
pub const RULES: &str = r#"
[[rules]]
name = "chat-inline"
when = 'task.type == "chat"'
instruction = "accept"

[[rules]]
name = "by-rest"
delivery = "rest"
instruction = "accept"

[default]
instruction = "accept"
"#;

/// TaskRouter gives up on an answer after 5 s; a callback waiting on a failing store for
/// anywhere near 1 s would already be a fault.
pub const PROMPT: Duration = Duration::from_secs(1);

/// A replica of the service on this store, with its Twilio at `twilio`, a short lease and a
/// short shutdown grace (tests want takeovers in seconds); `extra` wins over these.
pub fn replica(pg: &Postgres, twilio: &Twilio, extra: &[(&str, &str)]) -> Command {
    replica_at(&pg.url(), twilio, extra)
}

/// As [`replica`], for a store URL of the test's choosing (`""`: no store).
pub fn replica_at(store_url: &str, twilio: &Twilio, extra: &[(&str, &str)]) -> Command {
    let base = twilio.uri();
    let mut settings = vec![
        ("APP_STORE__URL", store_url),
        ("APP_STORE__LEASE_SECS", "2"),
        ("APP_TWILIO__API_BASE_URL", base.as_str()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("APP_SERVER__SHUTDOWN_GRACE_SECS", "1"),
    ];
    // Later settings of the same name win: `Command::env` replaces.
    settings.extend_from_slice(extra);
    command(RULES, &settings)
}

/// Starts replicas together, each from its own thread, so that they race through their
/// start (migrations included) as replicas of one deployment do.
pub fn start_together(commands: Vec<Command>) -> Vec<Running> {
    let starting: Vec<_> = commands
        .into_iter()
        .map(|command| std::thread::spawn(move || crate::support::process::start(command)))
        .collect();
    starting
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect()
}

/// One callback's answer, and how long it took.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub took: Duration,
}

impl Answer {
    /// Asserts the answer a REST rule gives: `200 {}`, within [`PROMPT`].
    pub fn assert_rest(&self, what: &str) {
        assert_eq!(self.status, 200, "{what}: {self:?}");
        assert_eq!(self.body, "{}", "{what}: {self:?}");
        assert!(
            self.took < PROMPT,
            "{what} was not answered promptly: {self:?}"
        );
    }
}

/// Posts the default callback for Reservation `n` (see [`reservation_sid`]): the REST rule.
pub async fn post_rest(replica: &Running, n: usize) -> Answer {
    post_pairs(replica, &set_reservation(default_callback(), n)).await
}

/// Posts a chat callback for Reservation `n`: the inline rule.
pub async fn post_inline(replica: &Running, n: usize) -> Answer {
    let pairs = set_reservation(
        callback(
            json!({"type": "chat"}),
            json!({"skills": ["billing"], "contact_uri": "client:alice"}),
        ),
        n,
    );
    post_pairs(replica, &pairs).await
}

/// Posts these pairs, signed as Twilio signs them.
pub async fn post_pairs(replica: &Running, pairs: &[(String, String)]) -> Answer {
    let signature = sign(TOKEN, PUBLIC_URL, pairs);
    let started = Instant::now();
    let response = replica.post(&encode(pairs), Some(&signature)).await;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    Answer {
        status,
        body,
        took: started.elapsed(),
    }
}

/// Posts Reservations `numbers` to the replica one after another; each must be answered
/// `200 {}` promptly. Returns the answers' times, in order.
pub async fn post_rest_each(replica: &Running, numbers: Range<usize>) -> Vec<Duration> {
    let mut took = Vec::new();
    for n in numbers {
        let answer = post_rest(replica, n).await;
        answer.assert_rest(&format!("callback {n}"));
        took.push(answer.took);
    }
    took
}

/// Polls `check` every 50 ms until it holds or `timeout` passes; whether it held.
pub async fn wait_until(timeout: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `'WR…', 'WR…'` list of these Reservations, for an SQL `IN (…)`.
pub fn sql_list(numbers: Range<usize>) -> String {
    numbers
        .map(|n| format!("'{}'", reservation_sid(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Another session, in a transaction of its own, locking rows of the outbox as a test asks:
/// to make a replica's statement wait for them, or to cross it into a deadlock.
pub struct RowLocks(sqlx::PgConnection);

impl RowLocks {
    pub async fn begin(pg: &Postgres) -> Self {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
        sqlx::raw_sql("BEGIN")
            .execute(&mut connection)
            .await
            .unwrap();
        Self(connection)
    }

    /// Locks Reservation `sid`'s update, waiting for whoever holds it.
    pub async fn lock(&mut self, sid: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "SELECT reservation_sid FROM assignment_router_updates
              WHERE reservation_sid = $1 FOR UPDATE",
        )
        .bind(sid)
        .execute(&mut self.0)
        .await
        .map(|_| ())
    }

    pub async fn roll_back(mut self) {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.0)
            .await
            .unwrap();
    }
}

/// How many of these Reservations' rows are in this state.
pub async fn rows_in_state(pg: &Postgres, numbers: Range<usize>, state: &str) -> i64 {
    pg.try_query_scalar::<i64>(&format!(
        "SELECT count(*) FROM assignment_router_updates \
         WHERE state = '{state}' AND reservation_sid IN ({})",
        sql_list(numbers)
    ))
    .await
    .unwrap_or(-1)
}

/// The store's series, as this contract names them.
impl Scrape {
    pub fn claims(&self, result: &str) -> u64 {
        self.value(&format!(
            "assignment_router_store_claims_total{{result=\"{result}\"}}"
        ))
    }

    pub fn store_unavailable(&self) -> u64 {
        self.value("assignment_router_store_unavailable_total")
    }

    pub fn takeovers(&self) -> u64 {
        self.value("assignment_router_outbox_takeovers_total")
    }

    pub fn store_up(&self) -> i64 {
        self.value("assignment_router_store_up")
    }
}

/// What the stand-in Twilio saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub reservation: String,
    pub post: bool,
    pub status: u16,
    pub at: SystemTime,
}

/// A stand-in Twilio that keeps each Reservation's state as Twilio does: `pending` until an
/// update has been answered 2xx, `accepted` after (or whatever a test says it became
/// meanwhile: `canceled`, `timeout`). A GET of the Reservation says which; a POST to a
/// Reservation no longer pending is refused as Twilio refuses it. POSTs, or GETs, can be made
/// to fail with 503 for a while, or for good; and POSTs can be answered late, after they have
/// taken effect, as when the sender dies waiting for the answer.
pub struct Twilio {
    pub server: MockServer,
    state: Arc<Mutex<TwilioState>>,
}

#[derive(Default)]
struct TwilioState {
    /// POSTs before this are answered 503.
    posts_failing_until: Option<Instant>,
    /// GETs before this are answered 503.
    gets_failing_until: Option<Instant>,
    /// How long a POST that lands waits before its answer is sent.
    answer_delay: Duration,
    /// What became of Reservations by other means than an update.
    statuses: HashMap<String, &'static str>,
    seen: Vec<Seen>,
}

impl TwilioState {
    fn status_of(&self, reservation: &str) -> &'static str {
        let landed = self
            .seen
            .iter()
            .any(|s| s.post && s.reservation == reservation && (200..300).contains(&s.status));
        match self.statuses.get(reservation) {
            Some(status) => status,
            None if landed => "accepted",
            None => "pending",
        }
    }
}

fn failing(until: Option<Instant>) -> bool {
    until.is_some_and(|until| Instant::now() < until)
}

/// The part mounted in wiremock; shares the state with the [`Twilio`] the test holds.
struct Responder(Arc<Mutex<TwilioState>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let reservation = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let post = request.method.as_str() == "POST";
        let mut state = self.0.lock().unwrap();
        let current = state.status_of(&reservation);
        let unavailable = || twilio_error(503, 20503, "Service Unavailable");
        let (status, answer) = if !post {
            if failing(state.gets_failing_until) {
                (503, unavailable())
            } else {
                (
                    200,
                    ResponseTemplate::new(200).set_body_json(json!({
                        "sid": reservation,
                        "worker_sid": WORKER_SID,
                        "workspace_sid": WORKSPACE_SID,
                        "reservation_status": current,
                    })),
                )
            }
        } else if failing(state.posts_failing_until) {
            (503, unavailable())
        } else if current != "pending" {
            let message = format!(
                "Reservation {reservation} is already in state [{current}] and cannot be \
                 updated to [accepted]"
            );
            (400, twilio_error(400, 20001, &message))
        } else {
            (
                200,
                ResponseTemplate::new(200)
                    .set_body_json(json!({"sid": reservation, "reservation_status": "accepted"}))
                    .set_delay(state.answer_delay),
            )
        };
        // Recorded on receipt: a late answer has taken effect all the same.
        state.seen.push(Seen {
            reservation,
            post,
            status,
            at: SystemTime::now(),
        });
        answer
    }
}

impl Twilio {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(TwilioState::default()));
        Mock::given(path_regex(format!(
            "^/v1/Workspaces/{WORKSPACE_SID}/Workers/{WORKER_SID}/Reservations/WR[0-9a-f]{{32}}$"
        )))
        .respond_with(Responder(state.clone()))
        .mount(&server)
        .await;
        Self { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// POSTs are answered 503 for this long from now.
    pub fn fail_posts_for(&self, how_long: Duration) {
        self.state.lock().unwrap().posts_failing_until = Some(Instant::now() + how_long);
    }

    /// GETs are answered 503 for this long from now.
    pub fn fail_gets_for(&self, how_long: Duration) {
        self.state.lock().unwrap().gets_failing_until = Some(Instant::now() + how_long);
    }

    /// POSTs that land are answered only after this long.
    pub fn answer_late(&self, delay: Duration) {
        self.state.lock().unwrap().answer_delay = delay;
    }

    /// Reservation `n` has become `status` without any update (the Worker accepted it in
    /// another way, TaskRouter timed it out, the Task was canceled).
    pub fn set_status(&self, n: usize, status: &'static str) {
        let mut state = self.state.lock().unwrap();
        state.statuses.insert(reservation_sid(n), status);
    }

    /// POSTs are answered 503 until [`Twilio::stop_failing`].
    pub fn fail_posts(&self) {
        self.fail_posts_for(Duration::from_secs(24 * 3600));
    }

    /// POSTs and GETs are answered again.
    pub fn stop_failing(&self) {
        let mut state = self.state.lock().unwrap();
        state.posts_failing_until = None;
        state.gets_failing_until = None;
    }

    /// Every request seen so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// POSTs for Reservation `n` answered 2xx: the updates that took effect.
    pub fn landings(&self, n: usize) -> usize {
        let reservation = reservation_sid(n);
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.post && s.reservation == reservation && (200..300).contains(&s.status))
            .count()
    }

    /// POSTs for Reservation `n`, whatever their answer.
    pub fn posts(&self, n: usize) -> usize {
        self.count(n, true)
    }

    /// GETs of Reservation `n`.
    pub fn gets(&self, n: usize) -> usize {
        self.count(n, false)
    }

    fn count(&self, n: usize, post: bool) -> usize {
        let reservation = reservation_sid(n);
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.post == post && s.reservation == reservation)
            .count()
    }

    /// Requests of any kind, for any Reservation.
    pub fn total(&self) -> usize {
        self.state.lock().unwrap().seen.len()
    }

    /// Landings per Reservation of `numbers`, in order.
    pub fn landings_of(&self, numbers: Range<usize>) -> Vec<usize> {
        numbers.map(|n| self.landings(n)).collect()
    }

    /// Waits until every Reservation of `numbers` has landed at least once; whether they
    /// all did within `timeout`.
    pub async fn wait_landed(&self, numbers: Range<usize>, timeout: Duration) -> bool {
        wait_until(timeout, async || {
            numbers.clone().all(|n| self.landings(n) > 0)
        })
        .await
    }

    /// Waits until every Reservation of `numbers` has been POSTed at least once.
    pub async fn wait_posted(&self, numbers: Range<usize>, timeout: Duration) -> bool {
        wait_until(timeout, async || numbers.clone().all(|n| self.posts(n) > 0)).await
    }

    /// A summary for a failure message: requests per Reservation, by kind and answer.
    pub fn summary(&self) -> String {
        let mut by: HashMap<&str, (usize, usize, usize)> = HashMap::new();
        let seen = self.seen();
        for s in &seen {
            let entry = by.entry(s.reservation.as_str()).or_default();
            match (s.post, (200..300).contains(&s.status)) {
                (false, _) => entry.0 += 1,
                (true, true) => entry.1 += 1,
                (true, false) => entry.2 += 1,
            }
        }
        let mut lines: Vec<String> = by
            .into_iter()
            .map(|(r, (gets, ok, failed))| {
                format!("{r}: {gets} GET, {ok} POST 2xx, {failed} POST refused")
            })
            .collect();
        lines.sort();
        lines.join("\n")
    }
}
