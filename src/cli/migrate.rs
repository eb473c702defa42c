//! `migrate`: applies the shared store's schema migrations and exits (`serve` applies them
//! too; this is for a deploy step that runs before the replicas start).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::fail;
use crate::settings::Settings;
use crate::store::SharedStore;
use crate::telemetry::metrics::Metrics;

pub fn run(config: Option<&Path>) -> ExitCode {
    // Only the store is needed: a deploy job need not hold the Twilio secrets.
    let settings = match Settings::load_without_secrets(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    let Some(url) = &settings.store.url else {
        return fail(
            &"store.url is empty (nor is DATABASE_URL set): the memory store has no schema to \
              migrate; set store.url to the PostgreSQL URL the replicas share",
        );
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime must start: the machine is out of threads or memory");
    let store = match SharedStore::open(
        url,
        1,
        0,
        runtime.handle().clone(),
        Arc::new(Metrics::new()),
    ) {
        Ok(store) => store,
        Err(error) => return fail(&error),
    };
    match runtime.block_on(store.migrate()) {
        Ok(applied) => {
            for (version, name) in &applied.applied {
                println!("applied migration {version} ({name})");
            }
            if applied.applied.is_empty() {
                println!(
                    "{}: the schema is up to date (version {})",
                    store.target(),
                    applied.version
                );
            } else {
                println!(
                    "{}: the schema is at version {}",
                    store.target(),
                    applied.version
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}
