"""Factor programs shared by the program tests."""
import textwrap

EXAMPLE = '''"""Volume-confirmed short-term reversal: heavy-volume losers bounce."""
from factorengine.ops import delay, rank, ts_mean

SEARCH_SPACE = {"window": (3, 40), "vol_window": (5, 60)}

def factor(d, window=10, vol_window=20):
    ret = d.close / delay(d.close, window) - 1
    surge = d.volume / ts_mean(d.volume, vol_window)
    return -rank(ret) * rank(surge)
'''


def program(body: str) -> str:
    """Dedent a test program."""
    return textwrap.dedent(body).lstrip("\n")
