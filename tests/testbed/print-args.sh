#!/bin/sh
# Helper of any-directory.sh: prints its argument count and arguments.
printf '%s:%s|%s\n' "$#" "$1" "$2"
