"""People: the People panel (faces grouped into people, named in place)."""
