//! The service's `/metrics` page, scraped from the admin listener and read series by series:
//! what the service did with an update after it answered the callback shows only there.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::app::TestApp;
use super::process::Running;

/// One scrape of `/metrics`.
pub struct Scrape(String);

impl fmt::Display for Scrape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the service's REST updates have ended so far.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub landed: u64,
    pub final_error: u64,
    pub moved_on: u64,
    pub expired: u64,
    pub dropped: u64,
}

impl Outcomes {
    pub fn total(&self) -> u64 {
        self.landed + self.final_error + self.moved_on + self.expired + self.dropped
    }
}

impl Scrape {
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The value of exactly this series (name and labels), 0 when it was never set.
    pub fn value<T>(&self, series: &str) -> T
    where
        T: FromStr + Default,
        T::Err: fmt::Debug,
    {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|value| value.trim().parse().unwrap())
            .unwrap_or_default()
    }

    pub fn outcomes(&self) -> Outcomes {
        let of = |outcome: &str| {
            self.value(&format!(
                "assignment_router_rest_updates_total{{outcome=\"{outcome}\"}}"
            ))
        };
        Outcomes {
            landed: of("landed"),
            final_error: of("final_error"),
            moved_on: of("moved_on"),
            expired: of("expired"),
            dropped: of("dropped"),
        }
    }

    /// Requests the service sent to Twilio, by its own count.
    pub fn attempts(&self) -> u64 {
        self.value("assignment_router_rest_update_attempts_total")
    }

    pub fn in_flight(&self) -> u64 {
        self.value("assignment_router_rest_updates_in_flight")
    }
}

impl TestApp {
    pub async fn scrape(&self) -> Scrape {
        scrape_at(&self.client, &self.admin_address).await
    }

    /// Polls `/metrics` until `count` updates have ended (or `timeout` passes).
    pub async fn wait_for_outcomes(&self, count: u64, timeout: Duration) -> Scrape {
        wait_for_outcomes_at(&self.client, &self.admin_address, count, timeout).await
    }
}

impl Running {
    pub async fn scrape(&self) -> Scrape {
        scrape_at(&reqwest::Client::new(), &self.admin_address()).await
    }

    /// As [`TestApp::wait_for_outcomes`], for the binary: its update ends are only logged
    /// and counted, so a test must wait for the count before it stops the service.
    pub async fn wait_for_outcomes(&self, count: u64, timeout: Duration) -> Scrape {
        wait_for_outcomes_at(
            &reqwest::Client::new(),
            &self.admin_address(),
            count,
            timeout,
        )
        .await
    }
}

/// One scrape of the admin listener at `admin` (`http://host:port`).
async fn scrape_at(client: &reqwest::Client, admin: &str) -> Scrape {
    let response = client.get(format!("{admin}/metrics")).send().await.unwrap();
    read(response).await
}

/// Polls `/metrics` at `admin` until `count` updates have ended (or `timeout` passes).
async fn wait_for_outcomes_at(
    client: &reqwest::Client,
    admin: &str,
    count: u64,
    timeout: Duration,
) -> Scrape {
    let until = Instant::now() + timeout;
    loop {
        let scrape = scrape_at(client, admin).await;
        if scrape.outcomes().total() >= count || Instant::now() > until {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn read(response: reqwest::Response) -> Scrape {
    assert_eq!(response.status(), 200);
    Scrape(response.text().await.unwrap())
}

impl Running {
    /// Polls `/metrics` until `series` reaches `at_least` (or `timeout` passes): events are
    /// acted on after their `204`, so their counts show a moment later.
    pub async fn wait_for_series(&self, series: &str, at_least: f64, timeout: Duration) -> Scrape {
        let until = Instant::now() + timeout;
        loop {
            let scrape = self.scrape().await;
            if scrape.value::<f64>(series) >= at_least || Instant::now() > until {
                return scrape;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
