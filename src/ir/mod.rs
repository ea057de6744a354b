//! The typed IR between the resolved program and a back end.
//!
//! A body is a tree of [`Op`]s: structured blocks (`if`, loops, `foreach`) of operations on
//! maps, statistics, strings and calls, over typed locals, temporaries, globals, constants
//! and probe arguments. Values ([`Value`]) have no side effects: everything that does
//! something (a map lookup, a call, a run-time check) is an operation, in the order the script
//! evaluates it. Evaluation order, short-circuiting and the temporaries each statement needs
//! are decided here, once, in the lowering ([`lower`]); a back end only spells each operation
//! in its language (the kernel module's C: `translate::emit`).
//!
//! Nothing here is C: names are script names and indices into the program's tables, run-time
//! errors are a [`Fault`] and the place in the script it is reported at.
pub mod handlers;
pub mod lower;
mod lower_call;
mod lower_data;
mod lower_target;
pub mod resources;
pub mod visit;

use crate::sema::{ArgRepr, Conversion, FunctionCode, Type};
use crate::source::SourceMap;

/// A lowered body: its operations and the temporaries they use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Body {
    pub ops: Vec<Op>,
    /// How many temporaries of each kind the body uses at most at once (each statement
    /// reuses the previous statement's).
    pub temps: TempCounts,
    /// The array of each key buffer, by its number (one buffer per use: keys are big, uses
    /// few).
    pub key_temps: Vec<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TempCounts {
    pub long: usize,
    pub string: usize,
    /// Pointers to array slots.
    pub slot: usize,
    /// Copies of a statistic combined from its per-CPU parts.
    pub stat: usize,
}

/// How a `foreach` sorts: by key column `Some(i)` or by value `None`, and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Comparator {
    pub array: usize,
    pub column: Option<usize>,
    pub descending: bool,
}

/// A temporary: its kind and its number among the body's temporaries of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Temp {
    pub kind: TempKind,
    pub n: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TempKind {
    Long,
    String,
    /// A pointer to an array element's value, or none.
    Slot,
    /// A statistic's parts combined.
    Stat,
    /// A key of array `Body::key_temps[n]`.
    Key,
}

/// Where a value can be stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// A local variable (or parameter) of the body, by script name.
    Local(String),
    /// A scalar global, by index.
    Global(usize),
    Temp(Temp),
    /// The array element a slot temporary points at, holding a `ty`.
    Element {
        slot: Temp,
        ty: Type,
    },
    /// The function's result.
    Return(Type),
}

/// A value computed from its operands, without side effects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Long(i64),
    Str(String),
    /// Column `n` of the handler's constant row (a merged handler's literal or per-instance
    /// constant that differs between its probe points).
    Column(usize),
    /// The probe point's i-th per-instance constant (`sema::Instance::consts`): replaced
    /// by its literal or its column when handlers are formed.
    Instance(usize),
    Place(Place),
    /// The probe's i-th argument, a C integer as the repr says (a pointer is a word).
    Arg(usize, ArgRepr),
    /// A return probe's return value, likewise.
    Return(ArgRepr),
    /// A procfs read probe's `$value`.
    ProcfsValue,
    /// A place in the script, for run-time errors (stap's "near WHAT at FILE:LINE:COL").
    Near(Box<Near>),
    Neg(Box<Value>),
    Not(Box<Value>),
    BitNot(Box<Value>),
    /// An operation on two longs; division and remainder by zero are checked before.
    Arith(Arith, Box<Value>, Box<Value>),
    /// A comparison of two values of type `ty` (strings by content).
    Compare(Compare, Type, Box<Value>, Box<Value>),
    /// 1 if the long is not zero, else 0.
    Truth(Box<Value>),
    /// The element a slot temporary points at, or the type's default (0, "") if none; a
    /// statistics element is the slot itself, read by [`Value::Stat`].
    ElementOr {
        slot: Temp,
        ty: Type,
    },
    /// Whether a slot temporary points at an element.
    Found(Temp),
    /// A statistic's count, sum, minimum, maximum or average.
    Stat(StatRef, StatField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A statistic read by `@count(...)` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatRef {
    /// A local statistic.
    Local(String),
    /// A global's parts combined into a stat temporary.
    Combined(Temp),
    /// An array element through a slot temporary (none: count and sum read 0).
    Element(Temp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatField {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// What a run-time error is near: `what` ("statement", "operator '/'", "identifier 'x'")
/// at a place in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Near {
    pub what: String,
    pub file: String,
    pub line: usize,
    pub col: usize,
}

/// A run-time error that ends the handler, with stap's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    DivisionByZero,
    ArrayOverflow,
    EmptyAggregate,
}

impl Fault {
    pub fn message(self) -> &'static str {
        match self {
            Fault::DivisionByZero => "division by zero",
            Fault::ArrayOverflow => "Array overflow, check MAXMAPENTRIES",
            Fault::EmptyAggregate => "empty aggregate",
        }
    }
}

/// When an [`Op::Fail`] fails.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailWhen {
    Zero(Value),
    /// The slot points at no element.
    NoElement(Temp),
    /// The statistic has no values (or, an element, does not exist).
    Empty(StatRef),
}

