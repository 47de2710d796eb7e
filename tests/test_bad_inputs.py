"""The bad-input corpus (tests/bad_inputs/): broken files, bad arrays, bad hyper-parameters
and bad command lines. Each case must end in the nolabel exception it names, with a message
naming the culprit (CLI: exit status 2, one error line, no traceback), or, for odd but legal
input, in a result without NaN or inf. Never a raw exception, a hang, or a silent NaN.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections import Counter

import numpy as np
import pytest
import torch

from bad_inputs import cli_cases, estimator_cases, file_cases, metric_cases
from bad_inputs.case import Case
from bad_inputs.make_corpus import PICKLE_MARKER, build
from nolabel.errors import NolabelError

CASES: list[Case] = file_cases.CASES + estimator_cases.CASES + metric_cases.CASES + cli_cases.CASES
TIMEOUT_S = 120  # far above any case's run time: only a hang reaches it
OUTCOMES: dict[str, str] = {}


def _params() -> list:
    params = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bad_inputs"))


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    counts = Counter(OUTCOMES.values())
    line = (
        f"bad-input corpus: {len(OUTCOMES)} cases tried, {counts['clear error']} clear "
        f"errors, {counts['finite result']} finite results, {counts['crash']} crashes, "
        f"{counts['silent NaN']} silent NaN, {counts['hang']} hangs, "
        f"{counts['unclear error'] + counts['no error']} other failures; "
        f"{sum(bool(case.xfail) for case in CASES)} of them known bugs marked xfail"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + line)


def _in_thread(call, timeout: float):
    """(finished, result, exception) of ``call()``, giving up on it after ``timeout`` s."""
    outcome: dict = {}

    def target():
        try:
            outcome["result"] = call()
        except BaseException as exc:  # judged by the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), outcome.get("result"), outcome.get("error")


def _all_finite(result) -> bool:
    if isinstance(result, dict):
        return all(_all_finite(v) for v in result.values())
    if isinstance(result, tuple | list):
        return all(_all_finite(v) for v in result)
    if isinstance(result, torch.Tensor):
        result = result.detach().cpu().numpy()
    return bool(np.isfinite(np.asarray(result, dtype=np.float64)).all())


def _run_cli(argv: list[str]) -> tuple[int, str]:
    from nolabel.cli import main

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors exit with 2
            code = exc.code
    return code, stderr.getvalue()


def _judge(case: Case, corpus) -> str:
    if case.cli:
        finished, result, error = _in_thread(lambda: _run_cli(case.run(corpus)), TIMEOUT_S)
    else:
        finished, result, error = _in_thread(lambda: case.run(corpus), TIMEOUT_S)
    if not finished:
        return "hang"
    if error is not None:
        OUTCOMES[case.id] = "crash" if not isinstance(error, NolabelError) else "unclear error"
        if not isinstance(error, NolabelError):
            raise AssertionError(f"{case.id}: raw {type(error).__name__}, not a NolabelError") \
                from error
        assert case.error is not None, f"{case.id} should succeed, raised {error!r}"
        assert isinstance(error, case.error), f"{case.id}: {error!r} is not a {case.error}"
        assert re.search(case.match, str(error)), f"{case.id}: {str(error)!r} !~ {case.match!r}"
        return "clear error"
    if case.cli:
        return _judge_cli(case, *result)
    if not _all_finite(result):
        return "silent NaN"
    if case.error is not None and not case.finite_ok:
        OUTCOMES[case.id] = "no error"
        raise AssertionError(f"{case.id}: expected {case.error.__name__}, got {result!r}")
    return "finite result"


def _judge_cli(case: Case, code: int, stderr: str) -> str:
    OUTCOMES[case.id] = "crash" if "Traceback" in stderr else "unclear error"
    assert "Traceback" not in stderr, stderr
    assert code == 2, f"{case.id}: exit status {code}, stderr {stderr!r}"
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert errors == lines[-1:], f"{case.id}: expected one final error line, got {stderr!r}"
    assert re.match(r"nolabel( [\w-]+)?: error: ", errors[0]), errors[0]
    assert re.search(case.match, errors[0]), f"{case.id}: {errors[0]!r} !~ {case.match!r}"
    return "clear error"


@pytest.mark.parametrize("case", _params())
def test_bad_input_gets_a_clear_answer(case, corpus):
    outcome = _judge(case, corpus)
    OUTCOMES[case.id] = outcome
    assert outcome != "hang", f"{case.id} did not finish within {TIMEOUT_S} s"
    assert outcome != "silent NaN", f"{case.id} returned NaN or inf without an error"


def test_no_case_ran_the_planted_pickle(corpus):
    assert (corpus / "pickle.safetensors").exists()
    assert not (corpus / PICKLE_MARKER).exists()


def test_corpus_is_large_and_varied():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 40
    assert sum(case.cli for case in CASES) >= 5
