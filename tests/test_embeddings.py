"""cached_embeddings: computed once, named by content, never reused when stale."""

import json
import warnings

import numpy as np
import pytest
import torch

from skbatchbald.embeddings import cached_embeddings


@pytest.fixture
def X():
    return np.random.default_rng(0).random((50, 12), dtype=np.float32)


def make_encoder(seed=0, d=4):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(12, d), torch.nn.Tanh()).eval()


class CountingEncoder:
    """A plain function encoder that counts the rows it embeds."""

    def __init__(self, weights):
        self.weights = weights
        self.rows = 0

    def __call__(self, batch):
        self.rows += len(batch)
        return batch @ self.weights


def entries(path):
    return sorted(p.name for p in path.iterdir())


def test_first_call_writes_then_reads_back(X, tmp_path):
    encoder = make_encoder()
    with torch.no_grad():
        expected = encoder(torch.from_numpy(X)).numpy()
    Z = cached_embeddings(encoder, X, tmp_path, batch_size=7)
    np.testing.assert_allclose(Z, expected, rtol=1e-5, atol=1e-6)
    assert Z.dtype == np.float32 and isinstance(Z, np.memmap)
    files = entries(tmp_path)
    assert len(files) == 2 and files[0].endswith(".json")
    again = cached_embeddings(encoder, X, tmp_path)
    np.testing.assert_array_equal(again, Z)
    assert entries(tmp_path) == files


def test_float64_rows_meet_a_float32_encoder(X, tmp_path):
    # sklearn's datasets are float64; torch refuses float64 rows into float32
    # weights, so the rows take the encoder's dtype
    encoder = make_encoder()
    Z = cached_embeddings(encoder, X.astype(np.float64), tmp_path)
    np.testing.assert_array_equal(Z, cached_embeddings(encoder, X, tmp_path / "32"))
    # token ids stay integers for an embedding layer
    tokens = np.random.default_rng(1).integers(0, 20, size=(30, 5))
    embed = torch.nn.Sequential(torch.nn.Embedding(20, 3), torch.nn.Flatten()).eval()
    assert cached_embeddings(embed, tokens, tmp_path / "ids").shape == (30, 15)


def test_hit_embeds_only_the_check_rows(X, tmp_path):
    encoder = CountingEncoder(np.ones((12, 3), dtype=np.float32))
    cached_embeddings(encoder, X, tmp_path, key="ones-v1")
    assert encoder.rows == len(X) + 8  # every row, and the 8 checked twice
    cached_embeddings(encoder, X, tmp_path, key="ones-v1", n_check=5)
    assert encoder.rows == len(X) + 8 + 5
    cached_embeddings(encoder, X, tmp_path, key="ones-v1", n_check=0)
    assert encoder.rows == len(X) + 8 + 5


def test_other_inputs_or_weights_get_their_own_entry(X, tmp_path):
    first = cached_embeddings(make_encoder(0), X, tmp_path)
    other_weights = cached_embeddings(make_encoder(1), X, tmp_path)
    X2 = X.copy()
    X2[3, 4] += 0.5
    other_inputs = cached_embeddings(make_encoder(0), X2, tmp_path)
    assert len(entries(tmp_path)) == 6
    assert not np.allclose(first, other_weights)
    np.testing.assert_array_equal(first[:3], other_inputs[:3])
    assert not np.array_equal(first[3], other_inputs[3])


def test_changed_weights_under_the_same_key_are_refused(X, tmp_path):
    encoder = make_encoder()
    cached_embeddings(encoder, X, tmp_path, key="cnn-v1")
    with torch.no_grad():
        encoder[0].weight.mul_(2)
    with pytest.raises(ValueError, match=r"pass a new key \(not 'cnn-v1'\)"):
        cached_embeddings(encoder, X, tmp_path, key="cnn-v1")
    # a new key computes afresh
    Z = cached_embeddings(encoder, X, tmp_path, key="cnn-v2")
    with torch.no_grad():
        np.testing.assert_allclose(Z, encoder(torch.from_numpy(X)).numpy(), atol=1e-6)


