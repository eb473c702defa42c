//! A throwaway PostgreSQL server for the tests of the shared store: its own data folder,
//! its own port on 127.0.0.1, gone when the test ends. It can be stopped and started again
//! on the same folder and port (the store down mid-run, then back), or frozen (the store
//! that accepts connections and answers nothing).
//!
//! The server programs come from `pg_config --bindir` (Debian's `postgresql` package puts
//! them under `/usr/lib/postgresql/<major>/bin`). Without them each test that needs a server
//! says so loudly on stderr and passes without running, unless
//! `ASSIGNMENT_ROUTER_REQUIRE_POSTGRES=1` is set, when it fails instead: a CI machine meant to
//! run these tests must not pass by skipping them all.

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, geteuid, kill_process};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

/// Set to `1` where PostgreSQL must be present: a missing server then fails the test.
const REQUIRE: &str = "ASSIGNMENT_ROUTER_REQUIRE_POSTGRES";
/// How long a (re)started server may take to accept queries; initdb and the first start are
/// slow on a loaded machine.
const READY_WITHIN: Duration = Duration::from_secs(15);
/// A fast shutdown takes milliseconds; past this the server is killed.
const STOPPED_WITHIN: Duration = Duration::from_secs(10);

/// How a server is set up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `false` (the default) runs with `fsync=off`: the data is thrown away after the test,
    /// and syncing would only make the tests slower. Load figures need it on.
    pub fsync: bool,
    /// More `-c name=value` settings for the server.
    pub settings: Vec<(String, String)>,
}

/// One PostgreSQL server and its data folder; dropping it stops the server and removes the
/// folder.
pub struct Postgres {
    bindir: PathBuf,
    /// Holds `data/` (the cluster), `socket/` (its Unix socket) and `server.log`.
    root: PathBuf,
    port: u16,
    options: Options,
    /// The unprivileged user the programs run as when the tests run as root.
    run_as: Option<(u32, u32)>,
    server: Option<Child>,
}

impl Postgres {
    /// A fresh server with the default [`Options`], ready for queries; `None` (after saying
    /// so on stderr) when this machine has no PostgreSQL server programs. Each test starts
    /// with `let Some(pg) = Postgres::start().await else { return };`.
    pub async fn start() -> Option<Self> {
        Self::start_with(Options::default()).await
    }

    /// As [`Postgres::start`], with these options.
    pub async fn start_with(options: Options) -> Option<Self> {
        let bindir = server_programs()?;
        let run_as = geteuid().is_root().then(unprivileged_user);
        let root = new_root(run_as);
        let mut postgres = Self {
            bindir,
            root,
            port: 0,
            options,
            run_as,
            server: None,
        };
        postgres.init();
        // The port is free when chosen, but another test may take it before the server
        // binds it: then pick another.
        for attempt in 1.. {
            postgres.port = free_port();
            postgres.spawn();
            match postgres.wait_ready().await {
                Ok(()) => return Some(postgres),
                Err(log) if attempt < 5 && log.contains("could not bind") => {
                    postgres.reap();
                }
                Err(log) => panic!(
                    "PostgreSQL did not start on port {} within {READY_WITHIN:?}; its log:\n{log}",
                    postgres.port
                ),
            }
        }
        unreachable!()
    }

