"""The contributor's scripts as a person runs them: ``scripts/setup`` says what is
missing before it installs anything, ``scripts/develop --help`` answers at once,
``scripts/develop`` lays out its config directory without duplicate logs, and the
browser test says loudly why it did not run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sigen_sim.__main__ import parse_args as sim_parse_args

from . import test_browser, test_browser_more
from .conftest import REPO, load_develop_ha

BASH = shutil.which("bash") or "/bin/bash"


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run one of our scripts (or Python), its output as text, never raising."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]  # noqa: S603 (our scripts)
        argv, capture_output=True, text=True, check=False, **kwargs
    )


def _copy_scripts(tmp_path: Path, *names: str) -> Path:
    """A checkout with only these scripts (and the requirement files setup hashes)."""
    (tmp_path / "scripts").mkdir()
    for name in names:
        shutil.copy2(REPO / "scripts" / name, tmp_path / "scripts" / name)
    for name in ("requirements_test.txt", "requirements_dev.txt", "pyproject.toml"):
        shutil.copy2(REPO / name, tmp_path / name)
    return tmp_path


def test_setup_says_a_cpp_compiler_is_missing_before_installing(tmp_path: Path) -> None:
    """Without a C++ compiler pip would fail minutes later building two voice packages:
    setup stops first, says what to install, and has made nothing."""
    checkout = _copy_scripts(tmp_path, "setup")
    env = {**os.environ, "PYTHON": sys.executable, "CXX": "/nonexistent/bin/g++"}
    result = _run([BASH, str(checkout / "scripts" / "setup")], env=env, timeout=60)
    assert result.returncode == 2, result
    missing = "a C++ compiler is needed and '/nonexistent/bin/g++' is not installed"
    assert missing in result.stderr
    assert "pymicro-vad, pyspeex-noise" in result.stderr
    assert "apt-get install g++" in result.stderr
    assert "installing requirements" not in result.stdout
    assert not (checkout / ".venv").exists()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_develop_help_answers_before_any_setup(tmp_path: Path, flag: str) -> None:
    """The usage at once: no scripts/setup (this checkout has none, and no .venv), with
    whatever python3 is on PATH (develop_ha.py imports only the standard library)."""
    checkout = _copy_scripts(tmp_path, "develop", "develop_ha.py")
    result = _run([BASH, str(checkout / "scripts" / "develop"), "--port", "8124", flag], timeout=30)
    assert result.returncode == 0, result
    assert result.stdout.startswith("usage: scripts/develop")
    for option in ("--port", "--time-scale", "--stations", "--config"):
        assert option in result.stdout
    assert "scripts/setup" in result.stdout  # the epilog says the first run sets up
    assert result.stderr == ""
    assert not (checkout / ".venv").exists()


def test_develop_ha_imports_the_standard_library_only() -> None:
    """What ``--help`` relies on: importing develop_ha.py pulls in neither aiohttp nor
    the simulator (a fresh interpreter, the repository off its path)."""
    path = str(REPO / "scripts" / "develop_ha.py")
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("d", {path!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(sorted(n for n in ("aiohttp", "sigen_sim", "homeassistant") if n in sys.modules))
        """
    )
    result = _run([sys.executable, "-I", "-c", code], timeout=60, cwd="/")
    assert result.returncode == 0, result
    assert result.stdout.strip() == "[]"


def test_home_assistant_output_is_kept_in_memory_not_in_a_file(tmp_path: Path) -> None:
    """Home Assistant's console output (a copy of home-assistant.log) is not written to
    a second file: the child keeps its last lines, shown if it exits."""
    develop_ha = load_develop_ha()
    child = develop_ha.Child(
        "a chatty child",
        [sys.executable, "-c", "for i in range(500): print('line', i)"],
        None,
        dict(os.environ),
        tail_lines=50,
    )
    child.proc.wait(30)
    assert child.console_tail(3) == "line 497\nline 498\nline 499"
    assert len(child.console) == 50
    assert child.log is None


def test_config_layout_drops_the_old_duplicate_log(tmp_path: Path) -> None:
    """The config directory as scripts/develop writes it: the integration linked, the
    blueprints as real files, and the develop-hass.log earlier versions let grow gone."""
    develop_ha = load_develop_ha()
    config = tmp_path / "config"
    config.mkdir()
    (config / "develop-hass.log").write_text("old console output\n" * 1000)
    develop = develop_ha.Develop(develop_ha.parse_args(["--config", str(config), "--port", "8125"]))
    develop.write_config()

    assert not (config / "develop-hass.log").exists()
    integration = config / "custom_components" / "sigen_cloud"
    assert integration.is_symlink()
    assert integration.resolve() == REPO / "custom_components" / "sigen_cloud"
    blueprints = sorted((config / "blueprints" / "automation" / "sigen_cloud").iterdir())
    assert [p.name for p in blueprints] == [
        "charge_battery_at_low_price.yaml",
        "stop_export_at_negative_price.yaml",
        "sync_tariff.yaml",
    ]
    assert not any(p.is_symlink() for p in blueprints)
    assert "develop-hass.log" not in (config / "configuration.yaml").read_text()


