"""
Every command this repository records for a reader to rerun (README.md, training/README.md, benchmarks/README.md,
model_cards/, the released cards, the `command` fields of benchmarks/results/*.json and *.jsonl) is accepted today by
the argument parser of the script it runs: HfArgumentParser with its YAML config and overrides and the dataclasses'
post-init checks (e.g. the refit checks) for training/*.py, argparse for `python -m benchmarks.<group>.<script>` and
`python -m timemae_hf.<module>`. Results made before the benchmarks were grouped record `python benchmarks/<script>.py`,
how they were run then: those records are kept as they are and checked against the script's module today. The arguments
`benchmarks/har/har_reproduction.py --extra` forwards are parsed by training/pretrain.py. Nothing trains: each script is
stopped right after its arguments are parsed and checked. A reader's placeholder (`<run folders>`) stands for one
value; abbreviations (`...`) and patterns (`training/<script>.py`) are not commands and are left out.

`accelerate launch` commands are parsed by accelerate's own launcher parser, then the script's arguments by the
script (in this one process: the multi-process checks are the subject of tests/test_training_scripts.py).
"""

import argparse
import importlib
import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common.study import SCRIPT_PATHS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = re.compile(r"^(training|benchmarks)/\w+\.py$")
# `python benchmarks/<script>.py`, as results made before the benchmarks were grouped record it: the module it is now
# (the same mapping the report uses to show those commands as today's).
BENCHMARK_MODULES = {
    f"benchmarks/{name}": path.removesuffix(".py").replace("/", ".") for name, path in SCRIPT_PATHS.items()
}
# Where each training script stops: the first call after its arguments were parsed and checked. (pretrain.py's is
# where a resumed synthetic run reads its checkpoint, before the data: a recorded resume command names a run folder
# that exists only on the machine that ran it.)
TRAINING_SCRIPT_STOPS = {
    "training/pretrain.py": "synthetic_stream_start",
    "training/finetune.py": "load_splits",
    "training/linear_probe.py": "check_timemae_checkpoint",
}
# Values a documented command leaves to the reader's shell.
SHELL_SUBSTITUTIONS = {
    r"\$\(nproc\)": "2",
    r"\$\(python -c '[^']*'\)": "bert-checkpoint-folder",
    r"\$\{TIMEMAE_HAR_PATH:-([^}]*)\}": r"\1",
}


PLACEHOLDER = "READER_CHOOSES_"


class Parsed(Exception):
    """Raised where a script has parsed and checked its arguments and would start working (argparse: with them)."""

    def __init__(self, arguments=None):
        super().__init__()
        self.arguments = arguments


