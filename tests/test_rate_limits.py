"""Rate limits that protect without locking out neighbours, behind zero, one or two proxies.

The limiter's keys are read back from its store: a key is `kind:` and an HMAC of what it counts
(`assembly.rate_limits.hashed_key`), so a test computes the key it expects inside the app and
looks for it.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from limits.storage import MemoryStorage

from assembly import config as config_module
from assembly.config import ConfigError
from assembly.extensions import limiter
from assembly.rate_limits import ProcessMemoryStorage, hashed_key
from tests import factories
from tests.support import PASSWORD, app_config, login, translated_app, translation

PEER = "10.0.0.1"  # the proxy (or the client itself, without a proxy)


@pytest.fixture
def limited(database_url, tmp_path_factory, request):
    overrides = getattr(request, "param", {})
    with translated_app(database_url, tmp_path_factory, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                        RATELIMIT_KEY_PREFIX=f"assembly-test-{uuid.uuid4().hex}", **overrides) as app:
        with app.app_context():
            hood = factories.neighbourhood(slug="moda")
            factories.user(email="emre@example.org")
            factories.muhtar(hood, factories.user(email="selma@example.org"))
            factories.muhtar(hood, factories.user(email="ayse@example.org"))
            from assembly.db import db

            db.session.commit()
        yield app


def _stored(app) -> list[str]:
    assert isinstance(limiter.storage, ProcessMemoryStorage)
    return limiter.storage.keys()


def _client_key(app, address: str) -> str:
    with app.test_request_context():
        return hashed_key("client", address)


def _login(client, email="emre@example.org", password="wrong password", forwarded=None, peer=PEER):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/account/login", data={"email": email, "password": password}, headers=headers,
                       environ_base={"REMOTE_ADDR": peer})


# --- the client address behind proxies ---------------------------------------------------------------

@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN": "2 per minute"}], indirect=True)
def test_without_trusted_proxies_a_forwarded_address_is_ignored(limited):
    client = limited.test_client()
    for spoofed in ("203.0.113.1", "203.0.113.2"):
        assert _login(client, forwarded=spoofed).status_code == 400
    assert _login(client, forwarded="203.0.113.3").status_code == 429  # writing another address does not help
    keys = "\n".join(_stored(limited))
    assert _client_key(limited, PEER) in keys
    assert _client_key(limited, "203.0.113.1") not in keys


@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN": "2 per minute", "TRUSTED_PROXIES": 1}], indirect=True)
def test_behind_one_proxy_the_address_it_appends_is_counted(limited):
    client = limited.test_client()
    for _ in range(2):
        assert _login(client, forwarded="198.51.100.7").status_code == 400
    assert _login(client, forwarded="198.51.100.7").status_code == 429
    # Another person behind the same proxy is not affected, and what a client writes in front of the
    # address the proxy appended is not trusted.
    assert _login(client, forwarded="198.51.100.8").status_code == 400
    assert _login(client, forwarded="203.0.113.9, 198.51.100.7").status_code == 429
    keys = "\n".join(_stored(limited))
    assert _client_key(limited, "198.51.100.7") in keys and _client_key(limited, "198.51.100.8") in keys
    assert _client_key(limited, PEER) not in keys and _client_key(limited, "203.0.113.9") not in keys


@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN": "2 per minute", "TRUSTED_PROXIES": 2}], indirect=True)
def test_behind_two_proxies_the_address_the_first_one_saw_is_counted(limited):
    client = limited.test_client()
    # client -> load balancer (appends the client) -> nginx (appends the load balancer) -> app
    for spoofed in ("203.0.113.1", "203.0.113.2"):
        assert _login(client, forwarded=f"{spoofed}, 198.51.100.7, 10.0.0.2").status_code == 400
    assert _login(client, forwarded="198.51.100.7, 10.0.0.2").status_code == 429
    keys = "\n".join(_stored(limited))
    assert _client_key(limited, "198.51.100.7") in keys
    assert not [address for address in ("203.0.113.1", "10.0.0.2", PEER) if _client_key(limited, address) in keys]


@pytest.mark.parametrize("trusted", [0, 1])
def test_the_scheme_comes_from_a_trusted_proxy_only(database_url, trusted):
    from tests.support import isolated_app

    with isolated_app(database_url, TRUSTED_PROXIES=trusted) as app:
        response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
        assert response.status_code == 200
        assert ("Strict-Transport-Security" in response.headers) is bool(trusted)


def test_production_always_sends_hsts(database_url):
    from tests.support import isolated_app

    with isolated_app(database_url, ASSEMBLY_ENV="production", BASE_URL="https://assembly.example.org",
                      RATELIMIT_ENABLED=False) as app:
        response = app.test_client().get("/healthz")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- logins: per address, and per account at each address --------------------------------------------

@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN_ACCOUNT": "3 per minute"}], indirect=True)
def test_failed_logins_into_one_account_are_limited_at_the_address_that_fails(limited):
    client = limited.test_client()
    for _ in range(3):
        assert _login(client, peer="198.51.100.1").status_code == 400
    assert _login(client, peer="198.51.100.1", password=PASSWORD).status_code == 429  # even the right one waits
    # The owner elsewhere, and other accounts from the failing address, are not locked out.
    assert _login(limited.test_client(), peer="198.51.100.2", password=PASSWORD).status_code == 302
    assert _login(client, email="selma@example.org", peer="198.51.100.1").status_code == 400


@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN_ACCOUNT": "2 per minute"}], indirect=True)
def test_a_flood_of_bad_logins_from_other_addresses_does_not_lock_out_the_owner(limited):
    client = limited.test_client()
    for n in range(40):
        assert _login(client, peer=f"203.0.113.{n}").status_code == 400
    assert _login(client, peer="198.51.100.5", password=PASSWORD).status_code == 302


@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN_ACCOUNT": "2 per minute"}], indirect=True)
def test_successful_logins_do_not_count_against_the_account(limited):
    for _ in range(4):
        client = limited.test_client()
        assert _login(client, password=PASSWORD).status_code == 302


def test_a_meeting_of_30_on_one_wifi_registers_logs_in_and_asks_to_join_with_the_default_limits(limited):
    for n in range(30):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = PEER
        email = f"neighbour{n}@example.org"
        assert client.post("/account/register", data={
            "email": email, "display_name": f"Neighbour {n}", "password": PASSWORD, "confirm": PASSWORD,
            "locale": "tr"}).status_code == 302
        if n % 3 == 0:  # a few mistype their password first
            assert _login(client, email=email).status_code == 400
        assert _login(client, email=email, password=PASSWORD).status_code == 302
        assert client.post("/n/moda/join", data={"address": f"Moda Cd. {n}"}).status_code == 302


@pytest.mark.parametrize("limited", [{"RATELIMIT_MUHTAR": "2 per minute"}], indirect=True)
def test_the_muhtars_desk_counts_per_muhtar_not_per_address(limited):
    selma, ayse = limited.test_client(), limited.test_client()
    for client, email in ((selma, "selma@example.org"), (ayse, "ayse@example.org")):
        client.environ_base["REMOTE_ADDR"] = PEER  # the same office PC
        assert login(client, email).status_code == 302

    def issue(client):
        return client.post("/n/moda/invites", data={"count": 1, "valid_days": 30})

    assert [issue(selma).status_code for _ in range(2)] == [302, 302]
    assert issue(selma).status_code == 429
    assert issue(ayse).status_code == 302


# --- the answer when it is too much -----------------------------------------------------------------------

@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN": "1 per minute"}], indirect=True)
def test_the_429_page_is_translated(limited):
    client = limited.test_client()
    assert _login(client).status_code == 400
    for locale in ("tr", "fa", "sv"):
        refused = client.post(f"/account/login?lang={locale}", data={"email": "x@example.org", "password": "x"},
                              environ_base={"REMOTE_ADDR": PEER})
        assert refused.status_code == 429
        page = refused.get_data(as_text=True)
        assert f"<h1>{translation(locale, 'Too many attempts')}</h1>" in page
        assert translation(locale, "Too many attempts") != "Too many attempts"


def test_the_json_429_is_translated(database_url, tmp_path_factory):
    from tests import case_factories as cf
    from tests.test_api import committed, token_for

    with translated_app(database_url, tmp_path_factory, RATELIMIT_ENABLED=True, RATELIMIT_API="1 per minute",
                        RATELIMIT_STORAGE_URI="memory://",
                        RATELIMIT_KEY_PREFIX=f"assembly-test-{uuid.uuid4().hex}") as app:
        with committed(app):
            w = cf.world()
            token = token_for(w.staff, w.body)
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "tr"}
        assert api.get("/api/v1/body", headers=headers).status_code == 200
        refused = api.get("/api/v1/body", headers=headers)
        assert refused.status_code == 429
        expected = translation("tr", "Too many requests. Wait a little and try again.")
        assert expected and refused.get_json()["error"] == {"code": "too_many_requests", "message": expected}


# --- the store ------------------------------------------------------------------------------------------

class _ThreadStarts:
    def __init__(self, monkeypatch) -> None:
        self.count = 0
        original = threading.Thread.start

        def counting(thread):
            self.count += 1
            return original(thread)

        monkeypatch.setattr(threading.Thread, "start", counting)


@pytest.mark.parametrize("limited", [{"RATELIMIT_LOGIN": "1000 per minute"}], indirect=True)
def test_no_thread_is_started_per_request(limited, monkeypatch):
    client = limited.test_client()
    assert _login(client).status_code == 400  # the store exists
    starts = _ThreadStarts(monkeypatch)
    for n in range(30):
        assert _login(client, email=f"person{n}@example.org").status_code == 400
        time.sleep(0.02)  # the library's memory store would start a new timer after each 10 ms expiry
    assert starts.count == 0
    assert len(_stored(limited)) >= 31


def test_the_librarys_memory_store_would_start_a_thread_per_hit(monkeypatch):
    """Why `memory://` is not the library's store: this is what the test above rules out."""
    storage = MemoryStorage()
    starts = _ThreadStarts(monkeypatch)
    for n in range(5):
        storage.incr(f"key{n}", 60)
        time.sleep(0.05)
    assert starts.count >= 4