def test_develop_explains_an_early_exit_of_home_assistant(tmp_path: Path) -> None:
    """When Home Assistant exits, the message names home-assistant.log and shows the
    last lines it printed (there is no console log file to point at)."""
    develop_ha = load_develop_ha()
    develop = develop_ha.Develop(develop_ha.parse_args(["--config", str(tmp_path)]))
    child = develop_ha.Child(
        "Home Assistant",
        [sys.executable, "-c", "import sys; print('Fatal: no config'); sys.exit(3)"],
        None,
        dict(os.environ),
    )
    child.proc.wait(30)
    message = develop.exited(child, " while starting")
    assert message.startswith("Home Assistant exited while starting (code 3)")
    assert str(tmp_path / "home-assistant.log") in message
    assert message.endswith("Fatal: no config")


def _no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(test_browser, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))


def test_without_chromium_the_browser_test_is_skipped_saying_how_to_run_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_chromium(monkeypatch, tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        test_browser.require_chromium()
    reason = str(skipped.value)
    assert reason.startswith("Chromium is not installed")
    assert "did not run" in reason
    assert "apt-get install chromium" in reason
    assert "PY314_APT" in reason


@pytest.mark.parametrize("ci", ["true", "1"])
def test_without_chromium_in_ci_the_browser_test_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str
) -> None:
    _no_chromium(monkeypatch, tmp_path)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception) as failed:
        test_browser.require_chromium()
    assert "CI is set: the browser test must run there" in str(failed.value)


def test_a_skipped_browser_test_is_announced_in_the_summary(pytester: pytest.Pytester) -> None:
    """The skip is not just a count in the last line: a red banner says it."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makeconftest("from tests.e2e.conftest import pytest_terminal_summary  # noqa: F401")
    pytester.makepyfile(
        test_one="""
        import pytest

        def test_browser():
            pytest.skip("Chromium is not installed (...), so the browser test did not run.")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*the browser test did NOT run*", "Chromium is not installed*did not run."]
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [("ac,dc", ("ac", "dc")), ("dc", ("dc",)), ("DC, ac", ("ac", "dc")), ("ac,ac", ("ac",))],
)
def test_develop_ev_chargers_option(given: str, expected: tuple[str, ...]) -> None:
    """``--ev-chargers`` (issue 20): the kinds for the simulator, in one order; none by
    default; the simulator's own command line takes the same option."""
    develop_ha = load_develop_ha()
    assert develop_ha.parse_args([]).ev_chargers == ()
    assert develop_ha.parse_args(["--ev-chargers", given]).ev_chargers == expected
    assert sim_parse_args([]).ev_chargers == ()
    assert sim_parse_args(["--ev-chargers", given]).ev_chargers == expected


@pytest.mark.parametrize("bad", ["ev", "ac,hpc"])
def test_develop_refuses_an_unknown_charger(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown charger kind is a usage error that names the choices."""
    for parse in (load_develop_ha().parse_args, sim_parse_args):
        with pytest.raises(SystemExit) as exited:
            parse(["--ev-chargers", bad])
        assert exited.value.code == 2
        assert "choose from ac, dc" in capsys.readouterr().err


def test_develop_language_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--language`` (issue 22): English by default; the code goes into Home Assistant's
    core config (configuration.yaml), and a malformed one is a usage error."""
    develop_ha = load_develop_ha()
    assert develop_ha.parse_args([]).language == "en"
    assert develop_ha.parse_args(["--language", "pt-BR"]).language == "pt-BR"
    with pytest.raises(SystemExit):
        develop_ha.parse_args(["--language", "German!"])
    assert "language code" in capsys.readouterr().err

    for language in ("en", "de"):
        config = tmp_path / language
        args = develop_ha.parse_args(["--config", str(config), "--language", language])
        develop_ha.Develop(args).write_config()
        yaml = (config / "configuration.yaml").read_text()
        assert f"\n  language: {language}\n" in yaml
        assert yaml.count("language:") == 1


def test_develop_help_names_the_ev_and_language_options(tmp_path: Path) -> None:
    """``scripts/develop --help`` documents ``--ev-chargers`` and ``--language``."""
    checkout = _copy_scripts(tmp_path, "develop", "develop_ha.py")
    result = _run([BASH, str(checkout / "scripts" / "develop"), "--help"], timeout=30)
    assert result.returncode == 0, result
    text = " ".join(result.stdout.split())
    assert "--ev-chargers ac,dc" in text
    assert "--language LANGUAGE" in text
    assert "entity names" in text


def test_without_chromium_in_ci_the_more_browser_tests_fail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tests/e2e/test_browser_more.py fails too in CI without a browser, before it
    starts anything (no develop.log is written)."""
    _no_chromium(monkeypatch, tmp_path)
    monkeypatch.setenv("CI", "true")
    folder = tmp_path / "artifacts"
    with (
        pytest.raises(pytest.fail.Exception) as failed,
        test_browser_more._develop(tmp_path, folder, "--language", "de"),
    ):
        pass
    assert "CI is set: the browser test must run there" in str(failed.value)
    assert not folder.exists()
