//! A pure-data decoder for Python pickles (protocols 0–5).
//!
//! RQ stores job arguments, return values and `meta` as pickles. The dashboard
//! needs to show them, but Python's own unpickler is a small virtual machine
//! that imports modules and calls arbitrary callables (`GLOBAL` + `REDUCE` is
//! the classic remote-code-execution gadget). This module implements the same
//! opcode set as a *data-only* interpreter.
//!
//! # Why decoding cannot execute code
//!
//! * **No lookups.** `GLOBAL`, `STACK_GLOBAL`, `INST` and `EXT1/2/4` only
//!   record the dotted name (or extension code) as text. Nothing is resolved
//!   against a module table, registry or the filesystem.
//! * **No callbacks.** `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`, `INST` and
//!   `BUILD` never call anything: they create an inert [`PyValue::Object`]
//!   node that merely *describes* the call (callable name, arguments and the
//!   `BUILD` state). Persistent ids become an inert `persistent_id` object.
//! * **Plain data out.** The result is an owned tree of enums, strings and
//!   numbers with no trait objects, function pointers or handles; rendering it
//!   ([`PyValue::repr`], [`PyValue::to_json`]) is pure formatting. A few
//!   well-known shapes (`set`, `bytes` via `_codecs.encode`, `datetime`, …)
//!   are recognised by name and rewritten or formatted, which is again just
//!   string matching on data.
//!
//! # Hostile input
//!
//! Decoding never panics and is bounded: the input size, node count, memo
//! size, stack pushes, integer sizes, nesting depth and total decoded text are
//! all capped (see the constants below); length prefixes are checked against
//! the remaining input before anything is allocated, and every recursive walk
//! (materialising, `repr`, `to_json`) stops at [`MAX_DEPTH`] levels. Values
//! are built in an arena so memo references share (and observe later
//! mutation of) the same node, exactly like Python; self-referencing
//! structures materialise with a placeholder (`[...]`, `{...}` or `...`).

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

/// Largest pickle accepted by [`loads`] (64 MiB).
pub const MAX_INPUT_LEN: usize = 64 * 1024 * 1024;
/// Deepest container nesting produced by [`loads`] and walked by `repr`/`to_json`.
pub const MAX_DEPTH: usize = 200;
/// Maximum number of VM nodes, and of values produced when materialising.
pub const MAX_NODES: usize = 1_000_000;

/// How many decoded values one input byte may expand to (through shared references).
pub const EXPANSION_PER_BYTE: usize = 64;
/// Maximum byte length of a `LONG1`/`LONG4` integer.
pub const MAX_LONG_BYTES: usize = 4096;
/// Maximum digits of a protocol-0 `INT`/`LONG` literal.
const MAX_LONG_DIGITS: usize = 10_000;
/// Maximum number of memo entries.
const MAX_MEMO: usize = 1_000_000;
/// Maximum stack pushes + MARKs; bounds the stack and all container links.
const MAX_PUSHES: usize = 4_000_000;
/// Budget for big-integer to decimal conversion (quadratic in size).
const MAX_LONG_WORK: usize = 64 * 1024 * 1024;
/// Maximum total string/bytes length of the materialised value (shared
/// references are copied, so this can exceed the input size).
const MAX_OUTPUT_BYTES: usize = 2 * MAX_INPUT_LEN;

/// What a hidden value ([`PyValue::Redacted`]) shows as, here and wherever redaction hides a
/// value ([`crate::redact`] uses the same words).
pub const REDACTED: &str = "[redacted]";

/// Bound for reprs used as names or dict keys.
const MAX_NAME_REPR: usize = 200;
const HIGHEST_PROTOCOL: u8 = 5;

/// A decoded Python value; inert data only.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer too large for i64, as decimal text (e.g. "123456789012345678901234567890", may start with '-').
    BigInt(String),
    /// A float.
    Float(f64),
    /// A text string.
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<PyValue>),
    /// A tuple.
    Tuple(Vec<PyValue>),
    /// A set (elements in pickle order).
    Set(Vec<PyValue>),
    /// A frozenset (elements in pickle order).
    FrozenSet(Vec<PyValue>),
    /// A dict (items in pickle order).
    Dict(Vec<(PyValue, PyValue)>),
    /// A reference to a global (class or function), e.g. "builtins.ValueError".
    Global(String),
    /// An object built by REDUCE/NEWOBJ/etc: the callable's dotted name, its args, and BUILD state if any.
    Object {
        /// Dotted name of the callable (or a bounded repr if it was not a global).
        class: String,
        /// Positional arguments; list/dict items appended to the object and
        /// non-empty `NEWOBJ_EX` kwargs are added as trailing `List`/`Dict` args.
        args: Vec<PyValue>,
        /// The `BUILD` state, if any.
        state: Option<Box<PyValue>>,
    },
    /// A value hidden by redaction ([`crate::redact`]); never decoded from a pickle. Shows as
    /// [`REDACTED`] (a JSON string in [`PyValue::to_json`]).
    Redacted,
}

/// Why a pickle could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickleError {
    /// The data ended before `STOP` or inside an opcode argument.
    Truncated,
    /// A byte that is not an opcode of protocols 0–5.
    UnknownOpcode(u8),
    /// An opcode needed more stack items than were available.
    StackUnderflow,
    /// A memo lookup used a key that was never stored.
    BadMemo,
    /// A safety limit was reached; names the limit.
    LimitExceeded(&'static str),
    /// A valid but unsupported feature (e.g. out-of-band buffers).
    Unsupported(&'static str),
    /// Structurally invalid data.
    Invalid(String),
}

impl fmt::Display for PickleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("pickle data was truncated"),
            Self::UnknownOpcode(op) => write!(f, "unknown pickle opcode 0x{op:02x}"),
            Self::StackUnderflow => f.write_str("pickle stack underflow"),
            Self::BadMemo => f.write_str("pickle memo key not found"),
            Self::LimitExceeded(what) => write!(f, "pickle limit exceeded: {what}"),
            Self::Unsupported(what) => write!(f, "unsupported pickle feature: {what}"),
            Self::Invalid(msg) => write!(f, "invalid pickle: {msg}"),
        }
    }
}

impl std::error::Error for PickleError {}

type Result<T> = std::result::Result<T, PickleError>;

fn invalid(msg: &str) -> PickleError {
    PickleError::Invalid(msg.to_string())
}

/// Decodes one pickle (stops at STOP). Never executes anything.
pub fn loads(data: &[u8]) -> Result<PyValue> {
    if data.len() > MAX_INPUT_LEN {
        return Err(PickleError::LimitExceeded("input size"));
    }
    let mut vm = Vm {
        r: Reader { data, pos: 0 },
        nodes: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        pushes: 0,
        long_work: 0,
    };
    let root = vm.run()?;
    let mut m = Materializer {
        nodes: &vm.nodes,
        active: vec![false; vm.nodes.len()],
        count: 0,
        bytes: 0,
        // Shared references (DUP, memo GET) let a tiny pickle describe an exponentially large
        // value; expanding it is bounded by the input's size so decoding stays proportional.
        limit: MAX_NODES.min(data.len().saturating_mul(EXPANSION_PER_BYTE) + 4096),
    };
    m.value(root, 0)
}

// ---------------------------------------------------------------------------
// Input reader
// ---------------------------------------------------------------------------

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Takes `n` bytes, checking the remaining input before anything else.
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(PickleError::Truncated)?;
        let s = self.data.get(self.pos..end).ok_or(PickleError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A newline-terminated argument, without the newline.
    fn line(&mut self) -> Result<&'a [u8]> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let i = rest.iter().position(|&b| b == b'\n');
        let i = i.ok_or(PickleError::Truncated)?;
        self.pos += i + 1;
        Ok(&rest[..i])
    }

    /// The length-prefixed argument of `op` (the prefix width depends on the opcode).
    fn counted(&mut self, op: u8) -> Result<&'a [u8]> {
        let n = match op {
            b'U' | b'C' | 0x8a | 0x8c => u64::from(self.byte()?),
            b'X' | b'B' => u32::from_le_bytes(self.array()?).into(),
            b'T' | 0x8b => u64::try_from(i32::from_le_bytes(self.array()?))
                .map_err(|_| invalid("negative length prefix"))?,
            _ => u64::from_le_bytes(self.array()?),
        };
        if (op == 0x8a || op == 0x8b) && n > MAX_LONG_BYTES as u64 {
            return Err(PickleError::LimitExceeded("integer size"));
        }
        self.take(usize::try_from(n).map_err(|_| PickleError::Truncated)?)
    }
}

// ---------------------------------------------------------------------------
// The VM: builds an arena of nodes; the memo and stack hold node indices
// ---------------------------------------------------------------------------

/// A value in the VM arena. Containers hold arena indices, so the stack and
/// memo share nodes by reference and see later mutation, as in Python.
#[derive(Debug)]
enum Node {
    Value(PyValue),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Set(Vec<usize>),
    FrozenSet(Vec<usize>),
    Dict(Vec<(usize, usize)>),
    Object(Box<ObjNode>),
}

/// An inert call description; nothing is ever invoked.
#[derive(Debug)]
struct ObjNode {
    callable: usize,
    /// Index of a `Node::Tuple` holding the positional arguments.
    args: usize,
    kwargs: Option<usize>,
    state: Option<usize>,
    /// Items added by APPEND(S)/ADDITEMS (list/set subclasses, `deque`, ...).
    items: Vec<usize>,
    /// Items added by SETITEM(S) (`OrderedDict`, `defaultdict`, ...).
    dict_items: Vec<(usize, usize)>,
}

