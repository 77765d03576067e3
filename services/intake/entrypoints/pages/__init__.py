"""Intake's pages for people, in Dutch: families register and follow their request
(`family`), loket staff serve families at the desk (`staff`). Templates live in
services/intake/templates, over the shared layout in loketkit/web/templates."""

from __future__ import annotations

from pathlib import Path

from loketkit.web import Pages

TEMPLATES = Path(__file__).parents[2] / "templates"
PAGES = Pages(TEMPLATES, "Aanvragen kinderopvang", "intake")
