"""The docs stay true to the code: example scenario, field reference, assumption tags, cited names."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import negotiation
from negotiation.scenario import schema as scenario_module
from negotiation.scenario.loading import default_scenario_text, load_scenario

DOCS = Path(__file__).resolve().parent.parent / "docs"

# names in model-odd.md that are attributes of a Mesa model instance, not of a module
NOT_CODE = {"model.rng"}
# classes the ODD cites without their module
BARE_CLASSES = {
    "Negotiation": "protocol",
    "NegotiationModel": "model",
    "CompiledScenario": "compiled",
    "Runs": "engine",
}


def test_minimal_example_scenario_validates_and_is_minimal() -> None:
    scenario = load_scenario(DOCS / "examples" / "minimal-scenario.toml")
    assert len(scenario.actors) == 2
    assert len(scenario.tables) == 1


@pytest.mark.parametrize(
    "model",
    [
        "Issue",
        "Actor",
        "Strategy",
        "Table",
        "Preference",
        "Linkage",
        "ModelSettings",
        "Distribution",
        "Event",
        "Bloc",
        "BlocMember",
        "Scenario",
    ],
)
def test_scenario_format_documents_every_field(model: str) -> None:
    text = (DOCS / "scenario-format.md").read_text(encoding="utf-8")
    fields = getattr(scenario_module, model).model_fields
    missing = [name for name in fields if f"`{name}`" not in text]
    assert not missing, f"{model} fields not in docs/scenario-format.md: {missing}"


def test_every_assumption_tag_of_the_default_scenario_is_documented() -> None:
    tags = set(re.findall(r"ASSUMPTION (A\d+)", default_scenario_text()))
    documented = set(re.findall(r"\bA\d+\b", (DOCS / "assumptions.md").read_text(encoding="utf-8")))
    assert tags, "the default scenario has no ASSUMPTION tags"
    assert tags <= documented, f"tags not in docs/assumptions.md: {sorted(tags - documented)}"


def _modules() -> dict[str, str]:
    """Every module of the package by its short name (``protocol``) and its dotted path."""
    found = {"negotiation": "negotiation"}
    for info in pkgutil.walk_packages(negotiation.__path__, "negotiation."):
        if not info.name.startswith("negotiation.dashboard"):
            found[info.name.rsplit(".", 1)[1]] = info.name
            found[info.name] = info.name
    return found


MODULES = _modules()


def _resolve(name: str) -> object:
    parts = name.split(".")
    if parts[0] in BARE_CLASSES:
        parts = [BARE_CLASSES[parts[0]], *parts]
    # the longest leading part that names a module, then attributes
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if module in MODULES:
            target: object = importlib.import_module(MODULES[module])
            for part in parts[cut:]:
                target = getattr(target, part)
            return target
    raise ImportError(name)


def test_code_names_cited_in_the_odd_exist() -> None:
    text = (DOCS / "model-odd.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"`((?:negotiation\.)?[A-Za-z_]+(?:\.[A-Za-z_]+)+)`", text))
    checked = [
        name
        for name in sorted(cited - NOT_CODE)
        if name.split(".")[0] in MODULES or name.split(".")[0] in BARE_CLASSES
    ]
    assert len(checked) > 20
    broken = []
    for name in checked:
        try:
            _resolve(name)
        except (AttributeError, ImportError):
            broken.append(name)
    assert not broken, f"docs/model-odd.md cites names the code does not have: {broken}"


def _python_imports(markdown: str) -> list[str]:
    """Every ``from negotiation ... import ...`` line in the Python code blocks of a Markdown text."""
    blocks = re.findall(r"```python\n(.*?)```", markdown, re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if re.match(r"\s*(from|import) negotiation\b", line)
    ]


@pytest.mark.parametrize("page", ["README.md", *sorted(p.name for p in DOCS.glob("*.md"))])
def test_every_import_shown_in_the_docs_works(page: str) -> None:
    path = DOCS.parent / page if page == "README.md" else DOCS / page
    for line in _python_imports(path.read_text(encoding="utf-8")):
        exec(compile(line, f"{page}: {line}", "exec"), {})  # an import statement, nothing else


def test_every_test_cited_on_the_faults_page_exists() -> None:
    text = (DOCS / "faults-and-guarantees.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_\w+\.py)(?:::(\w+))?", text))
    assert len(cited) > 30
    tests = DOCS.parent / "tests"
    missing = []
    for file, name in sorted(cited):
        path = tests / file
        if not path.is_file() or (name and f"def {name}(" not in path.read_text(encoding="utf-8")):
            missing.append(f"{file}::{name}" if name else file)
    assert not missing, f"docs/faults-and-guarantees.md cites tests that do not exist: {missing}"
    for name in re.findall(r"`(negotiation(?:\.\w+)+)`", text):
        _resolve(name)  # every module and function it names exists


# --- pictures: made by docs/scripts/doc_images.py from the current model -------------------------

IMAGES = DOCS / "img"


def _doc_images():
    import importlib.util

    spec = importlib.util.spec_from_file_location("doc_images", DOCS / "scripts" / "doc_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_doc_picture_was_made_by_the_current_model() -> None:
    """Issue item 5/6: the docs showed US-China at 80% after the model had moved to 64.5%."""
    import json

    manifest = json.loads((IMAGES / "MANIFEST.json").read_text(encoding="utf-8"))
    current = _doc_images().model_fingerprint()
    stale = sorted(p.name for p in IMAGES.glob("*.png") if manifest.get(p.stem, {}).get("model") != current)
    assert not stale, (
        f"{', '.join(stale)}: made by an older model (or by hand); "
        "re-run .venv/bin/python docs/scripts/doc_images.py and commit docs/img"
    )


def test_every_doc_picture_is_shown_and_every_shown_picture_exists() -> None:
    text = " ".join(p.read_text(encoding="utf-8") for p in [*DOCS.glob("*.md"), DOCS.parent / "README.md"])
    shown = set(re.findall(r"img/([\w.-]+\.png)", text))
    assert shown == {p.name for p in IMAGES.glob("*.png")}


def test_the_model_fingerprint_ignores_comments_and_docstrings_but_not_code(tmp_path: Path) -> None:
    module = _doc_images()
    root = DOCS.parent
    for pattern in module.MODEL_SOURCES:
        for path in root.glob(pattern):
            target = tmp_path / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    first = module.model_fingerprint(tmp_path)
    assert first == module.model_fingerprint(root)
    engine = tmp_path / "negotiation" / "bargaining" / "engine.py"
    text = engine.read_text(encoding="utf-8")
    engine.write_text(
        text.replace('"""Runs of', '"""Reworded: runs of', 1) + "\n# a comment\n", encoding="utf-8"
    )
    assert module.model_fingerprint(tmp_path) == first
    data = next((tmp_path / "negotiation" / "scenario" / "data").glob("*.toml"))
    data.write_text(
        data.read_text(encoding="utf-8").replace("deadline = 24", "deadline = 25", 1), encoding="utf-8"
    )
    assert module.model_fingerprint(tmp_path) != first