def test_the_process_store_counts_expires_and_sweeps():
    storage = ProcessMemoryStorage()
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("a") == 3 and storage.get("b") == 0
    assert storage.incr("short", 0.01) == 1
    time.sleep(0.02)
    assert storage.get("short") == 0 and storage.incr("short", 60) == 1  # a new window
    storage.incr("gone", 0.01)
    time.sleep(0.02)
    storage._next_sweep = 0  # the next hit sweeps
    storage.incr("a", 60)
    assert sorted(storage.keys()) == ["a", "short"]
    storage.clear("a")
    assert storage.get("a") == 0 and storage.reset() == 1


# --- configuration ------------------------------------------------------------------------------------------

def _production(**overrides) -> dict:
    settings = config_module.defaults(config_module.Path("/nonexistent"))
    settings.update(ASSEMBLY_ENV="production", SECRET_KEY="s" * 40, BALLOT_SEAL_KEY="b" * 40,
                    BASE_URL="https://assembly.example.org", **overrides)
    return settings


def test_production_refuses_per_process_counters_when_several_processes_serve():
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        config_module.finalise(_production(WEB_CONCURRENCY=4))
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        config_module.finalise(_production(WEB_CONCURRENCY=2, RATELIMIT_STORAGE_URI="memory://"))
    shared = _production(WEB_CONCURRENCY=4, REDIS_URL="redis://127.0.0.1:6379/0")
    config_module.finalise(shared)
    assert shared["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    single = _production(WEB_CONCURRENCY=1)
    config_module.finalise(single)
    assert single["RATELIMIT_STORAGE_URI"] == config_module.PROCESS_MEMORY_STORAGE


def test_the_deployment_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASSEMBLY_TRUSTED_PROXIES", "2")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/3")
    found = config_module.from_environment()
    assert (found["TRUSTED_PROXIES"], found["WEB_CONCURRENCY"]) == (2, 3)
    assert found["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        config_module.finalise({**app_config("sqlite://"), **config_module.defaults(config_module.Path("/x")),
                                "ASSEMBLY_ENV": "testing", "TRUSTED_PROXIES": -1})


