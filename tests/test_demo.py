"""The main job: the demo trains, evaluates, saves, reloads and predicts, and reaches its accuracy."""

from lamina import demo


def test_demo_reaches_95_percent(capsys):
    accuracy = demo.main(["--verbose", "2"])
    out = capsys.readouterr().out
    assert accuracy >= 0.95
    assert 'Model: "digits_convnet"' in out and "Epoch 15/15" in out
    assert "Reloaded model predicts the same logits." in out
