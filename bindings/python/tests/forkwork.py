"""Worker functions for the multiprocessing tests: importable by spawned children, whose
interpreters start fresh and find these by module name."""

import snowdrift

#: The claim a forked pool worker inherits from the parent (set by the test before forking).
INHERITED = None


def ids_from_inherited_claim(count):
    """In a forked worker: IDs from the parent's claim object, and the slot they came from."""
    ids = [INHERITED.generate_id() for _ in range(count)]
    return INHERITED.machine_id, ids


def ids_from_own_claim(args):
    """In a spawned worker: claim a slot in the shared directory and make IDs from it."""
    data_dir, count = args
    with snowdrift.claim(data_dir) as g:
        return g.machine_id, [g.generate_id() for _ in range(count)]