# --- the health check ---------------------------------------------------------------------------------------

def test_the_health_check_reports_the_database_and_the_store_and_nothing_else(limited):
    response = limited.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "limiter_store": "process"}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_health_check_without_rate_limits(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "limiter_store": "disabled"}


def test_the_health_check_answers_503_when_the_store_is_unreachable(database_url):
    from tests.support import isolated_app

    # Nothing listens on port 1: the store is unreachable, the database is fine.
    with isolated_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0") as app:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "database": "ok", "limiter_store": "unreachable"}


# --- the vote: a hot path that counts its limit itself (rate_limits.hot_limit) ----------------------------

@pytest.mark.parametrize("limited", [{"RATELIMIT_VOTE": "2 per minute"}], indirect=True)
def test_votes_count_per_person_with_the_limiters_keys_and_headers(limited, clock):
    from tests import assembly_factories as af

    with af.committed(limited):
        s = af.voting_open("yes_no", "open", items=1, voters=2)
        url, item, voters = s.url, s.items[0], s.voters
    clock.now = af.OPENS + af.HOUR
    first, second = (af.client_of(limited, voter) for voter in voters)
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = PEER  # one office: the limit counts people, not addresses

    def vote(client, choice="yes"):
        return client.post(f"{url}/vote", data={f"item-{item}": choice})

    answers = [vote(first), vote(first, "no")]
    assert [answer.status_code for answer in answers] == [303, 303]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["1", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "2" and int(answers[0].headers["Retry-After"]) <= 60
    refused = vote(first, "abstain")
    assert refused.status_code == 429 and 0 <= int(refused.headers["Retry-After"]) <= 60
    assert "<h1>Too many attempts</h1>" in refused.get_data(as_text=True)
    assert vote(second).status_code == 303
    with limited.test_request_context():
        person = hashed_key("person", str(voters[0].id))
    # the key Flask-Limiter's own decorator would use: prefix, person, endpoint, then the limit
    assert any(f"/{person}/assemblies.vote/2/1/minute" in key for key in _stored(limited)), _stored(limited)
    with limited.app_context():
        assert af.stored_counts(s.ballot.id)["participations"] == 2  # the refused third vote stored nothing


def test_without_rate_limits_the_vote_is_not_counted(client, app, clock):
    from tests import assembly_factories as af

    with af.committed(app):
        s = af.voting_open("yes_no", "open", items=1, voters=1)
        url, item, voter = s.url, s.items[0], s.voters[0]
    clock.now = af.OPENS + af.HOUR
    voting = af.client_of(app, voter)
    for choice in ("yes", "no", "abstain") * 30:
        answer = voting.post(f"{url}/vote", data={f"item-{item}": choice})
        assert answer.status_code == 303 and "X-RateLimit-Limit" not in answer.headers
