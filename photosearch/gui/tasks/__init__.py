"""Worker threads: the Task runner and the jobs (small functions that drive the core) it runs."""
