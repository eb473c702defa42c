//! Contexts for unit tests.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

use super::{Context, Param, ParamValue};

/// A callback parameter as the test context stores it.
#[derive(Debug, Clone)]
enum StoredParam {
    Text(String),
    Number(f64),
}

/// A fixed context: attributes, parameters and the set of open schedules.
#[derive(Debug, Clone)]
pub(crate) struct TestContext {
    task: Value,
    worker: Value,
    params: HashMap<Param, StoredParam>,
    open_schedules: Vec<String>,
}

impl TestContext {
    pub(crate) fn new(task: Value, worker: Value) -> Self {
        TestContext {
            task,
            worker,
            params: HashMap::new(),
            open_schedules: Vec::new(),
        }
    }

    pub(crate) fn with_text(mut self, param: Param, text: &str) -> Self {
        self.params
            .insert(param, StoredParam::Text(text.to_owned()));
        self
    }

    pub(crate) fn with_number(mut self, param: Param, number: f64) -> Self {
        self.params.insert(param, StoredParam::Number(number));
        self
    }

    pub(crate) fn with_open_schedule(mut self, name: &str) -> Self {
        self.open_schedules.push(name.to_owned());
        self
    }
}

impl Context for TestContext {
    fn task(&self) -> &Value {
        &self.task
    }

    fn worker(&self) -> &Value {
        &self.worker
    }

    fn param(&self, param: Param) -> Option<ParamValue<'_>> {
        self.params.get(&param).map(|stored| match stored {
            StoredParam::Text(text) => ParamValue::Str(text),
            StoredParam::Number(number) => ParamValue::Number(*number),
        })
    }

    fn schedule_open(&self, name: &str) -> bool {
        self.open_schedules.iter().any(|open| open == name)
    }
}

/// Wraps a context and records which schedules were asked about, to observe short-circuiting.
pub(crate) struct CountingContext<'a> {
    inner: &'a TestContext,
    asked: RefCell<Vec<String>>,
}

impl<'a> CountingContext<'a> {
    pub(crate) fn new(inner: &'a TestContext) -> Self {
        CountingContext {
            inner,
            asked: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn schedules_asked(&self) -> Vec<String> {
        self.asked.borrow().clone()
    }
}

impl Context for CountingContext<'_> {
    fn task(&self) -> &Value {
        self.inner.task()
    }

    fn worker(&self) -> &Value {
        self.inner.worker()
    }

    fn param(&self, param: Param) -> Option<ParamValue<'_>> {
        self.inner.param(param)
    }

    fn schedule_open(&self, name: &str) -> bool {
        self.asked.borrow_mut().push(name.to_owned());
        self.inner.schedule_open(name)
    }
}
