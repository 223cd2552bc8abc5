"""Stage 4, batch: experiment specs in, a folder of Parquet results out (seeded, parallel, resumable).

Takes an experiment spec (design, replications, seeds) and runs it on the bargaining core's fast
path, over local workers or Dask; gives one row per run and table, written atomically in chunks,
and the readers of such a folder. May import the model, bargaining and scenario stages.
"""
