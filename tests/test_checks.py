"""System checks for every FLINT_* setting (playground/checks.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.test import override_settings

from playground import checks
from playground.generations import prompt

ROOT = Path(__file__).resolve().parents[1]
LOCAL = "playground.inference.local.backend.LocalModelBackend"
REMOTE = "playground.inference.openai_compatible.OpenAICompatibleBackend"


def local(**options: Any) -> dict[str, Any]:
    return {
        "BACKEND": LOCAL,
        "MODEL": None,
        "THREADS": 1,
        "CTX": None,
        "LOAD_TIMEOUT": 600.0,
        "TIMEOUT": 120.0,
        "EDIT_FORMAT": "whole_file",
        "MAX_TOKENS": 1024,
        **options,
    }


def remote(**options: Any) -> dict[str, Any]:
    return {
        "BACKEND": REMOTE,
        "BASE_URL": "https://api.openai.com/v1",
        "API_KEY": "",
        "MODEL": "gpt-4.1-mini",
        "EDIT_FORMAT": "search_replace",
        "TIMEOUT": 60.0,
        "MAX_TOKENS": 4096,
        **options,
    }


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_the_defaults_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLINT_API_KEY", raising=False)
    with override_settings(FLINT_BACKEND=local()):
        assert [m for check in checks.CHECKS for m in check() if m.is_serious()] == []
    with override_settings(FLINT_BACKEND=remote()):
        assert checks.check_backend() == []


def test_the_checks_are_registered_with_django() -> None:
    with override_settings(FLINT_BACKEND=local(EDIT_FORMAT="foo")):
        assert "flint.E001" in ids(run_checks(tags=[checks.TAG]))


def test_an_unknown_edit_format_names_the_setting_and_the_allowed_values() -> None:
    with override_settings(FLINT_BACKEND=remote(EDIT_FORMAT="foo")):
        [error] = checks.check_backend()
    assert error.id == "flint.E001" and error.is_serious()
    assert "FLINT_EDIT_FORMAT" in error.msg and "'foo'" in error.msg
    assert "search_replace, apply_patch, whole_file" in error.hint


def test_the_allowed_edit_formats_are_the_prompts() -> None:
    # search_replace and apply_patch have their own rules; whole_file is the default's.
    assert set(checks.EDIT_FORMATS) == set(prompt._OTHER_FORMATS) | {"whole_file"}


def test_an_unknown_local_model_suggests_the_close_one() -> None:
    with override_settings(FLINT_BACKEND=local(MODEL="qwen-typo")):
        [error] = checks.check_backend()
    assert error.id == "flint.E002"
    assert "FLINT_LOCAL_MODEL is 'qwen-typo'" in error.msg
    assert "qwen2.5-coder-0.5b" in error.hint and "smollm2-135m" in error.hint


def test_an_unparsable_rate_limit_names_its_variable() -> None:
    limits = {**settings.FLINT_LIMITS, "generations_user": "lots"}
    with override_settings(FLINT_LIMITS=limits):
        [error] = checks.check_limits()
    assert error.id == "flint.E003"
    assert "FLINT_LIMIT_GENERATIONS is 'lots'" in error.msg
    assert "per" in error.hint


@pytest.mark.parametrize(
    ("setting", "value", "env"),
    [
        ("FLINT_RETRIES", -1, "FLINT_RETRIES"),
        ("FLINT_MAX_CONCURRENT", 0, "FLINT_MAX_CONCURRENT"),
        ("FLINT_RATE_WINDOW", 0.0, "FLINT_RATE_WINDOW"),
        ("FLINT_EVENT_LOG_TTL", float("inf"), "FLINT_EVENT_LOG_TTL"),
    ],
)
def test_numbers_out_of_range(setting: str, value: float, env: str) -> None:
    with override_settings(**{setting: value}):
        [error] = checks.check_numbers()
    assert error.id == "flint.E004" and error.msg.startswith(env)


def test_local_numbers_are_checked_only_for_the_local_model() -> None:
    with override_settings(FLINT_BACKEND=local(THREADS=0, LOAD_TIMEOUT=-5.0)):
        names = [m.msg.split()[0] for m in checks.check_numbers()]
    assert names == ["FLINT_LOCAL_THREADS", "FLINT_LOCAL_LOAD_TIMEOUT"]


def test_a_base_url_that_is_not_a_url() -> None:
    with override_settings(FLINT_BACKEND=remote(BASE_URL="api.openai.com/v1")):
        [error] = checks.check_backend()
    assert error.id == "flint.E005" and "http:// or https://" in error.msg


def test_a_base_url_without_v1_is_a_warning_that_hides_credentials() -> None:
    with override_settings(FLINT_BACKEND=remote(BASE_URL="http://me:secret@127.0.0.1:11434")):
        [warning] = checks.check_backend()
    assert warning.id == "flint.W006" and not warning.is_serious()
    assert "/v1" in warning.msg and "secret" not in warning.msg


def test_a_key_without_a_base_url_is_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLINT_API_KEY", "sk-whatever")
    with override_settings(FLINT_BACKEND=local()):
        assert ids(checks.check_backend()) == ["flint.W010"]


@pytest.mark.parametrize(
    ("setting", "value", "id_"),
    [
        ("FLINT_ALLOWED_ORIGINS", ["flint.example"], "flint.E007"),
        ("FLINT_ALLOWED_ORIGINS", ["https://flint.example/app"], "flint.E007"),
        ("FLINT_PREVIEW_ORIGIN", "http://127.0.0.1:port", "flint.E008"),
        ("FLINT_REDIS_URL", "127.0.0.1:6379", "flint.E009"),
    ],
)
def test_origins_and_urls(setting: str, value: object, id_: str) -> None:
    with override_settings(**{setting: value}):
        assert ids(checks.check_origins()) == [id_]


def test_good_origins_pass() -> None:
    with override_settings(
        FLINT_ALLOWED_ORIGINS=["https://flint.example", "http://127.0.0.1:8000", "*"],
        FLINT_PREVIEW_ORIGIN="http://127.0.0.1:8001",
        FLINT_REDIS_URL="redis://127.0.0.1:6379/0",
    ):
        assert checks.check_origins() == []


def test_a_misspelt_variable_is_reported_with_the_right_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLINT_LOCAL_MODLE", "qwen2.5-coder-1.5b")
    [warning] = checks.check_environment()
    assert warning.id == "flint.W011" and "FLINT_LOCAL_MODLE" in warning.msg
    assert warning.hint == "Did you mean FLINT_LOCAL_MODEL?"


def test_every_variable_the_source_reads_is_known() -> None:
    read = set()
    for folder in ("flint", "playground", "scripts", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".sh") and "migrations" not in path.parts:
                read |= set(re.findall(r"\bFLINT_[A-Z][A-Z_]*[A-Z]\b", path.read_text()))
    # Names of settings (not variables) that share the prefix.
    read -= {
        "FLINT_BACKEND",
        "FLINT_LOCAL_BACKEND",
        "FLINT_HUB",
        "FLINT_QUEUE",
        "FLINT_LIVE",
        "FLINT_LIMITS",
        "FLINT_REDIS_URL",
        # Derived from playground/limits.py, not read from the environment.
        "FLINT_MAX_MESSAGE_BYTES",
        "FLINT_IMPORT_MAX_BYTES",
    }
    read = {name for name in read if not name.startswith(("FLINT_TEST_", "FLINT_BENCH_"))}
    assert read <= checks.KNOWN_ENV, sorted(read - checks.KNOWN_ENV)


def test_the_page_gets_the_same_problems() -> None:
    with override_settings(FLINT_BACKEND=local(EDIT_FORMAT="foo")):
        [problem] = checks.problems()
    assert problem["level"] == "error" and "FLINT_EDIT_FORMAT" in problem["message"]


def _manage_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLINT_", "DJANGO_"))}
    clean.update(FLINT_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"FLINT_LOCAL_MODEL": "qwen-typo"}, "FLINT_LOCAL_MODEL is 'qwen-typo'"),
        ({"FLINT_LIMIT_GENERATIONS": "lots"}, "FLINT_LIMIT_GENERATIONS is 'lots'"),
        ({"FLINT_EDIT_FORMAT": "foo"}, "FLINT_EDIT_FORMAT is 'foo'"),
        ({"FLINT_LOG_LEVEL": "chatty"}, "FLINT_LOG_LEVEL is 'chatty'; use one of"),
        ({"FLINT_TIMEOUT": "soon"}, "FLINT_TIMEOUT must be a number"),
    ],
)
def test_manage_py_check_fails_naming_the_setting(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    result = _manage_check(tmp_path, **env)
    assert result.returncode != 0
    assert says in result.stdout + result.stderr


def test_manage_py_check_passes_with_nothing_set(tmp_path: Path) -> None:
    result = _manage_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_is_safe_to_copy() -> None:
    # Copied as it is, it sets nothing: the local model stays the default, with
    # its own defaults (no FLINT_BASE_URL, no remote timeouts or formats).
    from dotenv import dotenv_values

    assert dotenv_values(ROOT / ".env.example") == {}


def test_env_example_mentions_every_variable_of_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    documented = set(re.findall(r"`((?:FLINT_|DATABASE_URL|REDIS_URL)[A-Z_]*)`", table))
    example = (ROOT / ".env.example").read_text()
    missing = {name for name in documented if f"# {name}=" not in example}
    assert not missing, sorted(missing)


def test_the_static_manifest_must_be_collected_and_current(tmp_path: Path) -> None:
    with override_settings(FLINT_STATIC_MANIFEST=True, STATIC_ROOT=tmp_path):
        assert ids(checks.check_static()) == ["flint.E014"]
        (tmp_path / "staticfiles.json").write_text("{}")
        (tmp_path / "flint").mkdir()
        (tmp_path / "flint" / "SOURCES.sha256").write_text("old\n")
        assert ids(checks.check_static()) == ["flint.W015"]
        built = Path(settings.STATICFILES_DIRS[0]) / "flint" / "SOURCES.sha256"
        (tmp_path / "flint" / "SOURCES.sha256").write_text(built.read_text())
        assert checks.check_static() == []
    with override_settings(FLINT_STATIC_MANIFEST=False, STATIC_ROOT=tmp_path / "none"):
        assert checks.check_static() == []


def test_the_worker_gets_coep_by_its_plain_or_hashed_name() -> None:
    from playground.preview.headers import static_headers

    for url in ("/static/flint/py-worker.js", "/static/flint/py-worker.4533fc18ec55.js"):
        headers: dict[str, str] = {}
        static_headers(headers, "", url)
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp", url
    headers = {}
    static_headers(headers, "", "/static/flint/app.453e937b1089.js")
    assert headers == {}


@pytest.mark.parametrize(
    ("setting", "value", "id_"),
    [
        ("FLINT_TRUSTED_PROXIES", ["127.0.0.1", "nginx"], "flint.E016"),
        ("FLINT_TRUSTED_PROXIES", ["10.0.0.0/33"], "flint.E016"),
        ("CSRF_TRUSTED_ORIGINS", ["flint.example"], "flint.E017"),
    ],
)
def test_proxy_settings(setting: str, value: object, id_: str) -> None:
    with override_settings(**{setting: value}):
        assert ids(checks.check_proxy()) == [id_]


def test_good_proxy_settings_pass() -> None:
    with override_settings(
        FLINT_TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8", "::1"],
        CSRF_TRUSTED_ORIGINS=["https://flint.example"],
    ):
        assert checks.check_proxy() == []


def test_manage_py_check_names_a_bad_trusted_proxy(tmp_path: Path) -> None:
    result = _manage_check(tmp_path, FLINT_TRUSTED_PROXIES="127.0.0.1,nginx")
    assert result.returncode != 0
    assert "FLINT_TRUSTED_PROXIES has 'nginx'" in result.stdout + result.stderr
