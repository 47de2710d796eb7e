"""The ``nolabel`` command line: one module per group of commands, every model found through
the registry."""

from __future__ import annotations

import argparse
import sys
import textwrap
import warnings

from nolabel._version import __version__
from nolabel.errors import NolabelError


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line plus a pointer to --help, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from nolabel.cli import evaluation, fit, info, reporting, use

    parser = _Parser(
        prog="nolabel",
        description="Learning from unlabeled data with generative models: fit a model on a "
        "dataset or your own file, then cluster, embed, detect anomalies, sample and report.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              nolabel demo                  the one-command tour on the offline 8x8 digits
              nolabel list                  the models; `nolabel list vade` its parameters
              nolabel datasets              named datasets and where they are found
              nolabel fit kmeans --data table.csv --param n_clusters=3 --out runs/km
              nolabel cluster runs/km --out labels.csv
              nolabel fit vae --data fashion-mnist --limit 2000 --param epochs=5 --out runs/vae
              nolabel sample runs/vae -n 64 --out grid.png
              nolabel detect runs/vae --top 10
              nolabel report runs/vae       runs/vae/report.html, one self-contained page
              nolabel feature-network fashion-mnist
                                            (re)create the network that scores samples
            """),
    )
    parser.add_argument("--version", action="version", version=f"nolabel {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    fit.add_parser(commands)
    evaluation.add_parser(commands)
    use.add_parsers(commands)
    reporting.add_parser(commands)
    info.add_parsers(commands)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"nolabel: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    code = _run(argv)
    if "torch.distributed" in sys.modules:  # only a command that trained can have joined a run
        from nolabel.train import distributed

        distributed.exit_process(code)  # under torchrun: does not return
    return code


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    shown, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    try:
        return args.handler(args)
    except NolabelError as exc:  # spelt with the options that set what the message names
        from nolabel.cli.options import error_message

        print(f"nolabel {args.command}: error: {error_message(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output folder that cannot be written, a full disk...
        print(f"nolabel {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nolabel {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = shown


if __name__ == "__main__":
    sys.exit(main())
