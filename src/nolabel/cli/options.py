"""Options shared by the commands, declared once."""

from __future__ import annotations

import argparse
import textwrap

from nolabel.cli.data import SCALINGS


def add_command(commands, name: str, help: str, description: str, examples: str):
    """A subcommand whose --help ends with its examples."""
    return commands.add_parser(
        name, help=help, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  "),
    )


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_runtime(parser: argparse.ArgumentParser, seed_help: str = "random seed (default 0)"):
    parser.add_argument("--device", default="auto",
                        help="auto, cpu, cuda or cuda:N (default auto: a GPU when there is one)")
    parser.add_argument("--seed", type=int, default=None, help=seed_help)
    parser.add_argument("--verbose", type=int, default=1,
                        help="0 quiet, 1 progress bars, 2 a line per epoch (default 1)")


def add_data_source(parser: argparse.ArgumentParser, required: bool) -> None:
    """--data and what picks rows of it (split, limit)."""
    what = ("a dataset name (nolabel datasets) or a path: .csv, .npy, .npz, .parquet or a "
            "folder of images")
    parser.add_argument("--data", required=required, metavar="NAME_OR_PATH",
                        help=what if required else what + " (default: the run's own data, "
                        "prepared as at fit time)")
    parser.add_argument("--split", choices=("train", "test", "all"), default=None,
                        help="split of a named dataset (default all)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="use a random subset of N samples (drawn from the seed)")


def add_preprocessing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=SCALINGS, default=None,
                        help="auto (default): standardise tables, leave images in [0, 1]; "
                        "minmax: [0, 1] per feature; binarize: pixels > 0.5 (PixelCNN/RNN)")
    parser.add_argument("--label-column", default=None, metavar="COLUMN",
                        help="CSV/Parquet column holding labels (used only to evaluate)")
    parser.add_argument("--impute", choices=("mean", "median", "drop"), default=None,
                        help="replace NaN/inf by the column mean or median, or drop those "
                        "rows (default: refuse them, naming the row)")
