"""Which part of the package may import which: the layering lives here, checked on every import in the source.

Every ``import``/``from ... import`` counts, inside functions and under ``TYPE_CHECKING`` too: a lazy import is
still a dependency. The parts are the top-level subpackages and modules of ``stillframe``; ``errors`` and the
package root (``__version__``) may be imported from anywhere. Each part's rule and its reason, in one line:

- errors: the error hierarchy is the bottom layer; it imports nothing of stillframe.
- domain: wire models and protocol values stay pure (no storage, no media, no handler), so every layer can use them.
- settings: read once from the environment; it knows no service it configures.
- observability: the logger, metrics and tracer; usable by every layer because it imports none of them.
- resources: the process-wide S3 client and thread pools (one cache idiom); it imports no other part, so the
  adapters, the catalog, the engine and delivery all take theirs from it.
- ebml: Matroska's element framing (IDs, sizes, writing elements); a leaf every reader and writer of it shares.
- media: PyAV over bytes; it knows no stream, key, store or request (only the uploader header names, from domain).
- storage: the ObjectStore port and its adapters store bytes by key and know nothing of what the keys mean.
- access: access keys and SigV4 checks; they use the domain's models, never a store or an operation.
- catalog: streams and fragments over the ObjectStore port; no media decoding, operation, API, server or CLI.
- images: the GetImages engine reads the catalog and decodes media; it never reaches an adapter or the API.
- delivery: image delivery jobs render through images and write through storage; no operation, API or CLI.
- ingest: the server's write path (split, store, queue delivery); no operation, API, server or client code.
- operations: one function per operation over ports; never the API, the server, the CLI or the composition root.
- wiring: the composition root builds the services and operations; it knows no transport (API, server, CLI).
- api: the resolver, routes, keys guard and error shapes over the operations; no entry point, server or CLI.
- handlers: every Lambda entry point, wiring plus one call each (the API's into the resolver); no server or CLI.
- server: ``stillframe serve``'s HTTP front turns sockets into the API handler's proxy events; no store or catalog.
- client: the client side's signing and endpoints; nothing of the server it talks to.
- uploader: put-media's chunked, retried uploads over the client; nothing of the server's write path.
- viewer: static files served by ``server/site.py``; no Python beyond its package marker.
- cli: the top: the commands may import any part; only tests (and tools outside the package) are out of reach.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lambda_src" / "stillframe"
INFRA = ROOT / "infra"
ANYWHERE = {"stillframe", "errors"}  # the package root (``__version__``) and the error hierarchy

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "domain": set(),
    "settings": set(),
    "observability": set(),
    "resources": set(),
    "ebml": set(),
    "media": {"domain", "ebml"},
    "storage": {"resources", "settings"},
    "access": {"domain"},
    "catalog": {"domain", "resources", "storage"},
    "images": {"domain", "catalog", "media", "resources"},
    "delivery": {"domain", "catalog", "images", "media", "observability", "resources", "settings", "storage"},
    "ingest": {"domain", "catalog", "delivery", "media", "observability"},
    "operations": {
        "domain",
        "catalog",
        "delivery",
        "images",
        "ingest",
        "media",
        "observability",
        "settings",
        "storage",
    },
    "wiring": {"domain", "catalog", "delivery", "operations", "settings", "storage"},
    "api": {"domain", "access", "observability", "operations", "settings"},
    "handlers": {"api", "delivery", "domain", "observability", "operations", "settings", "wiring"},
    "server": {"domain", "access", "api"},
    "client": set(),
    "uploader": {"domain", "client", "ebml"},
    "viewer": set(),
    "cli": {"*"},
}


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every module name ``path`` imports, anywhere in the file; ``from a import b`` yields ``a.b``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(*trees: tuple[Path, str]) -> dict[str, set[str]]:
    """Module -> the modules of the same trees it imports (a name resolves to its longest known module)."""
    files = {module_name(path, base): path for base, top in trees for path in (base / top).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = set()
        for name in imported_names(path, module):
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def part_of(module: str) -> str:
    """``stillframe.catalog.keys`` -> ``catalog``; the package root is ``stillframe``."""
    return module.split(".")[1] if "." in module else module


def part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph((PACKAGE.parent, "stillframe")).items():
        graph.setdefault(part_of(module), set()).update(part_of(target) for target in targets)
    return {part: targets - {part} for part, targets in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_part_has_a_rule_with_its_reason() -> None:
    # Given the package's parts and the rules above
    parts = {part_of(module_name(path, PACKAGE.parent)) for path in PACKAGE.rglob("*.py")} - ANYWHERE
    documented = set(re.findall(r"^- (\w+):", __doc__ or "", re.MULTILINE))
    # Then a new part cannot land without deciding (and saying why) what it may import
    assert parts == set(ALLOWED) - {"errors"}
    assert documented == set(ALLOWED)


def allowed_for(part: str) -> set[str]:
    """What ``part`` may import: its rule, plus the root and errors unless it is one of them (they import nothing)."""
    if part in ANYWHERE:
        return set()
    return ALLOWED[part] | ANYWHERE


def test_each_part_imports_only_what_its_rule_allows() -> None:
    # Given every import in the package, grouped by part
    graph = part_graph()
    # Then each part imports only the parts its rule names
    broken = sorted(
        f"{part} imports {sorted(extra)}"
        for part, targets in graph.items()
        if "*" not in allowed_for(part) and (extra := targets - allowed_for(part))
    )
    assert broken == [], "move the code, or change the rule and its reason in this module's docstring"


def test_the_rules_themselves_form_layers() -> None:
    # Given the allowed imports between parts; Then no two parts may import each other, even through others
    rules = {part: {target for target in allowed if target != "*"} for part, allowed in ALLOWED.items()}
    assert cycles(rules) == []


def test_the_package_imports_no_tests_tools_or_infra_and_infra_not_the_package() -> None:
    # Given every import of the runtime package and of the CDK app
    outside = {"tests", "bench", "scripts", "tools", "infra"}
    reached = set()
    for base, top, refused in ((PACKAGE.parent, "stillframe", outside), (ROOT, "infra", {"stillframe"})):
        for path in (base / top).rglob("*.py"):
            module = module_name(path, base)
            reached |= {f"{module}: {name}" for name in imported_names(path, module) if name.split(".")[0] in refused}
    # Then the Lambda package ships alone, and infra keeps its own copies rather than importing the runtime
    assert reached == set()


def test_no_two_modules_import_each_other() -> None:
    # Given every module of the package and of infra, with every import in each
    graph = import_graph((PACKAGE.parent, "stillframe"), (ROOT, "infra"))
    # Then no pair imports each other (a split that did was cut by size, not along the dependency)
    pairs = sorted(f"{a} <-> {b}" for a, targets in graph.items() for b in targets if a < b and a in graph[b])
    assert pairs == []


def test_no_longer_import_circles() -> None:
    # Given the same graph; Then no module reaches itself through others either
    assert cycles(import_graph((PACKAGE.parent, "stillframe"), (ROOT, "infra"))) == []
