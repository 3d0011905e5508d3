"""The language of expression rules: arithmetic and comparisons over indicator codes.

A rule may say what the catalogue needs and nothing more: indicator codes, numbers, `+ - * /`,
comparisons, `and`/`or`/`not`, parentheses, True/False and the functions `abs`, `min` and `max`.
`check` refuses anything else with the reason (text, attribute access, method calls, `**`, other
operators), and bounds the length and the nesting of an expression, so the parser and the
evaluator never recurse deeply. `evaluate` runs a checked expression with simpleeval and stops
any value that grows past `MAX_MAGNITUDE`, so one expression costs a bounded, small amount of
time and memory whatever the report holds. A failure while evaluating is an `EvaluationFailed`
with a reason code; the engine records it as the rule's error and evaluates the other rules.
"""

from __future__ import annotations

import ast
import math
import operator
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simpleeval import InvalidExpression, SimpleEval

MAX_LENGTH = 500
MAX_DEPTH = 40
MAX_MAGNITUDE = 10**30
MAX_ARGUMENTS = 10
FUNCTIONS: dict[str, Callable[..., Any]] = {"abs": abs, "min": min, "max": max}
# Reasons a rule could not be evaluated on a report (the pages label them).
REFUSED = "refused"
DIVISION_BY_ZERO = "division_by_zero"
TOO_LARGE = "too_large"
TIME_LIMIT = "time_limit"
FAILED = "failed"

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_UNARY = {ast.UAdd: "+", ast.USub: "-", ast.Not: "not"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_SYMBOLS = {
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_WHAT = {
    "Tuple": "a tuple",
    "List": "a list",
    "Dict": "a dict",
    "Set": "a set",
    "Subscript": "indexing ([...])",
    "Slice": "a slice",
    "Lambda": "lambda",
    "IfExp": "if … else",
    "NamedExpr": ":=",
    "JoinedStr": "text",
    "FormattedValue": "text",
    "Starred": "*",
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a comprehension",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.Name,
    ast.Constant,
    ast.Call,
    ast.Load,
    ast.And,
    ast.Or,
    *_BINARY,
    *_UNARY,
    *_COMPARE,
)


class ExpressionError(Exception):
    """An expression that cannot be evaluated: `reason` is one of the reason codes above, `detail`
    what went wrong and `text` the expression."""

    reason = FAILED

    def __init__(self, detail: str, text: str = ""):
        super().__init__(detail)
        self.detail, self.text = detail, text

    def explained(self) -> str:
        return f"{self.detail}: {excerpt(self.text)}" if self.text else self.detail


class ExpressionRefused(ExpressionError):
    """The text is not an expression of the catalogue's language; `detail` says why."""

    reason = REFUSED


class EvaluationFailed(ExpressionError):
    """A checked expression failed on one report's values (a division by zero, a value too large)."""

    def __init__(self, reason: str, detail: str, text: str = ""):
        super().__init__(detail, text)
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    """An expression that passed `check`: its text, its tree and the indicator codes it reads."""

    text: str
    tree: ast.expr
    names: frozenset[str]


@dataclass(frozen=True)
class RuleError:
    """A rule that could not be evaluated on a report, and why; stored with the report's evaluation."""

    rule_code: str
    reason: str
    detail: str


def excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check(text: str) -> Checked:
    """Parse and check an expression; raise `ExpressionRefused` saying what is not allowed."""
    source = text.strip()
    if not source:
        raise ExpressionRefused("is empty")
    if len(source) > MAX_LENGTH:
        raise ExpressionRefused(f"is longer than {MAX_LENGTH} characters ({len(source)})", text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionRefused(f"does not parse ({exc.msg})", text) from None
    except ValueError as exc:  # a NUL character
        raise ExpressionRefused(f"does not parse ({exc})", text) from None
    except (RecursionError, MemoryError):
        raise ExpressionRefused(f"nests deeper than {MAX_DEPTH} levels", text) from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionRefused(f"nests deeper than {MAX_DEPTH} levels", text)
    for node in ast.walk(tree):
        refusal = _refusal(node)
        if refusal:
            raise ExpressionRefused(refusal, text)
    functions = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in functions}
    return Checked(text, tree.body, frozenset(names))


def _depth(tree: ast.AST) -> int:
    """How deeply expressions nest, counted without recursion (a deep tree is what is refused)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return deepest


def _refusal(node: ast.AST) -> str | None:
    """Why a node is not allowed, or None."""
    if isinstance(node, ast.Constant):
        return _constant_refusal(node.value)
    if isinstance(node, ast.Call):
        return _call_refusal(node)
    if isinstance(node, ast.Attribute):
        return f"uses attribute access (.{node.attr}), which is not allowed"
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return "assigns, which is not allowed"
    if isinstance(node, _ALLOWED):
        return None
    symbol = _SYMBOLS.get(type(node))
    if symbol == "**":
        return "uses ** (power), which is not allowed"
    if symbol:
        return f"uses {symbol}, which is not allowed (rules use + - * / and comparisons)"
    return f"uses {_WHAT.get(type(node).__name__, type(node).__name__)}, which is not allowed"


def _constant_refusal(value: Any) -> str | None:
    if isinstance(value, bool | int | float):
        return None
    if isinstance(value, str | bytes):
        return "holds text, which is not allowed (rules compare numbers)"
    return f"holds {value!r}, which is not allowed (rules compare numbers)"


def _call_refusal(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return f"calls a method (.{node.func.attr}()), which is not allowed"
    allowed = ", ".join(f"{f}()" for f in FUNCTIONS)
    if not isinstance(node.func, ast.Name):
        return f"calls the value of an expression, which is not allowed (only {allowed})"
    if node.func.id not in FUNCTIONS:
        return f"calls {node.func.id}(), which is not allowed (only {allowed})"
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        return f"gives {node.func.id}() named or starred arguments, which is not allowed"
    least, most = (1, 1) if node.func.id == "abs" else (2, MAX_ARGUMENTS)
    if not least <= len(node.args) <= most:
        wanted = "one value" if most == 1 else f"{least} to {most} values"
        return f"gives {node.func.id}() {len(node.args)} values; it takes {wanted}"
    return None


def problems(text: str, known: set[str]) -> list[str]:
    """What is wrong with an expression of a catalogue whose indicators are `known`: a refusal, or
    the unknown names it reads; empty when it may be loaded."""
    try:
        checked = check(text)
    except ExpressionRefused as exc:
        return [exc.explained()]
    unknown = checked.names - known
    if unknown:
        return [f"names unknown indicators: {', '.join(sorted(unknown))}"]
    return []


def _bounded(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        raise EvaluationFailed(TOO_LARGE, f"a value exceeds {MAX_MAGNITUDE:.0e}")
    if isinstance(value, float) and not math.isfinite(value):
        raise EvaluationFailed(TOO_LARGE, "a value is not a finite number")
    return value


def _arithmetic(function: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*operands: Any) -> Any:
        return _bounded(function(*operands))

    return apply


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _arithmetic(operator.add),
    ast.Sub: _arithmetic(operator.sub),
    ast.Mult: _arithmetic(operator.mul),
    ast.Div: _arithmetic(operator.truediv),
    ast.USub: _arithmetic(operator.neg),
    ast.UAdd: _arithmetic(operator.pos),
    ast.Not: operator.not_,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS = {name: _arithmetic(function) for name, function in FUNCTIONS.items()}


_local = threading.local()


def _evaluator(values: Mapping[str, Any]) -> SimpleEval:
    """This thread's evaluator over `values` (making one per expression cost more than evaluating it)."""
    evaluator: SimpleEval | None = getattr(_local, "evaluator", None)
    if evaluator is None:
        evaluator = _local.evaluator = SimpleEval(operators=OPERATORS, functions=_FUNCTIONS, names={})
    evaluator.names = values
    return evaluator


def evaluate(expression: Checked, values: Mapping[str, Any]) -> Any:
    """The value of a checked expression over `values`; raises `EvaluationFailed`, nothing else."""
    evaluator = _evaluator(values)
    try:
        return evaluator.eval(expression.text, previously_parsed=expression.tree)
    except EvaluationFailed as exc:
        reason, detail = exc.reason, exc.detail
    except ZeroDivisionError:
        reason, detail = DIVISION_BY_ZERO, "division by zero"
    except OverflowError:
        reason, detail = TOO_LARGE, "a value is too large"
    except (ArithmeticError, TypeError, ValueError, RecursionError, InvalidExpression) as exc:
        reason, detail = FAILED, f"{type(exc).__name__}: {str(exc)[:200]}"
    raise EvaluationFailed(reason, detail, expression.text)
