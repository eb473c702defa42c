//! Proof that a callback's signature was checked, as a type: a typed callback is built only
//! from a [`Verified`] value, and outside this folder the only way to make one without the
//! signature check is [`Verified::unchecked`], which is easy to find and to review.
//!
//! A newtype with no data of its own: the proof costs nothing at run time.

/// A value (the decoded form pairs) whose `X-Twilio-Signature` held.
#[derive(Debug)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    /// Only the signature check makes these (it is in this folder).
    pub(super) fn checked(value: T) -> Self {
        Self(value)
    }

    /// The explicit way around the signature check: for `callback.verify_signature = false`,
    /// for `explain` and `test` (callbacks written by the operator), and for tests and
    /// benchmarks.
    /// Anything else calling this is a bug.
    pub fn unchecked(value: T) -> Self {
        Self(value)
    }

    pub fn get(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}
