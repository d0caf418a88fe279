"""The command line as a user meets it: exit codes, summaries, and errors without tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import networkx as nx
import yaml

from blastradius.cli import main

from conftest import ACME, ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    """Run the installed console script, as a user would."""
    exe = Path(sys.executable).with_name("blastradius")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_validate_acme_prints_a_summary() -> None:
    result = run("validate", "inventories/acme")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "inventories/acme: valid inventory" in out
    for label in ("teams", "people", "plugins", "connectors", "systems", "records", "people reachable"):
        assert f"  {label}" in out
    assert "4,000" in out


def test_validate_json_summary(capsys) -> None:
    assert main(["validate", str(ACME), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True and data["summary"]["people"] == 4_000


def _break_acme(tmp_path: Path) -> Path:
    """A copy of the example with a key typo, a dangling connector id, a string for a number and a YAML error."""
    copy = shutil.copytree(ACME, tmp_path / "acme")
    teams = copy / "teams.yaml"
    teams.write_text(teams.read_text().replace("headcount: 140", "headcont: 140", 1))
    finance = copy / "plugins" / "finance.yaml"
    text = finance.read_text()
    text = text.replace("      - finance-warehouse\n", "      - finance-warehuose\n", 1)
    text = text.replace("users: 120\n", "users: a hundred and twenty\n", 1)
    finance.write_text(text)
    (copy / "plugins" / "legal.yaml").write_text((copy / "plugins" / "legal.yaml").read_text() + "\n  - id: [oops\n")
    return copy


def test_a_broken_copy_lists_every_problem_with_exit_1_and_no_traceback(tmp_path: Path) -> None:
    broken = _break_acme(tmp_path)
    result = run("validate", str(broken))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    err = result.stderr
    assert "problems in inventory" in err
    assert "teams.yaml:8: teams[0].headcont: unknown key 'headcont' (did you mean 'headcount'?)" in err
    assert "unknown connector 'finance-warehuose' (did you mean 'finance-warehouse'?)" in err
    assert (
        "finance.yaml:9: plugins[0].users[0].users: input should be a valid integer, got 'a hundred and twenty'" in err
    )
    assert "legal.yaml:" in err and "invalid YAML" in err
    # the input is left as it was
    assert "headcont: 140" in (broken / "teams.yaml").read_text()


def test_a_command_leaves_the_garbage_collector_as_it_found_it(capsys) -> None:
    import gc

    assert gc.isenabled()
    assert main(["score", str(ACME), "--format", "csv"]) == 0
    assert gc.isenabled()  # one-shot commands run with it off, and turn it back on when they end
    assert main(["explain", str(ACME), "no-such-plugin"]) == 1  # also when they fail
    assert gc.isenabled()
    gc.disable()
    try:
        main(["score", str(ACME), "--format", "csv"])
        assert not gc.isenabled()  # never turned on by a command that found it off
    finally:
        gc.enable()
    capsys.readouterr()


def test_usage_errors_exit_2() -> None:
    assert run("validate").returncode == 2
    assert run("frobnicate").returncode == 2
    assert run().returncode == 2


def test_help_explains_each_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("validate", "graph", "schema", "sensitivity"):
        assert command in result.stdout
    assert "blastradius validate inventories/acme" in result.stdout
    assert "Exit 0 if valid" in run("validate", "--help").stdout


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "no such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_graph_writes_graphml_and_json(tmp_path: Path) -> None:
    result = run("graph", "inventories/acme", "--out", str(tmp_path / "out" / "acme.graphml"))
    assert result.returncode == 0, result.stderr
    G = nx.read_graphml(tmp_path / "out" / "acme.graphml")
    assert G.nodes["plugin:forecast-rollup"]["kind"] == "plugin"
    assert run("graph", "inventories/acme", "--out", str(tmp_path / "acme.json")).returncode == 0
    assert json.loads((tmp_path / "acme.json").read_text())["directed"] is True
    stdout = run("graph", "inventories/acme")
    assert json.loads(stdout.stdout)["nodes"]


def test_graph_refuses_to_write_into_the_inventory(tmp_path: Path) -> None:
    copy = shutil.copytree(ACME, tmp_path / "acme")
    result = run("graph", str(copy), "--out", str(copy / "graph.json"))
    assert result.returncode == 1
    assert "refusing to write" in result.stderr
    assert not (copy / "graph.json").exists()
    bad = run("graph", "inventories/acme", "--out", str(tmp_path / "g.png"))
    assert bad.returncode == 1 and "use a .graphml or .json file name" in bad.stderr


def test_schema_validates_every_example_file() -> None:
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    checked = 0
    for path in sorted((ROOT / "inventories").rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            # YAML reads dates as dates; an editor's schema check sees the text
            data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
        else:
            continue
        errors = list(validator.iter_errors(data))
        assert not errors, f"{path}: {errors[0].message[:200]}"
        checked += 1
    assert checked >= 10


def test_schema_rejects_a_typo() -> None:
    schema = json.loads(run("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({"teams": [{"id": "x", "headcont": 3}]})
    assert validator.is_valid({"teams": [{"id": "x", "headcount": 3}]})


def test_the_module_runs_without_the_console_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "blastradius", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("blastradius ")


def test_score_prints_a_ranked_table_csv_and_json() -> None:
    table = run("score", "inventories/acme")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "blast radius" in lines[0] and "ap-autopilot" in lines[2]
    csv = run("score", "inventories/acme", "--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("rank,plugin,name,owner,department,capability")
    rows = json.loads(run("score", "inventories/acme", "--format", "json").stdout)
    assert len(rows) == 18
    for key in ("plugin", "capability", "reach_records", "reach_people", "autonomy", "blast_radius"):
        assert key in rows[0]
    assert rows[0]["blast_radius"] >= rows[-1]["blast_radius"]


def test_explain_speaks_in_words_and_names_a_typo() -> None:
    result = run("explain", "inventories/acme-governed", "renewal-campaigns")
    assert result.returncode == 0, result.stderr
    assert "This will email 2,310 contacts" in result.stdout
    assert "Where it comes from, largest first" in result.stdout
    bad = run("explain", "inventories/acme", "renewal-campaign")
    assert bad.returncode == 1 and "did you mean 'renewal-campaigns'?" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_recommend_ranks_overall_and_per_plugin() -> None:
    result = run("recommend", "inventories/acme", "--top", "5", "--per-plugin", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Whole inventory: blast radius" in out and "Plugin ap-autopilot" in out
    assert "Human approval before ap-autopilot can pay (release_payment_batch)" in out
    assert "Pareto front first" in out and "per unit of cost" not in out
    assert "risk removed as a % of the plugin's score" in out and "uses lost" in out and "teams affected" in out
    data = json.loads(run("recommend", "inventories/acme", "--plugin", "crm-hygiene", "--format", "json").stdout)
    assert data[0]["scope"] == "crm-hygiene" and data[0]["after"] < data[0]["before"]


def test_a_bad_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("gate_miss_rate: lots\n")
    result = run("score", "inventories/acme", "--weights", str(tmp_path / "w.yaml"))
    assert result.returncode == 1
    assert "w.yaml:1: gate_miss_rate: input should be a valid number" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_examples_in_the_format_docs_follow_the_schema() -> None:
    import re as _re

    schema = json.loads(run("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    text = (ROOT / "docs" / "inventory-format.md").read_text()
    checked = 0
    for block in _re.findall(r"```yaml\n(.*?)```", text, _re.S):
        data = yaml.safe_load(block)
        if not isinstance(data, dict):
            continue
        data = json.loads(json.dumps(data, default=str))
        errors = list(validator.iter_errors(data))
        assert not errors, f"{block[:200]}: {errors[0].message[:300]}"
        checked += 1
    assert checked >= 8


def test_simulate_prints_percentiles_and_is_reproducible(tmp_path: Path) -> None:
    table = run("simulate", "inventories/acme", "--trials", "500", "--seed", "3")
    assert table.returncode == 0, table.stderr
    assert "500 simulated quarters (seed 3)" in table.stdout and "systematic" in table.stdout
    # each enterprise figure with its Monte Carlo interval, against what can be reached
    assert "Records affected across the enterprise: typical (median) " in table.stdout
    assert "of 618 million reachable" in table.stdout and "95% Monte Carlo intervals" in table.stdout
    # 500 trials cannot estimate a P99 (5 trials beyond it) or a P95: said once, on stderr
    assert "too few for P95, P99" in table.stderr and "--trials 5,000 or more" in table.stderr
    enough = run("simulate", "inventories/acme", "--trials", "5000", "--seed", "3")
    assert "too few" not in enough.stderr
    one = json.loads(run("simulate", "inventories/acme", "--trials", "500", "--seed", "3", "--format", "json").stdout)
    two = json.loads(run("simulate", "inventories/acme", "--trials", "500", "--seed", "3", "--format", "json").stdout)
    assert one == two
    assert {"by_class", "plugin", "assumptions", "seed", "trials"} <= set(one)
    other = json.loads(run("simulate", "inventories/acme", "--trials", "500", "--seed", "4", "--format", "json").stdout)
    assert other["plugin"] != one["plugin"]
    csv = run("simulate", "inventories/acme", "--trials", "200", "--by", "department", "--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("group,")


def test_simulate_compare_gives_the_reduction(tmp_path: Path) -> None:
    rows = json.loads(
        run(
            "simulate",
            "inventories/acme",
            "--compare",
            "inventories/acme-governed",
            "--trials",
            "500",
            "--format",
            "json",
        ).stdout
    )["rows"]
    ent = next(r for r in rows if r["group"] == "enterprise" and r["metric"] == "records")
    assert ent["controlled_p95"] < ent["baseline_p95"] and ent["reduction_p95"] > 0


def test_simulate_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = run("simulate", "inventories/acme", "--trials", "0")
    assert bad.returncode == 2 and "argument --trials: must be from 1 to 10,000,000, got 0" in bad.stderr
    for args, says in (
        (("--trials", "99999999999999999999"), "must be from 1 to 10,000,000"),
        (("--seed", "-1"), "argument --seed: must be from 0"),
        (("--seed", "x"), "expected a whole number, got 'x'"),
    ):
        out = run("simulate", "inventories/acme", *args)
        assert out.returncode == 2 and says in out.stderr and "Traceback" not in out.stderr, args
    top = run("recommend", "inventories/acme", "--top", "-1")
    assert top.returncode == 2 and "argument --top: must be from 1" in top.stderr
    nan = run("recommend", "inventories/acme", "--min-reduction", "nan")
    assert nan.returncode == 2 and "must be from 0 to 100" in nan.stderr
    (tmp_path / "a.yaml").write_text("controls:\n  approval_gate_catch_rate: 1.5\n")
    bad = run("simulate", "inventories/acme", "--assumptions", str(tmp_path / "a.yaml"))
    assert bad.returncode == 1 and "a.yaml:2: controls.approval_gate_catch_rate" in bad.stderr
    assert "Traceback" not in bad.stderr
