"""Pipeline files are validated completely before anything runs; every error names the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sigbench.errors import ConfigError
from sigbench.pipeline import load_pipeline, parse_pipeline

GOOD = """\
description = "a small study"
methods = [
    "wiener",
    "lms:mu=0.01",
    "wiener | lms",
]

[signal]
source = "sines"
n = 1500
seed = 0
params = { snr_db = 10.0 }

[task]
name = "predict"
window = 16

[protocol]
train_samples = 1200
seeds = 1
"""

# (line to replace, replacement, expected error, one-line reason)
CASES = [
    # an unknown top-level key, at its own line
    ('description = "a small study"', 'descriptoin = "x"',
     "study.toml:1: unknown key 'descriptoin' in the top level; expected one of: description, methods, output, "
     "protocol, signal, sweep, task"),
    # the example of the issue: a misspelt key in [protocol], with every allowed key
    ("seeds = 1", "sedes = 3",
     "study.toml:20: unknown key 'sedes' in [protocol]; expected one of: include_naive, mode, reference, seed, "
     "seeds, split, train_samples, transient"),
    # a string where an integer is expected
    ("seeds = 1", 'seeds = "3"', "study.toml:20: expected protocol.seeds to be an integer; received: seeds='3'"),
    # a boolean is not an integer
    ("n = 1500", "n = true", "study.toml:10: expected signal.n to be an integer; received: n=True"),
    # seeds below 1
    ("seeds = 1", "seeds = 0", "study.toml:20: expected protocol.seeds to be an integer >= 1; received: seeds=0"),
    # split and train_samples together
    ("seeds = 1", "split = [0.6, 0.2, 0.2]",
     "study.toml:19: expected either split or train_samples in [protocol], not both"),
    # an unknown protocol mode
    ("seeds = 1", 'mode = "online"',
     "study.toml:20: expected mode to be offline or prequential; received: mode='online'"),
    # an unknown source names the known ones
    ('source = "sines"', 'source = "sinez"', "study.toml:9: unknown source 'sinez'; did you mean 'sines'? known:"),
    # an unknown source parameter names the allowed ones
    ("params = { snr_db = 10.0 }", "params = { snr = 10.0 }",
     "study.toml:12: unknown parameter of source 'sines' 'snr'; expected one of:"),
    # a source parameter of the wrong type
    ("params = { snr_db = 10.0 }", 'params = { snr_db = "loud" }',
     "study.toml:12: expected snr_db to be a number; received: snr_db='loud'"),
    # source and file together
    ("n = 1500", 'file = "x.h5"', "study.toml:8: expected exactly one of source or file in [signal]"),
    # an unknown task
    ('name = "predict"', 'name = "predikt"', "study.toml:15: unknown task 'predikt'; did you mean 'predict'? known:"),
    # a window below 1
    ("window = 16", "window = 0", "study.toml:16: expected task.window to be an integer >= 1; received: window=0"),
    # an unknown method: the line of the array element, not of the array
    ('    "lms:mu=0.01",', '    "lmz",',
     "study.toml:4: method 'lmz': unknown processor 'lmz'; did you mean 'lms'? known:"),
    # a bad option value of a method
    ('    "lms:mu=0.01",', '    "lms:mu=abc",',
     "study.toml:4: method 'lms:mu=abc': expected mu to be a finite number; received: mu='abc'"),
    # an unknown option of a method
    ('    "lms:mu=0.01",', '    "lms:mew=0.01",', "study.toml:4: method 'lms:mew=0.01': unknown option of method 'lms' "
                                                   "'mew'; expected one of:"),
    # an unknown stage of a chain
    ('    "wiener | lms",', '    "wiener | lmz",', "study.toml:5: method 'wiener | lmz': unknown processor 'lmz'"),
    # the same method twice
    ('    "wiener | lms",', '    "lms:mu=0.01",', "study.toml:2: expected each method once; received:"),
    # an unknown reference method, at the reference key
    ("seeds = 1", 'reference = "wienr"', "study.toml:20: unknown processor 'wienr'; did you mean 'wiener'? known:"),
    # an unknown table key in [task]
    ("window = 16", "windw = 16", "study.toml:16: unknown key 'windw' in [task]; expected one of: centered, "
                                  "channel, delay, hop, horizon, name, target, window"),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_every_error_names_the_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        parse_pipeline(GOOD.replace(old, new, 1), path=tmp_path / "study.toml")
    assert str(err.value).startswith(expected), str(err.value)
    assert "\n" not in str(err.value)


TABLES = """\
[signal]
source = "sines"
n = 1500

[task]
window = 16

[protocol]
train_samples = 1200

[[methods]]
name = "wiener"

[[methods]]
name = "lms"
options = { mu = 0.01, numtaps = 16 }

