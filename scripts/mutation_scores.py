"""Mutation scores per domain module, read from the results `mutmut run` left in mutants/.

    make mutation                                  (runs mutmut on domain/, then this)
    python scripts/mutation_scores.py --survivors  (also names every surviving mutant)

A mutant is *reached* when at least one domain test calls the function it changes; a timeout
counts as killed (the tests noticed). Mutants that change only the human-readable message of
an error (the second argument of `errors.add`/`invalid`, or what a domain error is raised
with) are counted apart: the field and the code are what clients switch on. The last column
leaves them out of both sides.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
from collections import Counter
from dataclasses import astuple, dataclass
from pathlib import Path

MUTANTS = Path("mutants")
# The modules the ledger, tier and coupon rules live in: always listed, first.
FOCUS = ("domain.points", "domain.lots", "domain.tier_rules", "domain.coupons.checkout")
# mutmut's exit codes (mutmut/stats.py); anything else is "suspicious".
STATUS = {
    0: "survived",
    1: "killed",
    3: "killed",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "type check",
    None: "not checked",
}
REACHED = ("killed", "timeout", "survived", "suspicious")
MESSAGE = ast.Constant("<message>")


class _MaskMessages(ast.NodeTransformer):
    """Replaces every error message in a function with one placeholder."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        adds = (isinstance(func, ast.Attribute) and func.attr == "add") or _named(func, "invalid")
        if adds and len(node.args) >= 2 and _text(node.args[1]):
            node.args[1] = MESSAGE
        for keyword in node.keywords:
            if keyword.arg == "message" and _text(keyword.value):
                keyword.value = MESSAGE
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        self.generic_visit(node)
        exc = node.exc
        if isinstance(exc, ast.Call) and exc.args and _text(exc.args[0]):
            exc.args[0] = MESSAGE
        return node


def _named(func: ast.expr, name: str) -> bool:
    return isinstance(func, ast.Name) and func.id == name


def _text(node: ast.expr) -> bool:
    """A literal message (or the None a mutant puts in its place), not a computed value."""
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str))
    )


def _masked(function: ast.FunctionDef) -> str:
    masked = _MaskMessages().visit(copy.deepcopy(function))
    return ast.dump(ast.Module(body=masked.body, type_ignores=[])) + ast.dump(masked.args)


def message_only(meta: Path, keys: list[str]) -> set[str]:
    """The mutants among `keys` whose function differs from the original only in messages."""
    source = meta.with_suffix("")  # mutants/domain/points.py.meta -> mutants/domain/points.py
    functions = {
        node.name: node
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.FunctionDef)
    }
    found = set()
    for key in keys:
        name = key.rsplit(".", 1)[1]
        original = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
        mutant = functions.get(name)
        if original is None or mutant is None:
            continue
        if _masked(original) == _masked(mutant):
            found.add(key)
    return found


def module_of(meta: Path) -> str:
    relative = meta.relative_to(MUTANTS).with_suffix("").with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


@dataclass
class Row:
    total: int = 0  # every mutant of the module
    reached: int = 0  # run against at least one test
    killed: int = 0  # a test failed (or timed out)
    survived: int = 0
    unchecked: int = 0  # left out of this run (MUTANTS=...)
    messages: int = 0  # message-only mutants, reached
    message_survivors: int = 0

    def __add__(self, other: Row) -> Row:
        return Row(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def line(self, name: str) -> str:
        killed_messages = self.messages - self.message_survivors
        without_messages = percent(self.killed - killed_messages, self.reached - self.messages)
        return (
            f"{name:34}{self.total:6}{self.reached:8}{self.killed:7}{self.survived:6}"
            f"{self.message_survivors:5}{self.unchecked:6}{percent(self.killed, self.reached):>10}"
            f"{percent(self.killed, self.total):>8}{without_messages:>9}"
        )


def load() -> dict[str, tuple[Row, list[str], set[str]]]:
    """Per module: its row, the survivors' names, the message-only mutants."""
    modules = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = {key: STATUS.get(code, "suspicious") for key, code in exit_codes.items()}
        counts = Counter(statuses.values())
        if not statuses or counts["not checked"] == len(statuses):
            continue  # no mutants, or none in this run
        survivors = sorted(key for key, status in statuses.items() if status == "survived")
        reached = [key for key, status in statuses.items() if status in REACHED]
        messages = message_only(meta, reached)
        row = Row(
            total=len(statuses),
            reached=len(reached),
            killed=counts["killed"] + counts["timeout"],
            survived=counts["survived"],
            unchecked=counts["not checked"],
            messages=len(messages),
            message_survivors=len(messages.intersection(survivors)),
        )
        modules[module_of(meta)] = (row, survivors, messages)
    return modules


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--survivors", action="store_true", help="name every survivor")
    parser.add_argument("--all", action="store_true", help="every module, not only the focus")
    args = parser.parse_args()
    if not MUTANTS.is_dir():
        print("no mutants/ here: run `make mutation` first", file=sys.stderr)
        return 1
    modules = load()
    names = [m for m in FOCUS if m in modules]
    if args.all:
        names += sorted(m for m in modules if m not in FOCUS)
    header = (
        f"{'module':34}{'all':>6}{'reached':>8}{'killed':>7}{'surv.':>6}{'msg':>5}"
        f"{'unchk':>6}{'k/reached':>10}{'k/all':>8}{'k/r -msg':>9}"
    )
    print(header)
    print("-" * len(header))
    for name in names:
        print(modules[name][0].line(name))
    print("-" * len(header))
    print(sum((modules[name][0] for name in names), Row()).line("listed modules"))
    print(
        "reached: a domain test calls the function; msg: survivors that change only an error"
        " message; k/r -msg: killed/reached, message-only mutants left out"
    )
    if args.survivors:
        for name in names:
            _, survivors, messages = modules[name]
            if survivors:
                print(f"\n{name}: {len(survivors)} survived")
                for key in survivors:
                    print(f"  {key}{'  (message only)' if key in messages else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
