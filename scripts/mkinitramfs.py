#!/usr/bin/env python3
"""Writes a gzip-compressed newc cpio archive (a Linux initramfs) from a list file.

The list uses the format of the kernel's usr/gen_init_cpio, one entry per line:

    dir   <name> <mode> <uid> <gid>
    file  <name> <location> <mode> <uid> <gid>
    nod   <name> <mode> <uid> <gid> <c|b> <major> <minor>
    slink <name> <target> <mode> <uid> <gid>

Blank lines and lines starting with '#' are ignored; modes are octal. Device nodes are written
as archive entries, so no root privileges are needed. The output is reproducible: every entry
gets mtime 0 and the gzip header carries no time stamp or file name.

Usage: mkinitramfs.py LIST OUTPUT.gz
"""

import gzip
import os
import stat
import sys

NEWC_MAGIC = b"070701"


class ListError(Exception):
    """A malformed line in the list file."""


def newc_entry(ino, mode, uid, gid, nlink, data, name, rmajor=0, rminor=0):
    """One newc record: header, NUL-terminated name and data, each padded to 4 bytes."""
    name_bytes = name.encode() + b"\0"
    fields = (ino, mode, uid, gid, nlink, 0, len(data), 0, 0, rmajor, rminor,
              len(name_bytes), 0)
    header = NEWC_MAGIC + b"".join(b"%08X" % f for f in fields)
    out = bytearray(header + name_bytes)
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return bytes(out)


def archive_name(name):
    """Archive paths are relative ("init", "dev/console"); the list gives them absolute."""
    stripped = name.lstrip("/")
    if not stripped:
        raise ListError("empty path")
    return stripped


def parse_mode(text):
    try:
        return int(text, 8)
    except ValueError:
        raise ListError("bad mode %r" % text) from None


def parse_int(text):
    try:
        return int(text, 10)
    except ValueError:
        raise ListError("bad number %r" % text) from None


def build_entries(lines, base_dir):
    """Turns list lines into newc records (without the trailer)."""
    records = []
    ino = 721
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        kind, args = words[0], words[1:]
        try:
            if kind == "dir" and len(args) == 4:
                mode = stat.S_IFDIR | parse_mode(args[1])
                records.append(newc_entry(ino, mode, parse_int(args[2]), parse_int(args[3]),
                                          2, b"", archive_name(args[0])))
            elif kind == "file" and len(args) == 5:
                src = os.path.join(base_dir, args[1])
                try:
                    with open(src, "rb") as f:
                        data = f.read()
                except OSError as e:
                    raise ListError("cannot read %s: %s" % (src, e.strerror)) from None
                mode = stat.S_IFREG | parse_mode(args[2])
                records.append(newc_entry(ino, mode, parse_int(args[3]), parse_int(args[4]),
                                          1, data, archive_name(args[0])))
            elif kind == "nod" and len(args) == 7:
                if args[4] not in ("c", "b"):
                    raise ListError("device type must be c or b, not %r" % args[4])
                ftype = stat.S_IFCHR if args[4] == "c" else stat.S_IFBLK
                mode = ftype | parse_mode(args[1])
                records.append(newc_entry(ino, mode, parse_int(args[2]), parse_int(args[3]),
                                          1, b"", archive_name(args[0]),
                                          parse_int(args[5]), parse_int(args[6])))
            elif kind == "slink" and len(args) == 5:
                mode = stat.S_IFLNK | parse_mode(args[2])
                records.append(newc_entry(ino, mode, parse_int(args[3]), parse_int(args[4]),
                                          1, args[1].encode(), archive_name(args[0])))
            else:
                raise ListError("unknown entry or wrong number of fields: %r" % line)
        except ListError as e:
            raise ListError("line %d: %s" % (lineno, e)) from None
        ino += 1
    return records


def write_initramfs(list_path, output):
    with open(list_path) as f:
        lines = f.readlines()
    records = build_entries(lines, os.path.dirname(os.path.abspath(list_path)))
    records.append(newc_entry(0, 0, 0, 0, 1, b"", "TRAILER!!!"))
    tmp = output + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            for rec in records:
                gz.write(rec)
    os.replace(tmp, output)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: mkinitramfs.py LIST OUTPUT.gz\n")
        return 2
    try:
        write_initramfs(argv[1], argv[2])
    except (ListError, OSError) as e:
        sys.stderr.write("mkinitramfs: %s: %s\n" % (argv[1], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
