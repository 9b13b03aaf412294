"""The tables the database keeps from the incidents (map cells, timeline, filter choices, finished features): what
each counts is declared once in registry.py; triggers.py writes their triggers' SQL from it, installed from the
versioned files in sql/ by one migration operation (operations.py)."""
