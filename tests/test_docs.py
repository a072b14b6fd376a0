"""The documentation keeps up with the code: every setting and every demo login is described."""
from __future__ import annotations

import re
from pathlib import Path

from assembly import config
from assembly.demo import DEMO_PASSWORD, MUNICIPALITIES

ROOT = Path(__file__).resolve().parent.parent


def _documented_settings() -> dict[str, str]:
    """{setting: its environment-variable column} from the table in docs/configuration.md."""
    rows = {}
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`([A-Z0-9_]+)`", cells[0]) if len(cells) >= 4 else None
        if found:
            rows[found[1]] = cells[1]
    return rows


def test_every_setting_is_in_the_configuration_table(tmp_path):
    settings = set(config.defaults(tmp_path)) | {"SECRET_KEY"}
    missing = settings - set(_documented_settings())
    assert not missing, f"docs/configuration.md does not describe {sorted(missing)}"


def test_every_environment_variable_is_named_in_the_table():
    documented = _documented_settings()
    readable = config._ENV_STRINGS + config._ENV_INTS + config._ENV_DECIMALS + config._ENV_BOOLS
    unnamed = [name for name in readable if f"`{name}`" not in documented.get(name, "")]
    assert not unnamed, f"docs/configuration.md does not give the environment variable of {unnamed}"
    claimed = [name for name, column in documented.items()
               if column.startswith("`") and name not in readable]
    assert not claimed, f"docs/configuration.md offers environment variables the code does not read: {claimed}"


def test_the_readme_lists_every_demo_login():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    logins = {"admin"}
    for municipality in MUNICIPALITIES:
        logins |= {login for login, _name, _body in municipality.staff}
        for hood in municipality.neighbourhoods:
            logins |= {hood.muhtar[0]} | {person[0] for person in hood.residents + hood.pending}
    missing = sorted(login for login in logins if f"`{login}`" not in readme)
    assert not missing, f"README.md does not list the demo logins {missing}"
    assert DEMO_PASSWORD in readme
