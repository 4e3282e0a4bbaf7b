"""The root of every error FactorEngine raises on purpose; its message is one line a user can act on."""


class FactorEngineError(Exception):
    """An input, configuration or run state the engine cannot use; the message says what is wrong and what to do."""
