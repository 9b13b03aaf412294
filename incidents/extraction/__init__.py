"""The editors' assistant: from a news report's text to candidate incidents, offline.

`extract_candidates(text, published=…)` returns resolved `Candidate`s; `candidates_json` gives the command's JSON.
Modules: text (HTML, sentences), places, dates, tolls, actors (and event types), candidates (clustering), and
gazetteer (the one door to the gazetteer and geocoder).
"""

from .candidates import Candidate, candidate_json, extract
from .text import ReportTextError, report_text_clean


def extract_candidates(text, *, published):
    return extract(text, published=published)


def candidates_json(text, *, published):
    return [candidate_json(candidate) for candidate in extract(text, published=published)]


__all__ = ["Candidate", "ReportTextError", "candidates_json", "extract_candidates", "report_text_clean"]
