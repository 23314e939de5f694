"""How a graph factory tells a node where to hand over, and tells LangGraph the same.

A node that routes itself returns ``Command(goto=...)``, and LangGraph must be told every place
it may go (``add_node(..., destinations=...)``) to draw and check the graph. Written twice, in
the node and in the factory, the two drift apart, and inserting a node means editing the nodes
around it. So the factory writes them once: it makes an :class:`Exits` for the node, passes it
to the node factory (the node's body routes only through it) and to :func:`add_routed` (which
derives ``destinations`` from it). Node names live in :mod:`viddiff.graphs.node_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.graph import END, StateGraph

Goto = str | tuple[str, ...]
"""One node, or several that all run next (a fan-out to parallel branches)."""


def goto_names(goto: Goto) -> tuple[str, ...]:
    """The node names in ``goto``, in order."""
    return (goto,) if isinstance(goto, str) else tuple(goto)


@dataclass(frozen=True)
class Exits:
    """Where one node may hand over, as its graph factory decided.

    ``name`` is the node itself: the target of its retry edge (``retries``), the key of its
    feedback in the state and the ``node`` of its progress events. ``then`` is where it goes
    when it is done; ``skip_to`` where it goes when it has nothing to do (a transcript cache
    hit, no differences, nothing matched): where the successor it skips would have gone.
    ``fails`` says whether it may end the run (``goto=END``, the failed state or a missing
    input of a join).
    """

    name: str
    then: Goto
    skip_to: Goto = ()
    retries: bool = False
    fails: bool = True

    @property
    def destinations(self) -> tuple[str, ...]:
        """Every place the node may go, for ``add_node(destinations=...)``: itself first (the
        retry edge), then its successors, then ``END``."""
        names = [self.name] if self.retries else []
        names += [*goto_names(self.then), *goto_names(self.skip_to)]
        if self.fails:
            names.append(END)
        return tuple(dict.fromkeys(names))

    def one_successor(self) -> str:
        """``then`` as a single node, for a node that ``Send``\\ s to it; else ``ValueError``."""
        if not isinstance(self.then, str):
            raise ValueError(f"{self.name} sends its tasks to one node, not to {self.then}")
        return self.then


def add_routed(graph: StateGraph[Any, Any, Any, Any], exits: Exits, node: Any,
               **options: Any) -> None:
    """Add ``node`` (built with ``exits``) under ``exits.name``, declaring exactly the
    destinations ``exits`` allows; ``options`` go to ``add_node`` (``defer``,
    ``retry_policy``)."""
    graph.add_node(exits.name, node, destinations=exits.destinations, **options)
