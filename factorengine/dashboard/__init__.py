"""`factorengine dashboard`: a local web page over a run's store, read-only, that refreshes while the run writes.

`overview.py` and `node.py` read the store into typed values, `harvested.py` reads a harvest's results, `encode.py`
turns them into JSON, `server.py` serves them with the page of `static/` (uPlot draws the charts; nothing loads from
the network). Test metrics are read only once the run is harvested, as in the report.
"""
