"""The job runner: the program's daily jobs on APScheduler, in the program's timezone."""