struct Vm<'a> {
    r: Reader<'a>,
    nodes: Vec<Node>,
    stack: Vec<usize>,
    marks: Vec<usize>,
    memo: HashMap<u64, usize>,
    pushes: usize,
    long_work: usize,
}

fn pairs(items: &[usize]) -> Result<Vec<(usize, usize)>> {
    if !items.len().is_multiple_of(2) {
        return Err(invalid("odd number of dict items"));
    }
    Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

impl Vm<'_> {
    fn node(&mut self, n: Node) -> Result<usize> {
        if self.nodes.len() >= MAX_NODES {
            return Err(PickleError::LimitExceeded("node count"));
        }
        self.nodes.push(n);
        Ok(self.nodes.len() - 1)
    }

    fn value(&mut self, v: PyValue) -> Result<usize> {
        self.node(Node::Value(v))
    }

    /// Every stack push and MARK counts against a budget that bounds the
    /// stack and the total number of container links.
    fn budget(&mut self) -> Result<()> {
        self.pushes += 1;
        if self.pushes > MAX_PUSHES {
            return Err(PickleError::LimitExceeded("stack pushes"));
        }
        Ok(())
    }

    fn push_idx(&mut self, i: usize) -> Result<()> {
        self.budget()?;
        self.stack.push(i);
        Ok(())
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn top(&self) -> Result<usize> {
        match self.stack.last() {
            Some(&i) if self.stack.len() > self.fence() => Ok(i),
            _ => Err(PickleError::StackUnderflow),
        }
    }

    fn pop(&mut self) -> Result<usize> {
        let i = self.top()?;
        self.stack.pop();
        Ok(i)
    }

    fn pop_mark(&mut self) -> Result<Vec<usize>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| invalid("no MARK on the stack"))?;
        if m > self.stack.len() {
            return Err(PickleError::StackUnderflow);
        }
        Ok(self.stack.split_off(m))
    }

    /// The memo key argument of GET/PUT-family opcodes (`MEMOIZE` uses the memo size).
    fn memo_key(&mut self, op: u8) -> Result<u64> {
        Ok(match op {
            b'g' | b'p' => std::str::from_utf8(self.r.line()?)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| invalid("bad memo key"))?,
            b'h' | b'q' => self.r.byte()?.into(),
            b'j' | b'r' => u32::from_le_bytes(self.r.array()?).into(),
            _ => self.memo.len() as u64,
        })
    }

    /// APPEND(S) / ADDITEMS / SETITEM(S): mutate the container on top of the stack.
    fn extend(&mut self, op: u8, items: Vec<usize>) -> Result<()> {
        let target = self.top()?;
        match (op, &mut self.nodes[target]) {
            (b'a' | b'e', Node::List(v)) | (0x90, Node::Set(v)) => v.extend(items),
            (b'a' | b'e' | 0x90, Node::Object(o)) => o.items.extend(items),
            (b's' | b'u', Node::Dict(d)) => d.extend(pairs(&items)?),
            (b's' | b'u', Node::Object(o)) => o.dict_items.extend(pairs(&items)?),
            _ => return Err(invalid("container opcode applied to the wrong type")),
        }
        Ok(())
    }

    fn object(&mut self, callable: usize, args: usize, kwargs: Option<usize>) -> Result<Node> {
        if !matches!(self.nodes[args], Node::Tuple(_)) {
            return Err(invalid("call arguments are not a tuple"));
        }
        let (state, items, dict_items) = (None, Vec::new(), Vec::new());
        Ok(Node::Object(Box::new(ObjNode {
            callable,
            args,
            kwargs,
            state,
            items,
            dict_items,
        })))
    }

    /// An inert call of the global `name` with the given argument nodes.
    fn call_of(&mut self, name: PyValue, args: Vec<usize>) -> Result<Node> {
        let callable = self.value(name)?;
        let args = self.node(Node::Tuple(args))?;
        self.object(callable, args, None)
    }

    fn global(&mut self) -> Result<PyValue> {
        let module = self.r.line()?;
        let name = self.r.line()?;
        match (std::str::from_utf8(module), std::str::from_utf8(name)) {
            (Ok(m), Ok(n)) => Ok(PyValue::Global(global_name(m, n))),
            _ => Err(invalid("non-utf8 global name")),
        }
    }

    fn stack_str(&mut self) -> Result<String> {
        let i = self.pop()?;
        match &self.nodes[i] {
            Node::Value(PyValue::Str(s)) => Ok(s.clone()),
            _ => Err(invalid("STACK_GLOBAL requires str arguments")),
        }
    }

    fn run(&mut self) -> Result<usize> {
        use PyValue as V;
        loop {
            let op = self.r.byte()?;
            let node = match op {
                b'.' => return self.pop(),
                b'(' => {
                    self.budget()?;
                    self.marks.push(self.stack.len());
                    continue;
                }
                b'0' => {
                    if self.stack.len() > self.fence() {
                        self.stack.pop();
                    } else if self.marks.pop().is_none() {
                        return Err(PickleError::StackUnderflow);
                    }
                    continue;
                }
                b'1' => {
                    self.pop_mark()?;
                    continue;
                }
                b'2' => {
                    self.push_idx(self.top()?)?;
                    continue;
                }
                b'F' => Node::Value(V::Float(
                    std::str::from_utf8(self.r.line()?)
                        .ok()
                        .and_then(|s| s.trim().parse().ok())
                        .ok_or_else(|| invalid("bad FLOAT literal"))?,
                )),
                b'I' => Node::Value(match self.r.line()? {
                    b"00" => V::Bool(false),
                    b"01" => V::Bool(true),
                    text => parse_int_text(text)?,
                }),
                b'L' => {
                    let line = self.r.line()?;
                    Node::Value(parse_int_text(line.strip_suffix(b"L").unwrap_or(line))?)
                }
                b'J' => Node::Value(V::Int(i32::from_le_bytes(self.r.array()?).into())),
                b'K' => Node::Value(V::Int(self.r.byte()?.into())),
                b'M' => Node::Value(V::Int(u16::from_le_bytes(self.r.array()?).into())),
                0x8a | 0x8b => {
                    let bytes = self.r.counted(op)?;
                    self.long_work += bytes.len() * bytes.len() / 16 + 1;
                    if self.long_work > MAX_LONG_WORK {
                        return Err(PickleError::LimitExceeded("integer work"));
                    }
                    Node::Value(int_from_le(bytes))
                }
                b'G' => Node::Value(V::Float(f64::from_be_bytes(self.r.array()?))),
                b'N' => Node::Value(V::None),
                0x88 | 0x89 => Node::Value(V::Bool(op == 0x88)),
                b'S' => match self.r.line()? {
                    [q, inner @ .., e] if q == e && (*q == b'\'' || *q == b'"') => {
                        Node::Value(str_or_bytes(escape_decode(inner)))
                    }
                    _ => return Err(invalid("STRING argument must be quoted")),
                },
                b'T' | b'U' => Node::Value(str_or_bytes(self.r.counted(op)?.to_vec())),
                b'V' => Node::Value(V::Str(raw_unicode_escape(self.r.line()?)?)),
                b'X' | 0x8c | 0x8d => {
                    Node::Value(V::Str(String::from_utf8_lossy(self.r.counted(op)?).into()))
                }
                b'B' | b'C' | 0x8e => Node::Value(V::Bytes(self.r.counted(op)?.to_vec())),
                0x96 => {
                    let data = V::Bytes(self.r.counted(op)?.to_vec());
                    let data = self.value(data)?;
                    self.call_of(V::Global("builtins.bytearray".into()), vec![data])?
                }
                0x97 | 0x98 => return Err(PickleError::Unsupported("out-of-band buffers")),
                b']' => Node::List(Vec::new()),
                b')' => Node::Tuple(Vec::new()),
                b'}' => Node::Dict(Vec::new()),
                0x8f => Node::Set(Vec::new()),
                b'l' => Node::List(self.pop_mark()?),
                b't' => Node::Tuple(self.pop_mark()?),
                0x91 => Node::FrozenSet(self.pop_mark()?),
                b'd' => Node::Dict(pairs(&self.pop_mark()?)?),
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = (0..n).map(|_| self.pop()).collect::<Result<Vec<_>>>()?;
                    items.reverse();
                    Node::Tuple(items)
                }
                b'a' | b's' => {
                    let mut items = vec![self.pop()?];
                    if op == b's' {
                        items.insert(0, self.pop()?);
                    }
                    self.extend(op, items)?;
                    continue;
                }
                b'e' | b'u' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.extend(op, items)?;
                    continue;
                }
                b'g' | b'h' | b'j' => {
                    let key = self.memo_key(op)?;
                    self.push_idx(*self.memo.get(&key).ok_or(PickleError::BadMemo)?)?;
                    continue;
                }
                b'p' | b'q' | b'r' | 0x94 => {
                    let key = self.memo_key(op)?;
                    let top = self.top()?;
                    if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&key) {
                        return Err(PickleError::LimitExceeded("memo size"));
                    }
                    self.memo.insert(key, top);
                    continue;
                }
                b'c' => Node::Value(self.global()?),
                0x93 => {
                    let name = self.stack_str()?;
                    Node::Value(V::Global(global_name(&self.stack_str()?, &name)))
                }
                0x82 => Node::Value(V::Global(format!("extension:{}", self.r.byte()?))),
                0x83 => {
                    let code = u16::from_le_bytes(self.r.array()?);
                    Node::Value(V::Global(format!("extension:{code}")))
                }
                0x84 => {
                    let code = i32::from_le_bytes(self.r.array()?);
                    Node::Value(V::Global(format!("extension:{code}")))
                }
                b'P' | b'Q' => {
                    let pid = match op {
                        b'P' => {
                            let id = String::from_utf8_lossy(self.r.line()?).into_owned();
                            self.value(V::Str(id))?
                        }
                        _ => self.pop()?,
                    };
                    self.call_of(V::Global("persistent_id".into()), vec![pid])?
                }
                b'R' | 0x81 | 0x92 => {
                    let kwargs = if op == 0x92 { Some(self.pop()?) } else { None };
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.object(callable, args, kwargs)?
                }
                b'i' => {
                    let name = self.global()?;
                    let items = self.pop_mark()?;
                    self.call_of(name, items)?
                }
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return Err(PickleError::StackUnderflow);
                    }
                    let callable = items.remove(0);
                    let args = self.node(Node::Tuple(items))?;
                    self.object(callable, args, None)?
                }
                b'b' => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    match &mut self.nodes[target] {
                        Node::Object(o) => o.state = Some(state),
                        _ => return Err(invalid("BUILD target is not an object")),
                    }
                    continue;
                }
                0x80 => {
                    if self.r.byte()? > HIGHEST_PROTOCOL {
                        return Err(PickleError::Unsupported("pickle protocol above 5"));
                    }
                    continue;
                }
                0x95 => {
                    self.r.array::<8>()?;
                    continue;
                }
                other => return Err(PickleError::UnknownOpcode(other)),
            };
            let i = self.node(node)?;
            self.push_idx(i)?;
        }
    }
}

