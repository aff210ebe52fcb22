"""Where bytes come from: files and folders, git history, staged changes, archives, notebooks, stdin."""
