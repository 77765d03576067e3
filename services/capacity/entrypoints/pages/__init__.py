"""Capacity's pages for people, in Dutch: organisers keep their locations and answer
offers (`organiser`), crisis coordinators register, release and follow closures
(`crisis`). Templates live in services/capacity/templates, over the shared layout in
loketkit/web/templates."""

from __future__ import annotations

from pathlib import Path

from loketkit.web import Pages

TEMPLATES = Path(__file__).parents[2] / "templates"
PAGES = Pages(TEMPLATES, "Opvanglocaties en sluitingen", "capacity")
