"""npconv.summary: layer table, output shapes, parameter counts."""
import npconv as nc
import npconv.nn as nn


def test_summary_mlp():
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(),
                      nn.Dropout(0.5), nn.Linear(8, 3))
    m.train()
    s = nc.summary(m, (3, 4))
    assert [(r[0], r[1], r[2], r[3]) for r in s.rows] == [
        ("0", "Flatten", (2, 12), 0), ("1", "Linear", (2, 8), 104),
        ("2", "BatchNorm1d", (2, 8), 16), ("3", "ReLU", (2, 8), 0),
        ("4", "Dropout", (2, 8), 0), ("5", "Linear", (2, 3), 27)]
    assert s.total_params == 147 == sum(p.numel() for p in m.parameters())
    assert s.trainable_params == 147
    text = str(s)
    assert "1 (Linear)" in text and "[2, 8]" in text and "Total params: 147" in text
    assert repr(s) == text
    # the model's modes are restored, running stats are untouched, hooks removed
    assert m.training and m[2].num_batches_tracked.item() == 0
    assert all(not mod._forward_hooks for mod in m.modules())


def test_summary_nested_and_frozen():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.body(x))
    net = Net()
    net.body.requires_grad_(False)
    net.eval()
    s = nc.summary(net, (4,), batch_size=5)
    assert [r[0] for r in s.rows] == ["body.0", "body.1", "head"]
    assert s.rows[-1][2] == (5, 2)
    assert s.total_params == 30 and s.trainable_params == 10 and s.non_trainable_params == 20
    assert not net.training
    assert "Non-trainable params: 20" in str(s)


def test_summary_of_a_single_layer_lists_that_layer():
    lin = nn.Linear(3, 2)
    s = nc.summary(lin, (3,))
    assert [tuple(r) for r in s.rows] == [("", "Linear", (2, 2), 8)]
    lines = str(s).splitlines()
    assert any(line.startswith("Linear ") and line.rstrip().endswith(" 8") and "[2, 2]" in line
               for line in lines)
    assert not lin._forward_hooks
    assert [r[1] for r in nc.summary(nn.ReLU(), (4,)).rows] == ["ReLU"]


def test_summary_tuple_and_dict_outputs_print_as_lists():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 3)
            self.b = nn.Linear(4, 2)

        def forward(self, x):
            return self.a(x), self.b(x)

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.two = Two()

        def forward(self, x):
            y, z = self.two(x)
            return {"y": y, "z": z}

    s = nc.summary(Two(), (4,))
    assert s.output_shape == [(2, 3), (2, 2)]
    assert "Output shape: [[2, 3], [2, 2]]" in str(s) and "(" not in str(s).split("Input")[1]
    s = nc.summary(Heads(), (4,))
    assert s.output_shape == {"y": (2, 3), "z": (2, 2)}
    text = str(s)
    assert "Output shape: {'y': [2, 3], 'z': [2, 2]}" in text
    two_row = [line for line in text.splitlines() if line.startswith("two (Two)")]
    assert len(two_row) == 1 and "[[2, 3], [2, 2]]" in two_row[0]


def test_summary_counts_a_shared_layer_once():
    lin = nn.Linear(3, 3)

    class Net(nn.Module):              # the same layer called twice, as torchinfo's example
        def __init__(self):
            super().__init__()
            self.fc = lin
            self.act = nn.ReLU()

        def forward(self, x):
            return self.fc(self.act(self.fc(x)))

    for model in (Net(), nn.Sequential(lin, nn.ReLU(), lin)):
        s = nc.summary(model, (3,))
        assert [r[1] for r in s.rows] == ["Linear", "ReLU", "Linear"]     # a row per call
        assert [r[3] for r in s.rows] == [12, 0, 0]
        assert s.rows[0][0] == s.rows[2][0]                # both calls name the one layer
        assert s.total_params == s.trainable_params == 12 == sum(r[3] for r in s.rows)
        lines = str(s).splitlines()
        first, again = [line for line in lines if "(Linear)" in line]
        assert first.rstrip().endswith(" 12") and again.rstrip().endswith(" (recursive)")
        assert "Total params: 12" in lines

    class Tied(nn.Module):             # two layers sharing one weight
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    s = nc.summary(Tied(), (3,))
    assert [r[3] for r in s.rows] == [12, 3] and s.total_params == 15
