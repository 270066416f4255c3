"""The series machinery, along the data path: steps, planning, fetching, merging."""
