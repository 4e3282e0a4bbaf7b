"""How much two independent processes get from this machine's cores: one numpy workload, 1 vs 2 at once.

Run from the repository: python reports/two_process_scaling.py (prints each setting twice).
"""
import time

import multiprocess as mp
import numpy as np

from factorengine import ops


def work(_: int) -> float:
    """Seconds one process takes for a fixed amount of operator work."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3523, 500))
    start = time.perf_counter()
    for _ in range(15):
        ops.ts_std(x, 20)
        ops.rank(x)
        ops.ts_corr(x, x[::-1].copy(), 10)
    return time.perf_counter() - start


if __name__ == "__main__":
    for n in (1, 2, 1, 2):
        with mp.Pool(n) as pool:
            seconds = pool.map(work, range(n))
        print(f"{n} process(es): each {np.mean(seconds):.2f} s of work, throughput {n / np.mean(seconds):.3f} units/s")
