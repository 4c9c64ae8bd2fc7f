"""The rule book is complete both ways.

* Every rule id the engine can return — the first argument of each ``Refused("…")``,
  ``Violation("…")`` and ``PricingError("…")`` in ``src/carecli/engine/*.py`` — is a key of
  ``rules.RULES`` (so the list of rules an operator reads is the list the code uses).
* Every key of ``RULES`` is exercised by at least one test in ``tests/engine/test_rules*.py``
  (the id appears there as a quoted string).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import carecli.engine
from carecli.engine.rules import RULES

ENGINE = Path(carecli.engine.__file__).parent
RULE_TESTS = sorted(Path(__file__).parent.glob("test_rules*.py"))  # test_rules.py and per-capability files
RAISERS = {"Refused", "Violation", "PricingError"}
RULE_ID = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")


def _callee(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def rule_ids_in_engine() -> dict[str, list[str]]:
    """Rule id → where it is used (file:line), from the engine's source."""
    found: dict[str, list[str]] = {}
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _callee(node) in RAISERS):
                continue
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "rule"), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, []).append(f"{path.name}:{node.lineno}")
    return found


def test_the_source_scan_finds_the_rules():
    used = rule_ids_in_engine()
    # a scan that finds nothing would make the next test pass vacuously
    assert len(used) >= 30, sorted(used)
    assert {"quantity.below_progress", "session.read_only", "tax.no_jurisdiction"} <= set(used)


def test_every_rule_id_used_in_the_engine_is_in_the_rule_book():
    used = rule_ids_in_engine()
    missing = {rule: where for rule, where in used.items() if rule not in RULES}
    assert not missing, "rule ids used in the engine but missing from rules.RULES: " + ", ".join(
        f"{rule} ({', '.join(where)})" for rule, where in sorted(missing.items()))


def test_rule_ids_are_stable_dotted_names_with_a_description():
    bad = [rule for rule, what in RULES.items() if not RULE_ID.match(rule) or not what.strip()]
    assert not bad, f"rule ids that are not 'area.name' with a description: {bad}"


def test_every_rule_in_the_rule_book_is_exercised_by_test_rules():
    text = "\n".join(p.read_text("utf-8") for p in RULE_TESTS)
    missing = [rule for rule in RULES if f'"{rule}"' not in text and f"'{rule}'" not in text]
    names = ", ".join(p.name for p in RULE_TESTS)
    assert not missing, f"rules.RULES ids no test in {names} exercises: {', '.join(sorted(missing))}"
