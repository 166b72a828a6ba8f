"""`make audit`: known vulnerabilities with a fix available, in the Python environment (pip-audit)
and in the front-end packages (npm audit). Exit 1 on any such finding, and also when an audit
could not run at all: an audit that skipped everything is not a pass.

pip-audit asks PyPI's JSON API per release (/pypi/<name>/<version>/json); npm audit posts to
the registry's advisories endpoint. Both need those services, not only package downloads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def python_findings() -> tuple[list[str], list[str]]:
    """(vulnerabilities with a fix, reasons the audit could not run)."""
    done = subprocess.run(
        [str(BIN / "pip-audit"), "--skip-editable", "-f", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return [], [f"pip-audit gave no report: {done.stderr.strip()[-500:]}"]
    audited = [d for d in report["dependencies"] if not d.get("skip_reason")]
    skipped = [d for d in report["dependencies"] if "not found on PyPI" in d.get("skip_reason", "")]
    problems = []
    if skipped and not audited:
        problems.append(
            f"pip-audit audited nothing: PyPI's per-release JSON API did not answer for any of "
            f"{len(skipped)} packages (e.g. {skipped[0]['name']})"
        )
    fixable = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions'])})"
        for d in audited
        for v in d.get("vulns", [])
        if v.get("fix_versions")
    ]
    return fixable, problems


def npm_findings() -> tuple[list[str], list[str]]:
    """(advisories with a fix available, reasons the audit could not run)."""
    done = subprocess.run(
        ["npm", "audit", "--json"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return [], [f"npm audit gave no report: {done.stderr.strip()[-500:]}"]
    if "vulnerabilities" not in report:
        return [], [f"npm audit could not reach its advisories: {report.get('message', report)}"]
    fixable = [
        f"{name} ({info.get('severity')})"
        for name, info in report["vulnerabilities"].items()
        if info.get("fixAvailable")
    ]
    return fixable, []


def main() -> int:
    """Print the findings; 1 when there is one, or when an audit could not run."""
    failed = False
    for label, (fixable, problems) in (
        ("Python (pip-audit)", python_findings()),
        ("front end (npm audit)", npm_findings()),
    ):
        for line in problems:
            print(f"{label}: cannot audit: {line}")
        for line in fixable:
            print(f"{label}: vulnerable, fix available: {line}")
        if not problems and not fixable:
            print(f"{label}: no known vulnerability with a fix available")
        failed = failed or bool(problems or fixable)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
