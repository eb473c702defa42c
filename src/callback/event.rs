//! A TaskRouter Workspace event (the Event Callback URL's POST), typed: what the service
//! needs of it and nothing more.
//!
//! Built only from verified pairs, like the assignment callback. Every event needs its
//! `EventType`; a Reservation event needs its `ReservationSid`, a Task event its `TaskSid`,
//! since without them it cannot be tied to anything. Other fields are ignored (they were
//! still signed); TaskRouter adds fields without notice.

use super::CallbackError;
use super::verified::Verified;

/// The longest `EventType` kept: TaskRouter's longest is 38 characters.
const MAX_EVENT_TYPE: usize = 64;

/// One Workspace event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceEvent {
    pub kind: EventKind,
    pub reservation_sid: Option<String>,
    pub task_sid: Option<String>,
}

/// What an event says, as far as the service acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Reservation(ReservationEvent),
    Task(TaskEvent),
    /// One of TaskRouter's other documented types (workers, queues, workflows, …).
    Other,
    /// A type TaskRouter does not document (or a new one): counted and ignored.
    Unknown,
}

/// `reservation.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationEvent {
    Created,
    Accepted,
    Rejected,
    Timeout,
    Canceled,
    Rescinded,
    Wrapup,
    Completed,
    Failed,
}

/// The `task.*` events that end a Task, and with it every Reservation of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEvent {
    Canceled,
    Completed,
    Deleted,
    SystemDeleted,
}

/// TaskRouter's documented event types the service does not act on.
const OTHER_TYPES: &[&str] = &[
    "task.created",
    "task.updated",
    "task.wrapup",
    "task.transfer-initiated",
    "task.transfer-attempt-failed",
    "task.transfer-failed",
    "task.transfer-canceled",
    "task.transfer-completed",
    "activity.created",
    "activity.updated",
    "activity.deleted",
    "task-channel.created",
    "task-channel.updated",
    "task-channel.deleted",
    "task-queue.created",
    "task-queue.deleted",
    "task-queue.entered",
    "task-queue.timeout",
    "task-queue.moved",
    "task-queue.expression.updated",
    "worker.created",
    "worker.activity.update",
    "worker.attributes.update",
    "worker.capacity.update",
    "worker.channel.availability.update",
    "worker.deleted",
    "workflow.created",
    "workflow.updated",
    "workflow.deleted",
    "workflow.target-matched",
    "workflow.entered",
    "workflow.timeout",
    "workflow.skipped",
    "workspace.created",
    "workspace.updated",
    "workspace.deleted",
];

impl EventKind {
    /// The kind `event_type` names.
    pub fn of(event_type: &str) -> EventKind {
        use ReservationEvent as R;
        match event_type {
            "reservation.created" => EventKind::Reservation(R::Created),
            "reservation.accepted" => EventKind::Reservation(R::Accepted),
            "reservation.rejected" => EventKind::Reservation(R::Rejected),
            "reservation.timeout" => EventKind::Reservation(R::Timeout),
            "reservation.canceled" => EventKind::Reservation(R::Canceled),
            "reservation.rescinded" => EventKind::Reservation(R::Rescinded),
            "reservation.wrapup" => EventKind::Reservation(R::Wrapup),
            "reservation.completed" => EventKind::Reservation(R::Completed),
            "reservation.failed" => EventKind::Reservation(R::Failed),
            "task.canceled" => EventKind::Task(TaskEvent::Canceled),
            "task.completed" => EventKind::Task(TaskEvent::Completed),
            "task.deleted" => EventKind::Task(TaskEvent::Deleted),
            "task.system-deleted" => EventKind::Task(TaskEvent::SystemDeleted),
            other if OTHER_TYPES.contains(&other) => EventKind::Other,
            _ => EventKind::Unknown,
        }
    }

    /// The `type` label of `events_total`: the type's own name where the service acts on
    /// it, else `other` or `unknown` (bounded, whatever a client sends).
    pub fn label(self) -> &'static str {
        use ReservationEvent as R;
        match self {
            EventKind::Reservation(event) => match event {
                R::Created => "reservation.created",
                R::Accepted => "reservation.accepted",
                R::Rejected => "reservation.rejected",
                R::Timeout => "reservation.timeout",
                R::Canceled => "reservation.canceled",
                R::Rescinded => "reservation.rescinded",
                R::Wrapup => "reservation.wrapup",
                R::Completed => "reservation.completed",
                R::Failed => "reservation.failed",
            },
            EventKind::Task(event) => match event {
                TaskEvent::Canceled => "task.canceled",
                TaskEvent::Completed => "task.completed",
                TaskEvent::Deleted => "task.deleted",
                TaskEvent::SystemDeleted => "task.system-deleted",
            },
            EventKind::Other => "other",
            EventKind::Unknown => "unknown",
        }
    }

    /// Whether a pending update for the Reservation (or every Reservation of the Task) is
    /// now pointless: it ended without being accepted, or its Task is gone. Acceptance and
    /// completion are not among them: those usually follow this service's own update, whose
    /// own end says how it went.
    pub fn moves_on(self) -> bool {
        use ReservationEvent as R;
        matches!(
            self,
            EventKind::Reservation(
                R::Rejected | R::Timeout | R::Canceled | R::Rescinded | R::Failed
            ) | EventKind::Task(
                TaskEvent::Canceled | TaskEvent::Deleted | TaskEvent::SystemDeleted
            )
        )
    }
}

impl WorkspaceEvent {
    /// Types the decoded form pairs, once their signature held. A field the service reads
    /// given twice is refused, as for callbacks.
    pub fn from_verified(pairs: Verified<Vec<(String, String)>>) -> Result<Self, CallbackError> {
        let mut event_type = None;
        let mut reservation_sid = None;
        let mut task_sid = None;
        for (key, value) in pairs.into_inner() {
            let (name, slot) = match key.as_str() {
                "EventType" => ("EventType", &mut event_type),
                "ReservationSid" => ("ReservationSid", &mut reservation_sid),
                "TaskSid" => ("TaskSid", &mut task_sid),
                _ => continue,
            };
            if slot.is_some() {
                return Err(CallbackError::EventRepeated(name));
            }
            *slot = Some(value);
        }
        let event_type = event_type
            .filter(|value| !value.is_empty())
            .ok_or(CallbackError::EventMissing("EventType"))?;
        let kind = if event_type.len() > MAX_EVENT_TYPE {
            EventKind::Unknown
        } else {
            EventKind::of(&event_type)
        };
        let reservation_sid = reservation_sid.filter(|value| !value.is_empty());
        let task_sid = task_sid.filter(|value| !value.is_empty());
        match kind {
            EventKind::Reservation(_) if reservation_sid.is_none() => {
                Err(CallbackError::EventMissing("ReservationSid"))
            }
            EventKind::Task(_) if task_sid.is_none() => Err(CallbackError::EventMissing("TaskSid")),
            _ => Ok(Self {
                kind,
                reservation_sid,
                task_sid,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
