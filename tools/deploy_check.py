"""The deployment check that `.ci/run` runs: the documented deployment, end to end, on one machine.

1. Build the wheel from the tree and install it into a fresh virtual environment outside the
   source tree (its dependencies come from the running environment, offline, through a path file).
2. Migrate a fresh PostgreSQL database and load the demo, from a directory outside the tree.
3. Start two gunicorn app servers in production mode (two workers each, rate limits in Redis,
   TRUSTED_PROXIES=1) behind a real nginx whose site is the one in docs/operations.md (only
   addresses, ports, certificate and paths replaced), with TLS from a certificate made here.
4. Through nginx, with requests alternating between the servers and coming from several client
   addresses (127.0.0.x): log in, support, vote, forward, record an outcome, read it back.
5. Check that the limiter counted the real client addresses (not nginx's), that a flood of bad
   logins from other addresses does not lock out a correct one, that a flood from one address is
   stopped by the shared counters, and that the tick run on both servers at once closes a ballot
   exactly once.

Usage: python -m tools.deploy_check   (needs nginx, PostgreSQL at TEST_DATABASE_URL and Redis at
TEST_REDIS_URL; prints what it checks and exits 1 at the first thing that is wrong).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import site
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-assembly-2026"
STEP_TIMEOUT = 180
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)
    print(f"ok  {what}", flush=True)


def run(*args, cwd=None, env=None, timeout=STEP_TIMEOUT) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_ports(count: int) -> list[int]:
    """`count` different free ports: the probes are held open together, so that the kernel cannot
    hand out one port twice (asked one at a time, it sometimes did, and nginx then found its
    plain-HTTP server on the TLS server's port)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                raise CheckFailed(f"process on port {port} exited:\n{log.read_text()}") from None
            if time.monotonic() > deadline:
                raise CheckFailed(f"nothing answers on port {port}") from None
            time.sleep(0.2)


# --- building and installing ---------------------------------------------------------------------------

def build_and_install(work: Path) -> Path:
    tracked = run("git", "ls-files", "-z", cwd=ROOT).split("\0")
    source = work / "clone"
    for name in tracked:
        if name and (ROOT / name).is_file() and not name.startswith(("tests/", "bench/", "docs/screenshots/")):
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    dist = work / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", dist,
        source)
    (wheel,) = dist.glob("assembly-*.whl")
    environment = work / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (purelib / "dependencies.pth").write_text("\n".join(p for p in site.getsitepackages() if Path(p).is_dir()) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel)
    where = run(python, "-c", "import assembly; print(assembly.__file__)", cwd=work).strip()
    check(where.startswith(str(purelib)), f"the wheel {wheel.name} is installed in a fresh environment")
    return python


# --- TLS and nginx ---------------------------------------------------------------------------------------

