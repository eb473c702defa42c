//! placeholder: the OpenAPI contract test
