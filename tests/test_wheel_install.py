"""The package as a user installs it: a wheel built from this source tree, installed outside it, renders model cards.

The wheel is built from a copy of the tree (so the build writes nothing into the repository) and installed with
`pip install --no-deps --target`: the installed copy reuses this environment's dependencies, and a program run from a
folder outside the repository, with that target first on its path, imports `timemae_hf` from the wheel only.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages

pytestmark = pytest.mark.slow  # builds and installs a wheel, then trains two tiny models in a fresh process

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("setup.cfg", "pyproject.toml", "README.md", "timemae_hf", "model_cards")

RENDER_CARDS = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import numpy as np
    from transformers import TrainingArguments

    import timemae_hf
    import timemae_hf.model_cards
    from timemae_hf import TimeMAEClassifier, TimeMAEConfig, TimeMAEForSequenceClassification
    from timemae_hf.training import TimeMAETrainer

    output = Path(sys.argv[1])
    tiny = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}
    config = TimeMAEConfig(num_input_channels=2, context_length=16, num_labels=3, **tiny)
    model = TimeMAEForSequenceClassification(config)
    trainer = TimeMAETrainer(model=model, args=TrainingArguments(output_dir=str(output / "run"), report_to="none"))
    trainer.create_model_card(results={"test_accuracy": 0.5}, training_command="python training/finetune.py ...")

    windows = np.random.default_rng(0).normal(size=(24, 16, 2)).astype(np.float32)
    labels = np.array(["walk", "run", "sit"] * 8)
    classifier = TimeMAEClassifier(pretrained_model=None, head="finetune", pretrain_steps=1, finetune_steps=1,
                                   random_state=0, device="cpu", **tiny)
    classifier.fit(windows, labels).save_pretrained(str(output / "estimator"))
    reloaded = TimeMAEClassifier.from_pretrained(str(output / "estimator"))
    # The defaults: the shipped universal encoder, read from the installed package with no network.
    default = TimeMAEClassifier(random_state=0).fit(windows, labels)
    default.save_pretrained(str(output / "default_estimator"))
    print(json.dumps({"timemae_hf": timemae_hf.__file__, "template": timemae_hf.model_cards.__file__,
                      "reloaded_classes": reloaded.classes_.tolist(),
                      "shipped": timemae_hf.shipped_model_path("timemae-base"),
                      "default_features": int(default.embed(windows).shape[1])}))
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built, without network or build isolation, from a copy of the package's files."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        path = REPOSITORY_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, source / name)
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (built,) = wheels.glob("timemae_hf-*.whl")
    return built


def test_the_wheel_holds_every_package_and_the_card_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    source_packages = find_packages(str(REPOSITORY_ROOT), include=["timemae_hf", "timemae_hf.*"])
    missing = [package for package in source_packages if f"{package.replace('.', '/')}/__init__.py" not in names]
    assert not missing, f"setup.cfg's `packages` lacks {missing}: add them, or the wheel installs without them"
    assert "timemae_hf/model_cards/timemae.md" in names
    assert {
        f"timemae_hf/shipped_models/timemae-base/{name}" for name in ("config.json", "model.safetensors", "README.md")
    } <= names
    # One source for the template: the wheel's copy is the top-level model_cards/ file, byte for byte.
    template = zipfile.ZipFile(wheel).read("timemae_hf/model_cards/timemae.md")
    assert template == (REPOSITORY_ROOT / "model_cards" / "timemae.md").read_bytes()


def test_a_wheel_install_renders_a_training_card_and_an_estimator_folder(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"  # a working folder outside the repository
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", RENDER_CARDS, str(tmp_path / "out")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    imported = json.loads(completed.stdout.strip().splitlines()[-1])
    assert Path(imported["timemae_hf"]).is_relative_to(site), imported
    assert Path(imported["template"]).is_relative_to(site), imported
    assert imported["reloaded_classes"] == ["run", "sit", "walk"]
    assert Path(imported["shipped"]).is_relative_to(site), imported  # the wheel carries timemae-base
    assert imported["default_features"] == 2 * 64  # two channels, each read alone by the 64-wide encoder
    default_card = " ".join((tmp_path / "out" / "default_estimator" / "README.md").read_text().split())
    assert "starting from the pre-trained encoder `timemae-base`" in default_card
    assert "series of any length, each resized to 512 steps" in default_card

    run_card = (tmp_path / "out" / "run" / "README.md").read_text()
    assert "library_name: transformers" in run_card and "`test_accuracy` | 0.5" in run_card
    assert "python training/finetune.py ..." in run_card
    estimator_card = " ".join((tmp_path / "out" / "estimator" / "README.md").read_text().split())
    assert "fitted with `timemae_hf.TimeMAEClassifier`" in estimator_card
    assert "2 channels, series of up to 16 steps, 3 classes" in estimator_card
    assert "Classes: run, sit, walk." in estimator_card
    assert "| `finetune_steps` | `1` |" in estimator_card and "| `head` | `finetune` |" in estimator_card
    assert "output_dir" not in estimator_card  # where fit worked is no property of the model
