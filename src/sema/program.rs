//! The product of pass 2: what the script does, resolved. Pass 3 reads only this.
use crate::source::Span;
use crate::syntax::ast::{Block, NodeId};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Long,
    String,
    /// A statistics aggregate, fed with `<<<` and read with `@count`, `@sum`, ...
    Stats,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::Long => "long",
            Type::String => "string",
            Type::Stats => "stats",
        }
    }
}

/// Where a probe's handler is attached: one variant per probe family, each holding its
/// family's resolved point (defined, with what pass 2 and the back ends ask of it, in the
/// family's module under `sema/providers/`). This enum and `ProbeKind::family` are the
/// registry; nothing else matches on it but the back ends' attach halves.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeKind {
    Once(super::providers::once::Once),
    Timer(super::providers::timer::Timer),
    Profile(super::providers::timer::Profile),
    Tracepoint(crate::kernel::tracepoints::Tracepoint),
    Kprobe(super::providers::kprobe::Kprobe),
    Procfs(super::providers::procfs::Procfs),
}

#[derive(Debug, Clone)]
pub struct Global {
    pub name: String,
    /// The scalar's type, or an array's value type.
    pub ty: Type,
    /// An associative array's key types (1 to 9); `None` for a scalar.
    pub keys: Option<Vec<Type>>,
    /// `global a[N]`: the array's capacity (else MAXMAPENTRIES).
    pub size: Option<i64>,
    pub init: Option<crate::syntax::ast::Literal>,
    pub span: Span,
}

/// A function the program calls: the script's own or the tapset library's.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    /// The name the C code knows it by: `name`, or `name_N` (N parameters) when the
    /// program holds several overloads of `name`; unique in the program.
    pub symbol: String,
    pub params: Vec<Local>,
    /// `None` for a function that returns nothing.
    pub ret: Option<Type>,
    pub body: FunctionCode,
    /// Locals other than the parameters.
    pub locals: Vec<Local>,
    pub globals_used: BTreeSet<usize>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FunctionCode {
    Script(Block),
    /// Embedded C; parameters are `RS_ARG_name`, results go through `RS_RETURN(...)`.
    Embedded(String),
}

#[derive(Debug, Clone)]
pub struct Local {
    pub name: String,
    pub ty: Type,
}

/// One place a probe's body runs: a resolved probe point. A probe point the user writes
/// once may stand for many (`syscall.*.return`: one kretprobe per system call), which share
/// the body and differ only in what the provider attaches and in their constants.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The probe point as the user wrote it or the alias it matched (messages, `-p2`).
    pub point: String,
    /// The provider's point it resolved to (`kernel.trace("raw_syscalls:sys_exit")`).
    pub resolved: String,
    pub kind: ProbeKind,
    /// The values of the family's per-instance constants (`$__syscall_name`, ...), in the
    /// order of the family's constant names.
    pub consts: Vec<crate::syntax::ast::Literal>,
}

/// One probe: a body and the points it runs at, elaborated once.
#[derive(Debug, Clone)]
pub struct Probe {
    /// At least one; all of one handler class (the same provider family).
    pub instances: Vec<Instance>,
    pub body: Block,
    pub locals: Vec<Local>,
    /// Globals the body touches (itself or through the functions it calls), by index.
    pub globals_used: BTreeSet<usize>,
    /// Those the handler locks, in this order: all but the statistics it only adds to
    /// with `<<<` (each CPU adds into its own part, without the global's lock).
    pub globals_locked: BTreeSet<usize>,
    pub span: Span,
}

impl Probe {
    /// What the first instance attaches to: every instance is of its family.
    pub fn kind(&self) -> &ProbeKind {
        &self.instances[0].kind
    }
}

/// A `$name` a probe body can read: where its value comes from, and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextVar {
    pub name: String,
    pub ty: Type,
    pub source: ContextRef,
    /// Its C type in the kernel's BTF, when the probe point knows it: member paths follow it.
    pub btf_type: Option<CTypeRef>,
    /// Its C type as stap spells it (`struct file*`), for `-L`; none: the script's type.
    pub c_type: Option<String>,
}

/// stap's pretty-printed value of a target variable (`$x$`, `$x$$`): what is read and how
/// each piece is spelled, laid out from the kernel's types (kernel/btf/pretty.rs).
pub use crate::kernel::btf::pretty::{Form as PrettyForm, Layout as Pretty, Piece as PrettyPiece};

/// One variable of `$$parms`, `$$vars` or `$$return`: `name=0x...`, or with a suffix
/// (`$$parms$`) `name=` and the variable pretty-printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVar {
    pub name: String,
    pub source: ContextRef,
    pub pretty: Option<Pretty>,
}

/// Where a target variable's C type is found in the kernel's BTF.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CTypeRef {
    /// This BTF id (a kernel function's parameter: the prototype was read to match it).
    Id(u32),
    /// This BTF id in module `module`'s BTF (a module function's parameter).
    ModuleId { module: String, id: u32 },
    /// Argument `index` of tracepoint `name` (its `btf_trace_NAME` prototype): looked up
    /// only when a path needs it, so tracepoint scripts without paths never read the BTF.
    TracepointArg { name: String, index: usize },
}