/// Joins a module and name, mapping common Python 2 names to Python 3 ones.
fn global_name(module: &str, name: &str) -> String {
    let module = match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        m => m,
    };
    let name = match (module, name) {
        ("builtins", "unicode" | "basestring") => "str",
        ("builtins", "long") => "int",
        ("builtins", "xrange") => "range",
        ("builtins", "StandardError") => "Exception",
        (_, n) => n,
    };
    format!("{module}.{name}")
}

fn str_or_bytes(b: Vec<u8>) -> PyValue {
    match String::from_utf8(b) {
        Ok(s) => PyValue::Str(s),
        Err(e) => PyValue::Bytes(e.into_bytes()),
    }
}

/// Decodes Python 2 `string_escape` text (the body of a `STRING` argument).
fn escape_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' || i >= s.len() {
            out.push(c);
            continue;
        }
        let e = s[i];
        i += 1;
        match e {
            b'\n' => {}
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => match s.get(i..i + 2).and_then(hex_value) {
                Some(v) => {
                    out.push(v as u8);
                    i += 2;
                }
                None => out.extend_from_slice(b"\\x"),
            },
            b'\\' | b'\'' | b'"' => out.push(e),
            _ => out.extend_from_slice(&[b'\\', e]),
        }
    }
    out
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(v)
    })
}

/// Decodes `raw-unicode-escape` (the `UNICODE` argument): latin-1 bytes with
/// `\uXXXX` / `\UXXXXXXXX` escapes after an odd number of backslashes.
fn raw_unicode_escape(b: &[u8]) -> Result<String> {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(char::from(b[i]));
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] == b'\\' {
            out.push('\\');
            i += 1;
        }
        let width = match b.get(i) {
            Some(b'u') => 4,
            Some(b'U') => 8,
            _ => continue,
        };
        if (i - start) % 2 == 0 {
            continue;
        }
        let code = b
            .get(i + 1..i + 1 + width)
            .and_then(hex_value)
            .ok_or_else(|| invalid("truncated \\u escape"))?;
        out.pop();
        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
        i += 1 + width;
    }
    Ok(out)
}

/// Parses decimal integer text (INT / LONG arguments).
fn parse_int_text(text: &[u8]) -> Result<PyValue> {
    let t = std::str::from_utf8(text)
        .map_err(|_| invalid("bad integer literal"))?
        .trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("bad integer literal"));
    }
    if digits.len() > MAX_LONG_DIGITS {
        return Err(PickleError::LimitExceeded("integer size"));
    }
    if let Ok(v) = t.parse::<i64>() {
        return Ok(PyValue::Int(v));
    }
    let d = digits.trim_start_matches('0');
    Ok(PyValue::BigInt(format!(
        "{}{d}",
        if neg { "-" } else { "" }
    )))
}

/// Converts little-endian two's-complement bytes (LONG1/LONG4) to an integer.
fn int_from_le(bytes: &[u8]) -> PyValue {
    let neg = bytes.last().is_some_and(|&b| b & 0x80 != 0);
    if bytes.len() <= 8 {
        let mut buf = [if neg { 0xff } else { 0 }; 8];
        buf[..bytes.len()].copy_from_slice(bytes);
        return PyValue::Int(i64::from_le_bytes(buf));
    }
    let mut mag = bytes.to_vec();
    if neg {
        let mut carry = true;
        for b in &mut mag {
            *b = !*b;
            if carry {
                let (r, c) = b.overflowing_add(1);
                *b = r;
                carry = c;
            }
        }
    }
    while mag.last() == Some(&0) {
        mag.pop();
    }
    if mag.len() <= 8 {
        let mut buf = [0u8; 8];
        buf[..mag.len()].copy_from_slice(&mag);
        let m = i128::from(u64::from_le_bytes(buf));
        if let Ok(v) = i64::try_from(if neg { -m } else { m }) {
            return PyValue::Int(v);
        }
    }
    let digits = magnitude_to_decimal(&mag);
    PyValue::BigInt(if neg { format!("-{digits}") } else { digits })
}

/// Little-endian unsigned magnitude to decimal text by repeated division by 10^9.
fn magnitude_to_decimal(mag: &[u8]) -> String {
    const CHUNK: u64 = 1_000_000_000;
    // Most significant limb first.
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .rev()
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(b)
        })
        .collect();
    let mut chunks = Vec::new();
    loop {
        while limbs.first() == Some(&0) {
            limbs.remove(0);
        }
        if limbs.is_empty() {
            break;
        }
        let mut rem = 0u64;
        for limb in &mut limbs {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / CHUNK) as u32;
            rem = cur % CHUNK;
        }
        chunks.push(rem as u32);
    }
    let mut out = String::new();
    match chunks.split_last() {
        None => out.push('0'),
        Some((first, rest)) => {
            let _ = write!(out, "{first}");
            for c in rest.iter().rev() {
                let _ = write!(out, "{c:09}");
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Materialisation: arena -> PyValue, bounded in depth, count and size
// ---------------------------------------------------------------------------

struct Materializer<'a> {
    nodes: &'a [Node],
    active: Vec<bool>,
    count: usize,
    bytes: usize,
    limit: usize,
}

impl Materializer<'_> {
    fn value(&mut self, idx: usize, depth: usize) -> Result<PyValue> {
        if depth > MAX_DEPTH {
            return Err(PickleError::LimitExceeded("nesting depth"));
        }
        self.count += 1;
        if self.count > self.limit {
            return Err(PickleError::LimitExceeded("decoded value count"));
        }
        let nodes = self.nodes;
        let node = &nodes[idx];
        if let Node::Value(v) = node {
            self.bytes += match v {
                PyValue::Str(s) | PyValue::BigInt(s) | PyValue::Global(s) => s.len(),
                PyValue::Bytes(b) => b.len(),
                _ => 0,
            };
            if self.bytes > MAX_OUTPUT_BYTES {
                return Err(PickleError::LimitExceeded("decoded size"));
            }
            return Ok(v.clone());
        }
        if self.active[idx] {
            let placeholder = match node {
                Node::List(_) => "[...]",
                Node::Dict(_) => "{...}",
                _ => "...",
            };
            return Ok(PyValue::Global(placeholder.to_string()));
        }
        self.active[idx] = true;
        let result = self.container(node, depth);
        self.active[idx] = false;
        result
    }

    fn list(&mut self, items: &[usize], depth: usize) -> Result<Vec<PyValue>> {
        items.iter().map(|&i| self.value(i, depth + 1)).collect()
    }

    fn pairs(&mut self, items: &[(usize, usize)], depth: usize) -> Result<Vec<(PyValue, PyValue)>> {
        items
            .iter()
            .map(|&(k, v)| Ok((self.value(k, depth + 1)?, self.value(v, depth + 1)?)))
            .collect()
    }

    fn container(&mut self, node: &Node, depth: usize) -> Result<PyValue> {
        Ok(match node {
            Node::Value(v) => v.clone(),
            Node::List(v) => PyValue::List(self.list(v, depth)?),
            Node::Tuple(v) => PyValue::Tuple(self.list(v, depth)?),
            Node::Set(v) => PyValue::Set(self.list(v, depth)?),
            Node::FrozenSet(v) => PyValue::FrozenSet(self.list(v, depth)?),
            Node::Dict(d) => PyValue::Dict(self.pairs(d, depth)?),
            Node::Object(o) => {
                let nodes = self.nodes;
                let class = match &nodes[o.callable] {
                    Node::Value(PyValue::Global(g)) => g.clone(),
                    _ => self.value(o.callable, depth + 1)?.repr(MAX_NAME_REPR),
                };
                let mut args = match &nodes[o.args] {
                    Node::Tuple(items) => self.list(items, depth)?,
                    _ => vec![self.value(o.args, depth + 1)?],
                };
                if let Some(kw) = o.kwargs {
                    let kw = self.value(kw, depth + 1)?;
                    if !matches!(&kw, PyValue::Dict(d) if d.is_empty()) {
                        args.push(kw);
                    }
                }
                if !o.items.is_empty() {
                    args.push(PyValue::List(self.list(&o.items, depth)?));
                }
                if !o.dict_items.is_empty() {
                    args.push(PyValue::Dict(self.pairs(&o.dict_items, depth)?));
                }
                let state = match o.state {
                    Some(s) => Some(Box::new(self.value(s, depth + 1)?)),
                    None => None,
                };
                normalize(class, args, state)
            }
        })
    }
}

/// Bytes described by `_codecs.encode(str, 'latin1')`, `bytes(...)` or `bytearray(...)` args.
fn encoded_bytes(args: &[PyValue]) -> Option<Vec<u8>> {
    match args {
        [] => Some(Vec::new()),
        [PyValue::Bytes(b)] => Some(b.clone()),
        [PyValue::Str(s), PyValue::Str(enc)] => match enc.to_ascii_lowercase().as_str() {
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" => {
                s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
            }
            "utf8" | "utf-8" => Some(s.as_bytes().to_vec()),
            _ => None,
        },
        _ => None,
    }
}

