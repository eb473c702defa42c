//! What an expression or template can see of one callback.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::Value;

use super::expression::{Context, Param, ParamValue};
use super::lookup::{List, Lookups, Map};
use super::schedule::Schedule;
use crate::callback::AssignmentCallback;

/// The schedules of a rules file, by name.
pub type Schedules = HashMap<String, Schedule>;

/// One callback, as rules see it: `task.…`, `worker.…`, the callback's own parameters,
/// `schedule.NAME` read at one instant, and the rules file's lists and maps.
pub struct CallbackContext<'a> {
    callback: &'a AssignmentCallback,
    schedules: &'a Schedules,
    lookups: &'a Lookups,
    now: Timestamp,
}

impl<'a> CallbackContext<'a> {
    pub fn new(
        callback: &'a AssignmentCallback,
        schedules: &'a Schedules,
        lookups: &'a Lookups,
        now: Timestamp,
    ) -> Self {
        Self {
            callback,
            schedules,
            lookups,
            now,
        }
    }
}

impl Context for CallbackContext<'_> {
    fn task(&self) -> &Value {
        &self.callback.task_attributes
    }

    fn worker(&self) -> &Value {
        &self.callback.worker_attributes
    }

    fn param(&self, param: Param) -> Option<ParamValue<'_>> {
        let c = self.callback;
        match param {
            Param::Timestamp => text(&c.timestamp),
            Param::AccountSid => text(&c.account_sid),
            Param::WorkspaceSid => Some(ParamValue::Str(&c.workspace_sid)),
            Param::WorkflowSid => text(&c.workflow_sid),
            Param::TaskQueueSid => text(&c.task_queue_sid),
            Param::WorkerSid => Some(ParamValue::Str(&c.worker_sid)),
            Param::TaskSid => Some(ParamValue::Str(&c.task_sid)),
            Param::TaskAge => c.task_age.map(ParamValue::Number),
            Param::TaskPriority => c.task_priority.map(ParamValue::Number),
            Param::ReservationSid => Some(ParamValue::Str(&c.reservation_sid)),
        }
    }

    fn schedule_open(&self, name: &str) -> bool {
        // The loader refuses unknown schedule names, so a miss cannot happen here.
        self.schedules
            .get(name)
            .is_some_and(|schedule| schedule.is_open(self.now))
    }

    fn list(&self, name: &str) -> Option<&List> {
        self.lookups.lists.get(name)
    }

    fn map(&self, name: &str) -> Option<&Map> {
        self.lookups.maps.get(name)
    }
}

fn text(value: &Option<String>) -> Option<ParamValue<'_>> {
    value.as_deref().map(ParamValue::Str)
}