def make_certificate(work: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = work / "site.crt", work / "site.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def nginx_site(app_ports: list[int], https_port: int, http_port: int, cert: Path, key: Path, static: Path) -> str:
    """The site from docs/operations.md with this machine's addresses, ports and paths."""
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    site_text = re.search(r"```nginx\n(.*?)```", docs, re.DOTALL).group(1)
    replacements = [
        ("    server 127.0.0.1:8000;", "\n".join(f"    server 127.0.0.1:{port};" for port in app_ports)),
        ("    listen 80;", f"    listen 127.0.0.1:{http_port};"),
        ("    listen 443 ssl http2;", f"    listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/letsencrypt/live/assembly.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/assembly.example.org/privkey.pem", str(key)),
        ("/srv/assembly/venv/lib/python3.11/site-packages/assembly/static/", f"{static}/"),
        ("https://assembly.example.org$request_uri", f"https://127.0.0.1:{https_port}$request_uri"),
        # Not on port 443 here: the host the app sees must carry the port, as the browser's Referer does.
        ("proxy_set_header Host $host;", "proxy_set_header Host $http_host;"),
        ("proxy_set_header X-Forwarded-Host $host;", "proxy_set_header X-Forwarded-Host $http_host;"),
    ]
    for old, new in replacements:
        if old not in site_text:
            raise CheckFailed(f"the nginx site in docs/operations.md no longer contains {old!r}")
        site_text = site_text.replace(old, new)
    site_text = "\n".join(line for line in site_text.splitlines() if "[::]" not in line)
    return site_text.replace("server_name assembly.example.org;", "server_name 127.0.0.1;")


def start_nginx(work: Path, site_text: str) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = work / "nginx"
    for folder in ("logs", "temp"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the static files in the temp folder
    config = prefix / "nginx.conf"
    config.write_text(f"""{user}worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
{site_text}
}}
""")
    run(nginx, "-t", "-p", prefix, "-c", config)
    log = prefix / "logs" / "stderr.log"
    return subprocess.Popen([nginx, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


# --- a browser of sorts -------------------------------------------------------------------------------------

class Browser:
    """Cookies, CSRF tokens and a fixed client address (127.0.0.x as the source of the connection)."""

    def __init__(self, port: int, context: ssl.SSLContext, address: str) -> None:
        self.port, self.context, self.address = port, context, address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30,
                                                 source_address=(self.address, 0))
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Over HTTPS Flask-WTF wants a Referer of the same origin, as browsers send it.
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        found = {k.lower(): v for k, v in response.getheaders()}
        connection.close()
        return response.status, text, found

    def get(self, path: str) -> str:
        status, text, _headers = self.request("GET", path)
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status}")
        return text

    def post(self, path: str, form: dict, token_from: str | None = None) -> tuple[int, str, dict]:
        page = self.get(token_from or path)
        token = CSRF.search(page)
        if token is None:
            raise CheckFailed(f"no CSRF token on {token_from or path}")
        return self.request("POST", path, {"csrf_token": token.group(1), **form})

    def login(self, login: str, password: str = DEMO_PASSWORD) -> int:
        status, _text, _headers = self.post("/account/login", {"email": f"{login}@assembly.example",
                                                               "password": password})
        return status


# --- the check ------------------------------------------------------------------------------------------------

def client_key(secret: str, address: str) -> str:
    """assembly.rate_limits.hashed_key("client", address), computed independently."""
    message = b"assembly rate-limit key\0client\0" + address.encode()
    return "client:" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def main() -> int:
    database_base = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis
    from sqlalchemy import create_engine, text

    work = Path(tempfile.mkdtemp(prefix="assembly-deploy-"))
    processes: list[subprocess.Popen] = []
    name = f"assembly_deploy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = database_base.rsplit("/", 1)[0] + "/" + name
    try:
        python = build_and_install(work)
        https_port, http_port, *app_ports = free_ports(4)
        secret = secrets.token_hex(32)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("ASSEMBLY_", "FLASK_", "RATELIMIT_", "PYTHON"))}
        env.update(ASSEMBLY_ENV="production", SECRET_KEY=secret, BALLOT_SEAL_KEY=secrets.token_hex(32),
                   DATABASE_URL=database_url, REDIS_URL=redis_url, BASE_URL=f"https://127.0.0.1:{https_port}",
                   TRUSTED_PROXIES="1", WEB_CONCURRENCY="2", LOAD_DEMO_DATA="1",
                   ASSEMBLY_INSTANCE_PATH=str(work / "instance"))
        outside = work / "elsewhere"
        outside.mkdir()
        flask = [python, "-m", "flask", "--app", "assembly"]
        check("database created" in run(*flask, "db", "upgrade", cwd=outside, env=env),
              "flask --app assembly db upgrade migrates a fresh PostgreSQL database")
        check("demo loaded" in run(*flask, "demo", "load", cwd=outside, env=env), "flask --app assembly demo load")

        logs = []
        for number, port in enumerate(app_ports, 1):
            log = work / f"gunicorn{number}.log"
            logs.append(log)
            processes.append(subprocess.Popen(
                [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
                 "--no-control-socket",
                 "assembly:create_app()"], cwd=outside, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT))
        for port, process, log in zip(app_ports, processes, logs):
            wait_for_port(port, process, log)
        static = Path(run(python, "-c", "import assembly, pathlib; print(pathlib.Path(assembly.__file__).parent"
                                        " / 'static')", cwd=outside).strip())
        cert, key = make_certificate(work)
        nginx = start_nginx(work, nginx_site(app_ports, https_port, http_port, cert, key, static))
        processes.append(nginx)
        wait_for_port(https_port, nginx, work / "nginx" / "logs" / "stderr.log")
        context = ssl.create_default_context(cafile=str(cert))
        check(True, f"two gunicorn servers (ports {app_ports}) behind nginx on https://127.0.0.1:{https_port}")

        anonymous = Browser(https_port, context, "127.0.0.2")
        status, _text, headers = anonymous.request("GET", "/healthz")
        check(status == 200 and "strict-transport-security" in headers, "/healthz through nginx, with HSTS")
        status, stylesheet, _headers = anonymous.request("GET", "/static/css/app.css")
        check(status == 200 and stylesheet.strip(), "nginx serves the static files from the installed package")

        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            def one(sql: str, **params):
                return connection.execute(text(sql), params).one()

            hood = "caferaga"
            # An open, visible proposal and one of its supporters (the demo's neighbourhoods are small and
            # everybody already supports everything): the support is withdrawn and given again.
            support_hood, open_proposal, supporter = one(
                "SELECT n.slug, p.id, u.email FROM proposals p JOIN neighbourhoods n ON n.id = p.neighbourhood_id "
                "JOIN supports s ON s.proposal_id = p.id JOIN users u ON u.id = s.user_id "
                "WHERE p.status = 'open' AND p.hidden_at IS NULL AND u.email IS NOT NULL "  # who can log in here
                "ORDER BY p.id, u.id LIMIT 1")
            assembly_id, ballot_id = one("SELECT a.id, b.id FROM assemblies a JOIN ballots b ON b.assembly_id = a.id "
                                         "JOIN neighbourhoods n ON n.id = a.neighbourhood_id "
                                         "WHERE n.slug = :s AND a.status = 'voting' ORDER BY a.id LIMIT 1", s=hood)
            forwarded = one("SELECT p.id FROM proposals p JOIN neighbourhoods n ON n.id = p.neighbourhood_id "
                            "WHERE n.slug = :s AND p.status = 'forwarded' ORDER BY p.id LIMIT 1", s=hood)[0]
            body_id = one("SELECT id FROM bodies WHERE slug = 'emniyet'")[0]
            connection.rollback()

        # --- the journey, alternating between the servers -------------------------------------------------
        neighbour = Browser(https_port, context, "127.0.0.3")
        check(neighbour.login(supporter.split("@")[0]) == 302, "a resident logs in")

        def supports() -> int:
            with engine.connect() as connection:
                return connection.execute(text(
                    "SELECT count(*) FROM supports s JOIN users u ON u.id = s.user_id "
                    "WHERE s.proposal_id = :p AND u.email = :e"), {"p": open_proposal, "e": supporter}).scalar()

        proposal_page = f"/n/{support_hood}/p/{open_proposal}"
        neighbour.post(f"{proposal_page}/support", {"withdraw": "1"}, token_from=proposal_page)
        check(supports() == 0, "the resident withdraws a support")
        status, _t, headers = neighbour.post(f"{proposal_page}/support", {}, token_from=proposal_page)
        check(status in (302, 303) and supports() == 1, "the resident supports the proposal again")
        resident = Browser(https_port, context, "127.0.0.3")
        check(resident.login("zeynep") == 302, "a resident of Caferağa logs in")
        page = resident.get(f"/n/{hood}/assemblies/{assembly_id}")
        choice = re.search(r'name="approve" value="(\d+)"', page)
        check(choice is not None, "the ballot offers its items")
        status, _t, headers = resident.post(f"/n/{hood}/assemblies/{assembly_id}/vote", {"approve": choice.group(1)},
                                            token_from=f"/n/{hood}/assemblies/{assembly_id}")
        check(status == 303, "the resident votes")
        muhtar = Browser(https_port, context, "127.0.0.4")
        check(muhtar.login("muhtar.caferaga") == 302, "the muhtar logs in")
        status, _t, headers = muhtar.post(f"/n/{hood}/p/{forwarded}/forward", {"body_id": body_id,
                                                                               "note": "Deployment check"})
        reference = urllib.parse.unquote(headers.get("location", "").rsplit("/cases/", 1)[-1])
        check(status == 302 and reference, f"the muhtar forwards an item to a body (case {reference})")
        staff = Browser(https_port, context, "127.0.0.5")
        check(staff.login("emniyet.staff") == 302, "the body's staff logs in")
        status, _t, _h = staff.post(f"/cases/{reference}/events/received", {"note": "Received."},
                                    token_from=f"/cases/{reference}")
        check(status == 302, "the staff acknowledges receipt")
        outcome = f"Approved at the deployment check {uuid.uuid4().hex[:8]}"
        status, _t, _h = staff.post(f"/cases/{reference}/events/decided",
                                    {"decision": "approved", "refer_to": 0, "note": outcome},
                                    token_from=f"/cases/{reference}")
        check(status == 302, "the staff records the body's decision")
        case_page = Browser(https_port, context, "127.0.0.6").get(f"/cases/{reference}")
        check(outcome in case_page and "Approved" in case_page, "anyone reads the outcome back on the public case page")
        counts = [sum(1 for line in log.read_text().splitlines() if '"GET /' in line or '"POST /' in line)
                  for log in logs]
        check(all(counts), f"requests went to both app servers ({counts[0]} and {counts[1]})")

        # --- the limiter: real addresses, no lock-out, shared counters ---------------------------------------
        store = redis.Redis.from_url(redis_url)
        keys = "\n".join(key.decode() for key in store.scan_iter(match="*client:*"))
        check(all(client_key(secret, f"127.0.0.{n}") in keys for n in (3, 4, 5)),
              "the limiter counts the clients' own addresses")
        check(client_key(secret, "127.0.0.1") not in keys, "the limiter never counts nginx's address")
        flood = [Browser(https_port, context, f"127.0.0.{n}") for n in range(10, 40)]

        def bad_login(browser: Browser) -> int:
            return browser.login("ayse", "not the password")

        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(bad_login, flood))
        check(set(answers) == {400}, "30 wrong passwords for one account from 30 addresses are refused as wrong")
        check(Browser(https_port, context, "127.0.0.7").login("ayse") == 302,
              "the owner still logs in with the right password")
        one_address = Browser(https_port, context, "127.0.0.8")
        answers = [one_address.login("mehmet", "not the password") for _ in range(6)]
        check(answers == [400] * 5 + [429],
              "from one address the sixth wrong password is refused (429), counted across both servers")

        # --- the tick on both servers at once ------------------------------------------------------------------
        with engine.begin() as connection:
            connection.execute(text("UPDATE ballots SET closes_at = now() - interval '1 minute' WHERE id = :b"),
                               {"b": ballot_id})
        ticks = [subprocess.Popen([str(a) for a in (*flask, "assemblies", "tick")], cwd=outside, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = []
        for tick in ticks:
            out, err = tick.communicate(timeout=STEP_TIMEOUT)
            if tick.returncode != 0:
                raise CheckFailed(f"the tick failed:\n{out}\n{err}")
            outputs.append(out)
        advanced = sorted(int(re.search(r"advanced (\d+)", out).group(1)) for out in outputs)
        with engine.connect() as connection:
            results = connection.execute(text("SELECT count(*) FROM ballot_results WHERE ballot_id = :b"),
                                         {"b": ballot_id}).scalar()
        check(advanced == [0, 1] and results == 1, "the tick run on both servers at once closes the ballot once")
        result = json.loads(Browser(https_port, context, "127.0.0.9").get(
            f"/n/{hood}/assemblies/{assembly_id}/result.json"))
        with engine.connect() as connection:
            voters = connection.execute(text("SELECT count(*) FROM participations WHERE ballot_id = :b"),
                                        {"b": ballot_id}).scalar()
        engine.dispose()
        check(result["result"]["turnout"] == voters, f"the published result counts every vote ({voters})")
        print("deployment check passed", flush=True)
        return 0
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        for log in sorted(work.glob("gunicorn*.log")) + [work / "nginx" / "logs" / "error.log"]:
            if log.exists():
                print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-30:]), file=sys.stderr)
        return 1
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
