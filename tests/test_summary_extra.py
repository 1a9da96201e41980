"""npconv.summary: the model zoo, parameters held by the model itself, several inputs and
bad arguments."""
import pytest

import npconv as nc
import npconv.nn as nn
from npconv.models import get_model


@pytest.mark.parametrize("name, total, rows", [
    ("lenet5", 61706, 12), ("seed_cnn", 93962, 12), ("simple_cnn", 34258, 11),
    ("resnet", 77754, 31)])
def test_model_zoo_counts_add_up(name, total, rows):
    m = get_model(name, num_classes=10, in_channels=1)
    s = nc.summary(m, (1, 28, 28))
    assert s.total_params == total == sum(p.numel() for p in m.parameters())
    assert sum(r[3] for r in s.rows) == total and len(s.rows) == rows
    assert s.trainable_params == total and s.output_shape == (2, 10)
    assert "Total params: {:,}".format(total) in str(s)


def test_parameters_of_the_model_itself_get_a_row():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.scale = nn.Parameter(nc.ones(2), requires_grad=False)

        def forward(self, x):
            return self.fc(x) * self.scale

    s = nc.summary(Scaled(), (3,))
    assert [tuple(r) for r in s.rows] == [("fc", "Linear", (2, 2), 8), ("", "Scaled", (2, 2), 2)]
    assert s.total_params == 10 and s.trainable_params == 8 and s.non_trainable_params == 2
    assert any(line.startswith("Scaled ") and line.rstrip().endswith(" 2")
               for line in str(s).splitlines())


def test_several_inputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(4, 2)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    s = nc.summary(Two(), [(3,), (4,)], batch_size=5)
    assert [r[2] for r in s.rows] == [(5, 2), (5, 2)] and s.total_params == 18
    assert s.input_shape == [(5, 3), (5, 4)] and "Input shape: [[5, 3], [5, 4]]" in str(s)
    assert nc.summary(nn.Linear(3, 2), 3).input_shape == (2, 3)     # an int: a 1-d input


@pytest.mark.parametrize("kw, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
    ({"input_size": (-1,)}, r"input_size must be a shape .* got \(-1,\)"),
    ({"input_size": "abc"}, "input_size must be a shape .* got 'abc'")])
def test_bad_arguments_are_clear_errors(kw, message):
    lin = nn.Linear(3, 2)
    args = {"input_size": (3,)}
    args.update(kw)
    with pytest.raises(ValueError, match=message):
        nc.summary(lin, **args)
    assert not lin._forward_hooks
