"""Workshop mode: a live what-if dashboard for rollout-planning sessions (``blastradius workshop DIR``).

A facilitator projects the inventory's blast-radius picture; the room gates,
blocks, makes read-only, caps rows, sets alerts, kill-switch times and the
gates' catch rate, and sees the ranking, the outlook per failure class and the
exceedance curves change, with the change said in one sentence. Every figure is
the library's own (:mod:`blastradius.workshop.state`); the page is a Solara app
(:mod:`blastradius.workshop.app`) served on localhost by
:mod:`blastradius.workshop.server`. Needs the ``workshop`` extra.
"""

from blastradius.workshop.state import Figures, Kept, Move, Session, Workshop, apply_moves, change_sentence

__all__ = ["Figures", "Kept", "Move", "Session", "Workshop", "apply_moves", "change_sentence"]
