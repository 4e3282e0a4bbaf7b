"""The same bet as a_reversal, ranked and scaled: a duplicate by its values."""
from factorengine.ops import rank


def factor(d):
    return 2.0 * rank(-d.returns)
