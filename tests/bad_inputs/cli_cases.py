"""Bad command lines: each must exit with status 2 and a one-line message, no traceback."""

from __future__ import annotations

from bad_inputs.case import cli

_QUICK = ["--verbose", "0", "--out", "{corpus}/never"]

CASES = [
    cli("cli-demo-negative-epochs", ["demo", "--epochs", "-1", *_QUICK],
        r"epochs must be >= 1, got -1"),
    cli("cli-demo-zero-epochs", ["demo", "--epochs", "0", *_QUICK], r"epochs must be >= 1, got 0"),
    cli("cli-demo-epochs-not-a-number", ["demo", "--epochs", "many"],
        r"argument --epochs: invalid int value: 'many'"),
    cli("cli-demo-bad-device", ["demo", "--device", "tpu9", "--epochs", "1", *_QUICK],
        r"device='tpu9' is not a device"),
    cli("cli-demo-negative-seed", ["demo", "--seed", "-5", "--epochs", "1", *_QUICK],
        r"random_state must be >= 0, got -5"),
    cli("cli-demo-out-is-a-file", ["demo", "--epochs", "1", "--verbose", "0",
                                   "--out", "{corpus}/in-use"],
        r"--out .*in-use exists and is not a folder"),
    cli("cli-feature-network-unknown-dataset", ["feature-network", "no-such-dataset"],
        r"unknown dataset 'no-such-dataset'"),
    cli("cli-unknown-command", ["transmogrify"], r"invalid choice: 'transmogrify'"),
]
