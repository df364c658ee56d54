//! TEMPORARY placeholder until the real decoder lands.
#![allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    BigInt(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<PyValue>),
    Tuple(Vec<PyValue>),
    Set(Vec<PyValue>),
    FrozenSet(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
    Global(String),
    Object {
        class: String,
        args: Vec<PyValue>,
        state: Option<Box<PyValue>>,
    },
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickleError {
    Invalid(String),
}
impl std::fmt::Display for PickleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
impl std::error::Error for PickleError {}
pub fn loads(_d: &[u8]) -> Result<PyValue, PickleError> {
    Err(PickleError::Invalid("stub".into()))
}
impl PyValue {
    pub fn repr(&self, _m: usize) -> String {
        format!("{self:?}")
    }
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}
