"""The cache of loaded inventories: the same inventory either way, never stale, never inside the inventory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from blastradius import cache, load_inventory
from blastradius.errors import InventoryError

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "inventories" / "acme"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("BLASTRADIUS_CACHE_DIR", str(folder))
    monkeypatch.delenv(cache.NO_CACHE_VARIABLE, raising=False)
    return folder / "inventories"


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    out = tmp_path / "acme"
    shutil.copytree(ACME, out)
    return out


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.inventory.pickle")) if folder.exists() else []


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()
    }


def test_a_second_load_reads_the_entry_and_equals_a_fresh_load(cache_dir: Path, acme: Path) -> None:
    first = load_inventory(acme)
    assert len(_entries(cache_dir)) == 1
    again = load_inventory(acme)
    fresh = load_inventory(acme, cache=False)
    assert again == fresh == first
    assert dict(again.origins) == dict(fresh.origins)
    assert again.warnings == fresh.warnings
    assert dict(again.settings) == dict(fresh.settings)
    assert again.source == fresh.source == str(acme)


def test_an_edit_is_never_answered_from_the_cache(cache_dir: Path, acme: Path) -> None:
    before = load_inventory(acme)
    teams = acme / "teams.yaml"
    text = teams.read_text()
    team = before.teams[0]
    assert f"headcount: {team.headcount}" in text
    teams.write_text(text.replace(f"headcount: {team.headcount}", f"headcount: {team.headcount + 1}", 1))
    after = load_inventory(acme)
    assert after == load_inventory(acme, cache=False)
    assert after != before
    assert len(_entries(cache_dir)) == 2
    (acme / "extra.yaml").write_text("teams:\n  - id: late-team\n    name: Late\n    headcount: 3\n")
    assert "late-team" in {t.id for t in load_inventory(acme).teams}


def test_the_inventory_folder_is_never_written(cache_dir: Path, acme: Path) -> None:
    before = _snapshot(acme)
    load_inventory(acme)
    load_inventory(acme)
    assert _snapshot(acme) == before
    assert not str(cache_dir).startswith(str(acme))


def test_a_corrupt_or_foreign_entry_is_a_miss(cache_dir: Path, acme: Path) -> None:
    expected = load_inventory(acme, cache=False)
    load_inventory(acme)
    (entry,) = _entries(cache_dir)
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated, as by a full disk
    assert load_inventory(acme) == expected
    import pickle

    entry.write_bytes(pickle.dumps({"not": "an inventory"}))
    assert load_inventory(acme) == expected
    assert load_inventory(acme) == expected  # rewritten whole


def test_a_cache_that_cannot_be_written_costs_nothing_but_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, acme: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("BLASTRADIUS_CACHE_DIR", str(blocker))
    monkeypatch.delenv(cache.NO_CACHE_VARIABLE, raising=False)
    assert load_inventory(acme) == load_inventory(acme, cache=False)


def test_switched_off_by_the_environment(cache_dir: Path, acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.NO_CACHE_VARIABLE, "1")
    load_inventory(acme)
    assert _entries(cache_dir) == []
    monkeypatch.setenv(cache.NO_CACHE_VARIABLE, "0")
    load_inventory(acme)
    assert len(_entries(cache_dir)) == 1


def test_an_invalid_inventory_is_not_kept_and_fails_every_time(cache_dir: Path, acme: Path) -> None:
    (acme / "teams.yaml").write_text("teams:\n  - id: broken\n    headcount: many\n")
    for _ in range(2):
        with pytest.raises(InventoryError):
            load_inventory(acme)
    assert _entries(cache_dir) == []


def test_settings_of_the_environment_are_part_of_the_key(
    cache_dir: Path, acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_inventory(acme)
    monkeypatch.setenv("BLASTRADIUS_MAX_FILE_MB", "0.001")
    with pytest.raises(InventoryError, match="BLASTRADIUS_MAX_FILE_MB"):
        load_inventory(acme)


def test_only_the_most_recently_used_entries_are_kept(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "KEEP", 2)
    folders = []
    for i in range(4):
        folder = tmp_path / f"inv{i}"
        folder.mkdir()
        (folder / "teams.yaml").write_text(f"teams:\n  - id: t{i}\n    name: T\n    headcount: {i + 1}\n")
        folders.append(folder)
        load_inventory(folder)
    assert len(_entries(cache_dir)) == 2
    assert load_inventory(folders[0]).teams[0].headcount == 1


def test_processes_loading_at_once_all_get_the_whole_inventory(cache_dir: Path, acme: Path) -> None:
    env = {**os.environ, "BLASTRADIUS_CACHE_DIR": str(cache_dir.parent)}
    env.pop(cache.NO_CACHE_VARIABLE, None)
    code = (
        "import sys; from blastradius import load_inventory; "
        "inv = load_inventory(sys.argv[1]); print(len(inv.plugins), len(inv.datasets), len(inv.origins))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(acme)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    fresh = load_inventory(acme, cache=False)
    assert set(outputs) == {f"{len(fresh.plugins)} {len(fresh.datasets)} {len(fresh.origins)}"}
    assert len(_entries(cache_dir)) == 1
    assert not list(cache_dir.glob("*.partial"))
    assert load_inventory(acme) == fresh


def test_a_file_edited_while_loading_is_not_kept(cache_dir: Path, acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from blastradius import loader

    real = loader._load

    def edited_meanwhile(root: Path, files: list[Path]) -> object:
        inv = real(root, files)
        teams = acme / "teams.yaml"
        teams.write_text(teams.read_text() + "\n# edited while loading\n")
        return inv

    monkeypatch.setattr(loader, "_load", edited_meanwhile)
    load_inventory(acme)
    assert _entries(cache_dir) == []
