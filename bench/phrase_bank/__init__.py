"""The phrase bank of issue 22: statements with their metric, sense, moment and side.

It is the ground truth the free-text mapper is measured on, written without reading the
mapper's rules; ``heldout.jsonl`` stays out of development (see README.md).
"""