def test_changed_d_under_the_same_key_is_refused(X, tmp_path):
    cached_embeddings(make_encoder(d=4), X, tmp_path, key="v1")
    with pytest.raises(ValueError, match=r"returns shape .8, 6.*d = 4"):
        cached_embeddings(make_encoder(d=6), X, tmp_path, key="v1")


def test_tampered_file_or_metadata_is_refused(X, tmp_path):
    encoder = make_encoder()
    Z = cached_embeddings(encoder, X, tmp_path)
    npy = next(tmp_path.glob("*.npy"))
    meta_path = npy.with_suffix(".json")
    meta = json.loads(meta_path.read_text())

    bad = np.array(Z)
    bad[40, 1] = np.nan
    np.save(npy, bad)
    with pytest.raises(ValueError, match=r"NaN or infinity.*delete"):
        cached_embeddings(encoder, X, tmp_path)

    np.save(npy, np.array(Z)[:-1])
    with pytest.raises(ValueError, match=r"metadata .50 rows of d = 4"):
        cached_embeddings(encoder, X, tmp_path)

    np.save(npy, np.array(Z))
    meta_path.write_text(json.dumps({**meta, "inputs_sha256": "0" * 64}))
    with pytest.raises(ValueError, match="no longer match the inputs"):
        cached_embeddings(encoder, X, tmp_path)
    meta_path.write_text(json.dumps({**meta, "encoder": "key:other"}))
    with pytest.raises(ValueError, match="no longer match the encoder"):
        cached_embeddings(encoder, X, tmp_path)

    # a write cut short: a metadata file of half its text, a truncated array
    meta_path.write_text(json.dumps(meta)[:20])
    with pytest.raises(ValueError, match=r"\.json no longer match JSON.*delete"):
        cached_embeddings(encoder, X, tmp_path)
    meta_path.write_text(json.dumps(meta))
    npy.write_bytes(npy.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"\.npy no longer match a whole .*delete"):
        cached_embeddings(encoder, X, tmp_path)


def test_nan_embeddings_are_refused_and_not_written(X, tmp_path):
    X_bad = X.copy()
    X_bad[[17, 3, len(X) - 1], 0] = np.nan  # broken inputs in three blocks
    # every bad row in one error, not the first block's
    match = rf"NaN or infinity .*for 3 input rows.*\[3, 17, {len(X) - 1}\]"
    with pytest.raises(ValueError, match=match):
        cached_embeddings(make_encoder(), X_bad, tmp_path, batch_size=10)
    assert not tmp_path.exists() or entries(tmp_path) == []


@pytest.mark.parametrize(
    ("encoder", "match"),
    [
        (lambda b: b[:, :3].reshape(-1), r"shape \(\d+,\)"),
        (lambda b: b[:-1], "one row per input row"),
        (lambda b: b[:, : 2 + (len(b) < 12)], "d must not change"),
    ],
)
def test_bad_encoder_output_is_refused(X, tmp_path, encoder, match):
    with pytest.raises(ValueError, match=match):
        cached_embeddings(encoder, X, tmp_path, key="f", batch_size=12)
    assert not tmp_path.exists() or entries(tmp_path) == []


def test_bad_parameters(X, tmp_path):
    with pytest.raises(TypeError, match=r"no state_dict.*pass key="):
        cached_embeddings(lambda b: b, X, tmp_path)
    with pytest.raises(TypeError, match="key must be None or a non-empty string"):
        cached_embeddings(make_encoder(), X, tmp_path, key=3)
    with pytest.raises(TypeError, match="encoder must be callable"):
        cached_embeddings("cnn", X, tmp_path, key="v")
    with pytest.raises(ValueError, match=r"training mode.*encoder\.eval\(\)"):
        cached_embeddings(make_encoder().train(), X, tmp_path)
    with pytest.raises(ValueError, match="batch_size"):
        cached_embeddings(make_encoder(), X, tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="at least one row"):
        cached_embeddings(make_encoder(), X[:0], tmp_path)


