"""The commands of ``scout-async``, one module each, named after its command (``traces`` also
holds ``trace``, ``errors`` also ``error``). ``..app`` adds them to the group."""
