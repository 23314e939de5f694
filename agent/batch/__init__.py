"""``viddiff compare-many``: many comparisons from one CSV, resumable, here or on Ray.

- :mod:`.pairs`: the CSV of pairs, read and checked up front (one line per problem).
- :mod:`.job`: what a worker does with one pair (:class:`~.job.PairJob`) and the recipe it
  builds that from (:class:`~.job.CompareRecipe`).
- :mod:`.runner`: the driver: which pairs are left, one result (and report) per pair written
  durably, a JSON Lines log of outcomes that a re-run resumes from.
"""
