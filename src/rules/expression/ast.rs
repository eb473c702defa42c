//! The syntax tree of a rule expression.

use std::fmt;

/// A parsed rule expression.
///
/// `AND` and `OR` are n-ary: `a AND b AND c` is one [`Expr::And`] with three children, and a
/// parenthesised `AND` inside an `AND` (likewise `OR` in `OR`) is merged into its parent, since
/// both operators are associative. Keeping chains flat also keeps the tree shallow, so
/// evaluating, printing and dropping it cannot exhaust the stack however long a chain is; the
/// parser bounds the remaining nesting (parentheses, `NOT`, array literals) at 64 levels.
///
/// The parser never produces an `And` or `Or` with fewer than two children. Hand-built trees
/// may: an empty `And` is true and an empty `Or` is false.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// True if any child is true; evaluated left to right, stopping at the first true child.
    Or(Vec<Expr>),
    /// True if every child is true; evaluated left to right, stopping at the first false child.
    And(Vec<Expr>),
    /// `NOT e`: negation.
    Not(Box<Expr>),
    /// `left OP right`.
    Compare {
        /// The left-hand side.
        left: Operand,
        /// The comparison.
        operator: Operator,
        /// The right-hand side.
        right: Operand,
    },
    /// A lone operand such as `schedule.business_hours` or `task.vip`: true only if the value
    /// is the boolean `true`.
    Truthy(Operand),
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A value written in the expression.
    Literal(Literal),
    /// A value looked up when the expression is evaluated.
    Path(Path),
}

/// A value written in the expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number; always finite.
    Number(f64),
    /// A quoted string, escapes resolved.
    String(String),
    /// `[lit, lit, ...]`.
    Array(Vec<Literal>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `==` (also written `=`).
    Equal,
    /// `!=`.
    NotEqual,
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
    /// `CONTAINS`: substring test.
    Contains,
    /// `HAS`: array membership, array on the left.
    Has,
    /// `IN`: array membership, array on the right.
    In,
    /// `NOT IN`: array non-membership, array on the right.
    NotIn,
}

impl Operator {
    /// The operator as printed in canonical source (`==`, `NOT IN`, ...).
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Contains => "CONTAINS",
            Operator::Has => "HAS",
            Operator::In => "IN",
            Operator::NotIn => "NOT IN",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Where a value comes from: the task or worker attributes, a schedule, or a callback
/// parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Path {
    /// `task`, `task.a.b[0]`: the Task attributes, then keys and indexes into them.
    Task(Vec<Segment>),
    /// `worker`, `worker.skills[1]`: the Worker attributes, then keys and indexes.
    Worker(Vec<Segment>),
    /// `schedule.NAME`: whether that schedule is open now (a boolean).
    Schedule(String),
    /// A callback parameter by its Twilio name, e.g. `TaskAge`.
    Param(Param),
    /// `lists.NAME`: that list, for `IN`, `NOT IN` and `HAS`.
    List(String),
    /// `maps.NAME[key]`: that map's value for the key's value, or null. The key is a task,
    /// worker or parameter path (never another list or map, so lookups do not nest).
    Map(String, Box<Path>),
}

/// A list or map a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup<'a> {
    List(&'a str),
    Map(&'a str),
}

impl Path {
    /// The list or map this path reads, if it reads one.
    pub fn lookup(&self) -> Option<Lookup<'_>> {
        match self {
            Path::List(name) => Some(Lookup::List(name)),
            Path::Map(name, _) => Some(Lookup::Map(name)),
            _ => None,
        }
    }

    /// The schedule's name, for a `schedule.NAME` path.
    pub fn schedule_name(&self) -> Option<&str> {
        match self {
            Path::Schedule(name) => Some(name),
            _ => None,
        }
    }
}

/// One step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// `.key`: an object member.
    Key(String),
    /// `[n]`: an array element.
    Index(usize),
}

/// A parameter of TaskRouter's assignment callback that an expression may read directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    /// `Timestamp`.
    Timestamp,
    /// `AccountSid`.
    AccountSid,
    /// `WorkspaceSid`.
    WorkspaceSid,
    /// `WorkflowSid`.
    WorkflowSid,
    /// `TaskQueueSid`.
    TaskQueueSid,
    /// `WorkerSid`.
    WorkerSid,
    /// `TaskSid`.
    TaskSid,
    /// `TaskAge` (a number, seconds).
    TaskAge,
    /// `TaskPriority` (a number).
    TaskPriority,
    /// `ReservationSid`.
    ReservationSid,
}

impl Param {
    /// Every parameter, in the order error messages list them.
    pub const ALL: [Param; 10] = [
        Param::Timestamp,
        Param::AccountSid,
        Param::WorkspaceSid,
        Param::WorkflowSid,
        Param::TaskQueueSid,
        Param::WorkerSid,
        Param::TaskSid,
        Param::TaskAge,
        Param::TaskPriority,
        Param::ReservationSid,
    ];

    /// The exact Twilio name, which is also how an expression writes it.
    pub fn name(self) -> &'static str {
        match self {
            Param::Timestamp => "Timestamp",
            Param::AccountSid => "AccountSid",
            Param::WorkspaceSid => "WorkspaceSid",
            Param::WorkflowSid => "WorkflowSid",
            Param::TaskQueueSid => "TaskQueueSid",
            Param::WorkerSid => "WorkerSid",
            Param::TaskSid => "TaskSid",
            Param::TaskAge => "TaskAge",
            Param::TaskPriority => "TaskPriority",
            Param::ReservationSid => "ReservationSid",
        }
    }

    /// The parameter with exactly this name (case-sensitive, as Twilio sends it).
    pub fn from_name(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|param| param.name() == name)
    }

    /// Whether Twilio sends this parameter as a number rather than a string.
    pub fn is_numeric(self) -> bool {
        matches!(self, Param::TaskAge | Param::TaskPriority)
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Expr {
    /// The schedules the expression reads (`schedule.NAME`), each once, in order of first
    /// use; the loader checks them against the configured schedules.
    pub fn schedules(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        self.visit_paths(&mut |path| {
            if let Path::Schedule(name) = path
                && !names.contains(&name.as_str())
            {
                names.push(name);
            }
        });
        names
    }

    /// The lists (`lists.NAME`) and maps (`maps.NAME[…]`) the expression reads, each once,
    /// in order of first use; the loader checks them against the declared ones.
    pub fn lookups(&self) -> Vec<Lookup<'_>> {
        let mut names: Vec<Lookup<'_>> = Vec::new();
        self.visit_paths(&mut |path| {
            if let Some(lookup) = path.lookup()
                && !names.contains(&lookup)
            {
                names.push(lookup);
            }
        });
        names
    }

    /// Every path the expression reads, in source order (repeats included).
    pub fn paths(&self) -> Vec<&Path> {
        let mut paths = Vec::new();
        self.visit_paths(&mut |path| paths.push(path));
        paths
    }

    fn visit_paths<'e>(&'e self, visit: &mut dyn FnMut(&'e Path)) {
        match self {
            Expr::Or(children) | Expr::And(children) => {
                for child in children {
                    child.visit_paths(visit);
                }
            }
            Expr::Not(inner) => inner.visit_paths(visit),
            Expr::Compare { left, right, .. } => {
                for operand in [left, right] {
                    if let Operand::Path(path) = operand {
                        visit(path);
                    }
                }
            }
            Expr::Truthy(Operand::Path(path)) => visit(path),
            Expr::Truthy(Operand::Literal(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests;
