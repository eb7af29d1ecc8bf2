"""The import rules of the layout (README.md "Layout"), checked on every module's syntax tree.

- Nothing under survey/ imports pandas: the core writes plain rows.
- Nothing under survey/ imports admin/, except the app factory that wires both.
- Only survey/sealed_answers.py seals or opens a response's answers: the
  sealed-answers primitives of survey/crypto.py (the response AAD, `seal`,
  `open_sealed`) and the format's name appear nowhere else in the app.
- Only the command-line layer (survey/cli.py and admin/cli.py) uses click, and
  nothing but the app factory and the layer itself imports it.
- No module imports another's private (underscored) names, and module-level imports
  between the app's modules form no cycle.
- The benchmarks use public names only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("survey", "admin", "bench")

# What only the sealed-answers module (and crypto.py, which defines them) may use.
SEALED_ANSWERS_MODULE = "survey/sealed_answers.py"
CRYPTO_MODULE = "survey/crypto.py"
ANSWER_PRIMITIVES = frozenset({"response_aad", "seal", "open_sealed"})
ANSWERS_FORMAT = "chorus-answers/"
CLI_LAYER = ("survey/cli.py", "admin/cli.py")
CLI_MODULES = frozenset({"survey.cli", "admin.cli"})
APP_FACTORY = "survey/__init__.py"


def modules(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the repository, syntax tree) of every module in `packages`."""
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text("utf-8"), str(path))


def imported_modules(tree: ast.Module) -> Iterator[str]:
    """Every module an import statement names, anywhere in the module (lazy ones too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def top_level(module: str) -> str:
    return module.split(".")[0]


def crypto_names(tree: ast.Module) -> set[str]:
    """The names under which a module binds survey.crypto (`from survey import crypto`,
    `import survey.crypto as c`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "survey":
            names |= {a.asname or a.name for a in node.names if a.name == "crypto"}
        elif isinstance(node, ast.Import):
            names |= {a.asname for a in node.names if a.name == "survey.crypto" and a.asname}
    return names


def answer_primitive_uses(tree: ast.Module) -> list[str]:
    """Where a module reaches for the sealed-answers primitives or names the format."""
    aliases = crypto_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "survey.crypto":
            found += [f"imports {a.name}" for a in node.names if a.name in ANSWER_PRIMITIVES]
        elif isinstance(node, ast.Attribute) and node.attr in ANSWER_PRIMITIVES:
            base = node.value
            if (isinstance(base, ast.Name) and base.id in aliases) or (
                isinstance(base, ast.Attribute)
                and base.attr == "crypto"
                and isinstance(base.value, ast.Name)
                and base.value.id == "survey"
            ):
                found.append(f"line {node.lineno}: crypto.{node.attr}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and ANSWERS_FORMAT in node.value
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_nothing_under_survey_imports_pandas():
    offenders = [
        path
        for path, tree in modules("survey")
        if any(top_level(m) == "pandas" for m in imported_modules(tree))
    ]
    assert offenders == []


def test_survey_imports_admin_only_in_the_app_factory():
    offenders = [
        path
        for path, tree in modules("survey")
        if path != "survey/__init__.py"
        and any(top_level(m) == "admin" for m in imported_modules(tree))
    ]
    assert offenders == []


def test_only_the_sealed_answers_module_seals_or_opens_answers():
    offenders = {
        path: uses
        for path, tree in modules(*APP_PACKAGES)
        if path not in (SEALED_ANSWERS_MODULE, CRYPTO_MODULE)
        and (uses := answer_primitive_uses(tree))
    }
    offenders |= {
        path: uses
        for path in ("wsgi.py",)
        if (uses := answer_primitive_uses(ast.parse((ROOT / path).read_text("utf-8"))))
    }
    assert offenders == {}


def test_the_sealed_answers_module_is_where_answers_are_sealed():
    # The rule above is only worth something if it sees the real uses.
    [(_, tree)] = [m for m in modules("survey") if m[0] == SEALED_ANSWERS_MODULE]
    uses = " ".join(answer_primitive_uses(tree))
    assert all(f"crypto.{name}" in uses for name in ANSWER_PRIMITIVES)


def test_only_the_cli_layer_uses_click():
    offenders = [
        f"{path}: {module}"
        for path, tree in modules("survey", "admin")
        if path not in CLI_LAYER
        for module in imported_modules(tree)
        if top_level(module) == "click" or module == "flask.cli"
    ]
    assert offenders == []


def test_no_web_module_imports_the_cli_layer():
    offenders = [
        f"{path}: {module}"
        for path, tree in modules("survey", "admin")
        if path not in (*CLI_LAYER, APP_FACTORY)
        for module in imported_modules(tree)
        if module in CLI_MODULES
        or (module in ("survey", "admin") and _imports_name(tree, module, "cli"))
    ]
    assert offenders == []


def _imports_name(tree: ast.Module, module: str, name: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == module
        and any(a.name == name for a in node.names)
        for node in ast.walk(tree)
    )


def test_no_module_imports_private_names_of_another():
    offenders = [
        f"{path}: {node.module}.{alias.name}"
        for path, tree in modules("survey", "admin")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and top_level(node.module) in ("survey", "admin")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert offenders == []


def module_name(path: str) -> str:
    name = path.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def module_level_imports(tree: ast.Module, known: set[str]) -> set[str]:
    """The app modules a module imports when it is loaded (not lazily, in a function)."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found & known


def test_module_level_imports_form_no_cycle():
    trees = {module_name(path): tree for path, tree in modules("survey", "admin")}
    known = set(trees)
    graph = {name: module_level_imports(tree, known) - {name} for name, tree in trees.items()}
    # A package's __init__ may import its own modules (to wire them); a module importing
    # its package is then not a cycle worth failing on, so packages are left out.
    packages = {name for name in known if any(other.startswith(name + ".") for other in known)}
    graph = {n: deps - packages for n, deps in graph.items() if n not in packages}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*stack[stack.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_benchmarks_use_no_private_names():
    offenders = [
        f"{path}: {node.module}.{alias.name}"
        for path, tree in modules("bench")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from survey import crypto\ncrypto.open_sealed(k, b, a)", True),
        ("from survey import crypto as c\nc.response_aad(1, 'x', 1)", True),
        ("import survey.crypto\nsurvey.crypto.seal(k, p, a)", True),
        ("from survey.crypto import open_sealed", True),
        ("x = 'chorus-answers/1'", True),
        ("from survey import crypto\ncrypto.open_key(k, b, a)", False),
        ("from survey import crypto\ncrypto.wrap_aad(1, 'inbox:x')", False),
        ("letter.seal(x)", False),
    ],
)
def test_the_rule_sees_every_spelling(source, found):
    assert bool(answer_primitive_uses(ast.parse(source))) is found
