"""What a run leaves on disk: checkpoints, the run folder and its logs, the listing of runs."""
