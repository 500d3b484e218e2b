# Shared by the bench scripts.

# replace_section MARKER SECTION_FILE DOC: puts SECTION_FILE (which starts with the line MARKER) in DOC in place of the
# part from MARKER up to the next marker line (<!-- … -->) or the end, or appends it when DOC has no MARKER yet.
replace_section() {
  local marker=$1 section=$2 doc=$3
  awk -v marker="$marker" -v section="$section" '
    BEGIN { while ((getline line < section) > 0) body = body line "\n" }
    $0 == marker { skip = 1; print body; printed = 1; next }
    skip && /^<!-- / { skip = 0 }
    !skip { print }
    END { if (!printed) printf "%s", body }' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
}
