import numpy as np
import pytest
import torch

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification, TimeMAEModel

pytest.importorskip("onnxruntime", reason="ONNX export needs the `onnx` extra: pip install 'timemae-hf[onnx]'")

import onnx  # noqa: E402
import onnxruntime  # noqa: E402

from timemae_hf import onnx_export  # noqa: E402


def tiny_config(**kwargs) -> TimeMAEConfig:
    return TimeMAEConfig(num_input_channels=3, context_length=32, patch_length=8, hidden_size=16, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=32, **kwargs)  # fmt: skip


def windows(batch_size: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch_size, 32, 3, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("batch_size", [1, 5])
def test_onnx_encoder_matches_pytorch_for_any_batch_size(tmp_path, batch_size):
    torch.manual_seed(0)
    encoder = TimeMAEModel(tiny_config(channel_mean=[0.5, 0.0, -1.0], channel_std=[2.0, 1.0, 0.5])).eval()
    path = onnx_export.export_onnx(encoder, tmp_path / "encoder.onnx")
    session = onnx_export.inference_session(path)
    assert [output.name for output in session.get_outputs()] == ["last_hidden_state", "pooler_output"]
    past_values = windows(batch_size)
    last_hidden_state, pooler_output = session.run(None, {"past_values": past_values.numpy()})
    with torch.no_grad():
        expected = encoder(past_values)
    np.testing.assert_allclose(last_hidden_state, expected.last_hidden_state.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(pooler_output, expected.pooler_output.numpy(), atol=1e-4, rtol=0)


def test_onnx_classifier_matches_pytorch_logits(tmp_path):
    torch.manual_seed(0)
    classifier = TimeMAEForSequenceClassification(tiny_config(num_labels=6)).eval()
    session = onnx_export.inference_session(onnx_export.export_onnx(classifier, tmp_path / "model.onnx"))
    past_values = windows(4, seed=1)
    (logits,) = session.run(None, {"past_values": past_values.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, classifier(past_values).logits.numpy(), atol=1e-4, rtol=0)


def test_export_command_writes_onnx_files_next_to_the_checkpoint(tmp_path):
    torch.manual_seed(0)
    classifier = TimeMAEForSequenceClassification(tiny_config(num_labels=6)).eval()
    classifier.save_pretrained(tmp_path)
    onnx_export.main([str(tmp_path), "--quantize"])
    past_values = windows(8, seed=2)
    with torch.no_grad():
        expected = classifier(past_values).logits.numpy()
    (logits,) = onnx_export.inference_session(tmp_path / "model.onnx").run(None, {"past_values": past_values.numpy()})
    np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=0)
    (int8_logits,) = onnx_export.inference_session(tmp_path / "model.int8.onnx").run(
        None, {"past_values": past_values.numpy()}
    )
    # int8 weights move the logits a little, not a lot: within 5 % of their spread on this random model.
    assert np.abs(int8_logits - expected).max() < 0.05 * (expected.max() - expected.min())
    # --quantize starts from the optimized graph (written too): its attention projections are int8 as well.
    (optimized_logits,) = onnx_export.inference_session(tmp_path / "model.optimized.onnx").run(
        None, {"past_values": past_values.numpy()}
    )
    np.testing.assert_allclose(optimized_logits, expected, atol=1e-4, rtol=0)
    int8_operators = {node.op_type for node in onnx.load(str(tmp_path / "model.int8.onnx")).graph.node}
    assert {"QAttention", "MatMulInteger"} <= int8_operators
    assert not list(tmp_path.glob("*tmp*"))  # no staging file left, no external-data file beside the model


@pytest.mark.parametrize("model_class", [TimeMAEModel, TimeMAEForSequenceClassification])
def test_optimized_graph_fuses_attention_and_matches_pytorch(tmp_path, model_class):
    torch.manual_seed(0)
    model = model_class(tiny_config(num_labels=6, channel_mean=[0.5, 0.0, -1.0], channel_std=[2.0, 1.0, 0.5])).eval()
    path = onnx_export.export_optimized_onnx(model, tmp_path / "model.optimized.onnx")
    operators = [(node.domain, node.op_type) for node in onnx.load(str(path)).graph.node]
    # One ONNX Runtime attention kernel per layer; no SkipLayerNormalization (split back into Add + LayerNormalization).
    assert operators.count(("com.microsoft", "Attention")) == model.config.num_hidden_layers
    assert ("com.microsoft", "SkipLayerNormalization") not in operators
    # ... and ONNX Runtime does not fuse it back when it optimises the graph for a session.
    options = onnxruntime.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "as_run.onnx")
    onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    assert "SkipLayerNormalization" not in {node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node}
    (tmp_path / "as_run.onnx").unlink()
    past_values = windows(3, seed=5)
    outputs = onnx_export.inference_session(path).run(None, {"past_values": past_values.numpy()})
    with torch.no_grad():
        expected = model(past_values)
    expected = [expected.logits] if model_class is TimeMAEForSequenceClassification else expected[:2]
    for actual, wanted in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(actual, wanted.numpy(), atol=1e-4, rtol=0)
    assert not list(tmp_path.glob("*tmp*"))
    assert next(model.parameters()).requires_grad and model.config._attn_implementation == "sdpa"  # model untouched


def test_pretraining_checkpoint_exports_its_encoder_only(tmp_path):
    torch.manual_seed(0)
    pretrained = TimeMAEForPreTraining(tiny_config()).eval()
    pretrained.save_pretrained(tmp_path)
    (path,) = onnx_export.export_checkpoint(tmp_path)
    past_values = windows(2, seed=3)
    _, pooler_output = onnx_export.inference_session(path).run(None, {"past_values": past_values.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(pooler_output, pretrained.timemae(past_values).pooler_output.numpy(), atol=1e-4)


def test_export_command_explains_a_folder_without_a_checkpoint(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        onnx_export.main([str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        onnx_export.main(["--help"])
    assert exit_info.value.code == 0 and "--quantize" in capsys.readouterr().out


@pytest.mark.parametrize("exporter", ["dynamo", "tracing"])
def test_both_exporters_match_pytorch(tmp_path, exporter):
    torch.manual_seed(0)
    classifier = TimeMAEForSequenceClassification(tiny_config(num_labels=6)).eval()
    try:
        path = onnx_export.export_onnx(classifier, tmp_path / "model.onnx", exporter=exporter)
    except Exception as error:
        if exporter == "dynamo" and "data-dependent" in str(error):
            pytest.skip("this model code's input check is not export-safe yet (the `latency:` model commit)")
        raise
    past_values = windows(3, seed=4)
    (logits,) = onnx_export.inference_session(path).run(None, {"past_values": past_values.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, classifier(past_values).logits.numpy(), atol=1e-4, rtol=0)
