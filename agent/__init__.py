"""The outermost floor: what people and host applications touch.

``api`` (the public factories re-exported by the root ``viddiff`` package, and the one place
that chooses the engine), ``cli`` (the command line), ``chat`` (the chat agent and its
LangChain tools), ``report`` (the visual report), ``serve`` (graphs for ``langgraph dev``).
See docs/architecture.md for the layers and what each may import.
"""