/// Where [`Op::Print`] writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sink {
    /// The probe's output, flushed after the operation.
    Out,
    /// A string temporary, which the operation fills from empty.
    String(Temp),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrintItem {
    Text(String),
    Str(Value),
    /// A long in decimal.
    Long(Value),
    Newline,
    /// A printf conversion: its flags and letter, width and precision.
    Conv {
        conv: Conversion,
        width: Count,
        precision: Count,
        value: Value,
    },
}

/// A width or precision: fixed (-1 for none) or taken from an argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Count {
    Fixed(i32),
    Dynamic(Value),
}

/// A table of names by number, which the target provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameTable {
    Syscall,
    Errno,
}

/// What `<<<` adds into.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatTarget {
    Local(String),
    Global(usize),
    /// An element of statistics array `array` (created if missing).
    Element {
        array: usize,
        key: Temp,
        near: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Foreach {
    pub array: usize,
    /// How deep in other `foreach` loops this one is.
    pub depth: usize,
    pub limit: Option<Value>,
    pub sort: Option<Comparator>,
    /// The locals set from each entry's key columns, and from its value.
    pub keys: Vec<String>,
    pub value: Option<String>,
    pub body: Vec<Op>,
    pub near: Value,
}

/// One operation. A `near` is a [`Value::Near`], or the column of a merged handler's
/// constant row that holds it when its members differ in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// Counts `count` statements against the handler's action limit.
    Actions {
        count: usize,
        near: Value,
    },
    /// Ends the handler with `fault` when the condition holds.
    Fail {
        when: FailWhen,
        fault: Fault,
        near: Value,
    },
    /// `dst = value` for a value of type `ty` (strings copied).
    Assign {
        dst: Place,
        value: Value,
        ty: Type,
    },
    /// Appends a string to a string place.
    Append {
        dst: Place,
        value: Value,
    },
    /// `++` or `--` of a long place; `old`, if any, receives the value before.
    Step {
        place: Place,
        up: bool,
        old: Option<Temp>,
    },
    /// Sets (or appends to) a procfs read probe's `$value`.
    SetProcfsValue {
        value: Value,
        append: bool,
    },
    /// A nested block.
    Block(Vec<Op>),
    If {
        cond: Value,
        then: Vec<Op>,
        els: Option<Vec<Op>>,
    },
    /// Runs `then` when the condition is false.
    Unless {
        cond: Value,
        then: Vec<Op>,
    },
    /// Runs `body` until a break; `step`, if any, runs after each iteration and is where
    /// `continue` with its label goes.
    Loop {
        body: Vec<Op>,
        step: Option<(usize, Vec<Op>)>,
    },
    BreakUnless(Value),
    Break,
    /// Continues the loop with the step of this label, or the innermost loop.
    Continue(Option<usize>),
    /// Leaves the handler or function (`next`, `return`).
    Leave,
    /// Sets column `column` (of type `ty`) of a key temporary.
    SetKey {
        key: Temp,
        column: usize,
        value: Value,
        ty: Type,
    },
    /// Points `slot` at array `array`'s element of `key`, created if missing (a full map
    /// points nowhere).
    FindOrAdd {
        slot: Temp,
        array: usize,
        key: Temp,
    },
    /// Points `slot` at the element or nowhere. A statistics element is its CPUs' parts
    /// combined into `combined`.
    Find {
        slot: Temp,
        array: usize,
        key: Temp,
        combined: Option<Temp>,
    },
    /// Combines a statistics global's per-CPU parts into a stat temporary.
    Combine {
        global: usize,
        into: Temp,
    },
    StatAdd {
        to: StatTarget,
        value: Value,
    },
    Delete {
        array: usize,
        key: Temp,
    },
    /// Deletes every element of an array, or every value of a statistics global.
    Clear(usize),
    /// Resets a local (or scalar global) of type `ty` to its initial value.
    Reset {
        place: Place,
        ty: Type,
    },
    /// Calls script function `function`; a string result is written into `result`, a long
    /// one assigned to it. An error in the callee ends this body too.
    Call {
        function: usize,
        args: Vec<Value>,
        result: Option<Place>,
    },
    /// Reads `bytes` (1, 2, 4 or 8) of kernel memory at `addr` into long temporary `dst`
    /// without ever faulting, extended as `signed` says; a bitfield is `bits` bits from
    /// bit `shift` of them. A bad address ends the handler ("kernel read fault at ADDR").
    KernelRead {
        dst: Temp,
        addr: Value,
        bytes: u8,
        signed: bool,
        bitfield: Option<(u8, u8)>,
        near: Value,
    },
    /// Reads the NUL-terminated string of at most `len` bytes (and MAXSTRINGLEN - 1) at
    /// `addr` into string temporary `dst`, the same way: a `char[len]` array is in memory
    /// whole.
    KernelString {
        dst: Temp,
        addr: Value,
        len: u64,
        near: Value,
    },
    /// The string at `addr` quoted and escaped, as stap's pretty forms print one, into
    /// string temporary `dst`: at most `len` bytes of it (a `char[len]` array), else up to
    /// its NUL. Never fails: a NULL or unreadable address is printed as `0x...` instead.
    KernelQuoted {
        dst: Temp,
        addr: Value,
        len: Option<u64>,
    },
    /// Writes `bytes` (1, 2, 4 or 8) of `value` at kernel address `addr` with a nofault
    /// copy (guru mode's member writes); a bad address ends the handler.
    KernelWrite {
        addr: Value,
        bytes: u8,
        value: Value,
        near: Value,
    },
    /// Sets a kernel function's argument `index`: its register, which the function then
    /// reads, and the probe's own copy (guru mode).
    SetArg {
        index: usize,
        value: Value,
    },
    /// Sets the value a probed function returns (a return probe's `$return`, guru mode).
    SetReturn {
        value: Value,
    },
    /// Saves `value` as the `slot`-th `@entry(EXPR)` value of the call (in the entry half
    /// of a return probe, which runs at the function's entry).
    SaveEntry {
        slot: usize,
        value: Value,
    },
    /// The name of a number from a target table ("" if none) into a string place.
    NameOf {
        table: NameTable,
        number: Value,
        dst: Place,
    },
    Print {
        sink: Sink,
        items: Vec<PrintItem>,
    },
    /// Asks the session to end.
    Exit,
    Foreach(Box<Foreach>),
}

