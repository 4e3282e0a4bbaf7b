"""One exception root: every error the engine raises on purpose is a FactorEngineError."""
import pytest

from factorengine.bench.measure import BenchError
from factorengine.config import ConfigError
from factorengine.data import DataError
from factorengine.errors import FactorEngineError
from factorengine.llm.answer import AnswerError
from factorengine.llm.client import BudgetExhausted, LLMUnavailable
from factorengine.ops import OperatorError
from factorengine.program import ProgramError
from factorengine.store import StoreError


@pytest.mark.parametrize("error", [BenchError, ConfigError, DataError, AnswerError, BudgetExhausted, LLMUnavailable,
                                   OperatorError, ProgramError, StoreError])
def test_every_engine_error_is_a_factorengine_error(error):
    assert issubclass(error, FactorEngineError)


@pytest.mark.parametrize("error", [ConfigError, DataError, AnswerError, OperatorError, ProgramError])
def test_input_errors_stay_value_errors_for_callers_that_catch_those(error):
    assert issubclass(error, ValueError)


def test_an_uncaught_engine_error_ends_the_command_in_one_line(monkeypatch, capsys):
    from factorengine import cli
    from factorengine.commands import status_command

    def fail(args):
        raise StoreError("run.db: not a run database; give the run directory")

    monkeypatch.setattr(status_command, "run", fail)
    code = cli.main(["status", "somewhere"])
    assert code == 2
    assert capsys.readouterr().err == "error: run.db: not a run database; give the run directory\n"
