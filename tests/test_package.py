"""The package as an operator installs it: a wheel built from the tree, installed into a fresh
virtual environment, used from a directory that is not the source tree.

The wheel is built from a copy of the tracked files (as in a fresh clone, without compiled
catalogues), offline: no build isolation, the build requirements are those of the running
environment. The fresh environment gets the wheel with `pip install --no-deps`; its
dependencies are found in the running environment's site-packages through a path file (that
directory's own path files, such as a development install of `assembly`, are not read), so
the `assembly` that runs is the installed one.
"""
from __future__ import annotations

import os
import shutil
import site
import socket
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("tr", "fa", "sv")
STEP_TIMEOUT = 120  # a safety net so that a broken build fails instead of hanging


def _tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True,
                                timeout=STEP_TIMEOUT).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the source tree is not a git checkout")
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tracked = _tracked_files()
    source = tmp_path_factory.mktemp("clone")
    for name in tracked:
        if name.startswith(("tests/", "docs/", "bench/", "tools/", ".ci/")):
            continue
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert not list(source.glob("assembly/translations/*/LC_MESSAGES/*.mo"))  # as in a fresh clone
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True, timeout=STEP_TIMEOUT)
    (built,) = out.glob("assembly-*.whl")
    return built


def test_the_wheel_holds_every_template_static_file_catalogue_and_migration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [name for name in _tracked_files()
            if name.startswith(("assembly/templates/", "assembly/static/", "assembly/translations/",
                                "assembly/migrations/"))]
    assert any(name.startswith("assembly/migrations/versions/") for name in data)
    assert [name for name in data if name not in names] == []
    for locale in LOCALES:
        assert f"assembly/translations/{locale}/LC_MESSAGES/messages.mo" in names
    assert not [name for name in names if name.startswith(("tests/", "instance/")) or "__pycache__" in name]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_an_installed_wheel_migrates_loads_the_demo_and_serves_pages_from_any_directory(wheel, tmp_path):
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    own_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    dependencies = [path for path in site.getsitepackages() if Path(path).is_dir()]
    (own_site / "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, timeout=STEP_TIMEOUT)

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ASSEMBLY_", "FLASK_", "PYTHON")) and key not in {"DATABASE_URL", "REDIS_URL"}}
    env["ASSEMBLY_INSTANCE_PATH"] = str(tmp_path / "instance")

    def run(*args: str) -> str:
        done = subprocess.run([str(python), *args], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=STEP_TIMEOUT)
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = run("-c", "import assembly; print(assembly.__file__)")
    assert where.strip().startswith(str(own_site))
    # Without ASSEMBLY_INSTANCE_PATH an installed package keeps its instance folder in the environment.
    default = subprocess.run([str(python), "-c", "from assembly import instance_path; from flask import Flask; "
                              "print(Flask('assembly', instance_path=instance_path()).instance_path)"],
                             cwd=workdir, env={k: v for k, v in env.items() if k != "ASSEMBLY_INSTANCE_PATH"},
                             capture_output=True, text=True, timeout=STEP_TIMEOUT, check=True).stdout.strip()
    assert default == str(environment / "var" / "assembly-instance")
    assert "database created" in run("-m", "flask", "--app", "assembly", "db", "upgrade")
    assert "database is at head (migration" in run("-m", "flask", "--app", "assembly", "db", "upgrade")
    run("-m", "flask", "--app", "assembly", "demo", "load")
    assert (tmp_path / "instance" / "assembly.sqlite3").is_file()

    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen([str(python), "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                   "assembly:create_app()"], cwd=workdir, env=env,
                                  stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/?lang=tr")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        assert status == 200
        assert '<html lang="tr"' in page
        assert "Giriş yap" in page and ">Log in<" not in page  # the compiled catalogue is used
        status, stylesheet = _get(f"http://127.0.0.1:{port}/static/css/app.css")
        assert status == 200 and stylesheet.strip()
    finally:
        server.terminate()
        server.wait(timeout=STEP_TIMEOUT)