/// The program's code in IR: its handlers and its script functions' bodies. Declarations
/// (globals, functions' signatures, probe points) stay in the resolved program.
#[derive(Debug)]
pub struct Program {
    pub handlers: Vec<handlers::Handler>,
    /// Each function's body by its index in `sema::Program::functions` (empty for a
    /// function in embedded C, which has none in IR).
    pub functions: Vec<Body>,
    pub resources: resources::Resources,
}

impl Program {
    /// Lowers every body of `prog`; `merge`: probes whose IR differs only in literals share
    /// a handler (not with `-u`).
    pub fn lower(prog: &crate::sema::Program, sources: &SourceMap, merge: bool) -> Program {
        let bodies = (prog.probes.iter())
            .map(|p| lower::Lowerer::new(prog, sources, None).lower(&p.body))
            .collect();
        let functions = (prog.functions.iter())
            .map(|f| match &f.body {
                FunctionCode::Script(block) => {
                    lower::Lowerer::new(prog, sources, Some(f.ret)).lower(block)
                }
                FunctionCode::Embedded(_) => Body::default(),
            })
            .collect();
        let mut code = Program {
            handlers: handlers::group(prog, bodies, merge),
            functions,
            resources: resources::Resources::default(),
        };
        code.resources = resources::Resources::of(&code);
        code
    }
}
