"""EEMBC dataset directories: parsing, ad01 windows and clear errors for missing or truncated files."""

from __future__ import annotations

import numpy as np
import pytest

from tinyperf.errors import DatasetError
from tinyperf.runner.dataset import Dataset, random_stimuli, windows
from tinyperf.runner.tasks import get_task

pytestmark = pytest.mark.unit
KWS = get_task("kws01")
AD = get_task("ad01")


def make_kws(tmp_path, n=3):
    lines = []
    for i in range(n):
        (tmp_path / f"s{i}.bin").write_bytes(bytes([i]) * 490)
        lines.append(f"s{i}.bin, 12, {i}")
    (tmp_path / "y_labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_kws_dataset_loads(tmp_path):
    ds = Dataset(make_kws(tmp_path), KWS)
    assert len(ds) == 3 and ds.labels == [0, 1, 2]
    assert ds.inputs(1) == [bytes([1]) * 490]


def test_missing_file_is_named(tmp_path):
    make_kws(tmp_path)
    (tmp_path / "s1.bin").unlink()
    with pytest.raises(DatasetError, match=r"s1\.bin is missing"):
        Dataset(tmp_path, KWS)


def test_truncated_file_is_named(tmp_path):
    make_kws(tmp_path)
    (tmp_path / "s2.bin").write_bytes(bytes(300))
    with pytest.raises(DatasetError, match=r"s2\.bin is 300 bytes, kws01 inputs are 490 bytes"):
        Dataset(tmp_path, KWS)


def test_missing_labels_and_bad_lines(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        Dataset(tmp_path / "nope", KWS)
    with pytest.raises(DatasetError, match="y_labels.csv is missing"):
        Dataset(tmp_path, KWS)
    make_kws(tmp_path)
    (tmp_path / "y_labels.csv").write_text("s0.bin,12,0\ns1.bin,10,3\n")
    with pytest.raises(DatasetError, match=r"y_labels.csv:2: s1.bin says 10 classes"):
        Dataset(tmp_path, KWS)
    (tmp_path / "y_labels.csv").write_text("s0.bin,12,zero\n")
    with pytest.raises(DatasetError, match="malformed line"):
        Dataset(tmp_path, KWS)
    (tmp_path / "y_labels.csv").write_text("s0.bin,12,12\n")
    with pytest.raises(DatasetError, match="label 12"):
        Dataset(tmp_path, KWS)


def test_ad01_windows_match_the_eembc_runner(samples_dir, tmp_path):
    src = samples_dir / "ad01" / "normal_id_01_00000000_hist_librosa.bin"
    data = src.read_bytes()
    (tmp_path / src.name).write_bytes(data)
    (tmp_path / "y_labels.csv").write_text(f"{src.name},2,0,2560,512\n")
    ds = Dataset(tmp_path, AD)
    ws = ds.inputs(0)
    # 200 frames of 128 float32: windows of 5 frames every frame -> 196 windows
    assert len(data) == 102400 and len(ws) == 196
    assert ws[3] == data[3 * 512 : 3 * 512 + 2560]
    frames = np.frombuffer(data, "<f4").reshape(200, 128)
    assert np.array_equal(np.frombuffer(ws[-1], "<f4").reshape(5, 128), frames[195:200])
    (tmp_path / src.name).write_bytes(data[:1000])
    with pytest.raises(DatasetError, match="truncated"):
        Dataset(tmp_path, AD)


def test_windows_and_random_stimuli():
    assert windows(bytes(range(10)), 4, 3) == [bytes([0, 1, 2, 3]), bytes([3, 4, 5, 6]), bytes([6, 7, 8, 9])]
    assert windows(bytes(range(9)), 4, 3) == [bytes([0, 1, 2, 3]), bytes([3, 4, 5, 6])]
    a = random_stimuli(KWS, 5, seed=1)
    assert len(a) == 5 and all(len(x) == 490 for x in a) and len(set(a)) == 5
    assert a == random_stimuli(KWS, 5, seed=1)
    assert all(len(x) == 2560 for x in random_stimuli(AD, 2))
