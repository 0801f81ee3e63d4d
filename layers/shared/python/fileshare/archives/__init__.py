"""Archives (a satellite): ZIP jobs of many files (jobs: the API side; worker: the archiver; zipstream:
the streaming writer; rows: the archives table; models: the API shapes)."""
