"""Runs on a Ray cluster: the same jobs as a local run, on many machines (``--ray``).

- :mod:`.connect`: join a running cluster (``auto``), a remote one (``ray://host:port``) or
  start a local instance for one run (``local``); ``ray`` is imported only here, only then.
- :mod:`.pool`: worker actors that each build the run's job once from its recipe and run many
  payloads (samples, pairs) concurrently; a dead worker loses only its payloads in flight.
- :mod:`.gate`: one cap on model requests in flight, shared by every worker of the run.
- :mod:`.embedders`: CLIP on GPU actors (``num_gpus``), a whole video's frames per call.
"""
