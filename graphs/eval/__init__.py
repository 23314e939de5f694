"""The evaluation graph (open-mode scoring of one benchmark sample): its state, nodes, judge.

``state`` (records, reply schemas, settings), ``judge`` (the judge's conversation, its answer
cache and the step both judge nodes share), ``match`` and ``flip`` (the two LLM judge nodes),
``score`` (outcomes), ``graph`` (:func:`build_eval_graph`). See docs/architecture.md.
"""