/// Rewrites well-known constructor calls into the plain values they build.
fn normalize(class: String, mut args: Vec<PyValue>, state: Option<Box<PyValue>>) -> PyValue {
    let object = |class: String, args, state| PyValue::Object { class, args, state };
    match class.as_str() {
        "builtins.set" | "builtins.frozenset" if state.is_none() && args.len() <= 1 => {
            let items = match args.pop() {
                None => Vec::new(),
                Some(
                    PyValue::List(v) | PyValue::Tuple(v) | PyValue::Set(v) | PyValue::FrozenSet(v),
                ) => v,
                Some(other) => return object(class, vec![other], state),
            };
            if class == "builtins.set" {
                PyValue::Set(items)
            } else {
                PyValue::FrozenSet(items)
            }
        }
        "_codecs.encode" | "builtins.bytes" if state.is_none() => {
            match encoded_bytes(&args).filter(|_| class == "builtins.bytes" || args.len() == 2) {
                Some(b) => PyValue::Bytes(b),
                None => object(class, args, state),
            }
        }
        "builtins.bytearray" => match encoded_bytes(&args) {
            Some(b) => object(class, vec![PyValue::Bytes(b)], state),
            None => object(class, args, state),
        },
        "copyreg._reconstructor" if args.len() == 3 => match &args[0] {
            PyValue::Global(cls) => {
                let cls = cls.clone();
                let rest = match args.pop() {
                    Some(PyValue::None) | None => Vec::new(),
                    Some(v) => vec![v],
                };
                object(cls, rest, state)
            }
            _ => object(class, args, state),
        },
        "copyreg.__newobj__" | "copyreg.__newobj_ex__" if !args.is_empty() => {
            let PyValue::Global(cls) = &args[0] else {
                return object(class, args, state);
            };
            let cls = cls.clone();
            let mut rest: Vec<PyValue> = args.drain(1..).collect();
            if class == "copyreg.__newobj_ex__" {
                if let [PyValue::Tuple(pos), kw] = rest.as_mut_slice() {
                    let mut new_args = std::mem::take(pos);
                    if !matches!(kw, PyValue::Dict(d) if d.is_empty()) {
                        new_args.push(std::mem::replace(kw, PyValue::None));
                    }
                    rest = new_args;
                }
            }
            object(cls, rest, state)
        }
        _ => object(class, args, state),
    }
}

// ---------------------------------------------------------------------------
// Well-known classes
// ---------------------------------------------------------------------------

