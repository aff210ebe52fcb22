"""Worker processes: domain consumers and schedules."""