def documents() -> list[Path]:
    tracked = subprocess.run(
        [
            "git",
            "ls-files",
            "README.md",
            "training/README.md",
            "benchmarks/README.md",
            "model_cards/*.md",
            "released/*/README.md",
            "benchmarks/results/*.json",
            "benchmarks/results/*.jsonl",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in sorted(set(tracked))]


def fill_in(text: str, variables: dict) -> str:
    """Shell variables and substitutions replaced by the values the document gives them (or a stand-in); a reader's
    placeholder (<their files>) becomes one word and optional parts ([--overrides ...]) are dropped."""
    for pattern, value in SHELL_SUBSTITUTIONS.items():
        text = re.sub(pattern, value, text)
    for name, value in variables.items():
        text = re.sub(r"\$\{?" + name + r"\b\}?", lambda _, value=value: value, text)
    text = re.sub(r"<([^<>]+)>", lambda match: PLACEHOLDER + re.sub(r"\W+", "_", match.group(1)), text)
    return re.sub(r"\s\[[^\]]*\]", "", text)


def shell_commands(text: str, variables: dict) -> list[list[str]]:
    """The simple commands of shell text: continuation lines joined, comments dropped, split at && ; |."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        assignment = re.match(r"^\s*([A-Za-z_]\w*)=(.*)$", line)
        if assignment:
            variables[assignment.group(1)] = " ".join(
                shlex.split(fill_in(assignment.group(2), variables), comments=True)
            )
            continue
        try:
            tokens = shlex.split(fill_in(line, variables), comments=True)
        except ValueError:
            continue  # not shell (a fragment of prose)
        command = []
        for token in [*tokens, "&&"]:
            if token in ("&&", ";", "|", "||"):
                if command:
                    commands.append(command)
                command = []
            else:
                command.append(token)
    return commands


def markdown_commands(text: str) -> list[str]:
    """Shell text of a Markdown file: its bash code blocks, and inline code spans that run a script."""
    shell = [
        block
        for language, block in re.findall(r"```(\w*)\n(.*?)```", text, flags=re.DOTALL)
        if language in ("", "bash", "sh", "shell")
    ]
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    shell += [span for span in spans if re.search(r"\b(python3?|accelerate launch)\s", span)]
    return shell


def json_commands(record) -> list[str]:
    if isinstance(record, dict):
        return [
            value if key == "command" and isinstance(value, str) else command
            for key, value in record.items()
            for command in ([value] if key == "command" and isinstance(value, str) else json_commands(value))
        ]
    if isinstance(record, list):
        return [command for value in record for command in json_commands(value)]
    return []


def recorded_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of every recorded command that runs a script or module of this repository."""
    found = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        if path.suffix == ".jsonl":  # rows: each with the command that made it, many the same
            shell = list(
                dict.fromkeys(command for line in text.splitlines() for command in json_commands(json.loads(line)))
            )
        elif path.suffix == ".json":
            shell = json_commands(json.loads(text))
        else:
            shell = markdown_commands(text)
        variables = {}
        for block in shell:
            for argv in shell_commands(block, variables):
                if runs_a_named_script(argv) and (where, argv) not in found:
                    found.append((where, argv))
    return found


def repository_target(argv: list[str]):
    """The script (or `-m` module) of this repository that `argv` runs, and its arguments; None for other commands.
    (An `accelerate launch` command's own options are checked by accelerate's parser in the test.)"""
    if argv[:2] == ["accelerate", "launch"]:
        scripts = [index for index, token in enumerate(argv) if SCRIPT.match(token)]
        return (argv[scripts[0]], argv[scripts[0] + 1 :]) if scripts else None
    if argv and re.fullmatch(r"(.*/)?python3?", argv[0]) and len(argv) > 1:
        if argv[1] == "-m" and len(argv) > 2 and argv[2].startswith(("timemae_hf.", "benchmarks.")):
            return argv[2], argv[3:]
        if argv[1] in BENCHMARK_MODULES:  # an older record's `python benchmarks/<script>.py`
            return BENCHMARK_MODULES[argv[1]], argv[2:]
        if SCRIPT.match(argv[1]):
            return argv[1], argv[2:]
    return None


def runs_a_named_script(argv: list[str]) -> bool:
    """A command of this repository, not a pattern such as `python training/<script>.py ...` or an abbreviation
    (`accelerate launch --num_processes N training/pretrain.py ...`)."""
    target = repository_target(argv)
    return target is not None and PLACEHOLDER not in target[0] and "..." not in argv


def check_launcher(argv: list[str]):
    """accelerate's launcher parser accepts the options before the script, and the script is where it finds it."""
    if argv[:2] != ["accelerate", "launch"]:
        return
    from accelerate.commands.launch import launch_command_parser

    launch = launch_command_parser().parse_args(argv[2:])
    assert (launch.training_script, launch.training_script_args) == repository_target(argv)


def parse_with_the_scripts_parser(target: str, arguments: list[str], monkeypatch):
    """Run the script's own parsing and checks on `arguments`; raises what the script would raise on them."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", [target, *arguments])
    if target in TRAINING_SCRIPT_STOPS:
        monkeypatch.syspath_prepend(str(ROOT / "training"))
        spec = importlib.util.spec_from_file_location(f"recorded_{Path(target).stem}", ROOT / target)
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)

        def stop(*args, **kwargs):
            raise Parsed

        monkeypatch.setattr(script, TRAINING_SCRIPT_STOPS[target], stop)
        entry = script.main
    else:
        module = importlib.import_module(target.removesuffix(".py").replace("/", "."))
        original = argparse.ArgumentParser.parse_args

        def parse_then_stop(parser, args=None, namespace=None):
            raise Parsed(original(parser, args, namespace))

        monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
        entry = lambda: module.main(arguments)  # noqa: E731
    with pytest.raises(Parsed) as parsed:
        entry()
    forwarded = getattr(parsed.value.arguments, "extra", None)
    if forwarded:  # benchmarks/har/har_reproduction.py --extra ...: arguments for training/pretrain.py with its config
        monkeypatch.undo()
        parse_with_the_scripts_parser(
            "training/pretrain.py", ["training/configs/har_native.yaml", *forwarded], monkeypatch
        )


COMMANDS = recorded_commands()


def test_the_documents_record_commands_of_every_kind():
    targets = {repository_target(argv)[0] for _, argv in COMMANDS}
    assert {
        "training/pretrain.py",
        "training/finetune.py",
        "training/linear_probe.py",
        "benchmarks.har.har_refit",
        "benchmarks.har.har_study",
        "benchmarks.league.league",
        "timemae_hf.onnx_export",
    } <= targets
    assert any(where.startswith("released/") for where, _ in COMMANDS)
    assert any(where.startswith("benchmarks/results/") for where, _ in COMMANDS)


@pytest.mark.parametrize(
    ("where", "argv"), COMMANDS, ids=[f"{where}:{' '.join(argv)[:90]}" for where, argv in COMMANDS]
)
def test_recorded_command_is_accepted_by_its_scripts_parser(where, argv, monkeypatch, capsys):
    target, arguments = repository_target(argv)
    try:
        check_launcher(argv)
        parse_with_the_scripts_parser(target, arguments, monkeypatch)
    except (SystemExit, Exception) as error:  # argparse exits; HfArgumentParser and the checks raise
        if isinstance(error, pytest.fail.Exception):
            raise
        printed = capsys.readouterr().err.strip().splitlines()[-1:] if isinstance(error, SystemExit) else []
        pytest.fail(
            f"{where} records a command that {target} refuses today:\n  {shlex.join(argv)}\n"
            f"  -> {type(error).__name__}: {error} {' '.join(printed)}"
        )
