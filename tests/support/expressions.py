"""Generated rule expressions, hostile ones included: large powers, long strings, attribute access
and method calls, deep nesting, and plain arithmetic over the starter catalogue's indicators."""

from __future__ import annotations

from hypothesis import strategies as st

INDICATORS = ("workers_total", "payroll_total", "frontline_workers", "congress_held", "skilled_workers")

atoms = st.one_of(
    st.sampled_from(INDICATORS),
    st.sampled_from(("nothing_known", "__import__", "True", "False", "None", "()", "[]", "'x'")),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.sampled_from(("3999999", "4000", "9", "10**9", "0.015", "1e308", "0")),
    st.text(alphabet="xyz '\\\"", max_size=8).map(repr),
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operators = ("+", "-", "*", "/", "**", "//", "%", "<<", "<", ">=", "==", "!=", "and", "or", "in", "is")
    return st.one_of(
        st.tuples(inner, st.sampled_from(operators), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(("-", "+", "not ", "~")), inner).map("".join),
        inner.map(lambda e: f"({e})"),
        st.tuples(st.sampled_from(("min", "max", "abs", "str", "len", "int", "eval")), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(inner, st.sampled_from((".__class__", ".real", ".ljust(2000000000)", "[0]", ".x()"))).map(
            "".join
        ),
    )


nested = st.recursive(atoms, _combine, max_leaves=12)

deep = st.one_of(
    st.integers(min_value=30, max_value=3000).map(lambda n: " + ".join(["workers_total"] * n)),
    st.integers(min_value=30, max_value=3000).map(lambda n: "-" * n + "workers_total"),
    st.integers(min_value=30, max_value=250).map(lambda n: "(" * n + "workers_total" + ")" * n),
    st.integers(min_value=30, max_value=3000).map(lambda n: "not " * n + "congress_held"),
)

hostile = st.sampled_from(
    (
        "9**9**9",
        "'a'*10**9",
        "().__class__",
        "4000**2000 < 0",
        "3999999**3999999",
        "'x'.ljust(1000000000)",
        "'x'.ljust(2000000000) == 'y'",
        "workers_total ** workers_total",
        "payroll_total / (workers_total - workers_total)",
        "workers_total * " * 40 + "workers_total",
        "1e308 * 1e308",
        "'x' * 100000",
    )
)

expressions = st.one_of(nested, deep, hostile)