def test_tilde_means_the_home_folder(X, tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    encoder = make_encoder()
    Z = cached_embeddings(encoder, X, "~/embedding_cache")
    assert len(entries(home / "embedding_cache")) == 2
    assert entries(cwd) == []  # no folder literally named "~"
    # a stale entry's message names the file by its real path
    npy = next((home / "embedding_cache").glob("*.npy"))
    np.save(npy, np.array(Z)[:-1])
    with pytest.raises(ValueError) as error:
        cached_embeddings(encoder, X, "~/embedding_cache")
    assert f"delete {npy} and" in str(error.value)
    assert "~" not in str(error.value)


def test_a_tensor_shares_the_cache_of_its_numpy_values(X, tmp_path):
    encoder = CountingEncoder(np.ones((12, 3), dtype=np.float32))
    from_numpy = cached_embeddings(encoder, X, tmp_path, key="ones-v1")
    from_tensor = cached_embeddings(
        encoder, torch.from_numpy(X).requires_grad_(), tmp_path, key="ones-v1"
    )
    np.testing.assert_array_equal(from_tensor, from_numpy)
    assert len(entries(tmp_path)) == 2  # a hit, not a second entry
    assert encoder.rows == len(X) + 8 + 8  # the first call's check, the hit's
    # a torch encoder gets the tensor's rows, as it would the array's
    module = make_encoder()
    Z = cached_embeddings(module, torch.from_numpy(X), tmp_path / "module")
    with torch.no_grad():
        np.testing.assert_allclose(Z, module(torch.from_numpy(X)).numpy(), atol=1e-6)


def test_tensor_dtypes_numpy_lacks(X, tmp_path):
    # bfloat16 values are float32 values: same cache as the float32 array
    rounded = torch.from_numpy(X).to(torch.bfloat16)
    Z = cached_embeddings(make_encoder(), rounded, tmp_path)
    np.testing.assert_array_equal(
        Z, cached_embeddings(make_encoder(), rounded.float().numpy(), tmp_path)
    )
    assert len(entries(tmp_path)) == 2
    eight_bits = torch.zeros((4, 12)).to(torch.float8_e4m3fn)
    with pytest.raises(TypeError, match=r"torch\.float8_e4m3fn.*X\.float\(\)"):
        cached_embeddings(make_encoder(), eight_bits, tmp_path)


def test_an_encoder_in_bfloat16_is_embedded_as_float32(X, tmp_path):
    encoder = make_encoder().to(torch.bfloat16)
    Z = cached_embeddings(encoder, X, tmp_path)
    assert Z.dtype == np.float32
    with torch.no_grad():
        expected = encoder(torch.from_numpy(X).to(torch.bfloat16)).float().numpy()
    np.testing.assert_array_equal(Z, expected)


class TupleEncoder(torch.nn.Module):
    """An encoder returning (features, pooled), as Hugging Face models do."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(12, 4)

    def forward(self, x):
        h = self.linear(x)
        return h, h.sum(1)


def test_an_encoder_returning_a_tuple_names_the_fix(X, tmp_path):
    with pytest.raises(ValueError, match=r"a tuple of 2 outputs.*encoder\(x\)\[0\]"):
        cached_embeddings(TupleEncoder().eval(), X, tmp_path)


def test_a_read_only_memmap_is_embedded_without_torch_warnings(X, tmp_path):
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = cached_embeddings(make_encoder(), mapped, tmp_path / "cache")
    np.testing.assert_array_equal(Z, cached_embeddings(make_encoder(), X, tmp_path))


class Items(torch.utils.data.Dataset):
    """Inputs as a Dataset, as images in files are: items counted as loaded."""

    def __init__(self, X, form="pair"):
        self.X, self.form, self.loaded = X, form, 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.loaded += 1
        x = torch.from_numpy(self.X[i])
        return {"pair": (x, -1), "single": (x,), "bare": x, "dict": {"x": x}}[self.form]


@pytest.mark.parametrize("form", ["pair", "single", "bare"])
def test_a_dataset_shares_the_arrays_entry(X, tmp_path, form):
    encoder = make_encoder()
    first, other = tmp_path / "array first", tmp_path / "dataset first"
    Z = np.array(cached_embeddings(encoder, X, first))
    items = Items(X, form)
    from_items = cached_embeddings(encoder, items, first, batch_size=7)
    np.testing.assert_array_equal(from_items, Z)
    assert len(entries(first)) == 2  # one .npy and its .json: a cache hit
    # computed from the Dataset first, in batches of 7: the same entry
    np.testing.assert_allclose(
        cached_embeddings(encoder, Items(X, form), other, batch_size=7), Z, atol=1e-6
    )
    assert entries(other) == entries(first)


def test_inputs_key_skips_reading_the_items_on_a_hit(X, tmp_path):
    encoder = make_encoder()
    first = cached_embeddings(encoder, Items(X), tmp_path, inputs_key="photos-v1")
    items = Items(X)
    again = cached_embeddings(encoder, items, tmp_path, inputs_key="photos-v1")
    np.testing.assert_array_equal(again, first)
    assert items.loaded == 2 * 8 + 8  # 8 items twice (no augmentation), 8 checked
    cached_embeddings(encoder, Items(X), tmp_path, inputs_key="photos-v2")
    assert len(entries(tmp_path)) == 4  # a new name for new inputs
    # the n_check rows still catch other inputs under an unchanged name
    with pytest.raises(ValueError, match="other embeddings of rows"):
        cached_embeddings(
            encoder, Items(X[::-1].copy()), tmp_path, inputs_key="photos-v1"
        )


def test_a_dataset_read_by_workers(X, tmp_path):
    encoder = make_encoder()
    Z = cached_embeddings(encoder, Items(X), tmp_path, batch_size=8, num_workers=2)
    np.testing.assert_allclose(
        Z, encoder(torch.from_numpy(X)).detach().numpy(), rtol=1e-6
    )


def test_bad_datasets_and_keys_are_refused(X, tmp_path):
    encoder = make_encoder()
    with pytest.raises(TypeError, match=r"collate to a dict.*one tensor"):
        cached_embeddings(encoder, Items(X, "dict"), tmp_path)

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(X)

    with pytest.raises(TypeError, match=r"iterable-style.*map-style"):
        cached_embeddings(encoder, Stream(), tmp_path)
    with pytest.raises(ValueError, match="empty Dataset"):
        cached_embeddings(encoder, Items(X[:0]), tmp_path)
    with pytest.raises(TypeError, match="inputs_key must be None or a non-empty"):
        cached_embeddings(encoder, X, tmp_path, inputs_key="")
    with pytest.raises(ValueError, match="num_workers"):
        cached_embeddings(encoder, X, tmp_path, num_workers=-1)
    assert entries(tmp_path) == []


def test_a_dataset_with_random_transforms_is_refused(X, tmp_path):
    class Augmented(Items):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x + 0.01 * torch.randn_like(x), y  # a random augmentation

    with pytest.raises(ValueError, match=r"differed between two reads.*evaluation"):
        cached_embeddings(make_encoder(), Augmented(X), tmp_path)

    class SometimesFlipped(Items):
        def __getitem__(self, i):  # items 7, 21, ... come back flipped on re-reads
            x, y = super().__getitem__(i)
            self.reads = getattr(self, "reads", np.zeros(len(self), int))
            self.reads[i] += 1
            return (x.flip(0) if i % 2 and self.reads[i] > 1 else x), y

    with pytest.raises(ValueError, match=r"differed between two reads"):
        cached_embeddings(make_encoder(), SometimesFlipped(X), tmp_path)
    assert entries(tmp_path) == []


def test_rows_spread_over_the_inputs_are_checked_under_inputs_key(X, tmp_path):
    encoder = make_encoder()
    cached_embeddings(encoder, X, tmp_path, inputs_key="v1")
    changed = X.copy()
    changed[-1] += 1.0  # the same length and first rows, another last row
    with pytest.raises(ValueError, match=r"the encoder or the inputs named by") as info:
        cached_embeddings(encoder, changed, tmp_path, inputs_key="v1")
    assert "a new inputs_key (not 'v1')" in str(info.value)


class _TwoOutputs(torch.nn.Module):
    """One set of weights, two features: after the ReLU or before it."""

    def __init__(self, before_relu=False):
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)
        self.before_relu = before_relu  # not in the state_dict

    def forward(self, x):
        h = self.fc(x)
        return h if self.before_relu else torch.relu(h)


def test_encoders_sharing_weights_are_told_to_take_keys(tmp_path):
    torch.manual_seed(0)
    after, before = _TwoOutputs(), _TwoOutputs(before_relu=True)
    before.load_state_dict(after.state_dict())
    X = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    cached_embeddings(after.eval(), X, tmp_path)
    with pytest.raises(
        ValueError, match=r"overwrite each other: give each its own key="
    ):
        cached_embeddings(before.eval(), X, tmp_path)
    # the fix: each its own entry
    a = cached_embeddings(after.eval(), X, tmp_path, key="after-relu")
    b = cached_embeddings(before.eval(), X, tmp_path, key="before-relu")
    assert (np.asarray(a) >= 0).all() and (np.asarray(b) < 0).any()


def test_encoders_sharing_weights_with_another_width_are_told_to_take_keys(tmp_path):
    # the same weights, the features twice: another d, the shape check
    class Doubled(_TwoOutputs):
        def forward(self, x):
            h = self.fc(x)
            return torch.cat([h, h], dim=1)

    torch.manual_seed(0)
    single, doubled = _TwoOutputs(), Doubled()
    doubled.load_state_dict(single.state_dict())
    X = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    cached_embeddings(single.eval(), X, tmp_path)
    with pytest.raises(ValueError, match=r"returns shape .* give each its own key="):
        cached_embeddings(doubled.eval(), X, tmp_path)


def test_an_encoder_with_batchnorm_is_hashed_and_cached(tmp_path):
    # BatchNorm's num_batches_tracked is a 0-d tensor in the state_dict
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.BatchNorm1d(4))
    encoder.eval()
    X = np.random.default_rng(0).random((50, 8), dtype=np.float32)
    Z = cached_embeddings(encoder, X, tmp_path)
    with torch.no_grad():
        expected = encoder(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(Z, expected, rtol=1e-6)
    encoder[1].running_mean += 1.0  # another state: another entry, not a reuse
    assert not np.allclose(cached_embeddings(encoder, X, tmp_path), Z)


def test_a_layer_in_training_mode_inside_an_eval_encoder_is_refused(tmp_path):
    torch.manual_seed(0)
    backbone = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.5))
    encoder = torch.nn.Sequential(backbone, torch.nn.Linear(16, 4)).eval()
    backbone.train()
    X = np.random.default_rng(0).random((50, 8), dtype=np.float32)
    with pytest.raises(ValueError, match=r"layers in training mode \(0.1\)"):
        cached_embeddings(encoder, X, tmp_path)
    assert not list(tmp_path.iterdir())
    # a layer that computes alike in both modes may stay in training mode
    backbone[1].eval()
    assert cached_embeddings(encoder, X, tmp_path).shape == (50, 4)


def test_a_function_around_a_training_module_is_refused_before_writing(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.5))

    def encode(batch):  # the module is in training mode: dropout at every call
        return module(torch.from_numpy(np.ascontiguousarray(batch))).detach()

    X = np.random.default_rng(0).random((50, 8), dtype=np.float32)
    with pytest.raises(ValueError, match=r"not deterministic.*Nothing was written"):
        cached_embeddings(encode, X, tmp_path, key="v1")
    assert not list(tmp_path.glob("*.npy"))
    module.eval()
    assert cached_embeddings(encode, X, tmp_path, key="v1").shape == (50, 16)


def test_texts_are_told_to_be_cached_as_token_ids(tmp_path):
    texts = np.array(["a ticket", "another one"])
    with pytest.raises(ValueError, match=r"dtype <U11. For texts.*tokenizer's ids"):
        cached_embeddings(lambda batch: batch, texts, tmp_path, key="v1")


def test_a_cache_dir_that_is_a_file_is_named(X, tmp_path):
    path = tmp_path / "embeddings.npy"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="is a file, not a directory"):
        cached_embeddings(make_encoder(), X, path)


def test_float64_embeddings_beyond_float32_are_refused_before_writing(X, tmp_path):
    def encode(batch):
        out = np.ones((len(batch), 3))
        out[:, 0] = 1e300  # finite in float64, inf in the float32 cache
        return out

    with pytest.raises(ValueError, match=r"beyond float32's range.*nothing was"):
        cached_embeddings(encode, X, tmp_path, key="big")
    assert not list(tmp_path.glob("*.npy"))
