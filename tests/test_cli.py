import subprocess
import sys

import pytest

from nolabel import __version__
from nolabel.cli import main


def test_version_from_the_installed_entry_point():
    done = subprocess.run([sys.executable, "-m", "nolabel", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == f"nolabel {__version__}"


@pytest.mark.parametrize("command", [[], ["demo"], ["datasets"], ["feature-network"], ["fit"],
                                     ["evaluate"], ["cluster"], ["embed"], ["detect"],
                                     ["sample"], ["report"], ["list"]])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "example" in capsys.readouterr().out


def test_bad_device_is_a_clean_error(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["demo", "--device", "tpu9", "--out", str(out), "--epochs", "1"]) == 2
    assert "device='tpu9'" in capsys.readouterr().err
    assert not out.exists()


def test_datasets_lists_digits(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "fashion-mnist" in out and "mnist" in out


def test_feature_network_is_built_verified_and_rebuilt(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOLABEL_CACHE", str(tmp_path))
    assert main(["feature-network", "digits", "--verbose", "0"]) == 0
    first = capsys.readouterr().out
    accuracy = float(first.split("test accuracy ")[1].split(",")[0])
    assert accuracy > 0.85
    weights = tmp_path / "feature-networks" / "digits.safetensors"
    assert str(weights) in first
    assert main(["feature-network", "digits"]) == 0  # verified and reused
    assert capsys.readouterr().out == first
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert main(["feature-network", "digits"]) == 2
    assert "force" in capsys.readouterr().err
    assert main(["feature-network", "digits", "--force", "--verbose", "0"]) == 0