    /// Where the service reaches it: the superuser, over TCP, without TLS.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shuts the server down fast (open connections are cut, as when a database host
    /// fails over) and waits for it to exit. The data stays for [`Postgres::start_again`].
    pub fn stop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        // A frozen server would never see the shutdown request.
        signal_all(&family(&self.root, &server), Signal::CONT);
        let _ = kill_process(postmaster_pid(&self.root, &server), Signal::INT);
        let until = Instant::now() + STOPPED_WITHIN;
        loop {
            if server.try_wait().ok().flatten().is_some() {
                break;
            }
            if Instant::now() > until {
                signal_all(&family(&self.root, &server), Signal::KILL);
                let _ = server.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Backends outlive the postmaster by a moment; the port must be free for a restart.
        wait_port_closed(self.port);
    }

    /// Starts the stopped server again on the same data and port, and waits until it
    /// answers queries.
    pub async fn start_again(&mut self) {
        assert!(self.server.is_none(), "the server is already running");
        self.spawn();
        if let Err(log) = self.wait_ready().await {
            panic!(
                "PostgreSQL did not start again on port {} within {READY_WITHIN:?}; its log:\n{log}",
                self.port
            );
        }
    }

    /// Stops every process of the server (SIGSTOP): connections stay open and queries hang,
    /// the worst a database can do to its clients. [`Postgres::thaw`] resumes it.
    pub fn freeze(&self) {
        let server = self.server.as_ref().expect("the server is running");
        // The postmaster first, so that it starts no backend the scan below would miss.
        let postmaster = postmaster_pid(&self.root, server);
        kill_process(postmaster, Signal::STOP).unwrap();
        signal_all(&family(&self.root, server), Signal::STOP);
    }

    /// Resumes a [`Postgres::freeze`]d server where it stopped.
    pub fn thaw(&self) {
        let server = self.server.as_ref().expect("the server is running");
        let mut family = family(&self.root, server);
        // The backends first, the postmaster (first in the list) last.
        family.reverse();
        signal_all(&family, Signal::CONT);
    }

    /// A pool of connections to the server, for a test that queries a lot.
    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&self.url())
            .await
            .unwrap()
    }

    /// One value from a query, on a connection of its own (so it works across a stop and a
    /// restart): `pg.query_scalar::<i64>("SELECT count(*) FROM …")`.
    pub async fn query_scalar<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        self.try_query_scalar(sql)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// As [`Postgres::query_scalar`], the error returned: for polling a table that may not
    /// exist yet.
    pub async fn try_query_scalar<T>(&self, sql: &str) -> Result<T, sqlx::Error>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        let mut connection = PgConnection::connect(&self.url()).await?;
        let value = sqlx::query_scalar::<_, T>(sql)
            .fetch_one(&mut connection)
            .await;
        let _ = connection.close().await;
        value
    }

    /// Runs one or more statements; returns the rows they affected.
    pub async fn execute(&self, sql: &str) -> u64 {
        let mut connection = PgConnection::connect(&self.url()).await.unwrap();
        let done = sqlx::raw_sql(sql)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
        let _ = connection.close().await;
        done.rows_affected()
    }

    /// The server's log so far, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    /// A program of the server, run as the user that owns the data.
    fn program(&self, name: &str) -> Command {
        let program = self.bindir.join(name);
        let mut command = match self.run_as {
            Some((uid, gid)) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(program);
                command
            }
            None => Command::new(program),
        };
        // The C locale: the cluster must not depend on the locales this machine has.
        command
            .env("LC_ALL", "C")
            .env("LANG", "C")
            .stdin(Stdio::null());
        command
    }

    fn init(&self) {
        let output = self
            .program("initdb")
            .arg("-D")
            .arg(self.root.join("data"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .arg("--no-locale")
            .output()
            .unwrap_or_else(|error| panic!("cannot run initdb: {error}"));
        assert!(
            output.status.success(),
            "initdb failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.root.join("server.log"))
            .unwrap();
        let mut command = self.program("postgres");
        command
            .arg("-D")
            .arg(self.root.join("data"))
            .args(["-p", &self.port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(self.root.join("socket"));
        if !self.options.fsync {
            command.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        for (name, value) in &self.options.settings {
            command.arg("-c").arg(format!("{name}={value}"));
        }
        command.stdout(log.try_clone().unwrap()).stderr(log);
        self.server = Some(
            command
                .spawn()
                .unwrap_or_else(|error| panic!("cannot run postgres: {error}")),
        );
    }

    /// Waits until the server answers `SELECT 1`; its log when it exits or runs out of time.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let until = Instant::now() + READY_WITHIN;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            let server = self.server.as_mut().expect("spawned");
            if let Some(status) = server.try_wait().unwrap() {
                self.server = None;
                return Err(format!("(exited: {status})\n{}", self.log()));
            }
            if Instant::now() > until {
                return Err(self.log());
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                let answered = tokio::time::timeout(Duration::from_secs(2), async {
                    let mut connection = PgConnection::connect(&self.url()).await.ok()?;
                    let one: i32 = sqlx::query_scalar("SELECT 1")
                        .fetch_one(&mut connection)
                        .await
                        .ok()?;
                    let _ = connection.close().await;
                    Some(one)
                })
                .await;
                if let Ok(Some(1)) = answered {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// After a start that failed: whatever is left of the server is gone.
    fn reap(&mut self) {
        if let Some(mut server) = self.server.take() {
            signal_all(&family(&self.root, &server), Signal::KILL);
            let _ = server.wait();
        }
        let _ = std::fs::remove_file(self.root.join("data").join("postmaster.pid"));
    }
}

impl Drop for Postgres {
    /// A finished or failed test leaves no server running and no folder behind.
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The folder of `initdb` and `postgres`, or `None` after saying loudly why the test does not
/// run (or failing, where PostgreSQL is required).
fn server_programs() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    // Debian's pg_config comes with libpq-dev, not with the server: look where the server
    // package puts its programs too, newest major version first.
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .collect();
    debian.sort_by_key(|bin| {
        let major = bin
            .parent()
            .and_then(|p| p.file_name()?.to_str()?.parse::<u32>().ok());
        std::cmp::Reverse(major)
    });
    let has_server = |bin: &PathBuf| bin.join("initdb").is_file() && bin.join("postgres").is_file();
    if let Some(bindir) = from_pg_config.into_iter().chain(debian).find(has_server) {
        return Some(bindir);
    }
    let why = "no PostgreSQL server programs (initdb and postgres under `pg_config --bindir` \
               or /usr/lib/postgresql/*/bin); install Debian's `postgresql` package";
    if std::env::var(REQUIRE).is_ok_and(|value| value == "1") {
        panic!("{why}, or unset {REQUIRE}");
    }
    // Straight to the process's stderr: the test harness captures `eprintln!` of a passing
    // test, and a skip nobody sees would read as a pass.
    static BANNER: Once = Once::new();
    let mut stderr = std::io::stderr().lock();
    BANNER.call_once(|| {
        let _ = writeln!(
            stderr,
            "\n********************************************************************\n\
             SKIPPED: {why}\n(set {REQUIRE}=1 to make this a failure)\n\
             ********************************************************************"
        );
    });
    let test = std::thread::current()
        .name()
        .unwrap_or("a store test")
        .to_owned();
    let _ = writeln!(stderr, "SKIPPED {test}: no PostgreSQL");
    None
}

/// PostgreSQL refuses to run as root: the owner of the data when the tests run as root.
fn unprivileged_user() -> (u32, u32) {
    let id = |flag: &str, user: &str| -> Option<u32> {
        let output = Command::new("id")
            .args([flag, user])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    };
    ["postgres", "nobody"]
        .into_iter()
        .find_map(|user| Some((id("-u", user)?, id("-g", user)?)))
        .expect(
            "running as root, and neither a `postgres` nor a `nobody` user to run PostgreSQL as",
        )
}

/// A new empty folder for one server, owned by the user that runs it.
fn new_root(run_as: Option<(u32, u32)>) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!(
        "assignment-router-postgres-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let socket = root.join("socket");
    std::fs::create_dir_all(&socket).unwrap();
    if let Some((uid, gid)) = run_as {
        for folder in [&root, &socket] {
            std::os::unix::fs::chown(folder, Some(uid), Some(gid)).unwrap();
        }
    }
    root
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to a few seconds) until nothing accepts connections on the port.
fn wait_port_closed(port: u16) {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until
        && TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok()
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The postmaster and every process it started, the postmaster first. Backends each lead a
/// process group of their own (PostgreSQL calls `setsid` in each), so a signal to the
/// postmaster's group would miss them: they are found by their parent in `/proc`.
fn family(root: &Path, server: &Child) -> Vec<Pid> {
    let postmaster = postmaster_pid(root, server);
    let mut family = vec![postmaster];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // `pid (comm) state ppid …`: the command may hold spaces and parentheses, so the
        // fields are read after its last `)`.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, fields)| fields.split_whitespace().nth(1)?.parse::<i32>().ok());
        if parent == Some(postmaster.as_raw_pid())
            && let Some(child) = Pid::from_raw(pid)
        {
            family.push(child);
        }
    }
    family
}

fn signal_all(pids: &[Pid], signal: Signal) {
    for &pid in pids {
        let _ = kill_process(pid, signal);
    }
}

/// The postmaster's pid, from its pid file (the first line), else the child's own (when run
/// through `setpriv`, which becomes the program it runs, they are the same).
fn postmaster_pid(root: &Path, server: &Child) -> Pid {
    std::fs::read_to_string(root.join("data").join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok())
        .and_then(Pid::from_raw)
        .or_else(|| Pid::from_raw(server.id() as i32))
        .expect("a child's pid is positive")
}
