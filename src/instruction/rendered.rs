//! A field's value for one callback, as both encoders take it: the inline JSON answer
//! ([`super::inline`]) and the REST update's form ([`super::rest_form`]). The rule engine
//! produces it; it lives here so that the encoders depend on nothing of the engine.

/// A field's value for one callback, templates filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Text(String),
    Integer(i64),
    Bool(bool),
    Events(Vec<String>),
}
