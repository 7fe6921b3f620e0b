"""Sequential, ModuleList and ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


def test_sequential_forward_applies_modules_in_order():
    model = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
    x = ac.randn(2, 4)
    expected = model[1](model[0](x))
    assert np.array_equal(model(x).data, expected.data)


def test_sequential_keys_match_pytorch_and_ordered_dict_names():
    model = nn.Sequential(nn.Linear(4, 5), nn.Identity(), nn.Linear(5, 3))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("out", nn.Linear(2, 1))]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert named.fc is named[0]
    assert repr(named).startswith("Sequential(\n  (fc): Linear(")


def test_sequential_indexing_slicing_len_iteration():
    layers = [nn.Linear(1, 1) for _ in range(4)]
    model = nn.Sequential(*layers)
    assert len(model) == 4
    assert model[-1] is layers[3] and model[0] is layers[0]
    assert all(a is b for a, b in zip(model, layers, strict=True))
    part = model[1:3]
    assert isinstance(part, nn.Sequential) and len(part) == 2
    assert part[0] is layers[1]
    assert list(part._modules) == ["1", "2"]  # slices keep their names, as in PyTorch
    with pytest.raises(IndexError, match="out of range"):
        model[4]
    with pytest.raises(TypeError, match="integers or slices"):
        model["0"]


def test_sequential_append_insert_setitem_delitem_pop():
    a, b, c, d = (nn.Linear(1, 1) for _ in range(4))
    model = nn.Sequential(a)
    assert model.append(b) is model
    model.insert(0, c)
    assert [id(m) for m in model] == [id(c), id(a), id(b)]
    model[1] = d
    assert model[1] is d
    del model[0]
    assert list(model._modules) == ["0", "1"] and model[0] is d
    assert model.pop() is b and len(model) == 1
    model.extend([a, b])
    assert len(model) == 3
    del model[1:]
    assert len(model) == 1


def test_sequential_of_sequentials_has_nested_keys():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.Linear(2, 1))
    assert list(model.state_dict()) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_module_list_registers_and_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 1))
    layers.extend([nn.Identity()])
    layers.insert(1, nn.Linear(2, 2, bias=False))
    assert len(layers) == 5
    assert [type(m).__name__ for m in layers] == [
        "Linear",
        "Linear",
        "Linear",
        "Linear",
        "Identity",
    ]
    assert layers[1].bias is None and layers[-1] is layers[4]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert list(layers.state_dict())[:3] == ["0.weight", "0.bias", "1.weight"]
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    layers += [nn.Identity()]
    assert len(layers) == 5
    both = layers + nn.ModuleList([nn.Identity()])
    assert len(both) == 6 and len(layers) == 5
    with pytest.raises(NotImplementedError, match="iterate"):
        layers(ac.zeros(1))


def test_module_list_inside_a_module_exposes_parameters():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(3, 3) for _ in range(3))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    tower = Tower()
    assert len(list(tower.parameters())) == 6
    assert next(iter(tower.state_dict())) == "layers.0.weight"
    assert tower(ac.randn(2, 3)).shape == (2, 3)


def test_module_list_extend_refuses_a_single_module():
    with pytest.raises(TypeError, match="iterable of modules"):
        nn.ModuleList().extend(nn.Linear(1, 1))


def test_module_dict():
    heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
    assert list(heads) == ["cls", "box"] and "box" in heads and len(heads) == 2
    heads["extra"] = nn.Identity()
    assert list(heads.keys()) == ["cls", "box", "extra"]
    assert [type(m).__name__ for m in heads.values()] == ["Linear", "Linear", "Identity"]
    assert heads.pop("extra").__class__ is nn.Identity and "extra" not in heads
    heads.update([("more", nn.Linear(1, 1))])
    assert list(heads.state_dict())[-1] == "more.bias"
    del heads["more"]
    assert dict(heads.items())["box"].out_features == 4
    with pytest.raises(KeyError):
        heads["nope"]
    with pytest.raises(ValueError, match="pair"):
        heads.update(["abc"])
    heads.clear()
    assert len(heads) == 0


def test_seed_alias():
    assert nn.Modulelist is nn.ModuleList