[[methods]]
chain = ["wiener", { name = "lms", options = { mu = 0.02 } }]
"""

TABLE_CASES = [
    # an unknown key in the second [[methods]] table, at its line
    ("options = { mu = 0.01, numtaps = 16 }", "optoins = { mu = 0.01 }",
     "study.toml:16: unknown key 'optoins' in [[methods]] #2; expected one of: chain, name, options"),
    # a bad option value in a table: the line of the options
    ("options = { mu = 0.01, numtaps = 16 }", 'options = { mu = "fast" }',
     "study.toml:16: method 'lms:mu=fast': expected mu to be a finite number; received: mu='fast'"),
    # an option value that cannot be written into a specification
    ("options = { mu = 0.01, numtaps = 16 }", 'options = { mu = "1,2" }',
     "study.toml:16: expected option 'mu' of method 'lms' without ',', '|', ':' or '='"),
    # a name that already carries options
    ('name = "lms"', 'name = "lms:mu=0.1"',
     "study.toml:15: expected a bare method name (options go in options = {…}); received: name='lms:mu=0.1'"),
    # a chain of one stage
    ('chain = ["wiener", { name = "lms", options = { mu = 0.02 } }]', 'chain = ["wiener"]',
     "study.toml:19: expected a chain of at least two stages; received: ['wiener']"),
    # a chain and a name in one table
    ('chain = ["wiener", { name = "lms", options = { mu = 0.02 } }]', 'chain = ["wiener", "lms"]\nname = "x"',
     "study.toml:19: expected either chain or name/options in a method, not both"),
    # a [[methods]] table with neither name nor chain
    ('name = "wiener"', 'options = { mu = 1 }',
     "study.toml:11: expected a method table with a name (and optional options) or a chain"),
]


def test_tables_of_methods_become_specifications(tmp_path: Path) -> None:
    p = parse_pipeline(TABLES, path=tmp_path / "study.toml")
    assert p.methods == ["wiener", "lms:mu=0.01,numtaps=16", "wiener | lms:mu=0.02"]


@pytest.mark.parametrize(("old", "new", "expected"), TABLE_CASES)
def test_method_table_errors_name_the_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in TABLES
    with pytest.raises(ConfigError) as err:
        parse_pipeline(TABLES.replace(old, new, 1), path=tmp_path / "study.toml")
    assert str(err.value).startswith(expected), str(err.value)


SWEEP_CASES = [
    # a sweep key that is neither a task option, a source parameter nor METHOD.OPTION
    ("snr_db = [0.0, 20.0]", "snr = [0.0, 20.0]", "study.toml:12: unknown sweep key 'snr'; expected one of:"),
    # an empty list of values
    ("snr_db = [0.0, 20.0]", "snr_db = []", "study.toml:12: expected a non-empty array of values for sweep 'snr_db'"),
    # a bad value for a method option (dotted key written as a nested table)
    ("snr_db = [0.0, 20.0]", 'lms.mu = ["fast"]',
     "study.toml:12: expected mu to be a finite number; received: mu='fast'"),
    # a bad value for a source parameter
    ("snr_db = [0.0, 20.0]", 'snr_db = ["loud"]', "study.toml:12: expected snr_db to be a number"),
    # a sweep over an option of a method that is not in the study
    ("snr_db = [0.0, 20.0]", '"rls.lam" = [0.99]', "study.toml:12: unknown sweep key 'rls.lam'"),
]
SWEEP = """\
methods = ["wiener", "lms"]

[signal]
source = "sines"
n = 1500

[protocol]
train_samples = 1200
seeds = 1

[sweep]
snr_db = [0.0, 20.0]

[output]
report = "r.md"
"""


def test_sweep_and_output_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 item 4: [output] paths are relative to the current folder (or output_dir), not the TOML's."""
    (tmp_path / "studies").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    p = parse_pipeline(SWEEP, path=tmp_path / "studies" / "study.toml")
    assert p.grid == {"snr_db": [0.0, 20.0]}
    assert p.report == tmp_path / "work" / "r.md" and p.report_format == "md"  # the current folder; md by suffix
    assert p.results is None
    p = parse_pipeline(SWEEP, path=tmp_path / "studies" / "study.toml", output_dir=tmp_path / "out")
    assert p.report == tmp_path / "out" / "r.md"


@pytest.mark.parametrize(("old", "new", "expected"), SWEEP_CASES)
def test_sweep_errors_name_the_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_pipeline(SWEEP.replace(old, new, 1), path=tmp_path / "study.toml")
    assert str(err.value).startswith(expected), str(err.value)


