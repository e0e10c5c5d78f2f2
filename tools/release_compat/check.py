"""The check of each release against what the course passes, and its report."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from .releases import DEFAULT_CACHE, floors, index_versions, releases_in_range, wheel_path
from .sources import PACKAGES, ROOT, Import, Use, collect_imports, collect_uses, course_sources
from .wheels import CALL_PACKAGE, READERS, Wheel, check_accelerate_against_trainers, requires_python


@dataclass
class Result:
    package: str
    version: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts that break nothing the course runs

    @property
    def ok(self) -> bool:
        return not self.problems


def check_release(package: str, wheel: Wheel, uses: list[Use], imports: set[Import]) -> Result:
    result = Result(package, wheel.version)
    python = requires_python(wheel)
    if python:  # pip gives an older interpreter an older release of the range: a note, not a break
        result.notes.append(f"Requires-Python {python}")
    accepted = READERS[package](wheel)
    result.checked += len(accepted)  # each signature read is a function or class the course calls
    for use in uses:
        if CALL_PACKAGE.get(use.call) != package:
            continue
        names = accepted[use.call]
        result.checked += 1
        if use.gate is not None and (use.gate.feature in names) != use.gate.present:
            continue  # the lesson's feature test keeps this argument away from this release
        if use.keyword not in names:
            gate = (
                f" (under the test {use.gate.feature!r} {'in' if use.gate.present else 'not in'})" if use.gate else ""
            )
            result.problems.append(f"{use.call}({use.keyword}=...) in {use.where}{gate}: no such argument")
    for imported in sorted(imports, key=lambda item: (item.module, item.name)):
        if imported.module.split(".")[0] != package:
            continue
        result.checked += 1
        if not wheel.defines(imported.module, imported.name):
            message = f"`from {imported.module} import {imported.name}`: not defined in {package} {wheel.version}"
            if imported.guarded:  # reached only on a path this release does not take: say so, do not fail
                result.notes.append(message + " (a guarded import: only reached where the release has it)")
            else:
                result.problems.append(message)
    return result


def check_all(cache: Path = DEFAULT_CACHE, packages=PACKAGES, root: Path = ROOT, echo=print) -> list[Result]:
    sources = course_sources(root)
    uses, imports = collect_uses(sources), collect_imports(sources)
    all_floors = floors(root)
    wheels = {
        package: [
            Wheel(wheel_path(package, version, cache))
            for version in releases_in_range(index_versions(package), all_floors[package])
        ]
        for package in packages
    }
    results = []
    for package in packages:
        for wheel in wheels[package]:
            result = check_release(package, wheel, uses, imports)
            if package == "accelerate":
                trainers = wheels.get("transformers") or [
                    Wheel(wheel_path("transformers", version, cache))
                    for version in releases_in_range(index_versions("transformers"), all_floors["transformers"])
                ]
                check_accelerate_against_trainers(wheel, trainers, result)
            echo(f"{package} {wheel.version}: {'ok' if result.ok else 'FAILS'} ({result.checked} checks)")
            for line in result.problems + [f"note: {note}" for note in result.notes]:
                echo(f"    {line}")
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.release_compat",
        description="Does every release in the course's declared range accept what the lessons and course_utils pass "
        "to it?",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the wheels are kept")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args(argv)
    results = check_all(arguments.cache, arguments.packages.split(","))
    if arguments.json:
        arguments.json.write_text(json.dumps([vars(result) for result in results], indent=2) + "\n")
    failing = [f"{result.package} {result.version}" for result in results if not result.ok]
    print(f"{len(results)} release(s) checked, {len(failing)} failing{': ' + ', '.join(failing) if failing else ''}")
    return 1 if failing else 0
