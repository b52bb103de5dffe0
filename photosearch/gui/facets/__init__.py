"""The facets sidebar: counts by place, date, camera, colour, kind, text and person that filter on a click."""
