"""A node's layout is known to autograd/node.py (and backward's walks in walk.py) alone, and the
engine's modules import without cycles."""

import ast
import pathlib
import re

import pytest

import autograd
from autograd import Value, dot, no_grad, vsum
from autograd import node as N
from autograd import walk as W

ROOT = pathlib.Path(autograd.__file__).parent
SLOTS = re.compile(r"\._(a|b|da|db)\b|(?<!\")\bNARY\b(?!\")")
# compiler.py still decodes nodes itself until compile moves to autograd.node's interface.
NOT_YET = {"compiler.py"}
# node.py lays the slots out; walk.py holds backward's walks, which read them directly for speed.
MAY_READ_SLOTS = {"node.py", "walk.py"}


def _engine_files():
    return [p for p in ROOT.rglob("*.py") if p.name not in NOT_YET and "compiler" not in p.parts]


def _slot_readers(files: dict[str, str]) -> list[str]:
    """``path:line: code`` for each line outside node.py and walk.py that reads a node's slots."""
    offenders = []
    for name, text in files.items():
        if name in MAY_READ_SLOTS:
            continue
        for i, line in enumerate(text.splitlines(), 1):
            code = line.split("#")[0]
            if SLOTS.search(code) and "import" not in code and "__all__" not in code:
                offenders.append(f"{name}:{i}: {line.strip()}")
    # testing.py's NARY is its own tuple of n-ary op names, not the marker
    return [o for o in offenders if not o.startswith("testing.py") or "_OPS" not in o]


def _engine_texts() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in _engine_files()}


def test_only_node_py_and_walk_py_read_the_slots():
    files = _engine_texts()
    assert {"node.py", "walk.py", "backward.py", "value.py"} <= set(files)  # the check sees them
    assert _slot_readers(files) == []


@pytest.mark.parametrize("name", ["backward.py", "value.py", "ops/table.py", "check.py"])
def test_the_slot_check_catches_a_read_in_any_other_module(name):
    files = _engine_texts()
    files[name] += "\n\ndef _peek(v):\n    return v._a\n"
    assert _slot_readers(files) == [f"{name}:{files[name].count(chr(10))}: return v._a"]


def _imports(path: pathlib.Path) -> tuple[set[str], set[str]]:
    """(modules imported at the top, modules imported inside functions) by a module of autograd."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for n in ast.walk(block)
    }
    top: set[str] = set()
    inner: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            names = {node.module} if node.module else {a.name for a in node.names}
            inside = any(
                isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in ast.walk(f)
                for f in ast.walk(tree)
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
            (inner if inside else top).update(n.split(".")[0] for n in names)
    return top, inner


def test_no_import_cycle_between_value_and_backward():
    value_top, value_inner = _imports(ROOT / "value.py")
    backward_top, backward_inner = _imports(ROOT / "backward.py")
    node_top, _ = _imports(ROOT / "node.py")
    walk_top, walk_inner = _imports(ROOT / "walk.py")
    assert "backward" in value_top and "backward" not in value_inner
    assert "value" not in backward_top | backward_inner
    assert "walk" in backward_top
    assert not {"value", "backward", "ops", "walk"} & node_top
    assert walk_top == {"node"} and walk_inner == set()  # the walks need the layout only


def test_the_walks_live_in_walk_py_only():
    """One place: node.py defines the layout, walk.py the walks (no second name for them)."""
    assert W.reverse_creation_order.__module__ == W.backpropagate.__module__ == "autograd.walk"
    assert not hasattr(N, "reverse_creation_order") and not hasattr(N, "backpropagate")


@pytest.mark.parametrize(
    "make, n",
    [
        (lambda a, b: a.tanh(), 1),
        (lambda a, b: a * b, 2),
        (lambda a, b: dot([a, b], [b, a], a), 5),
        (lambda a, b: vsum([a, b, a]), 3),
    ],
)
def test_the_interface_reads_every_kind_of_node(make, n):
    a, b = Value(0.5), Value(-2.0)
    v = make(a, b)
    assert len(N.operands(v)) == n and len(N.local_derivatives(v)) == n
    assert list(N.edges(v)) == list(zip(v.children, v.local_grads))
    assert N.op_of(v).name == v.op and not N.is_leaf(v)
    assert N.operands(a) == () and N.local_derivatives(a) == () and N.is_leaf(a) and N.op_of(a) is None
    with no_grad():
        w = make(a, b)
    assert N.is_leaf(w) and N.operands(w) == () and w.data == v.data


def test_the_walk_gives_interior_nodes_newest_first_and_each_leaf_once():
    a, b = Value(1.0), Value(2.0)
    m = a * b
    s = m + a
    out = s * m  # (ab + a)·ab: m is shared, a is used twice
    order, holding, leaves = W.reverse_creation_order(out)
    assert order == [out, s, m] and holding == []
    assert len(leaves) == 2 and set(leaves) == {a, b}
    out.backward()
    assert (a.grad, b.grad) == (12.0, 5.0)  # ∂/∂a = (b + 1)·ab + (ab + a)·b, ∂/∂b = a·ab + (ab + a)·a
    _, holding, _ = W.reverse_creation_order(out)
    assert set(holding) == {out, s, m}  # they hold gradients now
