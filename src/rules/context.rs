//! What an expression or template can see of one callback.

use serde_json::Value;

use super::expression::{Context, Param, ParamValue};
use crate::callback::AssignmentCallback;

/// One callback, as rules see it: `task.…`, `worker.…` and the callback's own parameters.
pub struct CallbackContext<'a> {
    callback: &'a AssignmentCallback,
}

impl<'a> CallbackContext<'a> {
    pub fn new(callback: &'a AssignmentCallback) -> Self {
        Self { callback }
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

    fn schedule_open(&self, _name: &str) -> bool {
        // The loader refuses `schedule.NAME` until schedules are supported, so no
        // expression asks.
        false
    }
}

fn text(value: &Option<String>) -> Option<ParamValue<'_>> {
    value.as_deref().map(ParamValue::Str)
}
