"""Options shared by the commands, declared once."""

from __future__ import annotations

import argparse
import shlex
import textwrap

from nolabel.cli.data import SCALINGS
from nolabel.errors import Argument, NolabelError

# Delimiters by name, since ';' '|' and a tab need quoting in a shell.
_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}


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


def image_size(text: str) -> tuple[int, int]:
    """``HxW`` (height x width) or ``N`` for a square, as ``(height, width)``."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        size = tuple(int(part) for part in parts)
    except ValueError:
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH in pixels such as 28x28, got {text!r}")
    return size


def delimiter(text: str) -> str:
    """One character, or its name: comma, semicolon, tab, pipe."""
    value = _DELIMITER_NAMES.get(text.lower(), text)
    if len(value) != 1:
        raise argparse.ArgumentTypeError(
            f"expected one character or comma, semicolon, tab, pipe; got {text!r}")
    return value


def add_runtime(parser: argparse.ArgumentParser, seed_help: str = "random seed (default 0)"):
    parser.add_argument("--device", default="auto",
                        help="auto, cpu, cuda or cuda:N (default auto: a GPU when there is one)")
    parser.add_argument("--seed", type=int, default=None, help=seed_help)
    parser.add_argument("--verbose", type=int, default=1,
                        help="0 quiet, 1 progress bars, 2 a line per epoch (default 1)")


def add_data_source(parser: argparse.ArgumentParser, required: bool, run: bool = True) -> None:
    """--data, what picks rows of it (split, limit) and how files are read (image size,
    channels, CSV delimiter). ``run``: a command on a fitted run, whose recorded image size
    and channels are the defaults."""
    what = ("a dataset name (nolabel datasets) or a path: .csv, .npy, .npz, .parquet or a "
            "folder of images")
    parser.add_argument("--data", required=required, metavar="NAME_OR_PATH",
                        help=what if required else what + " (default: the run's own data, "
                        "prepared as at fit time)")
    parser.add_argument("--split", choices=("train", "test", "all"), default=None,
                        help="split of a named dataset (default all)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="use a random subset of N samples (drawn from the seed)")
    fitted = " (default: as the run was fitted)" if run else ""
    parser.add_argument("--image-size", type=image_size, default=None, metavar="HxW",
                        help="folders of images: resize every image to HEIGHTxWIDTH pixels "
                        "(Lanczos filter), keeping proportions by --resize; recorded in the "
                        "run and applied to new images" + fitted)
    parser.add_argument("--channels", type=int, choices=(1, 3), default=None,
                        help="folders of images: 1 greyscale, 3 RGB" + (fitted or
                        " (default: greyscale when every image is, else RGB)"))
    parser.add_argument("--resize", choices=("crop", "pad"), default=None,
                        help="how --image-size keeps proportions: crop the centre, so every "
                        "pixel is image (default), or pad with black" + fitted)
    parser.add_argument("--delimiter", type=delimiter, default=None, metavar="CHAR",
                        help="CSV files: the field delimiter, one character or comma, "
                        "semicolon, tab, pipe (default: detected among , ; tab |)")


# The option behind each argument of nolabel.data.load that the command line sets, and how it
# spells a value: errors raised by the library name the option when printed here.
_OPTIONS = {
    "image_size": ("--image-size", lambda size: f"{size[0]}x{size[1]}"),
    "channels": ("--channels", str),
    "resize": ("--resize", str),
    "delimiter": ("--delimiter", lambda char: "tab" if char == "\t" else shlex.quote(char)),
    "impute": ("--impute", str),
    "label_column": ("--label-column", lambda column: shlex.quote(str(column))),
    "split": ("--split", str),
}


def as_option(argument: Argument) -> str | None:
    """``argument`` spelt as the command line's option (``--impute mean``); None when the
    command line has no such option."""
    if argument.name not in _OPTIONS:
        return None
    option, spell = _OPTIONS[argument.name]
    return f"{option} {spell(argument.value)}" if argument.has_value else option


def error_message(exc: NolabelError) -> str:
    """The error's message with every argument it names spelt as its command-line option."""
    message = str(exc)
    # Longest first, so that "impute='mean'" inside "load(..., impute='mean')" goes with it.
    for argument in sorted(exc.arguments, key=lambda a: len(str(a)), reverse=True):
        option = as_option(argument)
        if option is not None:
            message = message.replace(str(argument), option)
    return message


def add_preprocessing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=SCALINGS, default=None,
                        help="auto (default): standardise tables, leave images in [0, 1]; "
                        "minmax: [0, 1] per feature; binarize: pixels > 0.5 (PixelCNN/RNN)")
    parser.add_argument("--label-column", default=None, metavar="COLUMN",
                        help="CSV/Parquet column holding labels (used only to evaluate)")
    parser.add_argument("--impute", choices=("mean", "median", "drop"), default=None,
                        help="replace NaN/inf by the column mean or median, or drop those "
                        "rows (default: refuse them, naming the row)")
