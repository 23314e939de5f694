"""``viddiff serve``: the graphs of ``langgraph.json`` on LangGraph's in-memory API server.

The same server ``langgraph dev`` starts, without needing this repository's ``langgraph.json``
(a regular install has none): the graph names and factories come from
:data:`viddiff.agent.serve.SERVED_GRAPHS`, which a test keeps equal to ``langgraph.json``. It
listens on 127.0.0.1 unless ``--host`` says otherwise, opens no browser and does not reload.
Needs the ``server`` extra; without it, one line says so (exit 2).
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from viddiff.tools.extras import require_extra


def register(sub: Any) -> None:
    srv = sub.add_parser("serve", help="serve the graphs over HTTP (LangGraph API, in memory; "
                                       "needs the 'server' extra)")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default %(default)s: this machine only)")
    srv.add_argument("--port", type=int, default=2024, help="port (default %(default)s)")
    srv.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    require_extra("server", "viddiff serve")
    from langgraph_api.cli import run_server

    from viddiff.agent.serve import SERVED_GRAPHS

    console.print(f"Serving {', '.join(SERVED_GRAPHS)} on http://{args.host}:{args.port} "
                  "(Ctrl-C stops)", markup=False, highlight=False)
    run_server(args.host, args.port, reload=False, graphs=dict(SERVED_GRAPHS),
               open_browser=False)
    return 0
