"""The public map's reads: what the map page's feed and list call (feed), over the kept map-cell tables (cells) or
the incidents themselves (live), on one grid (grid). One way only: feed uses cells and live, cells uses live, none
of them uses feed, and nothing here imports views."""
