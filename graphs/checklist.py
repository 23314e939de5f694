"""Known actions: a benchmark key (``fitness_4``) or name expands to its description and,
when nothing else is asked, to its difference checklist (the VidDiffBench taxonomy)."""

from __future__ import annotations

from typing import Any

from viddiff.tools.taxonomy import Action, load_actions, load_differences


def resolve_action(text: str) -> Action | None:
    """The benchmark action named *exactly* by key or name (case-insensitive); no fuzzy
    matching, so a free-text action is never silently replaced by a different one."""
    actions = load_actions()
    key = text.strip()
    if key in actions:
        return actions[key]
    lowered = key.lower().replace("_", " ")
    return next((a for a in actions.values() if a.name.lower().replace("_", " ") == lowered),
                None)


def unknown_action_key(text: str) -> str | None:
    """The text when it is written like a benchmark action key (a known domain, ``_`` and a
    number: ``fitness_99``) but names none, else None. Such a text is a mistyped key, not a
    free-text action, and a run on it would be told "nothing to compare" instead."""
    actions = load_actions()
    key = text.strip()
    domains = {k.rsplit("_", 1)[0] for k in actions}
    head, _, number = key.rpartition("_")
    if key not in actions and head in domains and number.isdigit():
        return key
    return None


def checklist(action_key: str) -> list[dict[str, Any]]:
    """The taxonomy's differences for an action, as closed-mode difference specs."""
    return [{"name": d.name, "description": d.description, "query_string": d.query_string,
             "num_frames": d.num_frames}
            for d in load_differences() if d.action == action_key]


def expand_request(request: dict[str, Any]) -> dict[str, Any]:
    """Fill the action description, ``action_key`` and (if no differences or budget were
    given) the checklist, when the action is a known benchmark action."""
    action = resolve_action(str(request.get("action") or ""))
    if action is None:
        return request
    out = {**request, "action": action.description, "action_key": action.key}
    if not request.get("differences") and not request.get("n_differences"):
        out["differences"] = checklist(action.key)
    return out