/// A member path from a target variable: the steps over the base value, then the read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetPath {
    pub steps: Vec<PathStep>,
    pub read: PathRead,
}

/// The walk's terms, as the resolved program gives them to the IR (which sees no kernel).
pub use crate::kernel::btf::path::{Read as PathRead, Step as PathStep};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextRef {
    /// The probe's i-th argument (a tracepoint's, in declaration order; a kernel function's,
    /// as the calling convention passes it), read as `ArgRepr` says.
    Arg(usize, ArgRepr),
    /// A return probe's return value.
    Return(ArgRepr),
    /// A procfs read probe's `$value`: the file's content, written by the body.
    ProcfsValue,
    /// The instance's i-th constant (`Instance::consts`).
    Instance(usize),
    /// Where the entry half of a return probe saves the k-th `@entry(EXPR)` value: only
    /// assigned, by the body `sema/defined.rs` makes (the return probe reads it as an
    /// argument after the registers').
    EntrySave(usize),
}

/// How a probe's argument becomes a script's long: a C integer of `bytes` bytes, signed or
/// not, held in the low bytes of a machine word (a register, or a tracepoint's argument
/// already converted to `long` by C, which is `WORD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgRepr {
    pub bytes: u8,
    pub signed: bool,
}

impl ArgRepr {
    /// A whole machine word: a pointer, a `long`, a value C already widened.
    pub const WORD: ArgRepr = ArgRepr {
        bytes: 8,
        signed: true,
    };
}

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarRef {
    Local(usize),
    Global(usize),
}

/// The functions the language provides itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Printf,
    Sprintf,
    Print,
    Println,
    /// `sprint(x)`: a long or string as a string.
    Sprint,
    Exit,
    /// `__syscall_name(nr)`: the name of the target's 64-bit system call `nr`, "" if it has
    /// none. A runtime primitive (the table is the target's, so each back end brings it);
    /// the library's `syscall_name` is written over it.
    SyscallName,
    /// `__errno_name(n)`: the symbol of the positive error number `n` (`ENOENT` for 2), ""
    /// for any other number; the library's `errno_str` is written over it.
    ErrnoName,
    /// `@count(s)`, `@sum`, `@min`, `@max`, `@avg` of a statistics value.
    StatCount,
    StatSum,
    StatMin,
    StatMax,
    StatAvg,
}

/// One piece of a parsed printf format: literal text or a conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum FmtPiece {
    Text(String),
    Conv(Conversion),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Conversion {
    pub flags: u8,
    /// `None`: absent; `Some(None)`: `*` (taken from the arguments); `Some(Some(n))`: literal.
    pub width: Option<Option<u32>>,
    pub precision: Option<Option<u32>>,
    pub conv: char,
}

/// The elaborated script.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub globals: Vec<Global>,
    pub probes: Vec<Probe>,
    pub functions: Vec<Function>,
    /// Side tables keyed by expression node: its type, what a name means, what a call calls,
    /// and the parsed format of a printf-family call.
    pub types: HashMap<NodeId, Type>,
    pub vars: HashMap<NodeId, VarRef>,
    pub builtins: HashMap<NodeId, Builtin>,
    /// Calls of functions in `functions`, by index.
    pub calls: HashMap<NodeId, usize>,
    /// `$name` target variables: where each reads its value.
    pub targets: HashMap<NodeId, ContextRef>,
    /// A target variable's member path (`$file->f_path->dentry`), walked through the
    /// kernel's types: from its base (in `targets`) to what is read.
    pub target_paths: HashMap<NodeId, TargetPath>,
    /// `$var$`, `$var->member$`: how the value is printed into the string it stands for.
    pub target_pretty: HashMap<NodeId, Pretty>,
    /// `$$parms` and `$$return`: the variables they print, `name=0x...` each.
    pub target_lists: HashMap<NodeId, Vec<ListedVar>>,
    pub formats: HashMap<NodeId, Vec<FmtPiece>>,
    /// Files (by name) the probe bodies come from, for error messages at run time.
    pub script_name: String,
}

impl Program {
    /// The source files the program's code comes from (the script, the library files
    /// whose aliases and functions it uses).
    pub fn files_used(&self) -> std::collections::BTreeSet<crate::source::FileId> {
        let mut files = std::collections::BTreeSet::new();
        for p in &self.probes {
            crate::syntax::visit::exprs(&p.body, &mut |e| {
                files.insert(e.span.file);
            });
            files.insert(p.span.file);
        }
        for f in &self.functions {
            files.insert(f.span.file);
        }
        files
    }

    /// Every probe point of the program, numbered as the module numbers them: (point
    /// number, probe, instance).
    pub fn points(&self) -> impl Iterator<Item = (usize, &Probe, &Instance)> {
        self.probes
            .iter()
            .flat_map(|p| p.instances.iter().map(move |i| (p, i)))
            .enumerate()
            .map(|(n, (p, i))| (n, p, i))
    }

    pub fn point_count(&self) -> usize {
        self.probes.iter().map(|p| p.instances.len()).sum()
    }

    pub fn type_of(&self, id: NodeId) -> Type {
        self.types.get(&id).copied().unwrap_or(Type::Long)
    }
}