def test_bad_report_format(tmp_path: Path) -> None:
    # an unknown report format
    with pytest.raises(ConfigError, match=r"^study.toml:16: expected report_format to be html or md; "
                                          r"received: report_format='pdf'"):
        parse_pipeline(SWEEP + 'report_format = "pdf"\n', path=tmp_path / "study.toml")


def test_toml_syntax_error_carries_line_and_column(tmp_path: Path) -> None:
    # tomllib's own position
    with pytest.raises(ConfigError, match=r"^study.toml: invalid TOML: .*line 3, column"):
        parse_pipeline('[signal]\nsource = "sines"\nn = = 3\n', path=tmp_path / "study.toml")


def test_missing_signal(tmp_path: Path) -> None:
    # no [signal] at all
    with pytest.raises(ConfigError, match=r"^study.toml: missing \[signal\]"):
        parse_pipeline('methods = ["wiener"]\n', path=tmp_path / "study.toml")


def test_input_file_is_relative_to_the_pipeline_file(tmp_path: Path) -> None:
    import sigbench as sb

    (tmp_path / "data").mkdir()
    sb.save_signal(sb.generate("sines", n=500), tmp_path / "data" / "s.h5")
    text = '[signal]\nfile = "data/s.h5"\n'
    p = parse_pipeline(text, path=tmp_path / "study.toml")
    assert p.signal.file == tmp_path / "data" / "s.h5"
    # a missing input file, at its line
    with pytest.raises(ConfigError, match=r"^study.toml:2: expected an existing sigbench HDF5 file"):
        parse_pipeline(text.replace("s.h5", "t.h5"), path=tmp_path / "study.toml")
    # n only goes with a source
    with pytest.raises(ConfigError, match=r"^study.toml:3: expected n only with source"):
        parse_pipeline(text + "n = 3\n", path=tmp_path / "study.toml")


OVERRIDE_CASES = [
    # no '=' in the override
    ("protocol.seeds", "expected --set KEY=VALUE; received: 'protocol.seeds'"),
    # an override is validated like the file, and named in the error
    ("protocol.seeds=0", "--set protocol.seeds=0: expected protocol.seeds to be an integer >= 1"),
    # an unknown key introduced by an override
    ("protocol.sedes=1", "--set protocol.sedes=1: unknown key 'sedes' in [protocol]"),
    # a method list of the wrong type
    ("methods=wiener", "--set methods=wiener: expected methods to be an array; received: methods='wiener'"),
    # an unknown method in an overridden list
    ('methods=["wiener","nosuch"]', "--set methods=[\"wiener\",\"nosuch\"]: method 'nosuch': unknown processor"),
    # an index past the end of an array
    ("methods.7=lms", "--set methods.7=lms: expected an index below 3 into methods; received: '7'"),
    # a path through a value that is not a table
    ("signal.n.x=1", "--set signal.n.x=1: signal.n is not a table"),
]


@pytest.mark.parametrize(("item", "expected"), OVERRIDE_CASES)
def test_override_errors(tmp_path: Path, item: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_pipeline(GOOD, path=tmp_path / "study.toml", overrides=[item])
    assert str(err.value).startswith(expected), str(err.value)


def test_overrides_apply_before_validation(tmp_path: Path) -> None:
    p = parse_pipeline(GOOD, path=tmp_path / "study.toml",
                       overrides=["signal.n=900", "protocol.train_samples=700", 'methods=["wiener","rls"]',
                                  "signal.params.snr_db=3", "methods.1=nlms", "task.name=denoise"])
    assert (p.signal.n, p.protocol["train_samples"], p.methods) == (900, 700, ["wiener", "nlms"])
    assert p.signal.params == {"snr_db": 3.0} and p.task == "denoise"


def test_check_cli_exit_2_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sigbench.cli import app

    study = tmp_path / "study.toml"
    study.write_text(GOOD.replace("seeds = 1", "sedes = 3"))
    res = CliRunner().invoke(app, ["pipeline", "check", str(study)], prog_name="sigbench")
    assert res.exit_code == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: study.toml:20: unknown key 'sedes'"), res.stderr
    assert res.stdout == ""
    study.write_text(GOOD)
    ok = CliRunner().invoke(app, ["pipeline", "check", str(study), "--json"], prog_name="sigbench")
    assert ok.exit_code == 0, ok.stderr
    assert '"ok": true' in ok.stdout and "wiener | lms" in ok.stdout


def test_load_pipeline_refuses_a_result_file_without_a_pipeline(tmp_path: Path) -> None:
    import sigbench as sb

    out = tmp_path / "r.h5"
    sb.compare(sb.generate("sines", n=600), methods=["wiener"], window=8, seeds=1, output=out)
    # a result run made by `compare`, not by a pipeline
    with pytest.raises(ConfigError, match="was not produced by a pipeline file"):
        load_pipeline(out)
