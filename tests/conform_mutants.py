"""The mutated fixture trees of tests/test_conform.py: each a small edit of
tests/fixtures/kernel that reintroduces one way the patch could be wrong, which
`fusever conform` must catch as a divergence at the step where model and code part."""

from __future__ import annotations

import shutil
from pathlib import Path

# name: (file, old text, new text); each old text must occur in the fixture
EDITS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # fuse_link_rw_file compares with <=: an open with the notification's own number is stale
    "link_le": (
        (
            "fs/fuse/file.c",
            "ff->open_seq < fi->inval_files_seq",
            "ff->open_seq <= fi->inval_files_seq",
        ),
    ),
    # v1's create path: fuse_create_open leaves ff->open_seq at 0
    "create_no_seq": (("fs/fuse/dir.c", "\tff->open_seq = args.reply_seq;\n", ""),),
    # fuse_alloc_inode and fuse_init_inode do not initialise fi->inval_files_seq
    "no_init": (
        ("fs/fuse/inode.c", "\tfi->inval_files_seq = 0;\n\tINIT_LIST_HEAD", "\tINIT_LIST_HEAD"),
        (
            "fs/fuse/inode.c",
            "\tfi->num_openers = 0;\n\tfi->inval_files_seq = 0;\n",
            "\tfi->num_openers = 0;\n",
        ),
    ),
    # fuse_dev_do_write bumps write_seq after the reply recorded it
    "bump_late": (
        ("fs/fuse/dev.c", "\tfud->write_seq++;\n", ""),
        (
            "fs/fuse/dev.c",
            "\treq->args->reply_seq = fud->write_seq;\n",
            "\treq->args->reply_seq = fud->write_seq;\n\tfud->write_seq++;\n",
        ),
    ),
    # fuse_finish_open links but does not wait for the invalidation
    "no_wait": (
        (
            "fs/fuse/file.c",
            "\t\tif (!test_bit(FUSE_S_FAIL_IMMEDIATELY, &ff->ff_state))\n"
            "\t\t\terr = fuse_wait_on_inval_files(inode);\n",
            "",
        ),
    ),
}
MUTANTS = tuple(EDITS)


def mutate(tree: Path, out: Path, name: str) -> Path:
    """A copy of ``tree`` at ``out`` with mutant ``name``'s edits applied."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(tree, out)
    for file, old, new in EDITS[name]:
        path = out / file
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise AssertionError(f"mutant {name}: {file} no longer holds {old!r}")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out
