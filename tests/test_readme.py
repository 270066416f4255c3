"""The README's code that claims to run does run: its pytest example, as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_pytest_example_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    after = readme.split("runs as written:", 1)[1]
    code = re.search(r"```python\n(.*?)```", after, re.S)
    assert code is not None
    example = tmp_path / "test_readme_example.py"
    example.write_text(code.group(1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOUT_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
