"""HAR is one dataset among others: the generic data modules and the model card know nothing of it, the HAR builder
records its own validation split, and the library has no default data folder."""

import ast
from pathlib import Path

from transformers import TrainingArguments

from timemae_hf import TimeMAEConfig, TimeMAEForSequenceClassification
from timemae_hf.data import UciHar, dataset_display_name, validation_split_description
from timemae_hf.training import render_model_card

PACKAGE = Path(__file__).resolve().parents[1] / "timemae_hf"
GENERIC_DATA_MODULES = ("validation_split.py", "timeseries.py", "series_file.py", "channel_statistics.py")
HAR_NAMES = ("uci_har", "UCI HAR")  # the HAR builder's name and display name
HAR_GROUP_COLUMN = "subject"


def code_strings_and_imports(path: Path) -> tuple[set[str], set[str]]:
    """The string constants of a module's code (docstrings left out) and the modules it imports from."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node) is not None
    }
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }
    imports = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return strings, imports


def test_generic_data_modules_neither_name_har_nor_import_it():
    for name in GENERIC_DATA_MODULES:
        strings, imports = code_strings_and_imports(PACKAGE / "data" / name)
        named = {
            string
            for string in strings
            if string == HAR_GROUP_COLUMN or any(har_name in string for har_name in HAR_NAMES)
        }
        assert not named, f"timemae_hf/data/{name} names HAR: {sorted(named)}"
        assert not {module for module in imports if "uci_har" in module}, f"timemae_hf/data/{name} imports HAR"


def test_library_code_has_no_default_data_folder():
    for path in sorted(PACKAGE.rglob("*.py")):
        strings, _ = code_strings_and_imports(path)
        folders = {string for string in strings if "shared" in string.split("/") or string == "shared"}
        assert not folders, f"{path.relative_to(PACKAGE.parent)} holds a data folder of this checkout: {folders}"


def test_model_card_without_training_data_names_no_dataset(tmp_path):
    config = TimeMAEConfig(
        num_input_channels=3,
        context_length=16,
        patch_length=4,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=2,
    )
    card = render_model_card(
        TimeMAEForSequenceClassification(config),
        "mine",
        {"test_accuracy": 0.5},
        None,
        TrainingArguments(output_dir=str(tmp_path), report_to="none"),
    )
    assert card.data.datasets is None
    assert "HAR" not in card.text and "human-activity-recognition" not in card.data.tags
    assert "not told about" in card.text


def test_har_builder_records_how_its_validation_split_was_made(synthetic_uci_har, tmp_path):
    builder = UciHar(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))
    builder.download_and_prepare()
    splits = builder.as_dataset()  # the builder alone, without load_har
    subjects = sorted(set(splits["validation"]["subject"]))
    assert validation_split_description(splits) == f"held-out train subjects {', '.join(map(str, subjects))}"
    reloaded = UciHar(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))
    reloaded.download_and_prepare()  # from the prepared cache this time
    assert validation_split_description(reloaded.as_dataset()) == validation_split_description(splits)
    assert dataset_display_name(splits) == "uci_har"  # load_har names it "UCI HAR" (tests/test_data_timeseries.py)