enum Known<'a> {
    /// year, month, day, hour, minute, second, microsecond; fold; tzinfo.
    DateTime([u32; 7], bool, Option<&'a PyValue>),
    Date([u32; 3]),
    /// hour, minute, second, microsecond; fold; tzinfo.
    Time([u32; 4], bool, Option<&'a PyValue>),
    TimeDelta(i64, i64, i64),
    Utc,
    Decimal(&'a str),
    Uuid(u128),
    OrderedDict(&'a [(PyValue, PyValue)]),
    ByteArray(&'a [u8]),
}

fn micros(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

fn known<'a>(class: &str, args: &'a [PyValue], state: Option<&'a PyValue>) -> Option<Known<'a>> {
    if class == "uuid.UUID" {
        if let (true, Some(PyValue::Dict(d))) = (args.is_empty(), state) {
            let int = d.iter().find(|(k, _)| *k == PyValue::Str("int".into()))?;
            return match &int.1 {
                PyValue::Int(i) => u128::try_from(*i).ok().map(Known::Uuid),
                PyValue::BigInt(s) => s.parse().ok().map(Known::Uuid),
                _ => None,
            };
        }
        return None;
    }
    if state.is_some() {
        return None;
    }
    let yd = |b: &[u8]| {
        [
            (u32::from(b[0]) << 8) | u32::from(b[1]),
            u32::from(b[2] & 0x7f),
            u32::from(b[3]),
        ]
    };
    Some(match (class, args) {
        ("datetime.datetime", [PyValue::Bytes(b), tz @ ..]) if b.len() == 10 && tz.len() <= 1 => {
            let [y, mo, d] = yd(b);
            let f = [
                y,
                mo,
                d,
                b[4].into(),
                b[5].into(),
                b[6].into(),
                micros(&b[7..]),
            ];
            Known::DateTime(f, b[2] & 0x80 != 0, tz.first())
        }
        ("datetime.date", [PyValue::Bytes(b)]) if b.len() == 4 => Known::Date(yd(b)),
        ("datetime.time", [PyValue::Bytes(b), tz @ ..]) if b.len() == 6 && tz.len() <= 1 => {
            let f = [
                u32::from(b[0] & 0x7f),
                b[1].into(),
                b[2].into(),
                micros(&b[3..]),
            ];
            Known::Time(f, b[0] & 0x80 != 0, tz.first())
        }
        ("datetime.timedelta", [PyValue::Int(d), PyValue::Int(s), PyValue::Int(us)]) => {
            Known::TimeDelta(*d, *s, *us)
        }
        (
            "datetime.timezone",
            [PyValue::Object {
                class,
                args,
                state: None,
            }],
        ) if class == "datetime.timedelta"
            && args.iter().all(|a| *a == PyValue::Int(0))
            && args.len() == 3 =>
        {
            Known::Utc
        }
        ("decimal.Decimal", [PyValue::Str(s)]) => Known::Decimal(s),
        ("collections.OrderedDict", []) => Known::OrderedDict(&[]),
        ("collections.OrderedDict", [PyValue::Dict(d)]) => Known::OrderedDict(d),
        ("builtins.bytearray", [PyValue::Bytes(b)]) => Known::ByteArray(b),
        _ => return None,
    })
}

fn timedelta_repr(d: i64, s: i64, us: i64) -> String {
    let parts: Vec<String> = [("days", d), ("seconds", s), ("microseconds", us)]
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() {
        "datetime.timedelta(0)".to_string()
    } else {
        format!("datetime.timedelta({})", parts.join(", "))
    }
}

fn uuid_text(u: u128) -> String {
    let h = format!("{u:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `+HH:MM[:SS]` for a `datetime.timezone(timedelta(...))` tzinfo.
fn tz_offset(tz: &PyValue) -> Option<String> {
    let PyValue::Object { class, args, .. } = tz else {
        return None;
    };
    if class != "datetime.timezone" {
        return None;
    }
    let Some(PyValue::Object { class, args, .. }) = args.first() else {
        return None;
    };
    match (class.as_str(), args.as_slice()) {
        ("datetime.timedelta", [PyValue::Int(d), PyValue::Int(s), PyValue::Int(_)]) => {
            let total = d.checked_mul(86_400)?.checked_add(*s)?;
            let sign = if total < 0 { '-' } else { '+' };
            let t = total.unsigned_abs();
            let mut out = format!("{sign}{:02}:{:02}", t / 3600, t / 60 % 60);
            if t % 60 != 0 {
                let _ = write!(out, ":{:02}", t % 60);
            }
            Some(out)
        }
        _ => None,
    }
}

fn is_builtin_exception(class: &str) -> bool {
    class.strip_prefix("builtins.").is_some_and(|n| {
        n.ends_with("Error")
            || n.ends_with("Exception")
            || n.ends_with("Warning")
            || matches!(
                n,
                "KeyboardInterrupt" | "StopIteration" | "SystemExit" | "GeneratorExit"
            )
    })
}

fn short_name(name: &str) -> &str {
    name.strip_prefix("builtins.").unwrap_or(name)
}

// ---------------------------------------------------------------------------
// repr
// ---------------------------------------------------------------------------

/// A bounded string writer: stops after `left` chars and remembers it did.
struct Out {
    buf: String,
    left: usize,
    full: bool,
}

impl fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.full {
                break;
            }
            if self.left == 0 {
                self.full = true;
                break;
            }
            self.left -= 1;
            self.buf.push(c);
        }
        Ok(())
    }
}

impl Out {
    fn s(&mut self, s: &str) {
        let _ = self.write_str(s);
    }
}

fn is_printable(c: char) -> bool {
    !(c.is_control()
        || matches!(c, '\u{a0}' | '\u{ad}' | '\u{1680}' | '\u{2000}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}' | '\u{205f}'..='\u{206f}' | '\u{3000}'
            | '\u{e000}'..='\u{f8ff}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'))
}

/// Writes a Python string literal body; `ascii_only` selects the bytes rules.
fn quoted(chars: impl Iterator<Item = char> + Clone, ascii_only: bool, o: &mut Out) {
    let has = |x: char| chars.clone().any(|c| c == x);
    let q = if has('\'') && !has('"') { '"' } else { '\'' };
    let _ = o.write_char(q);
    for c in chars {
        if o.full {
            return;
        }
        let printable = if ascii_only {
            matches!(c, ' '..='~')
        } else {
            is_printable(c)
        };
        let _ = match (c, u32::from(c)) {
            ('\\', _) => o.write_str("\\\\"),
            ('\n', _) => o.write_str("\\n"),
            ('\r', _) => o.write_str("\\r"),
            ('\t', _) => o.write_str("\\t"),
            (c, _) if c == q => write!(o, "\\{c}"),
            (c, _) if printable => o.write_char(c),
            (_, n @ ..0x100) => write!(o, "\\x{n:02x}"),
            (_, n @ ..0x10000) => write!(o, "\\u{n:04x}"),
            (_, n) => write!(o, "\\U{n:08x}"),
        };
    }
    let _ = o.write_char(q);
}

fn str_repr(s: &str, o: &mut Out) {
    quoted(s.chars(), false, o);
}

fn bytes_repr(b: &[u8], o: &mut Out) {
    o.s("b");
    quoted(b.iter().map(|&c| char::from(c)), true, o);
}

/// Python's `repr(float)`: shortest round-trip digits, exponent outside [-4, 16).
fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut s = String::from(if neg { "-" } else { "" });
    if (-4..16).contains(&exp) {
        if exp < 0 {
            s.push_str("0.");
            s.push_str(&"0".repeat(exp.unsigned_abs() as usize - 1));
            s.push_str(&digits);
        } else {
            let e = exp as usize;
            if digits.len() <= e + 1 {
                s.push_str(&digits);
                s.push_str(&"0".repeat(e + 1 - digits.len()));
                s.push_str(".0");
            } else {
                s.push_str(&digits[..=e]);
                s.push('.');
                s.push_str(&digits[e + 1..]);
            }
        }
    } else {
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let _ = write!(
            s,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
    s
}

fn seq_repr(items: &[PyValue], o: &mut Out, depth: usize) {
    for (i, v) in items.iter().enumerate() {
        if o.full {
            return;
        }
        if i > 0 {
            o.s(", ");
        }
        write_repr(v, o, depth + 1);
    }
}

fn write_repr(v: &PyValue, o: &mut Out, depth: usize) {
    if o.full {
        return;
    }
    if depth > MAX_DEPTH {
        o.s("…");
        return;
    }
    match v {
        PyValue::None => o.s("None"),
        PyValue::Bool(b) => o.s(if *b { "True" } else { "False" }),
        PyValue::Int(i) => {
            let _ = write!(o, "{i}");
        }
        PyValue::BigInt(s) => o.s(s),
        PyValue::Float(f) => o.s(&float_repr(*f)),
        PyValue::Str(s) => str_repr(s, o),
        PyValue::Bytes(b) => bytes_repr(b, o),
        PyValue::List(items) => {
            o.s("[");
            seq_repr(items, o, depth);
            o.s("]");
        }
        PyValue::Tuple(items) => {
            o.s("(");
            seq_repr(items, o, depth);
            o.s(if items.len() == 1 { ",)" } else { ")" });
        }
        PyValue::Set(items) if items.is_empty() => o.s("set()"),
        PyValue::FrozenSet(items) if items.is_empty() => o.s("frozenset()"),
        PyValue::Set(items) => {
            o.s("{");
            seq_repr(items, o, depth);
            o.s("}");
        }
        PyValue::FrozenSet(items) => {
            o.s("frozenset({");
            seq_repr(items, o, depth);
            o.s("})");
        }
        PyValue::Dict(d) => {
            o.s("{");
            dict_repr(d, o, depth, ": ");
            o.s("}");
        }
        PyValue::Global(g) => o.s(short_name(g)),
        PyValue::Redacted => o.s(REDACTED),
        PyValue::Object { class, args, state } => match known(class, args, state.as_deref()) {
            Some(k) => known_repr(&k, o, depth),
            None => object_repr(class, args, state.as_deref(), o, depth),
        },
    }
}

fn dict_repr(d: &[(PyValue, PyValue)], o: &mut Out, depth: usize, sep: &str) {
    for (i, (k, v)) in d.iter().enumerate() {
        if o.full {
            return;
        }
        if i > 0 {
            o.s(", ");
        }
        match (sep, k) {
            ("=", PyValue::Str(name)) => o.s(name),
            _ => write_repr(k, o, depth + 1),
        }
        o.s(sep);
        write_repr(v, o, depth + 1);
    }
}

fn object_repr(class: &str, args: &[PyValue], state: Option<&PyValue>, o: &mut Out, depth: usize) {
    o.s(short_name(class));
    o.s("(");
    seq_repr(args, o, depth);
    match state {
        None | Some(PyValue::None) => {}
        Some(st) => {
            if !args.is_empty() {
                o.s(", ");
            }
            match st {
                PyValue::Dict(d) if d.iter().all(|(k, _)| matches!(k, PyValue::Str(_))) => {
                    dict_repr(d, o, depth, "=");
                }
                other => {
                    o.s("__state__=");
                    write_repr(other, o, depth + 1);
                }
            }
        }
    }
    o.s(")");
}

fn known_repr(k: &Known<'_>, o: &mut Out, depth: usize) {
    let tz_repr = |tz: Option<&PyValue>, fold: bool, o: &mut Out| {
        if fold {
            o.s(", fold=1");
        }
        if let Some(tz) = tz {
            o.s(", tzinfo=");
            write_repr(tz, o, depth + 1);
        }
        o.s(")");
    };
    match k {
        Known::DateTime(f, fold, tz) => {
            let _ = write!(
                o,
                "datetime.datetime({}, {}, {}, {}, {}",
                f[0], f[1], f[2], f[3], f[4]
            );
            if f[5] != 0 || f[6] != 0 {
                let _ = write!(o, ", {}", f[5]);
            }
            if f[6] != 0 {
                let _ = write!(o, ", {}", f[6]);
            }
            tz_repr(*tz, *fold, o);
        }
        Known::Date(f) => {
            let _ = write!(o, "datetime.date({}, {}, {})", f[0], f[1], f[2]);
        }
        Known::Time(f, fold, tz) => {
            let _ = write!(o, "datetime.time({}, {}", f[0], f[1]);
            if f[2] != 0 || f[3] != 0 {
                let _ = write!(o, ", {}", f[2]);
            }
            if f[3] != 0 {
                let _ = write!(o, ", {}", f[3]);
            }
            tz_repr(*tz, *fold, o);
        }
        Known::TimeDelta(d, s, us) => o.s(&timedelta_repr(*d, *s, *us)),
        Known::Utc => o.s("datetime.timezone.utc"),
        Known::Decimal(s) => {
            o.s("Decimal(");
            str_repr(s, o);
            o.s(")");
        }
        Known::Uuid(u) => {
            let _ = write!(o, "UUID('{}')", uuid_text(*u));
        }
        Known::OrderedDict([]) => o.s("OrderedDict()"),
        Known::OrderedDict(d) => {
            o.s("OrderedDict([");
            for (i, (k, v)) in d.iter().enumerate() {
                if o.full {
                    return;
                }
                o.s(if i > 0 { ", (" } else { "(" });
                write_repr(k, o, depth + 2);
                o.s(", ");
                write_repr(v, o, depth + 2);
                o.s(")");
            }
            o.s("])");
        }
        Known::ByteArray(b) => {
            o.s("bytearray(");
            bytes_repr(b, o);
            o.s(")");
        }
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        let sym = |shift: u32| char::from(T[((n >> shift) & 63) as usize]);
        s.push(sym(18));
        s.push(sym(12));
        s.push(if c.len() > 1 { sym(6) } else { '=' });
        s.push(if c.len() > 2 { sym(0) } else { '=' });
    }
    s
}

fn bytes_json(b: &[u8]) -> Value {
    let mut m = Map::new();
    m.insert("__bytes__".into(), Value::String(base64(b)));
    Value::Object(m)
}

fn dict_json(d: &[(PyValue, PyValue)], depth: usize) -> Value {
    let mut m = Map::new();
    for (k, v) in d {
        let key = match k {
            PyValue::Str(s) => s.clone(),
            other => other.repr(MAX_NAME_REPR),
        };
        m.insert(key, json(v, depth + 1));
    }
    Value::Object(m)
}

fn known_json(k: &Known<'_>, depth: usize) -> Value {
    let s = match k {
        Known::DateTime(f, _, tz) => {
            let mut s = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                f[0], f[1], f[2], f[3], f[4], f[5]
            );
            if f[6] != 0 {
                let _ = write!(s, ".{:06}", f[6]);
            }
            if let Some(off) = tz.and_then(tz_offset) {
                s.push_str(&off);
            }
            s
        }
        Known::Date(f) => format!("{:04}-{:02}-{:02}", f[0], f[1], f[2]),
        Known::Time(f, _, _) => {
            let mut s = format!("{:02}:{:02}:{:02}", f[0], f[1], f[2]);
            if f[3] != 0 {
                let _ = write!(s, ".{:06}", f[3]);
            }
            s
        }
        Known::TimeDelta(d, s, us) => timedelta_repr(*d, *s, *us),
        Known::Utc => "UTC".to_string(),
        Known::Decimal(s) => (*s).to_string(),
        Known::Uuid(u) => uuid_text(*u),
        Known::OrderedDict(d) => return dict_json(d, depth),
        Known::ByteArray(b) => return bytes_json(b),
    };
    Value::String(s)
}

fn json(v: &PyValue, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::String("…".into());
    }
    let arr = |items: &[PyValue]| Value::Array(items.iter().map(|x| json(x, depth + 1)).collect());
    match v {
        PyValue::None => Value::Null,
        PyValue::Bool(b) => Value::Bool(*b),
        PyValue::Int(i) => Value::from(*i),
        PyValue::BigInt(s) => Value::String(s.clone()),
        PyValue::Float(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| Value::String(float_repr(*f)), Value::Number),
        PyValue::Str(s) => Value::String(s.clone()),
        PyValue::Redacted => Value::String(REDACTED.into()),
        PyValue::Bytes(b) => bytes_json(b),
        PyValue::List(items)
        | PyValue::Tuple(items)
        | PyValue::Set(items)
        | PyValue::FrozenSet(items) => arr(items),
        PyValue::Dict(d) => dict_json(d, depth),
        PyValue::Global(g) => {
            let mut m = Map::new();
            m.insert("__global__".into(), Value::String(g.clone()));
            Value::Object(m)
        }
        PyValue::Object { class, args, state } => {
            if let Some(k) = known(class, args, state.as_deref()) {
                return known_json(&k, depth);
            }
            if state.is_none() && is_builtin_exception(class) {
                return Value::String(v.repr(MAX_NAME_REPR * 5));
            }
            let mut m = Map::new();
            m.insert("__class__".into(), Value::String(class.clone()));
            m.insert("args".into(), arr(args));
            let st = state.as_deref().map_or(Value::Null, |s| json(s, depth + 1));
            m.insert("state".into(), st);
            Value::Object(m)
        }
    }
}

impl PyValue {
    /// Python-like repr, e.g. `[1, 'a', {'k': None}]`, `b'\x00'`, `datetime.datetime(2024, 1, 2, 3, 4, 5)`,
    /// strings quoted like Python does (single quotes unless it contains ' and no ").
    /// Output is bounded: stop at `max_len` chars and append "…".
    ///
    /// Objects without a special rendering show as `module.Class(args, attr=value)`
    /// (the `BUILD` state dict as keywords); `builtins.` is omitted from names.
    pub fn repr(&self, max_len: usize) -> String {
        let mut o = Out {
            buf: String::new(),
            left: max_len,
            full: false,
        };
        write_repr(self, &mut o, 0);
        if o.full {
            o.buf.push('…');
        }
        o.buf
    }

    /// A JSON rendering for API output.
    ///
    /// Dict keys that are not `str` become their repr; bytes become
    /// `{"__bytes__": "<base64>"}`; objects become
    /// `{"__class__": name, "args": [...], "state": ... | null}`; non-finite
    /// floats and big integers become strings. Well-known
    /// classes become strings (ISO 8601 for `datetime`/`date`/`time`, the
    /// number text for `Decimal`, the canonical form for `UUID`, the repr
    /// for `timedelta` and builtin exceptions); `OrderedDict` becomes an object
    /// and `bytearray` a `__bytes__` object. Globals are `{"__global__": name}`.
    pub fn to_json(&self) -> Value {
        json(self, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found by cargo fuzz: DUP and TUPLE1 chains describing an exponentially large value in
    // 1 KB took seconds to expand; expansion is now bounded by the input size.
    #[test]
    fn shared_references_cannot_blow_up_a_small_pickle() {
        let data = include_bytes!("../fuzz/corpus/pickle/seed-regression-dup-expansion");
        assert_eq!(
            loads(data),
            Err(PickleError::LimitExceeded("decoded value count"))
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Case names and CPython 3.11 `repr()` of each case (custom: our rendering).
    const EXPECTED: &[(&str, &str)] = &[
        (
            "ints",
            r#"[0, 1, -1, 255, 256, 65535, 65536, -2147483648, 2147483647, 2147483648, 9223372036854775807, -9223372036854775808, 18446744073709551616, 1180591620717411303424, -1180591620717411303424]"#,
        ),
        ("floats", r#"[1.5, -0.0, 1e+300, inf]"#),
        (
            "strs",
            r#"['héllo ☃', "it's", 'say "hi"', 'both \' and "', 'tab\t\nnl\\']"#,
        ),
        ("bytes", r#"b"\x00ab\xff'""#),
        ("bytearray", r#"bytearray(b'xy\x00')"#),
        ("consts", r#"(None, True, False)"#),
        (
            "nested",
            r#"{'a': [1, (2, 3)], 'b': {'c': ()}, 'e': (1,), 's': {1}, 'f': frozenset({2})}"#,
        ),
        ("shared", r#"[[1], [1]]"#),
        ("selfref", r#"[1, [...]]"#),
        ("dt", r#"datetime.datetime(2024, 1, 2, 3, 4, 5, 678)"#),
        (
            "dtutc",
            r#"datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"#,
        ),
        ("date", r#"datetime.date(2024, 1, 2)"#),
        ("time", r#"datetime.time(12, 30, 1)"#),
        (
            "td",
            r#"datetime.timedelta(days=1, seconds=2, microseconds=3)"#,
        ),
        ("dec", r#"Decimal('1.5')"#),
        ("uuid", r#"UUID('12345678-1234-5678-1234-567812345678')"#),
        ("od", r#"OrderedDict([('x', 1), ('y', 2)])"#),
        ("exc", r#"ValueError('x')"#),
        ("custom", r#"__main__.Custom(a=1, b='x')"#),
        ("job", r#"('mymod.add', None, (1, 2), {'k': 'v'})"#),
    ];

    /// `pickle.dumps([case for case in EXPECTED], protocol=P).hex()` from CPython 3.11.
    const PICKLES: &[(u8, &str)] = &[
        (0, "286c70300a286c70310a49300a6149310a61492d310a61493235350a61493235360a614936353533350a614936353533360a61492d323134373438333634380a6149323134373438333634370a614c323134373438333634384c0a614c393232333337323033363835343737353830374c0a614c2d393232333337323033363835343737353830384c0a614c31383434363734343037333730393535313631364c0a614c313138303539313632303731373431313330333432344c0a614c2d313138303539313632303731373431313330333432344c0a6161286c70320a46312e350a61462d302e300a614631652b3330300a6146696e660a6161286c70330a5668e96c6c6f205c75323630330a70340a6156697427730a70350a615673617920226869220a70360a6156626f7468202720616e6420220a70370a6156746162095c75303030616e6c5c75303035630a70380a6161635f636f646563730a656e636f64650a70390a28565c75303030306162ff270a7031300a566c6174696e310a7031310a747031320a527031330a61635f5f6275696c74696e5f5f0a6279746561727261790a7031340a2867390a285678795c75303030300a7031350a6731310a747031360a527031370a747031380a527031390a61284e4930310a4930300a747032300a6128647032310a56610a7032320a286c7032330a49310a612849320a49330a747032340a617356620a7032350a28647032360a56630a7032370a2874737356650a7032380a2849310a747032390a7356730a7033300a635f5f6275696c74696e5f5f0a7365740a7033310a28286c7033320a49310a61747033330a527033340a7356660a7033350a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7033360a28286c7033370a49320a61747033380a527033390a7361286c7034300a286c7034310a49310a61616734310a6161286c7034320a49310a616734320a6161636461746574696d650a6461746574696d650a7034330a2867390a285607e801020304055c753030303002a60a7034340a6731310a747034350a527034360a747034370a527034380a616734330a2867390a285607e801020304055c75303030305c75303030305c75303030300a7034390a6731310a747035300a527035310a636461746574696d650a74696d657a6f6e650a7035320a28636461746574696d650a74696d6564656c74610a7035330a2849300a49300a49300a747035340a527035350a747035360a527035370a747035380a527035390a61636461746574696d650a646174650a7036300a2867390a285607e801020a7036310a6731310a747036320a527036330a747036340a527036350a61636461746574696d650a74696d650a7036360a2867390a28560c1e015c75303030305c75303030305c75303030300a7036370a6731310a747036380a527036390a747037300a527037310a616735330a2849310a49320a49330a747037320a527037330a6163646563696d616c0a446563696d616c0a7037340a2856312e350a7037350a747037360a527037370a6163636f70795f7265670a5f7265636f6e7374727563746f720a7037380a2863757569640a555549440a7037390a635f5f6275696c74696e5f5f0a6f626a6563740a7038300a4e747038310a527038320a28647038330a56696e740a7038340a4c32343139373835373136313031313731353136323137313833393633363938383737383130344c0a73626163636f6c6c656374696f6e730a4f726465726564446963740a7038350a2874527038360a56780a7038370a49310a7356790a7038380a49320a736163657863657074696f6e730a56616c75654572726f720a7038390a286738370a747039300a527039310a616737380a28635f5f6d61696e5f5f0a437573746f6d0a7039320a6738300a4e747039330a527039340a28647039350a6732320a49310a736732350a6738370a73626128566d796d6f642e6164640a7039360a4e2849310a49320a747039370a28647039380a566b0a7039390a56760a703130300a7374703130310a612e"),
        (2, "80025d7100285d7101284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a0500000080008a08ffffffffffffff7f8a0800000000000000808a090000000000000000018a090000000000000000408a090000000000000000c0655d710228473ff8000000000000478000000000000000477e37e43c8800759c477ff0000000000000655d710328580a00000068c3a96c6c6f20e2988371045804000000697427737105580800000073617920226869227106580c000000626f7468202720616e64202271075808000000746162090a6e6c5c710865635f636f646563730a656e636f64650a71095806000000006162c3bf27710a58060000006c6174696e31710b86710c52710d635f5f6275696c74696e5f5f0a6279746561727261790a710e68095803000000787900710f680b8671105271118571125271134e88898771147d71152858010000006171165d7117284b014b024b038671186558010000006271197d711a580100000063711b2973580100000065711c4b0185711d580100000073711e635f5f6275696c74696e5f5f0a7365740a711f5d71204b01618571215271225801000000667123635f5f6275696c74696e5f5f0a66726f7a656e7365740a71245d71254b0261857126527127755d7128285d71294b01616829655d712a284b01682a65636461746574696d650a6461746574696d650a712b6809580c00000007c3a801020304050002c2a6712c680b86712d52712e85712f527130682b6809580b00000007c3a801020304050000007131680b867132527133636461746574696d650a74696d657a6f6e650a7134636461746574696d650a74696d6564656c74610a71354b004b004b0087713652713785713852713986713a52713b636461746574696d650a646174650a713c6809580500000007c3a80102713d680b86713e52713f857140527141636461746574696d650a74696d650a7142680958060000000c1e010000007143680b86714452714585714652714768354b014b024b0387714852714963646563696d616c0a446563696d616c0a714a5803000000312e35714b85714c52714d63757569640a555549440a714e2981714f7d71505803000000696e7471518a1078563412785634127856341278563412736263636f6c6c656374696f6e730a4f726465726564446963740a7152295271532858010000007871544b0158010000007971554b027563657863657074696f6e730a56616c75654572726f720a71566854857157527158635f5f6d61696e5f5f0a437573746f6d0a71592981715a7d715b2868164b016819685475622858090000006d796d6f642e616464715c4e4b014b0286715d7d715e58010000006b715f580100000076716073747161652e"),
        (3, "80035d7100285d7101284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a0500000080008a08ffffffffffffff7f8a0800000000000000808a090000000000000000018a090000000000000000408a090000000000000000c0655d710228473ff8000000000000478000000000000000477e37e43c8800759c477ff0000000000000655d710328580a00000068c3a96c6c6f20e2988371045804000000697427737105580800000073617920226869227106580c000000626f7468202720616e64202271075808000000746162090a6e6c5c7108654305006162ff277109636275696c74696e730a6279746561727261790a710a4303787900710b85710c52710d4e888987710e7d710f2858010000006171105d7111284b014b024b038671126558010000006271137d71145801000000637115297358010000006571164b018571175801000000737118636275696c74696e730a7365740a71195d711a4b016185711b52711c580100000066711d636275696c74696e730a66726f7a656e7365740a711e5d711f4b0261857120527121755d7122285d71234b01616823655d7124284b01682465636461746574696d650a6461746574696d650a7125430a07e801020304050002a671268571275271286825430a07e801020304050000007129636461746574696d650a74696d657a6f6e650a712a636461746574696d650a74696d6564656c74610a712b4b004b004b0087712c52712d85712e52712f867130527131636461746574696d650a646174650a7132430407e801027133857134527135636461746574696d650a74696d650a713643060c1e010000007137857138527139682b4b014b024b0387713a52713b63646563696d616c0a446563696d616c0a713c5803000000312e35713d85713e52713f63757569640a555549440a7140298171417d71425803000000696e7471438a1078563412785634127856341278563412736263636f6c6c656374696f6e730a4f726465726564446963740a7144295271452858010000007871464b0158010000007971474b0275636275696c74696e730a56616c75654572726f720a7148684685714952714a635f5f6d61696e5f5f0a437573746f6d0a714b2981714c7d714d2868104b016813684675622858090000006d796d6f642e616464714e4e4b014b0286714f7d715058010000006b7151580100000076715273747153652e"),
        (4, "800495c7020000000000005d94285d94284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a0500000080008a08ffffffffffffff7f8a0800000000000000808a090000000000000000018a090000000000000000408a090000000000000000c0655d9428473ff8000000000000478000000000000000477e37e43c8800759c477ff0000000000000655d94288c0a68c3a96c6c6f20e29883948c0469742773948c087361792022686922948c0c626f7468202720616e642022948c08746162090a6e6c5c94654305006162ff27948c086275696c74696e73948c09627974656172726179949394430378790094859452944e888987947d94288c0161945d94284b014b024b038694658c0162947d948c01639429738c0165944b0185948c0173948f94284b01908c016694284b029194755d94285d944b0161681f655d94284b016820658c086461746574696d65948c086461746574696d65949394430a07e801020304050002a694859452946823430a07e801020304050000009468218c0874696d657a6f6e6594939468218c0974696d6564656c74619493944b004b004b0087945294859452948694529468218c0464617465949394430407e80102948594529468218c0474696d6594939443060c1e010000009485945294682b4b014b024b03879452948c07646563696d616c948c07446563696d616c9493948c03312e3594859452948c0475756964948c04555549449493942981947d948c03696e74948a107856341278563412785634127856341273628c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0178944b018c0179944b0275680a8c0a56616c75654572726f72949394684e859452948c085f5f6d61696e5f5f948c06437573746f6d9493942981947d942868124b016815684e7562288c096d796d6f642e616464944e4b014b0286947d948c016b948c017694737494652e"),
        (5, "800595ba020000000000005d94285d94284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a0500000080008a08ffffffffffffff7f8a0800000000000000808a090000000000000000018a090000000000000000408a090000000000000000c0655d9428473ff8000000000000478000000000000000477e37e43c8800759c477ff0000000000000655d94288c0a68c3a96c6c6f20e29883948c0469742773948c087361792022686922948c0c626f7468202720616e642022948c08746162090a6e6c5c94654305006162ff2794960300000000000000787900944e888987947d94288c0161945d94284b014b024b038694658c0162947d948c01639429738c0165944b0185948c0173948f94284b01908c016694284b029194755d94285d944b0161681a655d94284b01681b658c086461746574696d65948c086461746574696d65949394430a07e801020304050002a69485945294681e430a07e8010203040500000094681c8c0874696d657a6f6e65949394681c8c0974696d6564656c74619493944b004b004b00879452948594529486945294681c8c0464617465949394430407e801029485945294681c8c0474696d6594939443060c1e01000000948594529468264b014b024b03879452948c07646563696d616c948c07446563696d616c9493948c03312e3594859452948c0475756964948c04555549449493942981947d948c03696e74948a107856341278563412785634127856341273628c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0178944b018c0179944b02758c086275696c74696e73948c0a56616c75654572726f729493946849859452948c085f5f6d61696e5f5f948c06437573746f6d9493942981947d9428680d4b01681068497562288c096d796d6f642e616464944e4b014b0286947d948c016b948c017694737494652e"),
    ];

    fn cases(proto: u8) -> Vec<PyValue> {
        let (_, h) = PICKLES.iter().find(|p| p.0 == proto).unwrap();
        match loads(&hex(h)) {
            Ok(PyValue::List(items)) if items.len() == EXPECTED.len() => items,
            other => panic!("protocol {proto}: {other:?}"),
        }
    }

    fn fixture(name: &str, proto: u8) -> PyValue {
        let i = EXPECTED.iter().position(|e| e.0 == name).unwrap();
        cases(proto).swap_remove(i)
    }

    #[test]
    fn fixtures_match_python_repr() {
        for (proto, _) in PICKLES {
            for (v, (name, want)) in cases(*proto).iter().zip(EXPECTED) {
                assert_eq!(v.repr(10_000), *want, "{name} protocol {proto}");
            }
        }
    }

    #[test]
    fn values_have_expected_shape() {
        for p in [0, 2, 3, 4, 5] {
            let PyValue::List(ints) = fixture("ints", p) else {
                panic!("ints")
            };
            assert_eq!(ints[13], PyValue::BigInt("1180591620717411303424".into()));
            assert_eq!(ints[14], PyValue::BigInt("-1180591620717411303424".into()));
            assert_eq!(ints[11], PyValue::Int(i64::MIN));
            assert_eq!(fixture("bytes", p), PyValue::Bytes(b"\x00ab\xff'".to_vec()));
            assert!(matches!(fixture("nested", p), PyValue::Dict(_)));
            let job = fixture("job", p);
            assert_eq!(
                job,
                PyValue::Tuple(vec![
                    PyValue::Str("mymod.add".into()),
                    PyValue::None,
                    PyValue::Tuple(vec![PyValue::Int(1), PyValue::Int(2)]),
                    PyValue::Dict(vec![(PyValue::Str("k".into()), PyValue::Str("v".into()))]),
                ])
            );
            let PyValue::Object { class, args, state } = fixture("custom", p) else {
                panic!("custom")
            };
            assert_eq!(class, "__main__.Custom");
            assert!(args.is_empty());
            assert!(matches!(state.as_deref(), Some(PyValue::Dict(d)) if d.len() == 2));
        }
    }

    #[test]
    fn json_rendering() {
        let j = fixture("job", 4).to_json();
        assert_eq!(j.to_string(), r#"["mymod.add",null,[1,2],{"k":"v"}]"#);
        assert_eq!(
            fixture("bytes", 3).to_json().to_string(),
            r#"{"__bytes__":"AGFi/yc="}"#
        );
        assert_eq!(
            fixture("custom", 2).to_json().to_string(),
            r#"{"__class__":"__main__.Custom","args":[],"state":{"a":1,"b":"x"}}"#
        );
        assert_eq!(fixture("dt", 5).to_json(), "2024-01-02T03:04:05.000678");
        assert_eq!(fixture("dtutc", 0).to_json(), "2024-01-02T03:04:05+00:00");
        assert_eq!(fixture("date", 2).to_json(), "2024-01-02");
        assert_eq!(fixture("dec", 4).to_json(), "1.5");
        assert_eq!(
            fixture("uuid", 0).to_json(),
            "12345678-1234-5678-1234-567812345678"
        );
        assert_eq!(fixture("exc", 3).to_json(), "ValueError('x')");
        assert_eq!(fixture("od", 5).to_json().to_string(), r#"{"x":1,"y":2}"#);
        assert_eq!(
            fixture("floats", 4).to_json().to_string(),
            r#"[1.5,-0.0,1e+300,"inf"]"#
        );
        assert_eq!(fixture("ints", 2).to_json()[13], "1180591620717411303424");
        let d = PyValue::Dict(vec![(PyValue::Int(1), PyValue::Global("x.y".into()))]);
        assert_eq!(d.to_json().to_string(), r#"{"1":{"__global__":"x.y"}}"#);
    }

    #[test]
    fn repr_is_bounded() {
        let v = fixture("job", 5);
        assert_eq!(v.repr(5), "('mym…");
        assert_eq!(v.repr(0), "…");
        let long = PyValue::List(vec![PyValue::Int(7); 100_000]);
        assert_eq!(long.repr(10).chars().count(), 11);
        assert_eq!(float_repr(1.5e-7), "1.5e-07");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123.0), "123.0");
        assert_eq!(float_repr(0.0001), "0.0001");
    }

    #[test]
    fn shared_and_recursive_references() {
        let PyValue::List(items) = fixture("shared", 2) else {
            panic!()
        };
        assert_eq!(items[0], items[1]);
        for p in [0, 2, 5] {
            assert_eq!(fixture("selfref", p).repr(100), "[1, [...]]");
        }
    }

    #[test]
    fn big_integers() {
        let cases: &[(&[u8], &str)] = &[
            (&[0xff; 9], "-1"),
            (&[0, 0, 0, 0, 0, 0, 0, 0x80, 0xff], "-9223372036854775808"),
            (&[0, 0, 0, 0, 0, 0, 0, 0x80, 0], "9223372036854775808"),
            (&[0; 12], "0"),
            (
                &[
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
                "39614081257132168796771975167",
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(int_from_le(bytes).repr(100), *want);
        }
        assert_eq!(
            loads(b"L-000123456789012345678901234567890L\n.").unwrap(),
            PyValue::BigInt("-123456789012345678901234567890".into())
        );
        assert_eq!(loads(b"I01\n.").unwrap(), PyValue::Bool(true));
        let mut huge = vec![0x8b];
        huge.extend_from_slice(&5000i32.to_le_bytes());
        huge.extend(std::iter::repeat_n(0x11, 5000));
        huge.push(b'.');
        assert_eq!(
            loads(&huge),
            Err(PickleError::LimitExceeded("integer size"))
        );
        let mut max = vec![0x8b];
        max.extend_from_slice(&4096i32.to_le_bytes());
        max.extend(std::iter::repeat_n(0xab, 4096));
        max.push(b'.');
        assert!(matches!(loads(&max), Ok(PyValue::BigInt(s)) if s.len() > 9000));
        // Many maximal integers exhaust the conversion budget instead of hanging.
        let mut many = vec![b'('];
        for _ in 0..100 {
            many.extend_from_slice(&max[..max.len() - 1]);
        }
        many.extend_from_slice(b"l.");
        let start = std::time::Instant::now();
        assert_eq!(
            loads(&many),
            Err(PickleError::LimitExceeded("integer work"))
        );
        assert!(start.elapsed().as_secs() < 30);
    }

    #[test]
    fn protocol0_strings_and_inst() {
        assert_eq!(
            loads(b"S'a\\'b\\x41\\n'\n.").unwrap(),
            PyValue::Str("a'bA\n".into())
        );
        assert_eq!(
            loads(b"Va\\u005cb\\u000ac\\u1234\n.").unwrap().repr(50),
            "'a\\\\b\\nc\u{1234}'"
        );
        let v = loads(b"(I1\nimymod\nThing\n(dS'x'\nI2\nsb.").unwrap();
        assert_eq!(v.repr(100), "mymod.Thing(1, x=2)");
        let ext = loads(b"\x80\x02\x82\x05.").unwrap();
        assert_eq!(ext, PyValue::Global("extension:5".into()));
        let pid = loads(b"Pabc\n.").unwrap();
        assert_eq!(pid.repr(50), "persistent_id('abc')");
    }

    #[test]
    fn hostile_inputs_error_cleanly() {
        assert_eq!(loads(b""), Err(PickleError::Truncated));
        assert_eq!(
            loads(b"\x80\x05\xff"),
            Err(PickleError::UnknownOpcode(0xff))
        );
        assert_eq!(loads(b"."), Err(PickleError::StackUnderflow));
        assert_eq!(loads(b"h\x07."), Err(PickleError::BadMemo));
        assert!(matches!(loads(b"\x97."), Err(PickleError::Unsupported(_))));
        for op in [
            &b"X\xff\xff\xff\xff"[..],
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x96\0\0\0\0\0\0\0\x40",
            b"T\xff\xff\xff\x7f",
        ] {
            assert_eq!(loads(op), Err(PickleError::Truncated));
        }
        assert!(loads(b"T\xff\xff\xff\xff").is_err());
        // Every strict prefix of every fixture is an error.
        for (_, h) in PICKLES {
            let data = hex(h);
            for n in 0..data.len() {
                assert!(loads(&data[..n]).is_err(), "prefix {n} of {h}");
            }
        }
        let too_big = vec![b'N'; MAX_INPUT_LEN + 1];
        assert_eq!(
            loads(&too_big),
            Err(PickleError::LimitExceeded("input size"))
        );
    }

    #[test]
    fn deep_and_wide_structures_are_bounded() {
        let mut marks = vec![b'('; 100_000];
        marks.push(b'.');
        assert!(loads(&marks).is_err());
        let mut nested = vec![b']'; 100_000];
        nested.extend(std::iter::repeat_n(b'a', 99_999));
        nested.push(b'.');
        assert_eq!(
            loads(&nested),
            Err(PickleError::LimitExceeded("nesting depth"))
        );
        let mut tuples = vec![b'('; 100_000];
        tuples.extend(std::iter::repeat_n(b't', 100_000));
        tuples.push(b'.');
        assert!(loads(&tuples).is_err());
        // Exponential sharing: 2^60 leaves through repeated DUP + TUPLE2.
        let mut dag = vec![b']'];
        for _ in 0..60 {
            dag.extend_from_slice(b"2\x86");
        }
        dag.push(b'.');
        assert_eq!(
            loads(&dag),
            Err(PickleError::LimitExceeded("decoded value count"))
        );
        // Nested calls m.f(m.f(...(None))) 150 deep decode and render.
        let mut calls = b"cm\nf\n".repeat(150);
        calls.push(b'N');
        calls.extend(b"\x85R".repeat(150));
        calls.push(b'.');
        let v = loads(&calls).unwrap();
        let want = format!("{}None{}", "m.f(".repeat(150), ")".repeat(150));
        assert_eq!(v.repr(100_000), want);
        // A self-containing dict via memo.
        let v = loads(b"\x80\x02}q\x00(K\x01h\x00u.").unwrap();
        assert_eq!(v.repr(50), "{1: {...}}");
        // Hand-built deep values render without unbounded recursion.
        let mut deep = PyValue::None;
        for _ in 0..1000 {
            deep = PyValue::List(vec![deep]);
        }
        assert!(deep.repr(100_000).contains('…'));
        assert!(deep.to_json().to_string().contains('…'));
        drop(deep);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let opcodes = b"(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])GBC\x80\x81\x82\x85\x86\x87\x88\x8a\x8c\x8f\x90\x91\x92\x93\x94\x95\x96\n";
        for i in 0..10_000 {
            let len = (next() % 64) as usize;
            let mut buf: Vec<u8> = if i % 2 == 0 {
                vec![0x80, 0x05]
            } else {
                Vec::new()
            };
            for _ in 0..len {
                let r = next();
                buf.push(if r % 3 == 0 {
                    (r >> 8) as u8
                } else {
                    opcodes[(r >> 8) as usize % opcodes.len()]
                });
            }
            if let Ok(v) = loads(&buf) {
                let _ = v.repr(200);
                let _ = v.to_json();
            }
        }
    }
}
