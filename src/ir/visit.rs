//! Walking the values of IR operations, in evaluation order (operations in sequence, the
//! values of each in field order, a value before its operands).
use super::*;

/// The walks over values, written once for shared and for mutable references.
macro_rules! value_walks {
    ($values:ident, $op_values:ident, $value:ident $(, $mut:ident)?) => {
/// Calls `f` on every value in `ops`, nested blocks included.
pub fn $values(ops: &$($mut)? [Op], f: &mut impl FnMut(&$($mut)? Value)) {
    for op in ops {
        $op_values(op, f);
    }
}

fn $op_values(op: &$($mut)? Op, f: &mut impl FnMut(&$($mut)? Value)) {
    match op {
        Op::Actions { near, .. } => $value(near, f),
        Op::Fail { when, near, .. } => {
            if let FailWhen::Zero(v) = when {
                $value(v, f);
            }
            $value(near, f);
        }
        Op::StatAdd { to, value } => {
            $value(value, f);
            if let StatTarget::Element { near, .. } = to {
                $value(near, f);
            }
        }
        Op::KernelRead { addr, near, .. } | Op::KernelString { addr, near, .. } => {
            $value(addr, f);
            $value(near, f);
        }
        Op::KernelQuoted { addr, .. } => $value(addr, f),
        Op::SaveEntry { value, .. }
        | Op::SetArg { value, .. }
        | Op::SetReturn { value } => $value(value, f),
        Op::KernelWrite {
            addr, value, near, ..
        } => {
            $value(addr, f);
            $value(value, f);
            $value(near, f);
        }
        Op::Assign { value, .. }
        | Op::Append { value, .. }
        | Op::SetProcfsValue { value, .. }
        | Op::SetKey { value, .. }
        | Op::NameOf { number: value, .. }
        | Op::BreakUnless(value) => $value(value, f),
        Op::If { cond, then, els } => {
            $value(cond, f);
            $values(then, f);
            if let Some(els) = els {
                $values(els, f);
            }
        }
        Op::Unless { cond, then } => {
            $value(cond, f);
            $values(then, f);
        }
        Op::Block(ops) => $values(ops, f),
        Op::Loop { body, step } => {
            $values(body, f);
            if let Some((_, step)) = step {
                $values(step, f);
            }
        }
        Op::Call { args, .. } => {
            for a in args {
                $value(a, f);
            }
        }
        Op::Print { items, .. } => {
            for item in items {
                match item {
                    PrintItem::Str(v) | PrintItem::Long(v) => $value(v, f),
                    PrintItem::Conv {
                        width,
                        precision,
                        value,
                        ..
                    } => {
                        for c in [width, precision] {
                            if let Count::Dynamic(v) = c {
                                $value(v, f);
                            }
                        }
                        $value(value, f);
                    }
                    PrintItem::Text(_) | PrintItem::Newline => {}
                }
            }
        }
        Op::Foreach(fe) => {
            if let Some(l) = &$($mut)? fe.limit {
                $value(l, f);
            }
            $value(&$($mut)? fe.near, f);
            $values(&$($mut)? fe.body, f);
        }
        Op::Step { .. }
        | Op::Break
        | Op::Continue(_)
        | Op::Leave
        | Op::FindOrAdd { .. }
        | Op::Find { .. }
        | Op::Combine { .. }
        | Op::Delete { .. }
        | Op::Clear(_)
        | Op::Reset { .. }
        | Op::Exit => {}
    }
}

/// `f` on `v`, then on its operands.
pub fn $value(v: &$($mut)? Value, f: &mut impl FnMut(&$($mut)? Value)) {
    f(v);
    match v {
        Value::Neg(a) | Value::Not(a) | Value::BitNot(a) | Value::Truth(a) => $value(a, f),
        Value::Arith(_, a, b) | Value::Compare(_, _, a, b) => {
            $value(a, f);
            $value(b, f);
        }
        Value::Long(_)
        | Value::Str(_)
        | Value::Column(_)
        | Value::Instance(_)
        | Value::Place(_)
        | Value::Arg(..)
        | Value::Return(_)
        | Value::ProcfsValue
        | Value::Near(_)
        | Value::ElementOr { .. }
        | Value::Found(_)
        | Value::Stat(..) => {}
    }
}
    };
}

value_walks!(values, op_values, value);
value_walks!(values_mut, op_values_mut, value_mut, mut);

/// Calls `f` on every operation in `ops`, each before the operations nested in it.
pub fn ops(ops: &[Op], f: &mut impl FnMut(&Op)) {
    for op in ops {
        f(op);
        match op {
            Op::Block(inner) => self::ops(inner, f),
            Op::If { then, els, .. } => {
                self::ops(then, f);
                if let Some(els) = els {
                    self::ops(els, f);
                }
            }
            Op::Unless { then, .. } => self::ops(then, f),
            Op::Loop { body, step } => {
                self::ops(body, f);
                if let Some((_, step)) = step {
                    self::ops(step, f);
                }
            }
            Op::Foreach(fe) => self::ops(&fe.body, f),
            _ => {}
        }
    }
}
