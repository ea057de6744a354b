//! The parse tree of a SystemTap script. Every node carries a [`Span`]; every expression also
//! carries a [`NodeId`] so later passes keep facts about it (types, resolutions) in side tables.
use crate::source::Span;

/// Identifies one expression node across passes (the key of pass 2's side tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed file: a script or a tapset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Probe(ProbeDecl),
    Global(GlobalDecl),
    Function(FunctionDecl),
    /// Top-level `%{ ... %}`: C copied into the module (guru mode).
    Embedded(Embedded),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    pub code: String,
    pub span: Span,
}

/// `probe P1, P2 { ... }`, or an alias `probe NAME = P1, P2 { ... }` (`+=` appends the body as
/// an epilogue instead of a prologue).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeDecl {
    pub alias: Option<AliasHead>,
    pub points: Vec<ProbePoint>,
    pub body: Block,
    pub private: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasHead {
    pub names: Vec<ProbePoint>,
    pub epilogue: bool,
    /// `probe A = P { prologue }, { epilogue }`: the second block (stap 4.x syntax).
    pub epilogue_body: Option<Block>,
}

/// `kernel.function("vfs_*").return ?` with its optional `?`/`!` and `if (cond)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbePoint {
    pub components: Vec<Component>,
    pub optional: bool,
    pub sufficient: bool,
    pub condition: Option<Expr>,
    pub span: Span,
}

/// One dotted part of a probe point: a name (possibly with `*` wildcards) and an optional
/// parenthesized literal parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    pub arg: Option<Literal>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(i64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct GlobalDecl {
    pub vars: Vec<GlobalVar>,
    pub private: bool,
    pub span: Span,
}

/// `global name`, `global name[1000]` (a map sized for 1000 entries), `global name = 5`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalVar {
    pub name: Ident,
    pub size: Option<i64>,
    pub init: Option<Literal>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeName {
    Long,
    String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeName>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDecl {
    pub name: Ident,
    pub ret: Option<TypeName>,
    pub params: Vec<Param>,
    pub body: FunctionBody,
    pub private: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FunctionBody {
    Script(Block),
    /// `%{ ... %}`; the pragma comments (`/* pure */`) stay in the code text.
    Embedded(Embedded),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Block(Block),
    Expr(Expr),
    Empty,
    If {
        cond: Expr,
        then: Box<Stmt>,
        els: Option<Box<Stmt>>,
    },
    While {
        cond: Expr,
        body: Box<Stmt>,
    },
    For {
        init: Option<Expr>,
        cond: Option<Expr>,
        step: Option<Expr>,
        body: Box<Stmt>,
    },
    Foreach(Box<Foreach>),
    Delete(Expr),
    Next,
    Break,
    Continue,
    Return(Option<Expr>),
    Try {
        body: Block,
        var: Option<Ident>,
        catch: Block,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Ascending,
    Descending,
}

/// `foreach (v = [a-, b] in arr[*, "x"]+ limit 5) body`.
#[derive(Debug, Clone, PartialEq)]
pub struct Foreach {
    pub value: Option<Ident>,
    pub keys: Vec<(Ident, Option<SortDir>)>,
    /// Whether the keys were written in brackets (`[k]` and `k` mean the same for one key).
    pub bracketed: bool,
    pub array: Ident,
    /// `arr[*, "x"]`: a `None` element is a `*` (any key).
    pub slice: Option<Vec<Option<Expr>>>,
    pub value_sort: Option<SortDir>,
    pub limit: Option<Expr>,
    pub body: Stmt,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub id: NodeId,
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
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
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
    Concat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
}

/// `=` (op None), `+=` (op Some(Add)), `.=` (op Some(Concat)), ...; `<<<` is separate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignOp(pub Option<BinOp>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncDec {
    PreInc,
    PreDec,
    PostInc,
    PostDec,
}

/// `->name` or `[index]` after a target variable or `@cast(...)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Field(Ident),
    Index(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(i64),
    Str(String),
    /// `*` as an array key: any key (`delete a[k, *]`, `[*, k] in a`).
    AnyKey,
    /// `$#` / `@#`: the number of command-line arguments.
    ArgCount,
    /// `$1` (number) / `@1` (string) command-line arguments.
    ArgNum(u32),
    ArgStr(u32),
    Var(Ident),
    /// `arr[k1, k2]`.
    Index {
        array: Ident,
        keys: Vec<Expr>,
    },
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    /// `@count(x)`, `@cast(p, "t")`, `@defined($x)`, `@entry(e)`, `@hist_log(x)`, ... :
    /// every `@word(...)` form; pass 2 gives each its meaning.
    AtOp {
        op: Ident,
        args: Vec<Expr>,
    },
    /// `$var`, `$var->f[3]`, `$$parms`; `addr_of` for `&$x`.
    Target {
        name: String,
        path: Vec<Access>,
        addr_of: bool,
    },
    /// `@cast(...)->f` and `@var(...)[1]`: an `AtOp` followed by a member path.
    Member {
        base: Box<Expr>,
        path: Vec<Access>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Assign {
        op: AssignOp,
        target: Box<Expr>,
        value: Box<Expr>,
    },
    /// `&@cast(...)->f`: the address of a member (target variables use `Target.addr_of`).
    AddrOf(Box<Expr>),
    /// `%{ C expression %}` used as a value (guru mode and tapsets).
    EmbeddedC(String),
    /// `stats <<< value`.
    Aggregate {
        target: Box<Expr>,
        value: Box<Expr>,
    },
    IncDec {
        op: IncDec,
        target: Box<Expr>,
    },
    /// `k in arr`, `[a, b] in arr`.
    In {
        keys: Vec<Expr>,
        array: Ident,
    },
}
